//! The `cron.*` methods with OpenClaw's params, results and errors (reads need
//! `operator.read`, changes `operator.admin`; the scope table is core's `protocol::scopes`), and
//! the `cron` events the changes emit.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::cron::{
    CronAddParams, CronIdParams, CronJob, CronListParams, CronRunMode, CronRunParams,
    CronRunsParams, CronSortBy, CronUpdateParams, EnabledFilter, SortDir,
};
use openclaw_core::protocol::params::{NonEmpty, parse};
use openclaw_core::protocol::system::NoParams;
use openclaw_state::{CronStore, RunQuery};
use serde_json::{Value, json};

use super::{CronService, jobs};

fn store_err(e: openclaw_state::StateError) -> ErrorShape {
    ErrorShape::unavailable(e.to_string())
}

fn not_found(id: &str) -> ErrorShape {
    ErrorShape::invalid_request(format!("cron job not found: {id}"))
        .with_details(json!({"code": "CRON_JOB_NOT_FOUND", "jobId": id}))
}

fn id_of(
    method: &str,
    id: Option<NonEmpty>,
    job_id: Option<NonEmpty>,
) -> Result<String, ErrorShape> {
    id.or(job_id).map(|n| n.0).ok_or_else(|| {
        ErrorShape::invalid_params(method, "at root: must have required property 'id'")
    })
}

fn job_of(cron: &CronService, id: &str) -> Result<CronJob, ErrorShape> {
    cron.store()
        .cron_job(id)
        .map_err(store_err)?
        .ok_or_else(|| not_found(id))
}

pub(crate) fn to_value(job: &CronJob) -> Value {
    serde_json::to_value(job).unwrap_or(Value::Null)
}

/// Answers `method` (one of the `cron.*` names).
pub(crate) fn call(
    cron: &Arc<CronService>,
    method: &str,
    p: Option<Value>,
) -> Result<Value, ErrorShape> {
    match method {
        "cron.status" => status(cron, parse(method, p)?),
        "cron.list" => list(cron, parse(method, p)?),
        "cron.get" => {
            let p: CronIdParams = parse(method, p)?;
            Ok(to_value(&job_of(cron, &id_of(method, p.id, p.job_id)?)?))
        }
        "cron.add" => add(cron, parse(method, p)?),
        "cron.update" => update(cron, parse(method, p)?),
        "cron.remove" => remove(cron, parse(method, p)?),
        "cron.run" => run(cron, parse(method, p)?),
        "cron.runs" => runs(cron, parse(method, p)?),
        m => Err(ErrorShape::unknown_method(m)),
    }
}

fn status(cron: &CronService, _: NoParams) -> Result<Value, ErrorShape> {
    let jobs = cron.store().cron_jobs().map_err(store_err)?;
    let next = jobs
        .iter()
        .filter(|j| j.enabled)
        .filter_map(|j| j.state.next_run_at_ms)
        .min();
    let path = cron.store().path().display().to_string();
    Ok(
        json!({"enabled": cron.config.enabled, "triggersEnabled": false, "storage": "sqlite",
        "sqlitePath": path, "storePath": path, "jobs": jobs.len(), "nextWakeAtMs": next}),
    )
}

fn matches(j: &CronJob, p: &CronListParams) -> bool {
    let enabled = match p.enabled {
        Some(EnabledFilter::All) => true,
        Some(EnabledFilter::Enabled) => j.enabled,
        Some(EnabledFilter::Disabled) => !j.enabled,
        None => j.enabled || p.include_disabled == Some(true),
    };
    let text = p.query.as_deref().map(str::to_lowercase);
    enabled
        && p.schedule_kind
            .as_deref()
            .is_none_or(|k| k == j.schedule.kind())
        && p.last_run_status
            .is_none_or(|s| j.state.last_run_status == Some(s))
        && p.agent_id
            .as_deref()
            .is_none_or(|a| j.agent_id.as_deref().unwrap_or("main") == a)
        && text.is_none_or(|t| {
            j.name.to_lowercase().contains(&t)
                || j.id.contains(&t)
                || j.description
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(&t))
        })
}

/// A revision of the whole job inventory (every job's id and last change), so a client paging
/// through `cron.list` can tell that the inventory changed between its pages (OpenClaw's CLI
/// requires one with the page metadata).
fn snapshot_revision(jobs: &[CronJob]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for j in jobs {
        j.id.hash(&mut h);
        j.updated_at_ms.hash(&mut h);
    }
    jobs.len().hash(&mut h);
    format!("{:016x}", h.finish())
}

fn list(cron: &CronService, p: CronListParams) -> Result<Value, ErrorShape> {
    let all: Vec<CronJob> = cron.store().cron_jobs().map_err(store_err)?;
    let revision = snapshot_revision(&all);
    let mut jobs: Vec<CronJob> = all.into_iter().filter(|j| matches(j, &p)).collect();
    match p.sort_by.unwrap_or_default() {
        CronSortBy::NextRunAtMs => jobs.sort_by_key(|j| j.state.next_run_at_ms.unwrap_or(u64::MAX)),
        CronSortBy::UpdatedAtMs => jobs.sort_by_key(|j| j.updated_at_ms),
        CronSortBy::Name => jobs.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if p.sort_dir == Some(SortDir::Desc) {
        jobs.reverse();
    }
    let total = jobs.len() as u64;
    let limit = p.limit.map_or(50, |l| l.get());
    let offset = p.offset.unwrap_or(0).min(total);
    let page: Vec<Value> = jobs
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|j| {
            let mut v = to_value(j);
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "effectiveAgentId".into(),
                    json!(j.agent_id.as_deref().unwrap_or("main")),
                );
            }
            v
        })
        .collect();
    let end = offset + page.len() as u64;
    let mut out = json!({"jobs": page, "total": total, "offset": offset, "limit": limit,
        "hasMore": end < total, "nextOffset": (end < total).then_some(end),
        "snapshotRevision": revision});
    if p.include_delivery_previews == Some(true) {
        let previews: serde_json::Map<String, Value> = jobs
            .iter()
            .map(|j| (j.id.clone(), jobs::delivery_preview(j)))
            .collect();
        out["deliveryPreviews"] = Value::Object(previews);
    }
    Ok(out)
}

fn add(cron: &CronService, p: CronAddParams) -> Result<Value, ErrorShape> {
    let job = jobs::from_add(p, cron.now())?;
    cron.store().put_cron_job(&job).map_err(store_err)?;
    cron.emit(json!({"jobId": job.id, "action": "added", "job": job,
        "nextRunAtMs": job.state.next_run_at_ms}));
    cron.poke();
    let mut v = to_value(&job);
    v["deliveryPreview"] = jobs::delivery_preview(&job);
    Ok(v)
}

fn update(cron: &CronService, p: CronUpdateParams) -> Result<Value, ErrorShape> {
    let id = id_of("cron.update", p.id, p.job_id)?;
    let job = job_of(cron, &id)?;
    if let Some(expected) = &p.expected_config_revision {
        let current = jobs::revision(&job);
        if expected != &current {
            return Err(ErrorShape::invalid_request(format!(
                "cron job {id} changed since it was read (configRevision {current})"
            ))
            .with_details(json!({"code": "CRON_CONFIG_REVISION_MISMATCH", "jobId": id,
                "currentConfigRevision": current})));
        }
    }
    let job = jobs::patched(job, p.patch, cron.now())?;
    cron.store().put_cron_job(&job).map_err(store_err)?;
    cron.emit(json!({"jobId": job.id, "action": "updated", "job": job}));
    cron.poke();
    Ok(to_value(&job))
}

fn remove(cron: &CronService, p: CronIdParams) -> Result<Value, ErrorShape> {
    let id = id_of("cron.remove", p.id, p.job_id)?;
    let job = job_of(cron, &id)?;
    cron.store().delete_cron_job(&id).map_err(store_err)?;
    cron.emit(json!({"jobId": id, "action": "removed", "job": job}));
    cron.poke();
    Ok(json!({"ok": true, "removed": true}))
}

fn run(cron: &Arc<CronService>, p: CronRunParams) -> Result<Value, ErrorShape> {
    let id = id_of("cron.run", p.id, p.job_id)?;
    let job = job_of(cron, &id)?;
    let not_run = |reason: &str| Ok(json!({"ok": true, "ran": false, "reason": reason}));
    if !cron.config.enabled {
        return not_run("stopped");
    }
    if cron.is_running(&id) {
        return not_run("already-running");
    }
    let now = cron.now();
    match p.mode {
        CronRunMode::IfEnabled | CronRunMode::Due if !job.enabled => return not_run("disabled"),
        CronRunMode::Due if job.state.next_run_at_ms.is_none_or(|at| at > now) => {
            return not_run("not-due");
        }
        _ => {}
    }
    let run_id = cron.enqueue_manual(&id, now);
    Ok(json!({"ok": true, "enqueued": true, "runId": run_id,
        "processInstanceId": cron.process_instance_id}))
}

fn runs(cron: &CronService, p: CronRunsParams) -> Result<Value, ErrorShape> {
    let id = p.id.or(p.job_id).map(|n| n.0);
    let all = p.scope.as_deref() == Some("all");
    if !all && id.is_none() {
        return Err(ErrorShape::invalid_params(
            "cron.runs",
            "at root: must have required property 'id' (or scope \"all\")",
        ));
    }
    let mut statuses: Vec<String> = p
        .statuses
        .unwrap_or_default()
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    statuses.extend(p.status.map(|s| s.as_str().to_owned()));
    let mut deliveries = p.delivery_statuses.unwrap_or_default();
    deliveries.extend(p.delivery_status);
    let limit = p.limit.map_or(50, |l| l.get());
    let offset = p.offset.unwrap_or(0);
    let page = cron
        .store()
        .cron_runs(&RunQuery {
            job_id: if all { None } else { id },
            run_id: p.run_id,
            statuses,
            delivery_statuses: deliveries,
            text: p.query.filter(|q| !q.is_empty()),
            newest_first: p.sort_dir != Some(SortDir::Asc),
            offset,
            limit,
        })
        .map_err(store_err)?;
    let end = offset + page.entries.len() as u64;
    Ok(
        json!({"entries": page.entries, "total": page.total, "offset": offset, "limit": limit,
        "hasMore": end < page.total, "nextOffset": (end < page.total).then_some(end)}),
    )
}

impl CronService {
    /// Queues a manual run of `job_id` (started at once when a slot is free); its run id.
    fn enqueue_manual(self: &Arc<Self>, job_id: &str, now: u64) -> String {
        let mut inner = self.inner();
        if let Some((_, run_id)) = inner.queued.iter().find(|(j, _)| j == job_id) {
            return run_id.clone();
        }
        inner.manual_seq += 1;
        let run_id = format!("manual:{job_id}:{now}:{}", inner.manual_seq);
        inner.queued.push_back((job_id.to_owned(), run_id.clone()));
        drop(inner);
        self.poke();
        run_id
    }
}
