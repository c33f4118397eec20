//! Runs and tools are bounded, over real loopback sockets with the fake model
//! `shared/fake_llm.py` (skips with a message when it is missing): a run past its timeout
//! (`agents.defaults.timeoutSeconds`) is aborted with stop reason `timeout`, everything its
//! `bash` tool started — also a child that left the process group with `setsid` — is killed,
//! and its run lane goes to the next conversation.

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
    let tg = gateway_with(&fake, json!({"timeoutSeconds": 2, "maxConcurrent": 1})).await;
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
