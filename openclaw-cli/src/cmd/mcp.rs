//! `openclaw mcp list|status|probe|add|remove`: the MCP servers saved under `mcp.servers` of
//! openclaw.json. `add` and `remove` edit the file in place (comments and formatting kept, as
//! `openclaw config set`); `list` and `status` never connect; `probe` (and `add` unless
//! `--no-probe`) starts the servers, lists their tools and stops them again.

use std::collections::BTreeMap;
use std::path::Path;

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::fsutil::{Permissions, atomic_write};
use openclaw_mcp::{McpConfig, ServerConfig, ToolFilter};
use serde_json::{Value, json};

use crate::error::{CliError, CliResult};
use crate::mcp_args::{McpAddArgs, McpCmd};
use crate::output::print_json;

pub fn run(cmd: McpCmd) -> CliResult {
    let path = config::config_path();
    match cmd {
        McpCmd::List { json } => list(&path, json.json),
        McpCmd::Status { verbose, json } => status(&path, verbose, json.json),
        McpCmd::Probe { name, json } => {
            let cfg = load(&path)?;
            probe(&cfg, name.as_deref(), json.json)
        }
        McpCmd::Add(a) => add(&path, *a),
        McpCmd::Remove { name } => remove(&path, &name),
    }
}

fn load(path: &Path) -> CliResult<McpConfig> {
    let raw = super::config::read_raw(path)?;
    McpConfig::from_openclaw_json(&raw)
        .map_err(|e| CliError::failure(format!("{}: {e}", path.display())))
}

fn sorted(cfg: &McpConfig) -> Vec<&(String, ServerConfig)> {
    let mut s: Vec<_> = cfg.servers.iter().collect();
    s.sort_by(|a, b| a.0.cmp(&b.0));
    s
}

fn list(path: &Path, json: bool) -> CliResult {
    let cfg = load(path)?;
    if json {
        let servers: Vec<Value> = sorted(&cfg)
            .iter()
            .map(|(n, c)| {
                json!({"name": n, "enabled": c.enabled(),
                       "transport": c.transport_kind().map_or("invalid", |k| k.as_str()),
                       "launch": c.launch()})
            })
            .collect();
        print_json(&json!({"path": path, "servers": servers}));
        return Ok(());
    }
    if cfg.servers.is_empty() {
        crate::out!("No MCP servers in {}.", path.display());
        eprintln!("Add one: openclaw mcp add <name> --command <cmd> [--arg …] | --url <url>");
        return Ok(());
    }
    for (n, c) in sorted(&cfg) {
        let off = if c.enabled() { "" } else { "  (disabled)" };
        crate::out!("{n}  {}{off}", c.launch());
    }
    Ok(())
}

/// One server of `status --json` (OpenClaw's shape, without the OAuth fields).
fn status_entry(name: &str, c: &ServerConfig, verbose: bool) -> Value {
    let issue = c.unsupported().or_else(|| match c.work_dir() {
        Some(d) if !Path::new(d).is_dir() => Some(format!("cwd {d} is not a directory")),
        _ => None,
    });
    let mut v = json!({
        "name": name,
        "configured": true,
        "enabled": c.enabled(),
        "ok": issue.is_none(),
        "transport": c.transport_kind().map_or("invalid", |k| k.as_str()),
        "launch": c.launch(),
    });
    if let Some(i) = issue {
        v["issue"] = json!(i);
    }
    if verbose {
        v["requestTimeoutMs"] = json!(c.request_timeout().as_millis() as u64);
        v["connectionTimeoutMs"] = json!(c.connect_timeout().as_millis() as u64);
        let f = c.tool_filter.clone().unwrap_or_default();
        v["toolFilter"] = json!({"include": f.include, "exclude": f.exclude});
    }
    v
}

fn status(path: &Path, verbose: bool, json: bool) -> CliResult {
    let cfg = load(path)?;
    let servers: Vec<Value> = sorted(&cfg)
        .iter()
        .map(|(n, c)| status_entry(n, c, verbose))
        .collect();
    if json {
        print_json(&json!({"path": path, "servers": servers}));
        return Ok(());
    }
    crate::out!("{} ({} servers)", path.display(), servers.len());
    for s in &servers {
        let state = match (s["enabled"].as_bool(), s["ok"].as_bool()) {
            (Some(false), _) => "disabled",
            (_, Some(true)) => "ok",
            _ => "problem",
        };
        crate::out!(
            "{}  {state}  {}",
            s["name"].as_str().unwrap_or(""),
            s["launch"].as_str().unwrap_or("")
        );
        if let Some(i) = s["issue"].as_str() {
            crate::out!("  issue: {i}");
        }
        if verbose {
            crate::out!(
                "  timeouts: request {} ms, connect {} ms; toolFilter {}",
                s["requestTimeoutMs"],
                s["connectionTimeoutMs"],
                s["toolFilter"]
            );
        }
    }
    Ok(())
}

fn probe(cfg: &McpConfig, name: Option<&str>, json: bool) -> CliResult {
    let rt = super::runtime()?;
    let now = crate::output::iso_time(std::time::SystemTime::now());
    let report = rt
        .block_on(openclaw_mcp::probe::probe(cfg, name, now))
        .map_err(CliError::failure)?;
    if json {
        print_json(&serde_json::to_value(&report).unwrap_or_default());
    } else if report.servers.is_empty() && report.diagnostics.is_empty() {
        crate::out!("No enabled MCP servers to probe.");
    } else {
        for (n, s) in &report.servers {
            crate::out!("{n}  {} tools  {}", s.tools, s.launch);
        }
        for t in &report.tools {
            crate::out!("  {t}");
        }
        for d in &report.diagnostics {
            crate::out!("problem: {d}");
        }
    }
    if report.ok() {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "{} server(s) did not connect",
            report.diagnostics.len()
        )))
    }
}

fn pairs(items: &[String], seps: &[char], what: &str) -> CliResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for item in items {
        let Some((k, v)) = item.split_once(|c| seps.contains(&c)) else {
            return Err(CliError::usage(format!("{what} \"{item}\" needs a value")));
        };
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

fn csv(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// The definition `add`'s flags describe.
fn definition(a: &McpAddArgs) -> CliResult<ServerConfig> {
    if a.command.is_none() && a.url.is_none() {
        return Err(CliError::usage(
            "give --command (stdio) or --url (streamable HTTP)",
        ));
    }
    let filter = ToolFilter {
        include: csv(&a.include),
        exclude: csv(&a.exclude),
    };
    let def = ServerConfig {
        command: a.command.clone(),
        args: a.args.clone(),
        env: pairs(&a.env, &['='], "--env")?,
        cwd: a.cwd.clone(),
        url: a.url.clone(),
        transport: a.transport.clone(),
        headers: pairs(&a.headers, &[':', '='], "--header")?,
        request_timeout_ms: a.timeout.map(|s| s * 1000),
        connection_timeout_ms: a.connect_timeout.map(|s| s * 1000),
        tool_filter: (filter != ToolFilter::default()).then_some(filter),
        ..ServerConfig::default()
    };
    if let Some(why) = def.unsupported() {
        return Err(CliError::usage(why));
    }
    Ok(def)
}

/// Writes `value` at `mcp.servers.<name>` (a merge patch; `null` removes), keeping the file's
/// comments and formatting, and checks the result still loads.
fn write(path: &Path, name: &str, value: Value) -> CliResult {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let patch = json!({"mcp": {"servers": {name: value}}});
    let (text, _) = config::edit::merge_patch(path, &text, &patch)
        .map_err(|e| CliError::failure(e.to_string()))?;
    OpenClawConfig::parse(path, &text).map_err(|e| {
        CliError::usage(format!(
            "the change would make the configuration invalid: {e}"
        ))
    })?;
    atomic_write(path, text.as_bytes(), Permissions::Private)?;
    Ok(())
}

fn add(path: &Path, a: McpAddArgs) -> CliResult {
    if a.name.trim().is_empty() || a.name == "__proto__" {
        return Err(CliError::usage(format!(
            "\"{}\" cannot name a server",
            a.name
        )));
    }
    let existing = load(path)?;
    if existing.get(&a.name).is_some() && !a.force {
        return Err(
            CliError::usage(format!("an MCP server named \"{}\" exists", a.name))
                .hint("--force replaces it; `openclaw mcp remove` deletes it"),
        );
    }
    let def = definition(&a)?;
    if !a.no_probe {
        let one = McpConfig {
            servers: vec![(a.name.clone(), def.clone())],
        };
        probe(&one, Some(&a.name), false)
            .map_err(|e| e.hint("--no-probe saves it without connecting"))?;
    }
    let value = serde_json::to_value(&def).map_err(|e| CliError::failure(e.to_string()))?;
    // A replaced server's old fields must not survive the merge.
    if existing.get(&a.name).is_some() {
        write(path, &a.name, Value::Null)?;
    }
    write(path, &a.name, value)?;
    eprintln!("Saved MCP server {} in {}", a.name, path.display());
    Ok(())
}

fn remove(path: &Path, name: &str) -> CliResult {
    if load(path)?.get(name).is_none() {
        return Err(CliError::failure(format!("no MCP server named \"{name}\""))
            .hint("`openclaw mcp list` shows the saved ones"));
    }
    write(path, name, Value::Null)?;
    eprintln!("Removed MCP server {name} from {}", path.display());
    Ok(())
}
