//! The agent's scheduler tool, OpenClaw's `automations` (legacy name `cron`, accepted in tool
//! policies): `status | list | get | add | update | remove | run | runs | wake`, so an agent
//! can make and manage its own jobs ("remind me at 9"). It calls the same handlers as the
//! `cron.*` methods, behind OpenClaw's caller scope:
//!
//! - **Who may manage everything**: a turn from an operator connection with `operator.admin`
//!   (the Control UI's administrator) and a channel turn from a configured owner
//!   (`commands.ownerAllowFrom`, `"<channel>:<senderId>"` or the bare id).
//! - **Everyone else** (other channel senders, operators without admin, hooks, heartbeats)
//!   sees only the jobs its own session owns (`owner.sessionKey`, or an ownerless job of its
//!   agent created from that session); totals describe that view (`scope: "caller"`).
//! - **A cron run** may only read and remove its own job (`status`, `list`, `get`, `runs`,
//!   `remove`): "Automations tool is restricted to the current automation."
//!
//! `add` fills in what OpenClaw's tool does: the schedule and payload may be flat beside the
//! action, `sessionTarget` defaults to `current` for an agent turn (`main` for a system event),
//! the job belongs to the calling agent and session (`owner`), and an agent turn without a
//! delivery target announces to the channel conversation that asked (none for web chat: the
//! answer lands in the conversation's own history).

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::cron::CronJob;
use openclaw_state::{ConversationRoute, CronStore, RouteStore};
use serde_json::{Map, Value, json};

use super::{CronService, methods};

/// The tool's name and its legacy alias.
pub const NAME: &str = "automations";
pub const ALIAS: &str = "cron";

/// The refusal a cron run gets outside its own job.
pub const SELF_SCOPE_ERROR: &str = "Automations tool is restricted to the current automation.";

/// Who is calling: the turn the tool runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub agent_id: String,
    pub session_key: String,
    /// May list and change every job (admin operator, configured channel owner).
    pub manage_all: bool,
    /// A cron run of this job: only its own job.
    pub cron_job: Option<String>,
}

/// What the model sees of the tool.
pub fn description() -> &'static str {
    "Gateway scheduler: reminders, delayed self-wakeups, recurring work. Never exec sleep/poll \
     as timer.\n\nACTIONS: status | list [includeDisabled,limit?,offset?] | get jobId | add job \
     | update jobId job (partial: only supplied fields change; null clears) | remove jobId | \
     run jobId (runMode \"force\"=now) | runs jobId = history | wake text \
     mode?:\"now\"|\"next-heartbeat\"(default).\n\nSCHEDULE: {kind:\"at\",at:\"ISO-8601\" or \
     \"20m\"} one-shot (deleted after success) | {kind:\"every\",everyMs} | \
     {kind:\"cron\",expr,tz?:\"IANA\"} (expr is wall time in tz).\n\nTARGET+PAYLOAD: \
     \"current\" (agentTurn default) = this conversation; \"isolated\" = fresh session; \
     \"main\" = heartbeat lane with {kind:\"systemEvent\",text}; \"session:<key>\". \
     {kind:\"agentTurn\",message}.\n\nDELIVERY: omitted = announce to the chat that asked \
     (channel conversations); {mode:\"none\"} keeps it silent; {mode:\"announce\",channel,to} \
     names a chat; {mode:\"webhook\",to:URL}.\n\nSCOPE: unless you are talking to the owner or \
     an administrator, you see only the jobs this conversation created."
}

/// The tool's parameters (OpenClaw's shape, trimmed to what this gateway runs).
pub fn parameters() -> Value {
    let schedule = json!({"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["at", "every", "cron"]},
        "at": {"type": "string", "description": "ISO-8601 time or a duration like 20m (kind=at)"},
        "everyMs": {"type": "integer", "minimum": 1, "description": "Interval ms (kind=every)"},
        "anchorMs": {"type": "integer", "minimum": 0},
        "expr": {"type": "string", "description": "Cron wall-time expr (kind=cron)"},
        "tz": {"type": "string", "description": "IANA timezone"},
        "staggerMs": {"type": "integer", "minimum": 0}}});
    let payload = json!({"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["systemEvent", "agentTurn"]},
        "text": {"type": "string", "description": "systemEvent text"},
        "message": {"type": "string", "description": "agentTurn prompt"},
        "model": {"type": ["string", "null"]},
        "thinking": {"type": "string"},
        "timeoutSeconds": {"type": ["number", "null"], "minimum": 0}}});
    let delivery = json!({"type": "object", "properties": {
        "mode": {"type": "string", "enum": ["none", "announce", "webhook"]},
        "channel": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
        "threadId": {"type": ["string", "number", "null"]},
        "accountId": {"type": ["string", "null"]}, "bestEffort": {"type": "boolean"}}});
    json!({
        "type": "object",
        "properties": {
            "action": {"type": "string",
                "enum": ["status", "list", "get", "add", "update", "remove", "run", "runs", "wake"]},
            "includeDisabled": {"type": "boolean"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 200},
            "offset": {"type": "integer", "minimum": 0},
            "job": {"type": "object", "properties": {
                "name": {"type": "string"}, "description": {"type": "string"},
                "schedule": schedule, "sessionTarget": {"type": "string",
                    "description": "main | isolated | current (agentTurn default) | session:<id>"},
                "wakeMode": {"type": "string", "enum": ["now", "next-heartbeat"]},
                "payload": payload, "delivery": delivery, "enabled": {"type": "boolean"},
                "deleteAfterRun": {"type": "boolean"}},
                "description": "Job fields. action=\"add\": full job. action=\"update\": partial patch."},
            "jobId": {"type": "string"},
            "id": {"type": "string"},
            "text": {"type": "string", "description": "systemEvent text for action=\"wake\""},
            "mode": {"type": "string", "enum": ["now", "next-heartbeat"]},
            "runMode": {"type": "string", "enum": ["due", "force"]}
        },
        "required": ["action"]
    })
}

fn err(e: ErrorShape) -> String {
    e.message
}

fn job_id(args: &Value) -> Result<String, String> {
    ["jobId", "id"]
        .iter()
        .find_map(|k| args.get(*k).and_then(Value::as_str))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| "jobId required (id accepted for backward compatibility)".into())
}

/// Whether `job` is in `caller`'s view (OpenClaw's `cronJobMatchesCallerScope`, without
/// its account and command-job cases).
pub fn visible(job: &CronJob, caller: &Caller) -> bool {
    if caller.manage_all {
        return true;
    }
    if let Some(own) = &caller.cron_job {
        return &job.id == own;
    }
    let agent = job
        .owner
        .as_ref()
        .and_then(|o| o.agent_id.as_deref())
        .or(job.agent_id.as_deref())
        .unwrap_or("main");
    if agent != caller.agent_id {
        return false;
    }
    let session = job
        .owner
        .as_ref()
        .and_then(|o| o.session_key.as_deref())
        .or(job.session_key.as_deref());
    session == Some(caller.session_key.as_str())
}

/// Runs one call of the tool; its JSON result, or the error the model sees.
pub fn execute(cron: &Arc<CronService>, caller: &Caller, args: &Value) -> Result<Value, String> {
    let action = args
        .get("action")
        .and_then(Value::as_str)
        .ok_or("action required")?;
    if caller.cron_job.is_some() && !matches!(action, "status" | "list" | "get" | "runs" | "remove")
    {
        return Err(SELF_SCOPE_ERROR.into());
    }
    match action {
        "status" => {
            let mut s = methods::call(cron, "cron.status", None).map_err(err)?;
            if !caller.manage_all {
                s = json!({"enabled": s["enabled"]});
            }
            Ok(s)
        }
        "list" => list(cron, caller, args),
        "get" => Ok(methods::to_value(&owned_job(cron, caller, &job_id(args)?)?)),
        "add" => add(cron, caller, args),
        "update" => {
            let id = job_id(args)?;
            owned_job(cron, caller, &id)?;
            let patch = flat_job(args, "update")?;
            if !caller.manage_all && (patch.contains_key("agentId") || patch.contains_key("owner"))
            {
                return Err(
                    "only the owner or an administrator can move a job to another agent".into(),
                );
            }
            methods::call(
                cron,
                "cron.update",
                Some(json!({"id": id, "patch": Value::Object(patch)})),
            )
            .map_err(err)
        }
        "remove" | "run" | "runs" => {
            let id = job_id(args)?;
            owned_job(cron, caller, &id)?;
            let (method, params) = match action {
                "remove" => ("cron.remove", json!({"id": id})),
                "run" => {
                    let mode = match args.get("runMode").and_then(Value::as_str) {
                        Some("force") => "force",
                        _ => "due",
                    };
                    ("cron.run", json!({"id": id, "mode": mode}))
                }
                _ => ("cron.runs", json!({"id": id, "limit": 50})),
            };
            methods::call(cron, method, Some(params)).map_err(err)
        }
        "wake" => wake(cron, caller, args),
        other => Err(format!("Unknown action: {other}")),
    }
}

/// The job `id` if the caller may see it; otherwise OpenClaw's not-found text (a restricted
/// view cannot tell "absent" from "not yours").
fn owned_job(cron: &CronService, caller: &Caller, id: &str) -> Result<CronJob, String> {
    if caller.cron_job.as_deref().is_some_and(|own| own != id) {
        return Err(SELF_SCOPE_ERROR.into());
    }
    match cron.store().cron_job(id) {
        Ok(Some(job)) if visible(&job, caller) => Ok(job),
        Ok(_) => Err(format!(
            "Automation not found: {id}. List automations and retry with a current job id. For \
             cross-session management, use a fresh authenticated configured channel owner or \
             Control UI administrator turn or the Automations page."
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn list(cron: &Arc<CronService>, caller: &Caller, args: &Value) -> Result<Value, String> {
    let mut params = Map::new();
    let include = args.get("includeDisabled").and_then(Value::as_bool) == Some(true);
    params.insert("includeDisabled".into(), json!(include));
    if caller.manage_all {
        for k in ["limit", "offset"] {
            if let Some(v) = args.get(k) {
                params.insert(k.into(), v.clone());
            }
        }
        let mut out = methods::call(cron, "cron.list", Some(Value::Object(params))).map_err(err)?;
        out["scope"] = json!("gateway");
        return Ok(out);
    }
    // The caller's view is filtered before paging, so totals describe it.
    let jobs = cron.store().cron_jobs().map_err(|e| e.to_string())?;
    let mut mine: Vec<&CronJob> = jobs
        .iter()
        .filter(|j| (include || j.enabled) && visible(j, caller))
        .collect();
    mine.sort_by_key(|j| j.state.next_run_at_ms.unwrap_or(u64::MAX));
    let total = mine.len() as u64;
    let limit = args
        .get("limit")
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .clamp(1, 200);
    let offset = args
        .get("offset")
        .and_then(Value::as_u64)
        .unwrap_or(0)
        .min(total);
    let page: Vec<Value> = mine
        .iter()
        .skip(offset as usize)
        .take(limit as usize)
        .map(|j| methods::to_value(j))
        .collect();
    let end = offset + page.len() as u64;
    Ok(
        json!({"jobs": page, "total": total, "offset": offset, "limit": limit,
        "hasMore": end < total, "nextOffset": (end < total).then_some(end), "scope": "caller",
        "scopeHint": "Restricted automation inventory. For Gateway-wide management, use a fresh \
            authenticated configured channel owner or Control UI administrator turn or the \
            Automations page."}),
    )
}

/// Keys a model may put beside `action` instead of inside `job` (OpenClaw's recovery of
/// flattened arguments).
const FLAT_JOB_KEYS: &[&str] = &[
    "name",
    "description",
    "schedule",
    "sessionTarget",
    "wakeMode",
    "payload",
    "delivery",
    "enabled",
    "deleteAfterRun",
    "agentId",
    "sessionKey",
    "failureAlert",
    "at",
    "everyMs",
    "expr",
    "cron",
    "tz",
    "message",
];

/// The job object of an `add`/`update`: `job` (or `data`), else the flat keys, with flat
/// schedule and payload fields moved into place.
fn flat_job(args: &Value, action: &str) -> Result<Map<String, Value>, String> {
    let given = ["job", "data"]
        .iter()
        .find_map(|k| args.get(*k).and_then(Value::as_object))
        .filter(|m| !m.is_empty())
        .cloned();
    let mut job = match given {
        Some(j) => j,
        None => {
            let m: Map<String, Value> = FLAT_JOB_KEYS
                .iter()
                .filter_map(|k| args.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            if m.is_empty() {
                return Err("job required".into());
            }
            m
        }
    };
    let mut schedule = job
        .remove("schedule")
        .and_then(|s| s.as_object().cloned())
        .unwrap_or_default();
    for (from, to, kind) in [
        ("at", "at", "at"),
        ("everyMs", "everyMs", "every"),
        ("expr", "expr", "cron"),
        ("cron", "expr", "cron"),
    ] {
        if let Some(v) = job.remove(from) {
            schedule.insert(to.into(), v);
            schedule.entry("kind").or_insert_with(|| json!(kind));
        }
    }
    if let Some(tz) = job.remove("tz") {
        schedule.insert("tz".into(), tz);
    }
    if !schedule.contains_key("kind") {
        let kind = ["at", "everyMs", "expr"]
            .iter()
            .zip(["at", "every", "cron"])
            .find(|(k, _)| schedule.contains_key(**k))
            .map(|(_, kind)| kind);
        if let Some(kind) = kind {
            schedule.insert("kind".into(), json!(kind));
        }
    }
    if !schedule.is_empty() {
        job.insert("schedule".into(), Value::Object(schedule));
    }
    if let Some(m) = job.remove("message") {
        let payload = job.entry("payload").or_insert_with(|| json!({}));
        if let Some(p) = payload.as_object_mut() {
            p.entry("message").or_insert(m);
        }
    }
    if let Some(p) = job.get_mut("payload").and_then(Value::as_object_mut) {
        if !p.contains_key("kind") {
            let kind = if p.contains_key("message") {
                "agentTurn"
            } else {
                "systemEvent"
            };
            p.insert("kind".into(), json!(kind));
        }
    }
    if action == "add" {
        // On create there is nothing to clear: nulls are dropped.
        job.retain(|_, v| !v.is_null());
    }
    Ok(job)
}

fn add(cron: &Arc<CronService>, caller: &Caller, args: &Value) -> Result<Value, String> {
    let mut job = flat_job(args, "add")?;
    if !job.contains_key("schedule") || !job.contains_key("payload") {
        return Err("job requires schedule and payload".into());
    }
    let agent_turn = job["payload"]["kind"] == "agentTurn";
    let text = job["payload"]
        .get(if agent_turn { "message" } else { "text" })
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if !job.contains_key("name") {
        let name: String = text.chars().take(48).collect();
        let name = name.trim();
        job.insert(
            "name".into(),
            json!(if name.is_empty() { "Reminder" } else { name }),
        );
    }
    job.entry("sessionTarget")
        .or_insert_with(|| json!(if agent_turn { "current" } else { "main" }));
    job.entry("wakeMode").or_insert_with(|| json!("now"));
    if !caller.manage_all {
        if job
            .get("agentId")
            .and_then(Value::as_str)
            .is_some_and(|a| a != caller.agent_id)
        {
            return Err("a job can only be created for the calling agent".into());
        }
        job.remove("sessionKey");
    }
    job.entry("agentId")
        .or_insert_with(|| json!(caller.agent_id));
    let isolated = job["sessionTarget"] == "isolated";
    if !isolated {
        job.entry("sessionKey")
            .or_insert_with(|| json!(caller.session_key));
    }
    let route = cron.store().route_of(&caller.session_key).ok().flatten();
    let account = route.as_ref().map(|r| r.account_id.clone());
    job.insert(
        "owner".into(),
        json!({"agentId": caller.agent_id, "sessionKey": caller.session_key,
               "accountId": account}),
    );
    if agent_turn {
        default_delivery(&mut job, route.as_ref());
    }
    methods::call(cron, "cron.add", Some(Value::Object(job))).map_err(err)
}

/// An agent turn's delivery when it names no target: announce to the conversation that asked
/// (a channel conversation), otherwise none (web chat: the answer stays in its history).
fn default_delivery(job: &mut Map<String, Value>, route: Option<&ConversationRoute>) {
    let given = job.get("delivery").and_then(Value::as_object);
    let mode = given
        .and_then(|d| d.get("mode"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let has_target = given.is_some_and(|d| {
        ["channel", "to"].iter().any(|k| {
            d.get(*k)
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty())
        })
    });
    if !(mode.is_empty() || mode == "announce") || has_target {
        return;
    }
    let Some(r) = route else {
        if given.is_none() {
            job.insert("delivery".into(), json!({"mode": "none"}));
        }
        return;
    };
    let mut d = json!({"mode": "announce", "channel": r.channel, "to": r.peer,
                       "accountId": r.account_id});
    if let Some(t) = &r.thread_id {
        d["threadId"] = json!(t);
    }
    if let Some(given) = given {
        for (k, v) in given {
            d[k] = v.clone();
        }
    }
    job.insert("delivery".into(), d);
}

fn wake(cron: &Arc<CronService>, caller: &Caller, args: &Value) -> Result<Value, String> {
    let text = args
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or("text required")?;
    let now = args.get("mode").and_then(Value::as_str) == Some("now");
    let hb = cron
        .heartbeat
        .get()
        .ok_or("this gateway runs no heartbeats")?;
    let agent = match args.get("agentId").and_then(Value::as_str) {
        Some(a) if a != caller.agent_id && !caller.manage_all => {
            return Err("wake can only target the calling agent".into());
        }
        Some(a) => a.to_owned(),
        None => caller.agent_id.clone(),
    };
    let agent = hb.agent_for(Some(&agent), None)?;
    hb.enqueue(&agent, text, now)?;
    Ok(json!({"ok": true}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_arguments_become_a_job() {
        let args = json!({"action": "add", "at": "20m", "message": "stand up"});
        let job = flat_job(&args, "add").unwrap();
        assert_eq!(job["schedule"], json!({"kind": "at", "at": "20m"}));
        assert_eq!(
            job["payload"],
            json!({"kind": "agentTurn", "message": "stand up"})
        );
        let nested = json!({"action": "add", "job": {"schedule": {"everyMs": 60000},
            "payload": {"text": "tick"}, "delivery": null}});
        let job = flat_job(&nested, "add").unwrap();
        assert_eq!(job["schedule"]["kind"], "every");
        assert_eq!(job["payload"]["kind"], "systemEvent");
        assert!(!job.contains_key("delivery"), "nulls dropped on add");
        assert!(flat_job(&json!({"action": "add"}), "add").is_err());
    }

    #[test]
    fn a_channel_conversation_gets_announce_back_to_it_and_web_chat_none() {
        let route = ConversationRoute {
            channel: "telegram".into(),
            account_id: "default".into(),
            peer: "4242".into(),
            thread_id: None,
            chat_type: "direct".into(),
            sender: Some("4242".into()),
            updated_at_ms: 1,
        };
        let mut job = Map::new();
        default_delivery(&mut job, Some(&route));
        assert_eq!(
            job["delivery"],
            json!({"mode": "announce", "channel": "telegram", "to": "4242", "accountId": "default"})
        );
        let mut job = Map::new();
        default_delivery(&mut job, None);
        assert_eq!(job["delivery"], json!({"mode": "none"}));
        // An explicit target is kept.
        let mut job = Map::new();
        job.insert(
            "delivery".into(),
            json!({"mode": "announce", "channel": "telegram", "to": "7"}),
        );
        default_delivery(&mut job, Some(&route));
        assert_eq!(job["delivery"]["to"], "7");
    }
}
