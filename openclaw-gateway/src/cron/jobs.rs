//! Job records: built from `cron.add`, changed by `cron.update`'s patch, their
//! `configRevision`, and what this gateway refuses by name because it cannot carry it out yet
//! (light context, tool allow-lists other than `*`, model fallbacks).

use base64::Engine as _;
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::cron::{
    CronAddParams, CronJob, CronJobPatch, CronJobState, CronPayload, CronSchedule, SessionTarget,
};
use sha2::{Digest, Sha256};

use super::schedule::{next_run_ms, parse_at, parse_duration_ms, validate};

/// `sha256:<base64>` of the job's definition (everything but its state and timestamps).
pub fn revision(job: &CronJob) -> String {
    let mut def = job.clone();
    def.state = CronJobState::default();
    def.updated_at_ms = 0;
    def.config_revision = None;
    let bytes = serde_json::to_vec(&def).unwrap_or_default();
    format!(
        "sha256:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes))
    )
}

/// Refuses what the job asks for and this gateway cannot do, naming it.
pub fn check(method: &str, job: &CronJob, now: u64) -> Result<(), ErrorShape> {
    let refuse = |why: String| Err(ErrorShape::invalid_params(method, why));
    if let Err(e) = validate(&job.schedule, now) {
        return refuse(e.to_string());
    }
    if let Some(d) = &job.delivery {
        super::delivery::check(d).map_err(|e| ErrorShape::invalid_params(method, e))?;
    }
    match &job.payload {
        CronPayload::SystemEvent { text } => {
            if job.session_target != SessionTarget::Main {
                return refuse("a systemEvent payload needs sessionTarget \"main\"".into());
            }
            if text.trim().is_empty() {
                return refuse("payload.text must not be empty".into());
            }
        }
        CronPayload::AgentTurn(p) => {
            if p.message.trim().is_empty() {
                return refuse("payload.message must not be empty".into());
            }
            if p.fallbacks.as_ref().is_some_and(|f| !f.is_empty()) {
                return refuse("payload.fallbacks is not supported by this gateway yet".into());
            }
            if p.allow_unsafe_external_content == Some(true) {
                return refuse("payload.allowUnsafeExternalContent is not supported".into());
            }
            if p.tools_allow
                .as_ref()
                .is_some_and(|t| t.iter().any(|x| x != "*"))
            {
                return refuse(
                    "payload.toolsAllow other than [\"*\"] is not supported by this gateway yet"
                        .into(),
                );
            }
        }
    }
    if job.session_target == SessionTarget::Current && job.session_key.is_none() {
        return refuse("sessionTarget \"current\" needs sessionKey".into());
    }
    Ok(())
}

/// Recomputes the next run from `now` (enabled jobs only).
pub fn reschedule(job: &mut CronJob, now: u64) {
    job.state.next_run_at_ms = if job.enabled {
        next_run_ms(&job.schedule, &job.id, job.created_at_ms, now).ok()
    } else {
        None
    };
}

/// An `at` given as a duration (`20m`) becomes the ISO time it names, as OpenClaw stores it.
fn absolute_at(schedule: &mut CronSchedule, now: u64) {
    if let CronSchedule::At { at } = schedule {
        if parse_duration_ms(at).is_some() {
            if let Ok(ms) = parse_at(at, now) {
                if let Ok(ts) = jiff::Timestamp::from_millisecond(ms as i64) {
                    *at = ts.to_string();
                }
            }
        }
    }
}

/// A new job from `cron.add`.
pub fn from_add(p: CronAddParams, now: u64) -> Result<CronJob, ErrorShape> {
    let mut payload = p.payload;
    if let CronPayload::AgentTurn(t) = &mut payload {
        // What OpenClaw fills in for a job that names no tools.
        t.tools_allow.get_or_insert_with(|| vec!["*".into()]);
    }
    let mut job = CronJob {
        id: uuid::Uuid::new_v4().to_string(),
        name: p.name.0,
        display_name: p.display_name,
        description: p.description,
        agent_id: p.agent_id.map(|a| a.0),
        session_key: p.session_key.map(|k| k.0),
        enabled: p.enabled.unwrap_or(true),
        delete_after_run: p.delete_after_run,
        created_at_ms: now,
        updated_at_ms: now,
        schedule: p.schedule,
        session_target: p.session_target,
        wake_mode: p.wake_mode,
        payload,
        delivery: p.delivery,
        failure_alert: p.failure_alert,
        state: CronJobState::default(),
        config_revision: None,
        owner: p.owner,
    };
    if let CronSchedule::Every {
        anchor_ms: anchor @ None,
        ..
    } = &mut job.schedule
    {
        *anchor = Some(now);
    }
    absolute_at(&mut job.schedule, now);
    check("cron.add", &job, now)?;
    reschedule(&mut job, now);
    job.config_revision = Some(revision(&job));
    Ok(job)
}

/// `job` with `patch` applied (its next run recomputed when the schedule or `enabled`
/// changed).
pub fn patched(mut job: CronJob, patch: CronJobPatch, now: u64) -> Result<CronJob, ErrorShape> {
    let was_enabled = job.enabled;
    let schedule_changed = patch.schedule.is_some();
    if let Some(n) = patch.name {
        job.name = n.0;
    }
    patch.display_name.apply(&mut job.display_name);
    patch.description.apply(&mut job.description);
    patch.agent_id.apply(&mut job.agent_id);
    patch.delete_after_run.apply(&mut job.delete_after_run);
    patch.delivery.apply(&mut job.delivery);
    patch.failure_alert.apply(&mut job.failure_alert);
    if let Some(e) = patch.enabled {
        job.enabled = e;
    }
    if let Some(mut s) = patch.schedule {
        absolute_at(&mut s, now);
        job.schedule = s;
    }
    if let Some(t) = patch.session_target {
        job.session_target = t;
    }
    if let Some(w) = patch.wake_mode {
        job.wake_mode = w;
    }
    if let Some(p) = patch.payload {
        job.payload = p;
    }
    check("cron.update", &job, now)?;
    if job.enabled && !was_enabled {
        job.state.auto_disabled = None;
        job.state.consecutive_errors = 0;
    }
    if schedule_changed || job.enabled != was_enabled {
        reschedule(&mut job, now);
    }
    job.updated_at_ms = now;
    job.config_revision = Some(revision(&job));
    Ok(job)
}

/// `deliveryPreview {label, detail}` of a job.
pub fn delivery_preview(job: &CronJob) -> serde_json::Value {
    use openclaw_core::protocol::cron::DeliveryMode;
    let target = job.session_target.to_string();
    let d = job.delivery.as_ref();
    match d.map(|d| d.mode) {
        Some(DeliveryMode::Webhook) => serde_json::json!({"label": "webhook",
            "detail": format!("POST to {}", d.and_then(|d| d.to.as_deref()).unwrap_or("?"))}),
        Some(DeliveryMode::Announce) => {
            let channel = d.and_then(|d| d.channel.as_deref()).unwrap_or("last");
            let detail = match (channel, d.and_then(|d| d.to.as_deref())) {
                ("last", _) => {
                    "to the last conversation: not tracked yet, runs report not-delivered"
                        .to_owned()
                }
                (c, Some(to)) => format!("to {c} chat {to}"),
                (c, None) => format!("to {c}: no `to`, runs report not-delivered"),
            };
            serde_json::json!({"label": "announce", "detail": detail})
        }
        _ => serde_json::json!({"label": "none",
            "detail": format!("reply stays in the {target} session")}),
    }
}
