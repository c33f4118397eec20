//! `openclaw skills list|info|check`: an agent's skills as OpenClaw reports them — the
//! gateway's `skills.status` with `--url` (or `OPENCLAW_GATEWAY_URL`), else the same inventory
//! read from this machine's files and `openclaw.json`. Nothing is written.

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::skills::{SkillStatus, StatusReport};
use serde_json::{Value, json};

use super::gateway::{call_with, connect_options};
use crate::cli::{GatewayTarget, SkillsCmd};
use crate::error::{CliError, CliResult};
use crate::output::{Table, one_line, print_json};
use openclaw_gateway::skills::AgentSkills;

fn report(agent: Option<&str>, gateway: &GatewayTarget) -> CliResult<StatusReport> {
    if gateway.url.is_some() {
        let opts = connect_options(gateway)?.scopes(["operator.read"]);
        let params = match agent {
            Some(a) => json!({"agentId": a}),
            None => json!({}),
        };
        let (_, res) = call_with(opts, "skills.status", params)?;
        return serde_json::from_value(res)
            .map_err(|e| CliError::failure(format!("skills.status answer: {e}")));
    }
    let cfg = OpenClawConfig::load()?;
    let state_dir = config::state_dir();
    let skills = AgentSkills::load(&cfg.raw, &state_dir, agent).map_err(CliError::usage)?;
    Ok(skills.report(&state_dir))
}

pub fn run(cmd: SkillsCmd) -> CliResult {
    match cmd {
        SkillsCmd::List {
            eligible,
            verbose,
            agent,
            gateway,
            json,
        } => list(
            &report(agent.as_deref(), &gateway)?,
            eligible,
            verbose,
            json.json,
        ),
        SkillsCmd::Info {
            name,
            agent,
            gateway,
            json,
        } => info(&report(agent.as_deref(), &gateway)?, &name, json.json),
        SkillsCmd::Check {
            agent,
            gateway,
            json,
        } => check(&report(agent.as_deref(), &gateway)?, json.json),
    }
}

fn status_word(s: &SkillStatus) -> &'static str {
    if s.disabled {
        "disabled"
    } else if s.blocked_by_agent_filter {
        "excluded"
    } else if s.eligible {
        "ready"
    } else {
        "needs setup"
    }
}

fn print_problems(report: &StatusReport) {
    if report.problems.is_empty() {
        return;
    }
    crate::out!("\nProblems:");
    for p in &report.problems {
        crate::out!("  {}: {}", p.path.display(), p.message);
    }
}

fn list(report: &StatusReport, eligible: bool, verbose: bool, as_json: bool) -> CliResult {
    let skills: Vec<&SkillStatus> = report
        .skills
        .iter()
        .filter(|s| !eligible || s.ready())
        .collect();
    if as_json {
        let rows: Vec<Value> = skills
            .iter()
            .map(|s| {
                json!({"name": s.name, "description": s.description, "emoji": s.emoji,
                    "eligible": s.eligible, "disabled": s.disabled,
                    "blockedByAllowlist": s.blocked_by_allowlist,
                    "blockedByAgentFilter": s.blocked_by_agent_filter,
                    "modelVisible": s.model_visible, "userInvocable": s.user_invocable,
                    "commandVisible": s.command_visible, "source": s.source,
                    "bundled": s.bundled, "primaryEnv": s.primary_env, "homepage": s.homepage,
                    "missing": s.missing})
            })
            .collect();
        print_json(&json!({"workspaceDir": report.workspace_dir,
            "managedSkillsDir": report.managed_skills_dir, "skills": rows,
            "problems": report.problems}));
        return Ok(());
    }
    if skills.is_empty() {
        crate::out!(
            "{}",
            if eligible {
                "No eligible skills found. Run `openclaw skills list` to see all skills."
            } else {
                "No skills found."
            }
        );
        print_problems(report);
        return Ok(());
    }
    let ready = skills.iter().filter(|s| s.ready()).count();
    crate::out!("Skills ({ready}/{} ready)", skills.len());
    let mut header = vec!["Status", "Skill", "Description", "Source"];
    if verbose {
        header.push("Missing");
    }
    let mut table = Table::new(&header);
    for s in &skills {
        let name = match &s.emoji {
            Some(e) => format!("{e} {}", s.name),
            None => s.name.clone(),
        };
        let mut row = vec![
            status_word(s).to_owned(),
            name,
            one_line(&s.description, 60),
            s.source.to_owned(),
        ];
        if verbose {
            row.push(s.missing_summary());
        }
        table.row(row);
    }
    table.print();
    print_problems(report);
    Ok(())
}

fn info(report: &StatusReport, name: &str, as_json: bool) -> CliResult {
    let Some(s) = report.find(name) else {
        let message = format!("Skill \"{}\" not found.", name.trim());
        if as_json {
            print_json(&json!({"ok": false, "error": message, "skill": name.trim()}));
            return Err(CliError::failure(message));
        }
        return Err(CliError::failure(message).hint("run `openclaw skills list` to see the skills"));
    };
    if as_json {
        print_json(&serde_json::to_value(s).map_err(|e| CliError::failure(e.to_string()))?);
        return Ok(());
    }
    let emoji = s
        .emoji
        .as_deref()
        .map(|e| format!("{e} "))
        .unwrap_or_default();
    let detailed = match status_word(s) {
        "ready" => "✓ Ready",
        "disabled" => "Disabled",
        "excluded" => "Excluded by agent allowlist",
        _ => "△ Needs setup",
    };
    let yes = |b: bool| if b { "yes" } else { "no" };
    crate::out!(
        "{emoji}{} {detailed}\n\n{}\n\nDetails:",
        s.name,
        s.description
    );
    crate::out!("  Source: {}", s.source);
    crate::out!("  Path: {}", s.file_path.display());
    if let Some(h) = &s.homepage {
        crate::out!("  Homepage: {h}");
    }
    crate::out!("  Visible to model: {}", yes(s.model_visible));
    crate::out!("  Available as command: {}", yes(s.command_visible));
    if s.blocked_by_agent_filter {
        crate::out!("  Agent allowlist: excludes this skill");
    }
    if let Some(env) = &s.primary_env {
        crate::out!("  Primary env: {env}");
    }
    if let Some(e) = &s.api_key_error {
        crate::out!("  API key: cannot be resolved: {e}");
    }
    let r = &s.requirements;
    let m = &s.missing;
    let groups = [
        ("Binaries", &r.bins, &m.bins, false),
        ("Any binaries", &r.any_bins, &m.any_bins, true),
        ("Environment", &r.env, &m.env, false),
        ("Config", &r.config, &m.config, false),
        ("OS", &r.os, &m.os, true),
    ];
    if groups.iter().any(|(_, req, _, _)| !req.is_empty()) {
        crate::out!("\nRequirements:");
        for (label, req, missing, whole) in groups {
            if req.is_empty() {
                continue;
            }
            let mark = |ok: bool| if ok { "✓" } else { "✗" };
            let text = if whole {
                format!("{} ({})", mark(missing.is_empty()), req.join(", "))
            } else {
                req.iter()
                    .map(|x| format!("{} {x}", mark(!missing.contains(x))))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            crate::out!("  {label}: {text}");
        }
    }
    if let Some(env) = s.primary_env.as_ref().filter(|e| m.env.contains(e)) {
        crate::out!(
            "\nAPI key setup:\n  Save via CLI: openclaw config set skills.entries.{}.apiKey YOUR_KEY\n  (or set {env} in the environment)",
            s.skill_key
        );
    }
    Ok(())
}

fn check(report: &StatusReport, as_json: bool) -> CliResult {
    let names = |f: &dyn Fn(&SkillStatus) -> bool| -> Vec<String> {
        report
            .skills
            .iter()
            .filter(|s| f(s))
            .map(|s| s.name.clone())
            .collect()
    };
    let eligible = names(&|s| s.eligible);
    let model_visible = names(&|s| s.model_visible);
    let command_visible = names(&|s| s.command_visible);
    let disabled = names(&|s| s.disabled);
    let agent_filtered = names(&|s| s.blocked_by_agent_filter);
    let hidden = names(&|s| s.ready() && !s.model_visible);
    let missing: Vec<&SkillStatus> = report
        .skills
        .iter()
        .filter(|s| s.missing_requirements())
        .collect();
    if as_json {
        print_json(&json!({
            "agentId": report.agent_id, "agentSkillFilter": report.agent_skill_filter,
            "workspaceDir": report.workspace_dir, "managedSkillsDir": report.managed_skills_dir,
            "summary": {"total": report.skills.len(), "eligible": eligible.len(),
                "modelVisible": model_visible.len(), "commandVisible": command_visible.len(),
                "disabled": disabled.len(), "blocked": 0, "agentFiltered": agent_filtered.len(),
                "notInjected": hidden.len(), "missingRequirements": missing.len(),
                "problems": report.problems.len()},
            "eligible": eligible, "modelVisible": model_visible,
            "commandVisible": command_visible, "disabled": disabled, "blocked": [],
            "agentFiltered": agent_filtered,
            "notInjected": hidden.iter().map(|n| json!({"name": n, "reason": "disable-model-invocation"})).collect::<Vec<_>>(),
            "missingRequirements": missing.iter().map(|s| json!({"name": s.name, "missing": s.missing, "install": s.install, "apiKeyError": s.api_key_error})).collect::<Vec<_>>(),
            "problems": report.problems,
        }));
        return Ok(());
    }
    crate::out!("Skills Status Check\nAgent: {}\n", report.agent_id);
    crate::out!("Total: {}", report.skills.len());
    crate::out!("✓ Eligible: {}", eligible.len());
    crate::out!("✓ Visible to model: {}", model_visible.len());
    crate::out!("✓ Available as command: {}", command_visible.len());
    crate::out!("Disabled: {}", disabled.len());
    crate::out!("Excluded by agent allowlist: {}", agent_filtered.len());
    if !hidden.is_empty() {
        crate::out!("△ Ready but hidden from model prompt: {}", hidden.len());
    }
    crate::out!("✗ Missing requirements: {}", missing.len());
    crate::out!("✗ Unreadable or damaged files: {}", report.problems.len());
    let section = |title: &str, items: &[String]| {
        if !items.is_empty() {
            crate::out!("\n{title}:");
            for i in items {
                crate::out!("  {i}");
            }
        }
    };
    section("Ready and visible to model", &model_visible);
    section("Ready but hidden from model prompt", &hidden);
    section("Excluded by agent allowlist", &agent_filtered);
    let missing_lines: Vec<String> = missing
        .iter()
        .map(|s| format!("{} ({})", s.name, s.missing_summary()))
        .collect();
    section("Missing requirements", &missing_lines);
    print_problems(report);
    Ok(())
}
