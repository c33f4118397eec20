//! `openclaw health` and `openclaw status`: local checks (configuration, state directory,
//! models and credentials, sessions, the gateway on the configured port) or, with `--url`, a
//! running gateway's `health`/`status`.

use openclaw_core::config::{self, OpenClawConfig};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::gateway::{call_with, connect_options};
use super::models::{key_hint, registry};
use super::store;
use crate::cli::HealthArgs;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

fn remote(args: &HealthArgs, method: &str) -> CliResult<Value> {
    let opts = connect_options(&args.gateway)?.scopes(["operator.read"]);
    call_with(opts, method, json!({})).map(|(_, res)| res)
}

/// The configured gateway (`--url`, else openclaw.json's `gateway.port`), probed with `health`:
/// its URL, whether it answers, and its version or why it did not answer.
fn probe_gateway(args: &HealthArgs) -> Value {
    let opts = match connect_options(&args.gateway) {
        Ok(o) => o.scopes(["operator.read"]).timeout(Duration::from_secs(3)),
        Err(e) => return json!({"url": null, "running": false, "error": e.message}),
    };
    let url = opts.url.clone();
    match call_with(opts, "health", json!({})) {
        Ok((hello, health)) => json!({
            "url": url,
            "running": true,
            "ok": health.get("ok").and_then(Value::as_bool).unwrap_or(false),
            "version": hello.pointer("/server/version"),
        }),
        Err(e) => json!({"url": url, "running": false, "error": e.message}),
    }
}

struct Check {
    name: &'static str,
    ok: bool,
    detail: String,
    hint: Option<String>,
}

fn local_checks() -> Vec<Check> {
    let mut checks = Vec::new();
    let path = config::config_path();
    let cfg = OpenClawConfig::load_from(&path);
    checks.push(match &cfg {
        Ok(_) if !path.exists() => Check {
            name: "config",
            ok: true,
            detail: format!("{} (absent; defaults apply)", path.display()),
            hint: None,
        },
        Ok(_) => Check {
            name: "config",
            ok: true,
            detail: path.display().to_string(),
            hint: None,
        },
        Err(e) => Check {
            name: "config",
            ok: false,
            detail: e.to_string(),
            hint: Some("fix the file; `openclaw config validate` re-checks it".into()),
        },
    });
    if let Ok(cfg) = &cfg {
        let (ok, detail, hint) = super::sandbox::health_check(cfg);
        checks.push(Check {
            name: "sandbox",
            ok,
            detail,
            hint,
        });
    }
    let dir = config::state_dir();
    let writable = std::fs::create_dir_all(&dir).is_ok() && tempfile_in(&dir);
    checks.push(Check {
        name: "state dir",
        ok: writable,
        detail: dir.display().to_string(),
        hint: (!writable).then(|| "make it writable or set OPENCLAW_STATE_DIR".to_string()),
    });
    match registry() {
        Ok((_cfg, reg)) => {
            let available = reg.available_models();
            let default = reg.default_model();
            checks.push(Check {
                name: "models",
                ok: !available.is_empty(),
                detail: format!("{} of {} models have credentials", available.len(), reg.all_models().len()),
                hint: available.is_empty().then(|| "set ANTHROPIC_API_KEY or OPENAI_API_KEY, or configure a provider in openclaw.json".to_string()),
            });
            if let Some(m) = default {
                let ok = reg.has_credentials(&m.provider);
                checks.push(Check {
                    name: "default model",
                    ok,
                    detail: format!("{}/{}", m.provider, m.id),
                    hint: (!ok).then(|| key_hint(&m.provider)),
                });
            }
        }
        Err(e) => checks.push(Check {
            name: "models",
            ok: false,
            detail: e.message,
            hint: e.hint,
        }),
    }
    checks
}

fn tempfile_in(dir: &std::path::Path) -> bool {
    let p = dir.join(format!(".health-{}", std::process::id()));
    let ok = std::fs::write(&p, b"ok").is_ok();
    let _ = std::fs::remove_file(&p);
    ok
}

pub fn health(args: HealthArgs) -> CliResult {
    if args.gateway.url.is_some() {
        let res = remote(&args, "health")?;
        if args.json.json {
            print_json(&res);
        } else {
            let ok = res.get("ok").and_then(Value::as_bool).unwrap_or(false);
            crate::out!(
                "gateway {}: {}",
                args.gateway.url.as_deref().unwrap_or_default(),
                if ok { "ok" } else { "unhealthy" }
            );
            if let Some(a) = res.get("defaultAgentId").and_then(Value::as_str) {
                crate::out!("default agent: {a}");
            }
            if let Some(n) = res.pointer("/sessions/count") {
                crate::out!("sessions: {n}");
            }
        }
        return Ok(());
    }
    let checks = local_checks();
    let ok = checks.iter().all(|c| c.ok);
    if args.json.json {
        let rows: Vec<Value> = checks
            .iter()
            .map(|c| json!({"check": c.name, "ok": c.ok, "detail": c.detail, "hint": c.hint}))
            .collect();
        print_json(&json!({ "ok": ok, "checks": rows }));
    } else {
        for c in &checks {
            crate::out!(
                "{} {:<14} {}",
                if c.ok { "✓" } else { "✗" },
                c.name,
                c.detail
            );
            if let Some(h) = &c.hint {
                crate::out!("  {:<14} hint: {h}", "");
            }
        }
    }
    if ok {
        Ok(())
    } else {
        Err(CliError::failure("some checks failed"))
    }
}

pub fn status(args: HealthArgs) -> CliResult {
    if args.gateway.url.is_some() {
        let res = remote(&args, "status")?;
        print_json(&res);
        return Ok(());
    }
    let cfg = OpenClawConfig::load()?;
    let (_c, reg) = registry()?;
    let agents = store::agent_ids(&cfg);
    let sessions: usize = agents
        .iter()
        .map(|a| store::agent_sessions(a).len())
        .sum::<usize>()
        + store::local_sessions().len();
    let default = reg
        .default_model()
        .map(|m| format!("{}/{}", m.provider, m.id));
    let gateway = probe_gateway(&args);
    let doc = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "stateDir": config::state_dir(),
        "configPath": config::config_path(),
        "configExists": config::config_path().exists(),
        "defaultModel": default,
        "availableModels": reg.available_models().len(),
        "agents": agents,
        "sessions": sessions,
        "gateway": gateway,
    });
    if args.json.json {
        print_json(&doc);
    } else {
        for (k, v) in doc.as_object().into_iter().flatten() {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Null => "-".into(),
                Value::Array(a) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                Value::Object(g) => gateway_line(g),
                other => other.to_string(),
            };
            crate::out!("{k:>16}  {v}");
        }
    }
    Ok(())
}

/// `ws://127.0.0.1:18789 (running, server 0.1.0)` or `… (not running: <why>)`.
fn gateway_line(g: &Map<String, Value>) -> String {
    let url = g.get("url").and_then(Value::as_str).unwrap_or("-");
    if g.get("running").and_then(Value::as_bool) == Some(true) {
        let version = g.get("version").and_then(Value::as_str).unwrap_or("?");
        format!("{url} (running, server {version})")
    } else {
        let why = g
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no answer");
        format!("{url} (not running: {why})")
    }
}
