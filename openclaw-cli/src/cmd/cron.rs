//! `openclaw cron` (alias `automations`), as OpenClaw's CLI: each subcommand is one gateway
//! call with the params the real CLI sends (`cron.add`, `cron.list {includeDisabled, limit:
//! 200, offset: 0}`, `cron.run {id, mode}`, `cron.runs {id, limit}`, `cron.update {id,
//! patch}`, `cron.remove {id}`, `cron.status`). Reads connect with `operator.read`, changes with
//! `operator.admin`. Durations (`--every 10m`, `--at 20m`) use the gateway's own parser.

use std::time::{Duration, Instant};

use openclaw_gateway::cron::schedule::{parse_at, parse_duration_ms};
use serde_json::{Map, Value, json};

use super::gateway::{call_with, connect_options};
use crate::cli::GatewayTarget;
use crate::cron_args::{CronCmd, CronJobArgs};
use crate::error::{CliError, CliResult};
use crate::output::{Table, one_line, print_json};

fn call(t: &GatewayTarget, admin: bool, method: &str, params: Value) -> CliResult<Value> {
    let scope = if admin {
        "operator.admin"
    } else {
        "operator.read"
    };
    let opts = connect_options(t)?.scopes([scope]);
    Ok(call_with(opts, method, params)?.1)
}

pub fn run(cmd: CronCmd) -> CliResult {
    match cmd {
        CronCmd::Add { job, gateway, json } => add(&gateway, &job, json.json),
        CronCmd::List {
            all,
            agent,
            gateway,
            json,
        } => list(&gateway, all, agent, json.json),
        CronCmd::Get { id, gateway, .. } => {
            print_json(&call(&gateway, false, "cron.get", json!({"id": id}))?);
            Ok(())
        }
        CronCmd::Edit {
            id,
            job,
            clear_agent,
            gateway,
            json,
        } => edit(&gateway, &id, &job, clear_agent, json.json),
        CronCmd::Rm { id, gateway, json } => {
            let res = call(&gateway, true, "cron.remove", json!({"id": id}))?;
            done(json.json, &res, &format!("Removed job {id}."))
        }
        CronCmd::Run {
            id,
            due,
            wait,
            wait_timeout,
            poll_interval,
            gateway,
            json,
        } => {
            let mode = if due { "due" } else { "force" };
            let res = call(&gateway, true, "cron.run", json!({"id": id, "mode": mode}))?;
            if !wait || res["enqueued"] != true {
                return done(json.json, &res, &run_line(&res));
            }
            let timeout = duration(&wait_timeout, "--wait-timeout")?;
            let every = duration(&poll_interval, "--poll-interval")?;
            let entry = wait_for(&gateway, &id, &res["runId"], timeout, every)?;
            done(json.json, &entry, &runs_line(&entry))
        }
        CronCmd::Runs {
            id,
            limit,
            offset,
            status,
            delivery_status,
            query,
            run_id,
            sort,
            gateway,
            json,
        } => {
            let mut p = json!({"id": id, "limit": limit, "offset": offset, "sortDir": sort});
            let extra = [
                ("status", status),
                ("deliveryStatus", delivery_status),
                ("query", query),
                ("runId", run_id),
            ];
            for (k, v) in extra {
                if let Some(v) = v {
                    p[k] = json!(v);
                }
            }
            let res = call(&gateway, false, "cron.runs", p)?;
            if json.json {
                print_json(&res);
                return Ok(());
            }
            print_runs(&res);
            Ok(())
        }
        CronCmd::Export { output, gateway } => export(&gateway, output.as_deref()),
        CronCmd::Status { gateway, json } => {
            let res = call(&gateway, false, "cron.status", json!({}))?;
            let line = format!(
                "Cron {}: {} job(s), next wake {}",
                if res["enabled"] == true {
                    "enabled"
                } else {
                    "disabled"
                },
                res["jobs"],
                time_of(&res["nextWakeAtMs"])
            );
            done(json.json, &res, &line)
        }
    }
}

fn done(as_json: bool, res: &Value, line: &str) -> CliResult {
    if as_json {
        print_json(res);
    } else {
        crate::out!("{line}");
    }
    Ok(())
}

fn duration(text: &str, flag: &str) -> CliResult<u64> {
    parse_duration_ms(text).ok_or_else(|| {
        CliError::usage(format!("{flag}: not a duration: {text} (use 30s, 10m, 2h)"))
    })
}

/// An instant in ms as RFC 3339 (UTC).
fn iso(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn time_of(v: &Value) -> String {
    v.as_u64().map_or_else(|| "-".into(), iso)
}

/// `schedule` from --at / --every / --cron (`None` when none is given).
fn schedule(a: &CronJobArgs) -> CliResult<Option<Value>> {
    if let Some(at) = &a.at {
        let now = openclaw_state::now_ms();
        let relative = parse_duration_ms(at).is_some();
        let has_offset = at.ends_with('Z') || at.rfind(['+', '-']).is_some_and(|i| i > 10);
        let text = match &a.tz {
            Some(tz) if !relative && !has_offset => zoned(at, tz)?,
            _ => at.clone(),
        };
        let ms = parse_at(&text, now).map_err(|e| CliError::usage(e.to_string()))?;
        return Ok(Some(json!({"kind": "at", "at": iso(ms)})));
    }
    if let Some(every) = &a.every {
        let ms = duration(every, "--every")?;
        return Ok(Some(json!({"kind": "every", "everyMs": ms})));
    }
    let Some(expr) = &a.cron_expr else {
        return Ok(None);
    };
    let mut s = json!({"kind": "cron", "expr": expr});
    if let Some(tz) = &a.tz {
        s["tz"] = json!(tz);
    }
    if a.exact {
        s["staggerMs"] = json!(0);
    } else if let Some(st) = &a.stagger {
        s["staggerMs"] = json!(duration(st, "--stagger")?);
    }
    Ok(Some(s))
}

/// An offset-less local time in `tz` with that zone's offset.
fn zoned(at: &str, tz: &str) -> CliResult<String> {
    let bad = |e: String| CliError::usage(format!("--at {at} in --tz {tz}: {e}"));
    let dt: jiff::civil::DateTime = at.parse().map_err(|e: jiff::Error| bad(e.to_string()))?;
    let z = dt.in_tz(tz).map_err(|e| bad(e.to_string()))?;
    Ok(z.timestamp().to_string())
}

fn list_of(text: &Option<String>) -> Option<Vec<String>> {
    text.as_ref().map(|t| {
        t.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

/// The agentTurn fields the flags set (onto `payload`).
fn turn_fields(a: &CronJobArgs, payload: &mut Map<String, Value>) {
    if let Some(m) = &a.model {
        payload.insert("model".into(), json!(m));
    }
    if let Some(f) = list_of(&a.fallbacks) {
        payload.insert("fallbacks".into(), json!(f));
    }
    if let Some(t) = &a.thinking {
        payload.insert("thinking".into(), json!(t));
    }
    if let Some(t) = a.timeout_seconds {
        payload.insert("timeoutSeconds".into(), json!(t));
    }
    if a.light_context {
        payload.insert("lightContext".into(), json!(true));
    }
    if let Some(t) = list_of(&a.tools) {
        payload.insert("toolsAllow".into(), json!(t));
    }
}

fn delivery(a: &CronJobArgs) -> Option<Value> {
    let mut d = if a.announce {
        json!({"mode": "announce", "channel": a.channel, "to": a.to})
    } else if let Some(url) = &a.webhook {
        json!({"mode": "webhook", "to": url})
    } else if a.no_deliver {
        json!({"mode": "none"})
    } else {
        return None;
    };
    if let Some(t) = &a.thread_id {
        d["threadId"] = t.parse::<i64>().map_or_else(|_| json!(t), |n| json!(n));
    }
    if a.best_effort_deliver {
        d["bestEffort"] = json!(true);
    }
    if let Some(o) = d.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    Some(d)
}

/// The fields every command that describes a job shares.
fn common_fields(a: &CronJobArgs, p: &mut Map<String, Value>) -> CliResult<()> {
    if let Some(n) = &a.name {
        p.insert("name".into(), json!(n));
    }
    if let Some(d) = &a.description {
        p.insert("description".into(), json!(d));
    }
    if let Some(s) = schedule(a)? {
        p.insert("schedule".into(), s);
    }
    if let Some(s) = &a.session {
        p.insert("sessionTarget".into(), json!(s));
    }
    if let Some(w) = &a.wake {
        p.insert("wakeMode".into(), json!(w));
    }
    if let Some(d) = delivery(a) {
        p.insert("delivery".into(), d);
    }
    if a.delete_after_run || a.keep_after_run {
        p.insert("deleteAfterRun".into(), json!(a.delete_after_run));
    }
    if let Some(id) = &a.agent {
        p.insert("agentId".into(), json!(id));
    }
    if a.enable || a.disable {
        p.insert("enabled".into(), json!(a.enable));
    }
    Ok(())
}

fn add(t: &GatewayTarget, a: &CronJobArgs, as_json: bool) -> CliResult {
    let mut p = Map::new();
    p.insert("enabled".into(), json!(true));
    common_fields(a, &mut p)?;
    if !p.contains_key("name") {
        return Err(CliError::usage("--name is required"));
    }
    if !p.contains_key("schedule") {
        return Err(CliError::usage(
            "one of --at, --every or --cron is required",
        ));
    }
    let payload = match (&a.system_event, &a.message) {
        (Some(text), _) => json!({"kind": "systemEvent", "text": text}),
        (None, Some(m)) => {
            let mut turn = Map::new();
            turn.insert("kind".into(), json!("agentTurn"));
            turn.insert("message".into(), json!(m));
            turn_fields(a, &mut turn);
            Value::Object(turn)
        }
        (None, None) => {
            return Err(CliError::usage(
                "one of --system-event or --message is required",
            ));
        }
    };
    let target = if a.system_event.is_some() {
        "main"
    } else {
        "isolated"
    };
    p.entry("sessionTarget").or_insert_with(|| json!(target));
    p.entry("wakeMode").or_insert_with(|| json!("now"));
    p.insert("payload".into(), payload);
    let job = call(t, true, "cron.add", Value::Object(p))?;
    let line = format!(
        "Added job {} ({}); next run {}",
        job["id"].as_str().unwrap_or("?"),
        job["name"].as_str().unwrap_or(""),
        time_of(&job["state"]["nextRunAtMs"])
    );
    done(as_json, &job, &line)
}

fn edit(
    t: &GatewayTarget,
    id: &str,
    a: &CronJobArgs,
    clear_agent: bool,
    as_json: bool,
) -> CliResult {
    let mut patch = Map::new();
    common_fields(a, &mut patch)?;
    if clear_agent {
        patch.insert("agentId".into(), Value::Null);
    }
    let mut turn = Map::new();
    turn_fields(a, &mut turn);
    if let Some(text) = &a.system_event {
        patch.insert(
            "payload".into(),
            json!({"kind": "systemEvent", "text": text}),
        );
    } else if a.message.is_some() || !turn.is_empty() {
        // The other payload fields stay as they are: start from the job's payload.
        let job = call(t, false, "cron.get", json!({"id": id}))?;
        let mut payload = match job["payload"].clone() {
            Value::Object(o) if o.get("kind") == Some(&json!("agentTurn")) => o,
            _ => Map::from_iter([("kind".to_owned(), json!("agentTurn"))]),
        };
        if let Some(m) = &a.message {
            payload.insert("message".into(), json!(m));
        }
        payload.extend(turn);
        patch.insert("payload".into(), Value::Object(payload));
    }
    if patch.is_empty() {
        return Err(CliError::usage("nothing to change: give at least one flag"));
    }
    let job = call(t, true, "cron.update", json!({"id": id, "patch": patch}))?;
    done(as_json, &job, &format!("Updated job {id}."))
}

fn schedule_text(s: &Value) -> String {
    match s["kind"].as_str() {
        Some("at") => format!("at {}", s["at"].as_str().unwrap_or("")),
        Some("every") => format!("every {}ms", s["everyMs"]),
        Some("cron") => match s["tz"].as_str() {
            Some(tz) => format!("cron {} ({tz})", s["expr"].as_str().unwrap_or("")),
            None => format!("cron {}", s["expr"].as_str().unwrap_or("")),
        },
        _ => "-".into(),
    }
}

fn list(t: &GatewayTarget, all: bool, agent: Option<String>, as_json: bool) -> CliResult {
    let mut p = json!({"includeDisabled": all, "limit": 200, "offset": 0});
    if let Some(a) = agent {
        p["agentId"] = json!(a);
    }
    let res = call(t, false, "cron.list", p)?;
    if as_json {
        print_json(&res);
        return Ok(());
    }
    let jobs = res["jobs"].as_array().cloned().unwrap_or_default();
    if jobs.is_empty() {
        crate::out!("No cron jobs.");
        return Ok(());
    }
    let mut table = Table::new(&["ID", "Name", "Schedule", "Next", "Last", "Status", "Target"]);
    for j in &jobs {
        let status = if j["enabled"] == true {
            "enabled"
        } else {
            "disabled"
        };
        table.row(vec![
            j["id"].as_str().unwrap_or("").to_owned(),
            one_line(j["name"].as_str().unwrap_or(""), 32),
            schedule_text(&j["schedule"]),
            time_of(&j["state"]["nextRunAtMs"]),
            j["state"]["lastRunStatus"]
                .as_str()
                .unwrap_or("-")
                .to_owned(),
            status.into(),
            j["sessionTarget"].as_str().unwrap_or("").to_owned(),
        ]);
    }
    table.print();
    Ok(())
}

fn run_line(res: &Value) -> String {
    if res["enqueued"] == true {
        format!("Run {} enqueued.", res["runId"].as_str().unwrap_or("?"))
    } else {
        format!("Not run: {}.", res["reason"].as_str().unwrap_or("?"))
    }
}

fn runs_line(e: &Value) -> String {
    format!(
        "{} {} {}",
        e["runId"].as_str().unwrap_or("?"),
        e["status"].as_str().unwrap_or("?"),
        one_line(
            e["summary"].as_str().or(e["error"].as_str()).unwrap_or(""),
            96
        )
    )
}

fn print_runs(res: &Value) {
    let entries = res["entries"].as_array().cloned().unwrap_or_default();
    if entries.is_empty() {
        crate::out!("No runs.");
        return;
    }
    let mut table = Table::new(&["Run", "At", "Status", "Duration", "Summary"]);
    for e in &entries {
        table.row(vec![
            e["runId"].as_str().unwrap_or("-").to_owned(),
            time_of(&e["runAtMs"]),
            e["status"].as_str().unwrap_or("-").to_owned(),
            e["durationMs"]
                .as_u64()
                .map_or("-".into(), |d| format!("{d}ms")),
            one_line(
                e["summary"].as_str().or(e["error"].as_str()).unwrap_or(""),
                80,
            ),
        ]);
    }
    table.print();
}

/// Polls `cron.runs` until `run_id` has an entry.
fn wait_for(
    t: &GatewayTarget,
    id: &str,
    run_id: &Value,
    timeout: u64,
    every: u64,
) -> CliResult<Value> {
    let deadline = Instant::now() + Duration::from_millis(timeout);
    loop {
        let res = call(
            t,
            false,
            "cron.runs",
            json!({"id": id, "runId": run_id, "limit": 1}),
        )?;
        if let Some(e) = res["entries"].get(0) {
            return Ok(e.clone());
        }
        if Instant::now() >= deadline {
            return Err(CliError::failure(format!(
                "run {run_id} did not finish in time"
            )));
        }
        std::thread::sleep(Duration::from_millis(every.max(100)));
    }
}

/// `cron export`: every job (disabled ones too, page by page) as OpenClaw's `jobs.json`.
fn export(t: &GatewayTarget, output: Option<&std::path::Path>) -> CliResult {
    let mut jobs: Vec<openclaw_core::protocol::cron::CronJob> = Vec::new();
    let mut offset = 0u64;
    loop {
        let p = json!({"includeDisabled": true, "limit": 200, "offset": offset});
        let page = call(t, false, "cron.list", p)?;
        for j in page["jobs"].as_array().into_iter().flatten() {
            let job = serde_json::from_value(j.clone()).map_err(|e| {
                CliError::failure(format!("the gateway sent an unreadable job: {e}"))
            })?;
            jobs.push(job);
        }
        match page["nextOffset"].as_u64() {
            Some(next) if page["hasMore"] == true && next > offset => offset = next,
            _ => break,
        }
    }
    let text = serde_json::to_string_pretty(&openclaw_gateway::cron::openclaw_files::export(&jobs))
        .map_err(|e| CliError::failure(e.to_string()))?;
    match output {
        None => crate::out!("{text}"),
        Some(path) => {
            // Beside the target, then renamed over it: a reader never sees half a file.
            let mut tmp = path.as_os_str().to_owned();
            tmp.push(format!(".{}.tmp", std::process::id()));
            let tmp = std::path::PathBuf::from(tmp);
            let written = std::fs::write(&tmp, format!("{text}\n"))
                .and_then(|()| std::fs::rename(&tmp, path));
            if let Err(e) = written {
                let _ = std::fs::remove_file(&tmp);
                return Err(CliError::failure(format!("{}: {e}", path.display())));
            }
            crate::out!("Exported {} job(s) to {}.", jobs.len(), path.display());
        }
    }
    Ok(())
}
