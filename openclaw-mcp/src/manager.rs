//! All configured servers of a process (the gateway's, or a CLI command's): built from
//! `mcp.servers`, kept across config reloads when a server's entry is unchanged (its connection
//! and cached tools stay; a changed or removed one is retired, its child killed), and asked for
//! the agent tools of the servers an agent may use.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use openclaw_core::tool::Tool;

use crate::config::McpConfig;
use crate::names;
use crate::server::{Server, ServerStatus};
use crate::tool::McpTool;

/// The servers, in declaration order.
pub struct McpManager {
    servers: Mutex<Vec<Arc<Server>>>,
    log: crate::LogSink,
}

impl McpManager {
    /// The servers of `config`, logging through `tracing`.
    pub fn new(config: &McpConfig) -> McpManager {
        McpManager::with_log(config, crate::tracing_sink())
    }

    /// The servers of `config`, their lifecycle lines and stderr going to `log`.
    pub fn with_log(config: &McpConfig, log: crate::LogSink) -> McpManager {
        let m = McpManager {
            servers: Mutex::new(Vec::new()),
            log,
        };
        // Nothing to retire in an empty manager.
        let _ = m.apply(config);
        m
    }

    fn list(&self) -> Vec<Arc<Server>> {
        openclaw_core::sync::lock(&self.servers).clone()
    }

    /// Replaces the server set with `config`'s; servers whose entry (and safe name) did not
    /// change are kept as they are. Returns the retired ones, which the caller retires
    /// (`Server::retire`) — dropping them also kills their children.
    pub fn apply(&self, config: &McpConfig) -> Vec<Arc<Server>> {
        let safe = names::assign_server_names(config.servers.iter().map(|(n, _)| n.as_str()));
        let mut guard = openclaw_core::sync::lock(&self.servers);
        let old = std::mem::take(&mut *guard);
        let mut next = Vec::with_capacity(config.servers.len());
        for ((name, cfg), (_, safe_name)) in config.servers.iter().zip(safe) {
            let kept = old
                .iter()
                .find(|s| &s.name == name && &s.config == cfg && s.safe_name == safe_name);
            next.push(match kept {
                Some(s) => s.clone(),
                None => Server::new(name.clone(), safe_name, cfg.clone(), self.log.clone()),
            });
        }
        let retired = old
            .into_iter()
            .filter(|s| !next.iter().any(|n| Arc::ptr_eq(n, s)))
            .collect();
        *guard = next;
        retired
    }

    /// Applies `config` and retires what it dropped (in the background).
    pub fn reload(&self, config: &McpConfig) {
        for s in self.apply(config) {
            tokio::spawn(async move { s.retire().await });
        }
    }

    pub fn server(&self, name: &str) -> Option<Arc<Server>> {
        self.list().into_iter().find(|s| s.name == name)
    }

    /// The enabled servers `server_allowed(safe name)` admits, connected as needed (in
    /// parallel), and their filtered tools with namespaced names unique against `reserved`
    /// (the built-ins' names). A server that cannot start is left out with a warning; one that
    /// is down keeps its cached tools, which answer "unavailable" until it is back.
    pub async fn tools(
        &self,
        server_allowed: &(dyn Fn(&str) -> bool + Sync),
        reserved: &[&str],
    ) -> Vec<Arc<dyn Tool>> {
        let servers: Vec<Arc<Server>> = self
            .list()
            .into_iter()
            .filter(|s| s.config.enabled() && s.config.unsupported().is_none())
            .filter(|s| server_allowed(&s.safe_name))
            .collect();
        let listed = futures::future::join_all(servers.iter().map(|s| s.tools())).await;
        let mut taken: HashSet<String> = reserved.iter().map(|n| n.to_lowercase()).collect();
        let mut out: Vec<Arc<dyn Tool>> = Vec::new();
        for (server, tools) in servers.iter().zip(listed) {
            let tools = match tools {
                Ok(t) => t,
                Err(e) => {
                    (self.log)(&format!("{e}; its tools are left out"));
                    continue;
                }
            };
            let mut tools: Vec<_> = tools
                .iter()
                .filter(|t| names::filter_allows(server.config.tool_filter.as_ref(), &t.name))
                .collect();
            tools.sort_by(|a, b| a.name.cmp(&b.name));
            for t in tools {
                let name = names::tool_name(&server.safe_name, &t.name, &taken);
                taken.insert(name.to_lowercase());
                out.push(Arc::new(McpTool::new(server.clone(), name, t)));
            }
        }
        out
    }

    /// Every server's state (never connects).
    pub async fn status(&self) -> Vec<ServerStatus> {
        let mut out = Vec::new();
        for s in self.list() {
            out.push(s.status().await);
        }
        out
    }

    /// Retires every server (gateway shutdown).
    pub async fn shutdown(&self) {
        let all = std::mem::take(&mut *openclaw_core::sync::lock(&self.servers));
        for s in all {
            s.retire().await;
        }
    }
}
