//! Starting and settling runs. A run is started only after its receipt and the job's advanced
//! state are committed ([`CronStore::begin_cron_run`]); it is settled with one more commit
//! ([`CronStore::finish_cron_run`]) that writes its run-log entry and the job's new state:
//! backoff after errors, auto-disable after repeated failures, one-shots removed after success
//! and disabled after failure.

use std::sync::Arc;

use openclaw_core::protocol::cron::{
    AutoDisabled, CronJob, CronPayload, CronRunLogEntry, CronSchedule, RunStatus, RunUsage,
    WakeMode,
};
use openclaw_state::{CronStore, StateResult};
use serde_json::json;

use super::delivery;
use super::schedule::next_run_ms;
use super::{CronService, CronTurn, CronTurnOutcome};

/// Backoff after the 1st, 2nd, … consecutive error of a recurring job (OpenClaw's
/// `DEFAULT_ERROR_BACKOFF_SCHEDULE_MS`): 30 s, 60 s, 5 min, 15 min, then 60 min.
pub const ERROR_BACKOFF_MS: [u64; 5] = [30_000, 60_000, 300_000, 900_000, 3_600_000];

/// Consecutive errors after which a recurring job is switched off (`consecutive-failures`).
pub const AUTO_DISABLE_AFTER: u32 = 10;

/// Longest summary kept in a run-log entry.
const SUMMARY_MAX_CHARS: usize = 2_000;

/// The message an unattended run sends: the job's tag, the time, the contract of a run nobody
/// watches, then the job's text.
pub fn unattended_message(job: &CronJob, text: &str, now_ms: u64) -> String {
    let when = jiff::Timestamp::from_millisecond(now_ms as i64)
        .map(|t| t.to_string())
        .unwrap_or_default();
    format!(
        "[cron:{} {}] {text}\nCurrent time: {when}\n\nThis is an unattended scheduled run: nobody \
         is watching it live. Your final reply is the deliverable and is passed on as it is. If \
         there is nothing to report, reply exactly NO_REPLY. If something failed, say so \
         plainly.\nRuntime: openclaw-rs gateway, scheduled job {}",
        job.id, job.name, job.id
    )
}

fn summary_of(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.chars().take(SUMMARY_MAX_CHARS).collect())
}

impl CronService {
    /// Starts a run of `job` (`manual`: the run id of a `cron.run`). Returns false when the
    /// receipt could not be written (nothing ran; the caller retries later).
    pub(crate) fn start_run(self: &Arc<Self>, job: CronJob, manual: Option<String>) -> bool {
        let now = self.now();
        let run_id = manual
            .clone()
            .unwrap_or_else(|| format!("cron:{}:{now}", job.id));
        let mut started = job.clone();
        started.state.running_at_ms = Some(now);
        if manual.is_none() {
            started.state.next_run_at_ms = match &job.schedule {
                // A one-shot keeps its time until it is settled.
                CronSchedule::At { .. } => job.state.next_run_at_ms,
                s => next_run_ms(s, &job.id, job.created_at_ms, now).ok(),
            };
        }
        if !self.inner().running.insert(job.id.clone()) {
            return true;
        }
        if let Err(e) = self.store().begin_cron_run(&started, &run_id, now) {
            tracing::error!("cron: cannot record the start of {run_id}; not running it: {e}");
            self.inner().running.remove(&job.id);
            return false;
        }
        self.emit(
            json!({"jobId": job.id, "action": "started", "job": started, "runAtMs": now,
            "runId": run_id}),
        );
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.execute(&started, &run_id, now).await;
            // Aborted by a gateway stop: recorded as interrupted, like a run a crash cut off.
            let interrupted = !outcome.ok && me.stop.is_cancelled();
            let delivered = if interrupted {
                delivery::Outcome::not_requested()
            } else {
                me.deliver(&started, &run_id, now, &outcome).await
            };
            let failed = !outcome.ok && !interrupted;
            if let Err(e) = me.settle(&started.id, &run_id, now, outcome, interrupted, delivered) {
                tracing::error!("cron: cannot record the end of {run_id}: {e}");
            } else if failed {
                me.failure_alert(&started.id, &run_id).await;
            }
            me.inner().running.remove(&started.id);
            me.poke();
        });
        true
    }

    async fn execute(&self, job: &CronJob, run_id: &str, now: u64) -> CronTurnOutcome {
        if let (CronPayload::SystemEvent { text }, WakeMode::NextHeartbeat) =
            (&job.payload, job.wake_mode)
        {
            return self.queue_for_heartbeat(job, text);
        }
        let light_context = matches!(&job.payload,
            CronPayload::AgentTurn(p) if p.light_context == Some(true));
        let (text, model, thinking, timeout) = match &job.payload {
            CronPayload::SystemEvent { text } => {
                let when = jiff::Timestamp::from_millisecond(now as i64)
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                (format!("System: [{when}] {text}"), None, None, None)
            }
            CronPayload::AgentTurn(p) => (
                unattended_message(job, &p.message, now),
                p.model.clone(),
                p.thinking.clone(),
                p.timeout_seconds,
            ),
        };
        self.backend
            .cron_turn(CronTurn {
                job_id: job.id.clone(),
                run_id: run_id.to_owned(),
                agent_id: job.agent_id.clone(),
                target: job.session_target.clone(),
                creating_session_key: job.session_key.clone(),
                message: text,
                model,
                thinking,
                timeout_seconds: timeout,
                light_context,
            })
            .await
    }

    /// Sends the run's result where the job's `delivery` asks (see `delivery`).
    async fn deliver(
        &self,
        job: &CronJob,
        run_id: &str,
        started_at: u64,
        outcome: &CronTurnOutcome,
    ) -> delivery::Outcome {
        let now = self.now();
        let body = json!({
            "ts": now, "jobId": job.id, "jobName": job.name, "action": "finished",
            "status": if outcome.ok { "ok" } else { "error" },
            "summary": summary_of(&outcome.text), "error": outcome.error,
            "runId": run_id, "runAtMs": started_at, "durationMs": now.saturating_sub(started_at),
            "sessionId": outcome.session_id, "sessionKey": outcome.session_key,
            "model": outcome.model, "provider": outcome.provider,
        });
        let no_reply = outcome.ok && outcome.text.trim() == "NO_REPLY";
        let last = self.last_route(job);
        delivery::deliver(
            job.delivery.as_ref(),
            &body,
            no_reply,
            self.config.webhook_token.as_ref(),
            &self.config.webhook_ssrf_policy,
            self.channels.get(),
            &outcome.text,
            last.as_ref(),
        )
        .await
    }

    /// The conversation `channel: "last"` means for `job`: its creating session's, else its
    /// agent's last.
    fn last_route(&self, job: &CronJob) -> Option<openclaw_state::ConversationRoute> {
        use openclaw_state::RouteStore;
        let store = self.store();
        let of_session = job
            .session_key
            .as_deref()
            .and_then(|k| store.route_of(k).ok().flatten());
        of_session.or_else(|| {
            let agent = match self.heartbeat.get() {
                Some(hb) => hb.agent_for(job.agent_id.as_deref(), None).ok()?,
                None => job.agent_id.clone().unwrap_or_else(|| "main".into()),
            };
            store.last_route(&agent).ok().flatten()
        })
    }

    /// After a failed run: the job's `failureAlert` (or `cron.failureAlert`) when its errors
    /// reached `after` and the cooldown has passed. The attempt is recorded in the job's state
    /// (`lastFailureAlertAtMs`) whether or not it was delivered, so a dead target is not
    /// hammered; the outcome is logged.
    async fn failure_alert(&self, job_id: &str, run_id: &str) {
        use openclaw_core::protocol::cron::FailureAlert;
        let Ok(Some(mut job)) = self.store().cron_job(job_id) else {
            return;
        };
        let alert = match (&job.failure_alert, &self.config.failure_alert) {
            (Some(FailureAlert::Alert(a)), _) => a.clone(),
            (Some(FailureAlert::Off(_)), _) => return,
            (None, Some(a)) => a.clone(),
            (None, None) => return,
        };
        let now = self.now();
        let s = &job.state;
        if !delivery::alert_due(
            &alert,
            s.consecutive_errors,
            s.last_failure_alert_at_ms,
            now,
        ) {
            return;
        }
        let body = json!({"action": "failure-alert", "ts": now, "jobId": job.id,
            "jobName": job.name, "runId": run_id, "consecutiveErrors": s.consecutive_errors,
            "error": s.last_error, "autoDisabled": s.auto_disabled});
        let token = self.config.webhook_token.as_ref();
        let sent =
            delivery::send_alert(&alert, &body, token, &self.config.webhook_ssrf_policy).await;
        match &sent {
            Ok(_) => tracing::info!("cron: failure alert for {job_id} delivered"),
            Err(e) => tracing::warn!("cron: failure alert for {job_id} not delivered: {e}"),
        }
        job.state.last_failure_alert_at_ms = Some(now);
        if let Err(e) = self.store().put_cron_job(&job) {
            tracing::error!("cron: cannot record the failure alert of {job_id}: {e}");
        }
    }

    /// A `main` system event with `wakeMode: "next-heartbeat"`: queued for the agent's next
    /// beat; the run is done once it waits there.
    fn queue_for_heartbeat(&self, job: &CronJob, text: &str) -> CronTurnOutcome {
        let Some(hb) = self.heartbeat.get() else {
            return CronTurnOutcome::failed("this gateway runs no heartbeats".into());
        };
        let queued = hb
            .agent_for(job.agent_id.as_deref(), None)
            .and_then(|agent| hb.enqueue(&agent, text, false).map(|()| agent));
        match queued {
            Ok(agent) => CronTurnOutcome {
                ok: true,
                text: "queued for the next heartbeat".into(),
                session_key: Some(format!("agent:{agent}:main")),
                ..CronTurnOutcome::default()
            },
            Err(e) => CronTurnOutcome::failed(e),
        }
    }

    /// Records how `run_id` ended and the job's new state (or its removal); `interrupted`: the
    /// run's process stopped under it (`completionStatus: "interrupted"`).
    pub(crate) fn settle(
        &self,
        job_id: &str,
        run_id: &str,
        started_at: u64,
        outcome: CronTurnOutcome,
        interrupted: bool,
        delivery: delivery::Outcome,
    ) -> StateResult<()> {
        let now = self.now();
        let status = if outcome.ok {
            RunStatus::Ok
        } else {
            RunStatus::Error
        };
        let current = self.store().cron_job(job_id)?;
        let job = current.map(|j| {
            let mut j = self.after_run(j, status, started_at, now, &outcome, run_id);
            if let Some(j) = j.as_mut() {
                j.state.last_delivered = Some(delivery.delivered);
                j.state.last_delivery_status = Some(delivery.status.into());
            }
            j
        });
        let kept = job.as_ref().and_then(|j| j.as_ref());
        // A one-shot's success removes it (a job removed during its run is already gone).
        let removed = job.as_ref().is_some_and(Option::is_none);
        let entry = CronRunLogEntry {
            ts: now,
            job_id: job_id.to_owned(),
            action: "finished".into(),
            status: Some(status),
            completion_status: Some(
                match (outcome.ok, interrupted) {
                    (true, _) => "succeeded",
                    (false, true) => "interrupted",
                    (false, false) => "failed",
                }
                .into(),
            ),
            error: outcome.error.clone(),
            error_reason: interrupted.then(|| "interrupted".to_owned()),
            summary: summary_of(&outcome.text),
            delivered: Some(delivery.delivered),
            delivery_status: Some(delivery.status.into()),
            delivery: delivery.detail.clone(),
            delivery_error: delivery.error.clone(),
            session_id: outcome.session_id.clone(),
            session_key: outcome.session_key.clone(),
            run_id: Some(run_id.to_owned()),
            run_at_ms: Some(started_at),
            duration_ms: Some(now.saturating_sub(started_at)),
            next_run_at_ms: kept.and_then(|j| j.state.next_run_at_ms),
            model: outcome.model.clone(),
            provider: outcome.provider.clone(),
            usage: outcome.usage.map(|(i, o, t)| RunUsage {
                input_tokens: i,
                output_tokens: o,
                total_tokens: t,
            }),
            job_name: kept.map(|j| j.name.clone()),
        };
        self.store()
            .finish_cron_run(job_id, kept, &entry, self.config.limits())?;
        let mut event = serde_json::to_value(&entry).unwrap_or_else(|_| json!({}));
        if let Some(o) = event.as_object_mut() {
            o.insert("action".into(), json!("finished"));
            o.insert("job".into(), json!(kept));
        }
        self.emit(event);
        if removed {
            self.emit(json!({"jobId": job_id, "action": "removed"}));
        }
        Ok(())
    }

    /// The job after a run: `None` inside when it is to be removed.
    fn after_run(
        &self,
        mut job: CronJob,
        status: RunStatus,
        started_at: u64,
        now: u64,
        outcome: &CronTurnOutcome,
        run_id: &str,
    ) -> Option<CronJob> {
        let one_shot = matches!(job.schedule, CronSchedule::At { .. });
        let s = &mut job.state;
        s.running_at_ms = None;
        s.last_run_at_ms = Some(started_at);
        s.last_run_status = Some(status);
        s.last_status = Some(status);
        s.last_duration_ms = Some(now.saturating_sub(started_at));
        s.last_run_id = Some(run_id.to_owned());
        s.last_delivered = Some(false);
        s.last_delivery_status = Some("not-requested".into());
        if status == RunStatus::Ok {
            s.consecutive_errors = 0;
            s.last_error = None;
            s.last_error_reason = None;
            if one_shot {
                if job.deletes_after_run() {
                    return None;
                }
                job.enabled = false;
                job.state.next_run_at_ms = None;
            }
            return Some(job);
        }
        s.consecutive_errors += 1;
        s.last_error = outcome.error.clone();
        let errors = s.consecutive_errors;
        if one_shot {
            job.enabled = false;
            job.state.next_run_at_ms = None;
            return Some(job);
        }
        let backoff = ERROR_BACKOFF_MS[(errors as usize - 1).min(ERROR_BACKOFF_MS.len() - 1)];
        let natural = job.state.next_run_at_ms.unwrap_or(0);
        job.state.next_run_at_ms = Some(natural.max(now + backoff));
        if errors >= AUTO_DISABLE_AFTER {
            job.enabled = false;
            job.state.auto_disabled = Some(AutoDisabled {
                reason: "consecutive-failures".into(),
                at_ms: now,
            });
        }
        Some(job)
    }

    /// At start: runs the old process left `running` are settled as interrupted (never run
    /// again); missed recurring slots follow `cron.skipMissedJobs`; enabled jobs without a
    /// next run get one.
    pub(crate) fn recover(&self) -> StateResult<()> {
        self.import_openclaw();
        for r in self.store().running_cron_runs()? {
            tracing::warn!("cron: run {} was interrupted by a stop", r.run_id);
            let outcome = CronTurnOutcome::failed(
                "interrupted: the gateway stopped before this run finished".into(),
            );
            let none = delivery::Outcome::not_requested();
            self.settle(&r.job_id, &r.run_id, r.started_at_ms, outcome, true, none)?;
        }
        let now = self.now();
        for mut job in self.store().cron_jobs()? {
            if !job.enabled {
                continue;
            }
            let recurring = !matches!(job.schedule, CronSchedule::At { .. });
            match job.state.next_run_at_ms {
                None => {
                    job.state.next_run_at_ms =
                        next_run_ms(&job.schedule, &job.id, job.created_at_ms, now).ok();
                    self.store().put_cron_job(&job)?;
                }
                Some(at) if at < now && recurring && self.config.skip_missed_jobs => {
                    self.skip_missed(job, at, now)?;
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Imports OpenClaw's `cron/jobs.json` (+ state and run logs) once; the files stay as
    /// they are. A failure is logged and retried at the next start.
    fn import_openclaw(&self) {
        let dir = openclaw_state::StateStore::state_dir(self.store()).to_owned();
        let found = match super::openclaw_files::read(&dir, self.now()) {
            Ok(Some(f)) => f,
            Ok(None) => return,
            Err(e) => {
                tracing::error!("cron: OpenClaw's jobs not imported: {e}");
                return;
            }
        };
        let source = super::openclaw_files::JOBS_FILE;
        match self
            .store()
            .import_cron(source, &found.jobs, &found.entries, self.config.limits())
        {
            Ok(Some((jobs, entries))) => tracing::info!(
                "cron: imported {jobs} job(s) and {entries} run-log entries from {source} \
                 ({} unreadable line(s) skipped)",
                found.skipped_lines
            ),
            Ok(None) => {}
            Err(e) => tracing::error!("cron: OpenClaw's jobs not imported: {e}"),
        }
    }

    fn skip_missed(&self, mut job: CronJob, missed_at: u64, now: u64) -> StateResult<()> {
        job.state.next_run_at_ms = next_run_ms(&job.schedule, &job.id, job.created_at_ms, now).ok();
        job.state.consecutive_skipped += 1;
        job.state.last_status = Some(RunStatus::Skipped);
        job.state.last_run_status = Some(RunStatus::Skipped);
        let entry = CronRunLogEntry {
            ts: now,
            job_id: job.id.clone(),
            action: "finished".into(),
            status: Some(RunStatus::Skipped),
            completion_status: Some("skipped".into()),
            error_reason: Some("missed".into()),
            summary: Some(
                "the slot passed while the gateway was stopped (cron.skipMissedJobs)".into(),
            ),
            run_at_ms: Some(missed_at),
            next_run_at_ms: job.state.next_run_at_ms,
            job_name: Some(job.name.clone()),
            ..CronRunLogEntry::default()
        };
        self.store()
            .finish_cron_run(&job.id.clone(), Some(&job), &entry, self.config.limits())
    }
}
