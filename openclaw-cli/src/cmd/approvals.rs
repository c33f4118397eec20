//! `openclaw approvals` (alias `exec-approvals`), as OpenClaw's: `pending` and `resolve <id>
//! <decision>` talk to the gateway (`exec.approval.list`, `approval.get` + `approval.resolve`);
//! `get`, `set` and `allowlist add|remove` edit the host approvals document
//! (`<stateDir>/exec-approvals.json`) on this machine, or the gateway's with `--gateway`
//! (`exec.approvals.get` / `.set` with `baseHash`). `--json` everywhere.

use std::path::PathBuf;

use openclaw_core::exec_policy::Decision;
use openclaw_core::exec_policy::document::{self, AllowlistEntry, ApprovalsFile};
use openclaw_core::protocol::approvals::{ApprovalSnapshot, ExecApprovalRequested};
use serde_json::{Value, json};

use super::gateway::{call_with, connect_options};
use crate::cli::{ApprovalsCmd, GatewayTarget};
use crate::error::{CliError, CliResult};
use crate::output::{Table, one_line, print_json};

const SCOPES: [&str; 2] = ["operator.admin", "operator.approvals"];

fn call(t: &GatewayTarget, method: &str, params: Value) -> CliResult<Value> {
    let opts = connect_options(t)?.scopes(SCOPES);
    Ok(call_with(opts, method, params)?.1)
}

pub fn run(cmd: ApprovalsCmd) -> CliResult {
    match cmd {
        ApprovalsCmd::Pending { gateway, json } => pending(&gateway, json.json),
        ApprovalsCmd::Resolve {
            id,
            decision,
            gateway,
            json,
        } => resolve(&gateway, &id, &decision, json.json),
        ApprovalsCmd::Get {
            gateway,
            remote,
            json,
        } => get(&gateway, remote, json.json),
        ApprovalsCmd::Set {
            file,
            stdin,
            gateway,
            remote,
            json,
        } => set(&gateway, remote, file, stdin, json.json),
        ApprovalsCmd::Allowlist(a) => allowlist(a),
    }
}

/// "5s", "3m", "2h", "4d".
fn ago(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn pending(t: &GatewayTarget, as_json: bool) -> CliResult {
    let list = call(t, "exec.approval.list", json!({}))?;
    let items: Vec<ExecApprovalRequested> = serde_json::from_value(list)
        .map_err(|e| CliError::failure(format!("Invalid exec approval list response: {e}")))?;
    if as_json {
        let approvals: Vec<Value> = items
            .iter()
            .map(|i| {
                json!({"id": i.id, "kind": "exec", "agentId": i.request.agent_id,
                "sessionKey": i.request.session_key, "createdAtMs": i.created_at_ms,
                "expiresAtMs": i.expires_at_ms, "summary": i.request.command})
            })
            .collect();
        print_json(&json!({"approvals": approvals}));
        return Ok(());
    }
    if items.is_empty() {
        crate::out!("No pending approvals.");
        return Ok(());
    }
    let now = openclaw_state::now_ms();
    crate::out!("Pending approvals ({})", items.len());
    let mut table = Table::new(&[
        "ID",
        "Kind",
        "Agent / Session",
        "Requested",
        "Expires In",
        "Command / Summary",
    ]);
    for i in items.iter().rev() {
        let who: Vec<&str> = [
            i.request.agent_id.as_deref(),
            i.request.session_key.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        table.row(vec![
            i.id.clone(),
            "exec".into(),
            if who.is_empty() {
                "-".into()
            } else {
                who.join(" / ")
            },
            format!("{} ago", ago(now.saturating_sub(i.created_at_ms))),
            ago(i.expires_at_ms.saturating_sub(now)),
            one_line(&i.request.command, 96),
        ]);
    }
    table.print();
    crate::out!("Full request text");
    for i in items.iter().rev() {
        crate::out!("{}: {}", i.id, i.request.command);
    }
    Ok(())
}

fn resolve(t: &GatewayTarget, id: &str, decision: &str, as_json: bool) -> CliResult {
    let Some(wanted) = Decision::parse(decision) else {
        return Err(CliError::usage(
            "Decision must be one of: allow-once, allow-always, deny.",
        ));
    };
    let opts = connect_options(t)?.scopes(SCOPES);
    let got = call_with(opts.clone(), "approval.get", json!({"id": id}))?.1;
    let current: ApprovalSnapshot = serde_json::from_value(got["approval"].clone())
        .map_err(|e| CliError::failure(format!("Invalid approval response: {e}")))?;
    if current.status == "pending" && !current.presentation.allowed_decisions.contains(&wanted) {
        let allowed: Vec<&str> = current
            .presentation
            .allowed_decisions
            .iter()
            .map(|d| d.as_str())
            .collect();
        return Err(CliError::failure(format!(
            "Decision {decision} is not allowed for {} approvals; allowed decisions: {}.",
            current.presentation.kind,
            allowed.join(", ")
        )));
    }
    let params = json!({"id": id, "kind": current.presentation.kind, "decision": decision});
    let res = call_with(opts, "approval.resolve", params)?.1;
    let applied = res["applied"].as_bool().unwrap_or(false);
    let after: ApprovalSnapshot = serde_json::from_value(res["approval"].clone())
        .map_err(|e| CliError::failure(format!("Invalid approval response: {e}")))?;
    let resolver = after
        .resolver
        .as_ref()
        .map_or("unknown resolver".into(), |r| {
            r.id.as_ref()
                .map_or(r.kind.clone(), |i| format!("{}:{i}", r.kind))
        });
    let Some(recorded) = after.decision else {
        return Err(CliError::failure(match after.status.as_str() {
            "expired" => format!("Approval {id} expired."),
            "cancelled" => format!(
                "Approval {id} was cancelled ({}).",
                after.reason.unwrap_or_default()
            ),
            _ => format!("Approval {id} did not settle to a recorded decision."),
        }));
    };
    if recorded != wanted {
        return Err(CliError::failure(format!(
            "Approval {id} was already resolved with {} by {resolver}.",
            recorded.as_str()
        )));
    }
    if as_json {
        let mut out = res.clone();
        out["alreadyResolved"] = json!(!applied);
        print_json(&out);
        return Ok(());
    }
    let settled = if applied {
        format!("resolved {}", recorded.as_str())
    } else {
        format!("already resolved (same decision: {})", recorded.as_str())
    };
    crate::out!("Approval {id} {settled} by {resolver}.");
    Ok(())
}

fn local_path() -> PathBuf {
    document::path_in(&openclaw_core::config::state_dir())
}

fn load_local() -> CliResult<Option<ApprovalsFile>> {
    ApprovalsFile::load(&local_path()).map_err(|e| CliError::failure(e.to_string()))
}

fn show(target: &str, path: &str, file: &ApprovalsFile, as_json: bool) {
    if as_json {
        let mut f = file.clone();
        if let Some(s) = &mut f.socket {
            s.token = None;
        }
        print_json(&json!({"path": path, "file": f}));
        return;
    }
    crate::out!("Target: {target} ({path})");
    if let Some(d) = &file.defaults {
        let parts: Vec<String> = [
            d.security.map(|s| format!("security={}", s.as_str())),
            d.ask.map(|a| format!("ask={}", a.as_str())),
            d.ask_fallback
                .map(|s| format!("askFallback={}", s.as_str())),
        ]
        .into_iter()
        .flatten()
        .collect();
        crate::out!("Defaults: {}", parts.join(" "));
    }
    let mut table = Table::new(&["Agent", "Pattern", "Args", "Source", "Cwd"]);
    for (agent, a) in &file.agents {
        for e in &a.allowlist {
            table.row(vec![
                agent.clone(),
                e.pattern.clone(),
                e.arg_pattern.clone().unwrap_or_default(),
                e.source.clone().unwrap_or_default(),
                e.cwd.clone().unwrap_or_default(),
            ]);
        }
    }
    if table.is_empty() {
        crate::out!("No allowlist entries.");
    } else {
        table.print();
    }
}

fn get(t: &GatewayTarget, remote: bool, as_json: bool) -> CliResult {
    if remote {
        let snap = call(t, "exec.approvals.get", json!({}))?;
        if as_json {
            print_json(&snap);
            return Ok(());
        }
        let file: ApprovalsFile = serde_json::from_value(snap["file"].clone())
            .map_err(|e| CliError::failure(format!("Invalid approvals response: {e}")))?;
        show("gateway", snap["path"].as_str().unwrap_or(""), &file, false);
        return Ok(());
    }
    let file = load_local()?.unwrap_or_default();
    show("local", &local_path().to_string_lossy(), &file, as_json);
    Ok(())
}

fn set(
    t: &GatewayTarget,
    remote: bool,
    file: Option<PathBuf>,
    stdin: bool,
    as_json: bool,
) -> CliResult {
    let raw = match (file, stdin) {
        (Some(_), true) => return Err(CliError::usage("Use either --file or --stdin (not both).")),
        (None, false) => return Err(CliError::usage("Provide --file or --stdin.")),
        (Some(p), false) => std::fs::read_to_string(&p)
            .map_err(|e| CliError::failure(format!("cannot read {}: {e}", p.display())))?,
        (None, true) => std::io::read_to_string(std::io::stdin())
            .map_err(|e| CliError::failure(format!("cannot read stdin: {e}")))?,
    };
    let mut value: Value = openclaw_core::config::json5_from_str(&raw)
        .map_err(|e| CliError::failure(format!("Failed to parse approvals JSON: {e}")))?;
    if !value.is_object() {
        return Err(CliError::failure("Exec approvals JSON must be an object."));
    }
    value["version"] = json!(1);
    let parsed: ApprovalsFile = serde_json::from_value(value.clone())
        .map_err(|e| CliError::failure(format!("invalid exec approvals file: {e}")))?;
    if remote {
        let base = call(t, "exec.approvals.get", json!({}))?;
        let snap = call(
            t,
            "exec.approvals.set",
            json!({"file": value, "baseHash": base["hash"]}),
        )?;
        if as_json {
            print_json(&snap);
        } else {
            show(
                "gateway",
                snap["path"].as_str().unwrap_or(""),
                &parsed,
                false,
            );
        }
        return Ok(());
    }
    save_local(&parsed)?;
    show("local", &local_path().to_string_lossy(), &parsed, as_json);
    Ok(())
}

fn save_local(file: &ApprovalsFile) -> CliResult {
    file.save(&local_path())
        .map_err(|e| CliError::failure(e.to_string()))
}

fn allowlist(a: crate::cli::AllowlistCmd) -> CliResult {
    let (add, pattern, agent, arg_pattern, json_out) = match a {
        crate::cli::AllowlistCmd::Add {
            pattern,
            agent,
            arg_pattern,
            json,
        } => (true, pattern, agent, arg_pattern, json.json),
        crate::cli::AllowlistCmd::Remove {
            pattern,
            agent,
            json,
        } => (false, pattern, agent, None, json.json),
    };
    let pattern = pattern.trim().to_owned();
    if pattern.is_empty() {
        return Err(CliError::usage("Pattern required."));
    }
    if let Some(re) = &arg_pattern {
        regex::Regex::new(re)
            .map_err(|e| CliError::usage(format!("--arg-pattern is not a regex: {e}")))?;
    }
    let mut file = load_local()?.unwrap_or_default();
    let changed = if add {
        let entry = AllowlistEntry {
            pattern: pattern.clone(),
            arg_pattern,
            last_used_at: Some(openclaw_state::now_ms()),
            ..AllowlistEntry::default()
        };
        file.add_entry(&agent, entry)
    } else {
        file.remove_pattern(&agent, &pattern) > 0
    };
    if changed {
        save_local(&file)?;
    } else if !json_out {
        crate::out!(
            "{}",
            if add {
                "Already allowlisted."
            } else {
                "Pattern not found."
            }
        );
    }
    show("local", &local_path().to_string_lossy(), &file, json_out);
    Ok(())
}
