//! One beat: the gates (on/off, active hours, HEARTBEAT.md, due tasks, the cost guard), the
//! turn through the backend, what it records in `heartbeat_state` and the `heartbeat` event it
//! reports.

use std::path::PathBuf;

use openclaw_state::{HeartbeatState, HeartbeatStore};

use super::checklist::{self, Reply};
use super::config::{AgentHeartbeat, Target};
use super::{
    HeartbeatEvent, HeartbeatService, HeartbeatTurn, HeartbeatTurnOutcome, PREVIEW_CHARS, Reason,
    SystemEvent,
};
use crate::cron::CronTurnOutcome;

/// What a beat asks the model.
pub(super) struct Plan {
    prompt: String,
    /// The checklist digest to remember after a successful beat.
    digest: Option<String>,
    due_tasks: Vec<String>,
}

/// How a beat ended.
pub(super) enum Beat {
    Done,
    Busy,
}

impl HeartbeatService {
    /// One beat of `hb.agent_id`.
    pub(super) async fn beat(&self, hb: &AgentHeartbeat, reason: Reason) -> Beat {
        let started = self.clock.now_ms();
        let skip = |why: &str| {
            let mut e = HeartbeatEvent::skipped(started, why);
            e.duration_ms = Some(self.clock.now_ms().saturating_sub(started));
            self.emit(&e);
            Beat::Done
        };
        if !self.enabled() {
            return skip("disabled");
        }
        if !hb.is_active(started) {
            return skip("quiet-hours");
        }
        let mut state = match self.store.heartbeat_state(&hb.agent_id) {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => {
                tracing::error!("heartbeat: {e}");
                return self.failed(started, e.to_string());
            }
        };
        let events: Vec<SystemEvent> = self
            .inner()
            .queued
            .get(&hb.agent_id)
            .map(|q| q.iter().cloned().collect())
            .unwrap_or_default();
        let plan = if reason == Reason::Wake || !events.is_empty() {
            Plan {
                prompt: hb.prompt.clone(),
                digest: None,
                due_tasks: Vec::new(),
            }
        } else {
            match self.plan(hb, &state, started) {
                Ok(p) => p,
                Err(why) => return skip(why),
            }
        };
        let message = message(&events, &plan.prompt, started);
        let turn = HeartbeatTurn {
            agent_id: hb.agent_id.clone(),
            run_id: format!("heartbeat:{}:{started}", hb.agent_id),
            message,
            model: hb.model.clone(),
            ack_max_chars: hb.ack_max_chars,
            timeout_seconds: hb.timeout_seconds,
            light_context: hb.light_context,
            isolated_session: hb.isolated_session,
        };
        let o = match self.backend.heartbeat_turn(turn).await {
            HeartbeatTurnOutcome::Busy => return Beat::Busy,
            HeartbeatTurnOutcome::Ran(o) => o,
        };
        self.record(hb, &mut state, &plan, &o, started, events.len());
        let mut event = match report(hb, reason, started, o) {
            Ok(event) => event,
            Err(alert) => self.deliver_alert(hb, started, &alert).await,
        };
        event.duration_ms = Some(self.clock.now_ms().saturating_sub(started));
        self.emit(&event);
        Beat::Done
    }

    /// What an interval beat asks, from HEARTBEAT.md; `Err(reason)` to skip it.
    fn plan(
        &self,
        hb: &AgentHeartbeat,
        state: &HeartbeatState,
        now: u64,
    ) -> Result<Plan, &'static str> {
        let workspace = self
            .roster()
            .get(&hb.agent_id)
            .map(|a| PathBuf::from(&a.workspace));
        let content = match workspace.map(|w| std::fs::read_to_string(w.join("HEARTBEAT.md"))) {
            Some(Ok(c)) => Some(c),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => None,
            Some(Err(e)) => {
                // Unreadable is not empty: run with the plain prompt, no guard.
                tracing::warn!("heartbeat: HEARTBEAT.md of {} unreadable: {e}", hb.agent_id);
                return Ok(Plan {
                    prompt: hb.prompt.clone(),
                    digest: None,
                    due_tasks: Vec::new(),
                });
            }
            None => None,
        };
        let text = content.as_deref().unwrap_or("");
        let tasks = checklist::tasks(text);
        if content.is_some() && tasks.is_empty() && checklist::effectively_empty(text) {
            return Err("empty-heartbeat-file");
        }
        if !tasks.is_empty() {
            let due: Vec<&checklist::Task> = tasks
                .iter()
                .filter(|t| checklist::is_due(t, state.task_runs.get(&t.name).copied(), now))
                .collect();
            if due.is_empty() {
                return Err("no-tasks-due");
            }
            return Ok(Plan {
                prompt: checklist::tasks_prompt(&due, &checklist::directives(text)),
                digest: None,
                due_tasks: due.iter().map(|t| t.name.clone()).collect(),
            });
        }
        let digest = checklist::digest(text);
        if state.answered_checklist.as_deref() == Some(digest.as_str()) {
            return Err("unchanged-checklist");
        }
        Ok(Plan {
            prompt: hb.prompt.clone(),
            digest: Some(digest),
            due_tasks: Vec::new(),
        })
    }

    fn failed(&self, started: u64, why: String) -> Beat {
        self.emit(&HeartbeatEvent {
            ts: started,
            status: "failed",
            reason: Some(why),
            indicator_type: Some("error"),
            ..HeartbeatEvent::default()
        });
        Beat::Done
    }
    /// What a beat leaves behind: tokens, task times, the cost guard's digest, the consumed
    /// system events.
    fn record(
        &self,
        hb: &AgentHeartbeat,
        state: &mut HeartbeatState,
        plan: &Plan,
        o: &CronTurnOutcome,
        started: u64,
        consumed: usize,
    ) {
        state.last_run_at_ms = Some(started);
        state.runs += 1;
        if let Some((i, out, total)) = o.usage {
            state.input_tokens += i;
            state.output_tokens += out;
            state.total_tokens += total;
        }
        if o.ok {
            for t in &plan.due_tasks {
                state.task_runs.insert(t.clone(), started);
            }
            let mut inner = self.inner();
            if let Some(q) = inner.queued.get_mut(&hb.agent_id) {
                let n = consumed.min(q.len());
                q.drain(..n);
            }
        }
        state.answered_checklist = match (o.ok, &plan.digest) {
            (true, Some(d)) => Some(d.clone()),
            // A wake or a tasks beat leaves the guard as it was; a failure clears it.
            (true, None) => state.answered_checklist.take(),
            (false, _) => None,
        };
        if let Err(e) = self
            .store
            .put_heartbeat_state(&hb.agent_id, state, self.clock.now_ms())
        {
            tracing::error!("heartbeat: cannot record the beat of {}: {e}", hb.agent_id);
        }
    }
}

/// The `heartbeat` event of a beat that ran, or `Err(text)`: an alert to deliver.
fn report(
    hb: &AgentHeartbeat,
    reason: Reason,
    started: u64,
    o: CronTurnOutcome,
) -> Result<HeartbeatEvent, String> {
    if !o.ok {
        return Ok(HeartbeatEvent {
            ts: started,
            status: "failed",
            reason: Some(o.error.unwrap_or_else(|| "failed".into())),
            indicator_type: Some("error"),
            ..HeartbeatEvent::default()
        });
    }
    match checklist::classify(&o.text, hb.ack_max_chars) {
        reply @ (Reply::Empty | Reply::Ack) => Ok(HeartbeatEvent {
            ts: started,
            status: if reply == Reply::Empty {
                "ok-empty"
            } else {
                "ok-token"
            },
            reason: Some(reason.as_str().to_owned()),
            silent: Some(true),
            indicator_type: Some("ok"),
            ..HeartbeatEvent::default()
        }),
        Reply::Alert(text) => Err(text),
    }
}

/// The user message of a beat: the waiting system events, the prompt, the time.
fn message(events: &[SystemEvent], prompt: &str, now: u64) -> String {
    let mut m = String::new();
    for e in events {
        m.push_str(&format!("System: [{}] {}\n", iso(e.ts), e.text));
    }
    if !m.is_empty() {
        m.push('\n');
    }
    m.push_str(prompt);
    m.push_str(&format!("\nCurrent time: {}", iso(now)));
    m
}

impl HeartbeatService {
    /// Sends an alert where `target` says (`last`: the agent's last conversation; a channel:
    /// `to`, else the last conversation on that channel) through the channel manager; the
    /// beat's event says whether it was `sent`.
    async fn deliver_alert(&self, hb: &AgentHeartbeat, started: u64, text: &str) -> HeartbeatEvent {
        use openclaw_state::RouteStore;
        let preview: Option<String> = Some(text.chars().take(PREVIEW_CHARS).collect());
        let base = HeartbeatEvent {
            ts: started,
            preview,
            indicator_type: Some("alert"),
            silent: Some(false),
            ..HeartbeatEvent::default()
        };
        let skipped =
            |reason: &str, channel: Option<String>, message: Option<String>| HeartbeatEvent {
                status: "skipped",
                reason: Some(reason.to_owned()),
                to: hb.to.clone(),
                channel,
                message,
                ..base.clone()
            };
        let last = self.store.last_route(&hb.agent_id).ok().flatten();
        let (channel, to, thread, account) = match (&hb.target, last) {
            (Target::None, _) => return skipped("no-target", None, None),
            (Target::Last, Some(r)) => (r.channel, r.peer, r.thread_id, Some(r.account_id)),
            (Target::Last, None) => {
                return skipped("no-route", None, Some(NO_ROUTE.to_owned()));
            }
            (Target::Channel(c), last) => {
                let on_channel = last.filter(|r| &r.channel == c);
                match (&hb.to, on_channel) {
                    (Some(to), _) => (c.clone(), to.clone(), None, None),
                    (None, Some(r)) => (r.channel, r.peer, r.thread_id, Some(r.account_id)),
                    (None, None) => {
                        return skipped("no-route", Some(c.clone()), Some(NO_ROUTE.to_owned()));
                    }
                }
            }
        };
        let account = hb.account_id.clone().or(account);
        let Some(channels) = self.channels.get() else {
            return skipped("channel-unavailable", Some(channel), None);
        };
        let sent = channels
            .announce_in(&channel, account.as_deref(), &to, thread.as_deref(), text)
            .await;
        let mut e = HeartbeatEvent {
            status: "sent",
            to: Some(format!("{channel}:{to}")),
            channel: Some(channel),
            ..base
        };
        if let Err(why) = sent {
            e.status = "failed";
            e.reason = Some(why);
            e.indicator_type = Some("error");
        }
        e
    }
}

/// OpenClaw's words for an alert with nowhere to go.
const NO_ROUTE: &str = "Heartbeat has no delivery route yet. Message your bot once, or set agents.defaults.heartbeat.target.";

fn iso(ms: u64) -> String {
    jiff::Timestamp::from_millisecond(ms as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
