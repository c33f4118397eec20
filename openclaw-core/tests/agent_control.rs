//! Steering, follow-up, abort and auto-retry, checked against pi 0.73.1's recorded sequences
//! (goldens `steer_streaming`, `steer_two_one_at_a_time`, `follow_up`, `steer_idle`,
//! `abort_streaming`, `retry_529_on` and the README's abort-during-tool description).

mod agent_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use agent_support::*;
use futures::StreamExt;
use futures::executor::block_on;
use openclaw_core::agent::{QueueMode, RetrySettings};
use openclaw_core::testing::scripted::{Reply, ScriptedProvider};
use openclaw_core::{AgentEvent, Message, StopReason};
use serde_json::json;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn steering_waits_for_the_tool_batch_and_precedes_the_next_call() {
    let p = ScriptedProvider::new();
    p.push(Reply::tool_call(
        "a",
        "slow",
        json!({"ms": 50, "label": "tool out"}),
    ));
    p.push(Reply::text("echo: steered message"));
    let (agent, rec) = agent_with(&p, vec![Arc::new(SlowTool)]);
    // Steer from inside a listener as soon as the tool starts (re-entrant emission).
    let a2 = agent.clone();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if matches!(e, AgentEvent::ToolExecutionStart { .. }) {
            a2.steer_text("steered message");
        }
    }));
    block_on(agent.prompt_text("run the tool")).unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s,
        [
            "agent_start",
            "turn_start",
            "message_start:user:run the tool",
            "message_end:user:run the tool",
            "message_start:assistant:",
            "message_end:assistant:",
            "tool_execution_start:a",
            "queue_update:[\"steered message\"]:[]",
            "tool_execution_end:a",
            "message_start:toolResult:tool out",
            "message_end:toolResult:tool out",
            "turn_end:1",
            "turn_start",
            "queue_update:[]:[]",
            "message_start:user:steered message",
            "message_end:user:steered message",
            "message_start:assistant:",
            "message_end:assistant:echo: steered message",
            "turn_end:0",
            "agent_end:5",
        ]
    );
    assert_eq!(p.calls().len(), 2);
    let seen: Vec<_> = p.calls()[1]
        .context
        .messages
        .iter()
        .map(|m| text_of(m))
        .collect();
    assert_eq!(seen, ["run the tool", "", "tool out", "steered message"]);
}

/// Queue from a listener at the first text delta of the first reply.
fn queue_at_first_delta(
    agent: &openclaw_core::agent::Agent,
    steers: &'static [&'static str],
    follow: Option<&'static str>,
) {
    let a2 = agent.clone();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if let AgentEvent::MessageUpdate {
            assistant_message_event,
            ..
        } = e
        {
            let delta = matches!(
                assistant_message_event,
                openclaw_core::AssistantMessageEvent::TextDelta { .. }
            );
            if delta && !done.swap(true, std::sync::atomic::Ordering::SeqCst) {
                for s in steers {
                    a2.steer_text(s);
                }
                if let Some(f) = follow {
                    a2.follow_up_text(f);
                }
            }
        }
    }));
}

#[test]
fn two_steers_one_at_a_time_make_two_turns() {
    let p = ScriptedProvider::new();
    p.push(Reply::chunks(&["t0 ", "t1 "]));
    p.push(Reply::text("echo: steer A"));
    p.push(Reply::text("echo: steer B"));
    let (agent, rec) = agent_with(&p, vec![]);
    queue_at_first_delta(&agent, &["steer A", "steer B"], None);
    block_on(agent.prompt_text("stream")).unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s,
        [
            "agent_start",
            "turn_start",
            "message_start:user:stream",
            "message_end:user:stream",
            "message_start:assistant:",
            "queue_update:[\"steer A\"]:[]",
            "queue_update:[\"steer A\", \"steer B\"]:[]",
            "message_end:assistant:t0 t1 ",
            "turn_end:0",
            "turn_start",
            "queue_update:[\"steer B\"]:[]",
            "message_start:user:steer A",
            "message_end:user:steer A",
            "message_start:assistant:",
            "message_end:assistant:echo: steer A",
            "turn_end:0",
            "turn_start",
            "queue_update:[]:[]",
            "message_start:user:steer B",
            "message_end:user:steer B",
            "message_start:assistant:",
            "message_end:assistant:echo: steer B",
            "turn_end:0",
            "agent_end:6",
        ]
    );
    assert_eq!(last_seen(&p, 1), "steer A");
    assert_eq!(last_seen(&p, 2), "steer B");
}

#[test]
fn all_mode_injects_both_steers_before_one_call() {
    let p = ScriptedProvider::new();
    p.push(Reply::chunks(&["t0 ", "t1 "]));
    p.push(Reply::text("echo: both"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_steering_mode(QueueMode::All);
    queue_at_first_delta(&agent, &["steer A", "steer B"], None);
    block_on(agent.prompt_text("stream")).unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s[9..17],
        [
            "turn_start",
            "queue_update:[\"steer B\"]:[]",
            "message_start:user:steer A",
            "message_end:user:steer A",
            "queue_update:[]:[]",
            "message_start:user:steer B",
            "message_end:user:steer B",
            "message_start:assistant:",
        ]
    );
    assert_eq!(p.calls().len(), 2);
    let seen: Vec<_> = p.calls()[1]
        .context
        .messages
        .iter()
        .map(|m| text_of(m))
        .collect();
    assert_eq!(seen, ["stream", "t0 t1 ", "steer A", "steer B"]);
}

#[test]
fn follow_up_is_delivered_when_the_agent_would_stop() {
    let p = ScriptedProvider::new();
    p.push(
        Reply::tool_call("a", "echo", json!({"text": "tool"})).and_tool_call(
            "b",
            "echo",
            json!({"text": "tool2"}),
        ),
    );
    p.push(Reply::text("after tools"));
    p.push(Reply::text("echo: follow up message"));
    let (agent, rec) = agent_with(&p, vec![Arc::new(EchoTool)]);
    let a2 = agent.clone();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if matches!(e, AgentEvent::ToolExecutionStart { tool_call_id, .. } if tool_call_id == "a") {
            a2.follow_up_text("follow up message");
        }
    }));
    block_on(agent.prompt_text("go")).unwrap();
    let s = without_updates(&rec.summary());
    let follow_at = s
        .iter()
        .position(|e| e == "message_start:user:follow up message")
        .unwrap();
    // Not after the tool turn (the agent continued anyway) but after the text-only turn.
    assert_eq!(s[follow_at - 3], "turn_end:0");
    assert_eq!(s[follow_at - 2], "turn_start");
    assert_eq!(s[follow_at - 1], "queue_update:[]:[]");
    assert_eq!(s[follow_at - 4], "message_end:assistant:after tools");
    assert_eq!(s.last().unwrap(), "agent_end:7");
    assert_eq!(s.iter().filter(|e| *e == "agent_start").count(), 1);
    assert_eq!(last_seen(&p, 2), "follow up message");
}

#[test]
fn steer_and_follow_up_while_idle_match_steer_idle() {
    let p = ScriptedProvider::new();
    p.push(Reply::text("echo: idle steer"));
    p.push(Reply::text("echo: idle follow"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.steer_text("idle steer");
    agent.follow_up_text("idle follow");
    assert_eq!(agent.pending_message_count(), 2);
    block_on(agent.prompt_text("prompt after queueing")).unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s,
        [
            "queue_update:[\"idle steer\"]:[]",
            "queue_update:[\"idle steer\"]:[\"idle follow\"]",
            "agent_start",
            "turn_start",
            "message_start:user:prompt after queueing",
            "message_end:user:prompt after queueing",
            "queue_update:[]:[\"idle follow\"]",
            "message_start:user:idle steer",
            "message_end:user:idle steer",
            "message_start:assistant:",
            "message_end:assistant:echo: idle steer",
            "turn_end:0",
            "turn_start",
            "queue_update:[]:[]",
            "message_start:user:idle follow",
            "message_end:user:idle follow",
            "message_start:assistant:",
            "message_end:assistant:echo: idle follow",
            "turn_end:0",
            "agent_end:5",
        ]
    );
    assert_eq!(last_seen(&p, 0), "idle steer");
}

#[test]
fn abort_mid_stream_keeps_partial_content() {
    let p = ScriptedProvider::new();
    let deltas: Vec<String> = (0..20).map(|i| format!("t{i} ")).collect();
    let refs: Vec<&str> = deltas.iter().map(String::as_str).collect();
    p.push(Reply::chunks(&refs).with_chunk_delay(ms(40)));
    p.push(Reply::text("echo: after abort"));
    let (agent, rec) = agent_with(&p, vec![]);
    let (_, mut events) = agent.event_stream();
    let aborter = agent.clone();
    let started = Instant::now();
    let (result, ()) = block_on(futures::future::join(
        agent.prompt_text("stream 20 slow"),
        async move {
            let mut deltas = 0;
            while let Some(e) = events.next().await {
                if matches!(
                    &e,
                    AgentEvent::MessageUpdate {
                        assistant_message_event: openclaw_core::AssistantMessageEvent::TextDelta { .. },
                        ..
                    }
                ) {
                    deltas += 1;
                    if deltas == 2 {
                        aborter.abort().await;
                        assert!(!aborter.is_busy());
                        break;
                    }
                }
            }
        },
    ));
    assert!(
        started.elapsed() < ms(600),
        "abort took {:?}",
        started.elapsed()
    );
    let added = result.unwrap();
    let s = rec.summary();
    assert_eq!(
        s[s.len() - 5..],
        [
            "message_update:text_delta",
            "message_update:text_end",
            "message_end:assistant:t0 t1 ",
            "turn_end(aborted):0",
            "agent_end:2",
        ]
    );
    let last = added[1].as_assistant().unwrap();
    assert_eq!(last.stop_reason, StopReason::Aborted);
    assert_eq!(last.error_message.as_deref(), Some("Request was aborted"));
    // Aborted messages are kept in the context but not replayed to the model.
    block_on(agent.prompt_text("after abort")).unwrap();
    let seen: Vec<_> = p.calls()[1]
        .context
        .messages
        .iter()
        .map(|m| text_of(m))
        .collect();
    assert_eq!(seen, ["stream 20 slow", "after abort"]);
    assert_eq!(agent.messages().len(), 4);
}

#[test]
fn abort_during_a_tool_ends_with_an_empty_aborted_turn() {
    let p = ScriptedProvider::new();
    p.push(Reply::tool_call(
        "c1",
        "slow",
        json!({"ms": 10_000, "label": "start"}),
    ));
    let (agent, rec) = agent_with(&p, vec![Arc::new(SlowTool)]);
    let (_, mut events) = agent.event_stream();
    let aborter = agent.clone();
    let started = Instant::now();
    let (result, ()) = block_on(futures::future::join(
        agent.prompt_text("call slow"),
        async move {
            while let Some(e) = events.next().await {
                if matches!(e, AgentEvent::ToolExecutionUpdate { .. }) {
                    aborter.abort().await;
                    break;
                }
            }
        },
    ));
    assert!(started.elapsed() < ms(2000));
    result.unwrap();
    let s = without_updates(&rec.summary());
    assert_eq!(
        s[6..],
        [
            "tool_execution_start:c1",
            "tool_execution_end:c1:error",
            "message_start:toolResult:start\n\n\nCommand aborted",
            "message_end:toolResult:start\n\n\nCommand aborted",
            "turn_end:1",
            "turn_start",
            "message_start:assistant:",
            "message_end:assistant:",
            "turn_end(aborted):0",
            "agent_end:4",
        ]
    );
    let events = rec.events();
    let n = events.len();
    for e in &events[n - 4..n - 2] {
        let (AgentEvent::MessageStart { message } | AgentEvent::MessageEnd { message }) = e else {
            panic!("{e:?}")
        };
        let a = message.as_assistant().unwrap();
        assert!(a.content.is_empty());
        assert_eq!(a.stop_reason, StopReason::Aborted);
        assert_eq!(a.error_message.as_deref(), Some("Request was aborted."));
    }
    // The model was not called for the aborted turn.
    assert_eq!(p.calls().len(), 1);
}

fn fast_retry(max_retries: u32, base_delay_ms: u64) -> RetrySettings {
    RetrySettings {
        enabled: true,
        max_retries,
        base_delay_ms,
        max_delay_ms: 60_000,
    }
}

#[test]
fn auto_retry_succeeds_on_the_second_attempt() {
    let p = ScriptedProvider::new();
    p.push(Reply::error("529 overloaded"));
    p.push(Reply::text("recovered"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_retry_settings(fast_retry(3, 60));
    let started = Instant::now();
    let added = block_on(agent.prompt_text("fail once")).unwrap();
    assert!(started.elapsed() >= ms(60));
    let s = without_updates(&rec.summary());
    assert_eq!(
        s,
        [
            "agent_start",
            "turn_start",
            "message_start:user:fail once",
            "message_end:user:fail once",
            "message_start:assistant:",
            "message_end:assistant:",
            "turn_end(error):0",
            "agent_end:2",
            "auto_retry_start:1:60",
            "agent_start",
            "turn_start",
            "message_start:assistant:",
            "message_end:assistant:recovered",
            "auto_retry_end:true:1:",
            "turn_end:0",
            "agent_end:1",
        ]
    );
    let events = rec.events();
    let AgentEvent::MessageStart { message } = &events[4] else {
        panic!()
    };
    assert_eq!(
        message.as_assistant().unwrap().stop_reason,
        StopReason::Error
    );
    assert_eq!(
        serde_json::to_string(&events[8]).unwrap(),
        r#"{"type":"auto_retry_start","attempt":1,"maxAttempts":3,"delayMs":60,"errorMessage":"529 overloaded"}"#
    );
    // The failed message left the context; the retry saw only the user message.
    let roles: Vec<_> = agent.messages().iter().map(|m| m.role()).collect();
    assert_eq!(roles, ["user", "assistant"]);
    assert_eq!(p.calls()[1].context.messages.len(), 1);
    assert_eq!(added.len(), 3);
}

#[test]
fn auto_retry_gives_up_after_max_retries_like_retry_529_on() {
    let p = ScriptedProvider::new();
    for _ in 0..3 {
        p.push(Reply::error("529 overloaded"));
    }
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_retry_settings(fast_retry(2, 20));
    block_on(agent.prompt_text("fail 529 please")).unwrap();
    let s = without_updates(&rec.summary());
    let run = |first: bool| {
        let mut v = vec!["agent_start", "turn_start"];
        if first {
            v.extend([
                "message_start:user:fail 529 please",
                "message_end:user:fail 529 please",
            ]);
        }
        v.extend([
            "message_start:assistant:",
            "message_end:assistant:",
            "turn_end(error):0",
        ]);
        v.push(if first { "agent_end:2" } else { "agent_end:1" });
        v
    };
    let mut expected = run(true);
    expected.push("auto_retry_start:1:20");
    expected.extend(run(false));
    expected.push("auto_retry_start:2:40");
    expected.extend(run(false));
    expected.push("auto_retry_end:false:2:529 overloaded");
    assert_eq!(s, expected);
    assert_eq!(p.calls().len(), 3);
    // The last error stays in the context.
    assert_eq!(agent.messages().last().unwrap().role(), "assistant");
}

#[test]
fn abort_retry_cancels_the_wait() {
    let p = ScriptedProvider::new();
    p.push(Reply::error("503 service unavailable"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_retry_settings(fast_retry(3, 10_000));
    let a2 = agent.clone();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if matches!(e, AgentEvent::AutoRetryStart { .. }) {
            // The wait has not begun yet when the event is delivered: cancel from a thread.
            let a3 = a2.clone();
            std::thread::spawn(move || {
                while !a3.is_retrying() {
                    std::thread::sleep(ms(2));
                }
                assert!(a3.abort_retry().was_pending());
            });
        }
    }));
    let started = Instant::now();
    block_on(agent.prompt_text("x")).unwrap();
    assert!(started.elapsed() < ms(5000));
    let s = rec.summary();
    assert_eq!(
        s[s.len() - 2..],
        [
            "auto_retry_start:1:10000",
            "auto_retry_end:false:1:Retry cancelled"
        ]
    );
    assert_eq!(p.calls().len(), 1);
    assert!(!agent.is_busy());
}

#[test]
fn non_retryable_errors_and_disabled_retry_end_the_prompt() {
    let p = ScriptedProvider::new();
    p.push(Reply::error("401 invalid api key"));
    p.push(Reply::error("500 internal server error"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_retry_settings(fast_retry(3, 10));
    block_on(agent.prompt_text("a")).unwrap();
    let mut off = fast_retry(3, 10);
    off.enabled = false;
    agent.set_retry_settings(off);
    block_on(agent.prompt_text("b")).unwrap();
    assert!(!rec.summary().iter().any(|e| e.starts_with("auto_retry")));
    assert_eq!(p.calls().len(), 2);
    let last = agent.messages();
    assert!(
        matches!(last.last().map(|m| &**m), Some(Message::Assistant(a)) if a.stop_reason == StopReason::Error)
    );
}

#[test]
fn abort_during_the_retry_wait_cancels_it() {
    let p = ScriptedProvider::new();
    p.push(Reply::error("429 Too Many Requests"));
    let (agent, rec) = agent_with(&p, vec![]);
    agent.set_retry_settings(fast_retry(3, 10_000));
    let a2 = agent.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    agent.subscribe(Arc::new(move |e: &AgentEvent| {
        if matches!(e, AgentEvent::AutoRetryStart { .. }) {
            // Abort at once, possibly before the wait has begun.
            let a3 = a2.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                block_on(a3.abort());
                tx.send(a3.is_busy()).unwrap();
            });
        }
    }));
    let started = Instant::now();
    block_on(agent.prompt_text("x")).unwrap();
    assert!(started.elapsed() < ms(5000));
    assert!(
        !rx.recv().unwrap(),
        "abort() returned while the agent was busy"
    );
    let s = rec.summary();
    assert_eq!(s.last().unwrap(), "auto_retry_end:false:1:Retry cancelled");
    assert_eq!(p.calls().len(), 1);
}
