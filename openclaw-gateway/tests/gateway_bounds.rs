//! Runs and tools are bounded, over real loopback sockets with the fake model
//! `shared/fake_llm.py` (skips with a message when it is missing): a run past its timeout
//! (`agents.defaults.timeoutSeconds`) is aborted with stop reason `timeout`, everything its
//! `bash` tool started — also a child that left the process group with `setsid` — is killed,
//! and its run lane goes to the next conversation. Streaming costs bandwidth in proportion to
//! the reply, and a call is answered while other runs stream to the same connection.

mod common;

use std::time::Duration;

use common::Client;
use common::fake::{fake_llm, gateway_with};
use serde_json::{Value, json};

const RW: &[&str] = &["operator.read", "operator.write", "operator.admin"];

/// The run's terminal `chat` event.
async fn chat_end(c: &mut Client, run_id: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    loop {
        let f = match backlog.next() {
            Some(f) => f,
            None => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                assert!(
                    !left.is_zero(),
                    "run {run_id} did not end within {within:?}"
                );
                c.next_within(left).await.expect("socket open")
            }
        };
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["event"] == "chat"
            && f["payload"]["runId"] == run_id
            && ["final", "aborted", "error"].contains(&state)
        {
            return f["payload"].clone();
        }
    }
}

fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        let state = s.rsplit(')').next().unwrap_or("").trim_start();
        !state.starts_with('Z') && !state.starts_with('X')
    })
}

#[tokio::test]
async fn a_hung_tool_run_times_out_frees_its_lane_and_leaves_no_process() {
    let Some(fake) = fake_llm() else { return };
    // One lane: while the hung run holds it, every other conversation waits.
    // `mode: full`: the command must run unasked (the default asks, and nobody answers here).
    let tg = gateway_with(
        &fake,
        json!({"timeoutSeconds": 2, "maxConcurrent": 1, "tools": {"exec": {"mode": "full"}}}),
    )
    .await;
    let pidfile = tg.state().join("daemon.pid");
    let (mut c, _) = Client::connected(&tg, RW).await;
    let command = format!(
        "setsid sleep 1000 & echo $! > {}; sleep 1000",
        pidfile.display()
    );
    let prompt = format!("call bash {}", json!({"command": command}));
    c.ok(
        "chat.send",
        json!({"sessionKey": "hung", "message": prompt, "idempotencyKey": "hung-1"}),
    )
    .await;
    c.ok(
        "chat.send",
        json!({"sessionKey": "other", "message": "hello", "idempotencyKey": "other-1"}),
    )
    .await;
    let mut pid = None;
    for _ in 0..200 {
        pid = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = pid.expect("the tool started its daemon");
    assert!(pid_alive(pid));

    let end = chat_end(&mut c, "hung-1", Duration::from_secs(20)).await;
    assert_eq!(end["state"], "aborted", "{end}");
    assert_eq!(end["stopReason"], "timeout", "{end}");
    assert_eq!(end["errorMessage"], "agent run timed out after 2s", "{end}");
    let mut gone = false;
    for _ in 0..100 {
        if !pid_alive(pid) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "the tool's setsid child {pid} outlived the run");
    // The lane is free again: the waiting conversation gets its answer.
    let other = chat_end(&mut c, "other-1", Duration::from_secs(20)).await;
    assert_eq!(other["state"], "final", "{other}");
    let waited = c
        .ok("agent.wait", json!({"runId": "hung-1", "timeoutMs": 1000}))
        .await;
    assert_eq!(waited["status"], "timeout", "{waited}");
}

/// Sends `chat.send` of `message` on `key`; returns (wire bytes until its terminal event, the
/// reply's text, the terminal event).
async fn reply_bytes(
    c: &mut Client,
    key: &str,
    message: &str,
    run_id: &str,
) -> (u64, String, Value) {
    let before = c.bytes;
    c.ok(
        "chat.send",
        json!({"sessionKey": key, "message": message, "idempotencyKey": run_id}),
    )
    .await;
    let end = chat_end(c, run_id, Duration::from_secs(60)).await;
    let text = end["message"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    (c.bytes - before, text, end)
}

#[tokio::test]
async fn a_long_reply_costs_at_most_three_times_its_size_on_the_wire() {
    let Some(fake) = fake_llm() else { return };
    let tg = gateway_with(&fake, json!({})).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    let (bytes, text, end) = reply_bytes(&mut c, "long", "stream 3000", "long-1").await;
    assert_eq!(end["state"], "final", "{end}");
    assert!(
        text.trim_end().ends_with("t2999"),
        "{}",
        &text[text.len().saturating_sub(40)..]
    );
    assert!(
        bytes <= 3 * text.len() as u64,
        "{bytes} bytes on the wire for a reply of {} bytes",
        text.len()
    );
    // The stream is still a stream: the assistant text, then the final.
    let (_, short, _) = reply_bytes(&mut c, "long", "hello", "short-1").await;
    assert!(short.starts_with("echo: "), "{short}");
}

/// Every frame of run `run_id` until its terminal `chat` event (inclusive).
async fn run_frames(c: &mut Client, run_id: &str, within: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    let mut frames = Vec::new();
    loop {
        let f = match backlog.next() {
            Some(f) => f,
            None => {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                assert!(
                    !left.is_zero(),
                    "run {run_id} did not end within {within:?}"
                );
                c.next_within(left).await.expect("socket open")
            }
        };
        if f["payload"]["runId"] != run_id {
            continue;
        }
        let state = f["payload"]["state"].as_str().unwrap_or("").to_owned();
        frames.push(f.clone());
        if f["event"] == "chat" && ["final", "aborted", "error"].contains(&state.as_str()) {
            return frames;
        }
    }
}

#[tokio::test]
async fn a_slowly_streamed_reply_costs_a_constant_times_its_size_and_still_streams() {
    let Some(fake) = fake_llm() else { return };
    let tg = gateway_with(&fake, json!({})).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    let before = c.bytes;
    c.ok(
        "chat.send",
        json!({"sessionKey": "slow", "message": "stream 2000 slow 2", "idempotencyKey": "slow-1"}),
    )
    .await;
    let frames = run_frames(&mut c, "slow-1", Duration::from_secs(60)).await;
    let bytes = c.bytes - before;
    let end = &frames[frames.len() - 1]["payload"];
    assert_eq!(end["state"], "final", "{end}");
    let text = end["message"]["content"][0]["text"].as_str().unwrap_or("");
    assert!(
        text.trim_end().ends_with("t1999"),
        "{}",
        &text[text.len().saturating_sub(40)..]
    );
    let sizes: Vec<String> = frames
        .iter()
        .map(|f| {
            let p = &f["payload"];
            let kind = p["state"].as_str().or(p["stream"].as_str()).unwrap_or("?");
            format!("{} {kind} {}", f["event"], f.to_string().len())
        })
        .collect();
    // The bound of the gateway's coalescing (live.rs): under 3.5× the reply when it ends just
    // after a delta (about 2–2.5× otherwise; benches/gateway_stream.rs), plus the envelopes
    // of a dozen frames. Each update repeating the whole text, as before, cost 18.5×.
    assert!(
        bytes <= text.len() as u64 * 7 / 2 + 4096,
        "{bytes} bytes on the wire for a reply of {} bytes streamed over seconds: {sizes:?}",
        text.len()
    );
    // Still a stream, in OpenClaw's shapes: several `chat` deltas, each carrying the whole
    // text so far (what the TUI draws) and the text added since the previous one (what the
    // Control UI appends), and an `assistant` event with the first text (the Control UI's
    // sign that the run is active) before the first delta.
    let mut shown = String::new();
    let mut deltas = 0;
    for f in frames
        .iter()
        .filter(|f| f["event"] == "chat" && f["payload"]["state"] == "delta")
    {
        let p = &f["payload"];
        let whole = p["message"]["content"][0]["text"]
            .as_str()
            .expect("cumulative text");
        let added = p["deltaText"].as_str().expect("deltaText");
        shown.push_str(added);
        assert_eq!(shown, whole, "deltaText appended to the previous text");
        assert!(
            text.starts_with(whole),
            "a delta's text is a prefix of the reply"
        );
        deltas += 1;
    }
    assert!(
        deltas >= 3,
        "{deltas} deltas for a reply streamed over seconds"
    );
    let first = |want: &dyn Fn(&Value) -> bool| frames.iter().position(want);
    let active = first(&|f| f["event"] == "agent" && f["payload"]["stream"] == "assistant")
        .expect("an assistant event");
    let delta = first(&|f| f["event"] == "chat" && f["payload"]["state"] == "delta");
    assert!(Some(active) < delta, "the assistant event comes first");
    let data = &frames[active]["payload"]["data"];
    let start = data["text"].as_str().unwrap_or("-");
    assert!(!start.is_empty() && text.starts_with(start), "{data}");
    assert_eq!(data["delta"], data["text"]);
}

#[tokio::test]
async fn a_call_is_answered_while_six_long_replies_stream_to_the_connection() {
    let Some(fake) = fake_llm() else { return };
    let tg = gateway_with(&fake, json!({})).await;
    let (mut c, _) = Client::connected(&tg, RW).await;
    for i in 0..6 {
        c.ok(
            "chat.send",
            json!({"sessionKey": format!("flood-{i}"), "message": "stream 3000",
                   "idempotencyKey": format!("flood-{i}")}),
        )
        .await;
    }
    c.event("agent").await;
    c.ok(
        "chat.send",
        json!({"sessionKey": "probe", "message": "hello", "idempotencyKey": "probe-1"}),
    )
    .await;
    // Every run ends, the probe's with its answer, and the connection stays.
    let mut ends = std::collections::HashMap::new();
    let mut backlog = std::mem::take(&mut c.backlog).into_iter();
    while ends.len() < 7 {
        let f = match backlog.next() {
            Some(f) => f,
            None => c
                .next_within(Duration::from_secs(60))
                .await
                .unwrap_or_else(|| panic!("the gateway dropped the connection: {:?}", c.close)),
        };
        let state = f["payload"]["state"].as_str().unwrap_or("");
        if f["event"] == "chat" && ["final", "aborted", "error"].contains(&state) {
            let run = f["payload"]["runId"].as_str().unwrap_or("").to_owned();
            ends.insert(run, f["payload"].clone());
        }
    }
    for (run, end) in &ends {
        assert_eq!(end["state"], "final", "{run}: {end}");
    }
    let probe = &ends["probe-1"]["message"]["content"][0]["text"];
    assert!(
        probe.as_str().is_some_and(|t| t.starts_with("echo: ")),
        "{probe}"
    );
}
