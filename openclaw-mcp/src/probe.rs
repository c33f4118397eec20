//! `openclaw mcp probe`: connect to the enabled servers (or one named), list their tools and
//! report what they advertise, in OpenClaw's `probe --json` shape. The connections are closed
//! (children killed) when the probe's manager is dropped.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::McpConfig;
use crate::manager::McpManager;
use crate::server::ListChanged;

/// One server of a probe.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeServer {
    pub launch: String,
    pub tools: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resources: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts: Option<bool>,
    pub list_changed: ListChanged,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    pub generated_at: String,
    pub servers: BTreeMap<String, ProbeServer>,
    /// The namespaced tool names, sorted.
    pub tools: Vec<String>,
    pub diagnostics: Vec<String>,
}

impl ProbeReport {
    /// Whether every selected server connected.
    pub fn ok(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Probes `only` (a server name) or every enabled server of `config`. `Err`: the named server
/// is unknown or disabled.
pub async fn probe(
    config: &McpConfig,
    only: Option<&str>,
    now: String,
) -> Result<ProbeReport, String> {
    if let Some(name) = only {
        match config.get(name) {
            None => return Err(format!("unknown MCP server \"{name}\"")),
            Some(c) if !c.enabled() => {
                return Err(format!(
                    "MCP server \"{name}\" is disabled; enable it with `openclaw config set mcp.servers.{name}.enabled true`"
                ));
            }
            Some(_) => {}
        }
    }
    let manager = McpManager::new(config);
    let mut report = ProbeReport {
        generated_at: now,
        servers: BTreeMap::new(),
        tools: Vec::new(),
        diagnostics: Vec::new(),
    };
    for (name, cfg) in &config.servers {
        if only.is_some_and(|o| o != name) || !cfg.enabled() {
            continue;
        }
        let Some(server) = manager.server(name) else {
            continue;
        };
        if let Some(why) = cfg.unsupported() {
            report.diagnostics.push(format!("{name}: {why}"));
            continue;
        }
        match server.tools().await {
            Ok(tools) => {
                let caps = server.capabilities().await;
                report.servers.insert(
                    name.clone(),
                    ProbeServer {
                        launch: cfg.launch(),
                        tools: tools
                            .iter()
                            .filter(|t| {
                                crate::names::filter_allows(cfg.tool_filter.as_ref(), &t.name)
                            })
                            .count(),
                        resources: caps.resources,
                        prompts: caps.prompts,
                        list_changed: caps.list_changed,
                    },
                );
            }
            Err(e) => report.diagnostics.push(e),
        }
    }
    let selected =
        |safe: &str| only.is_none_or(|o| manager.server(o).is_some_and(|s| s.safe_name == safe));
    let tools = manager.tools(&selected, &[]).await;
    report.tools = tools.iter().map(|t| t.name().to_owned()).collect();
    report.tools.sort();
    manager.shutdown().await;
    Ok(report)
}
