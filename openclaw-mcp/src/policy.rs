//! Which MCP servers and tools an agent's tool policy admits, as OpenClaw reads `tools.allow` /
//! `tools.deny` (global, then the agent's): `bundle-mcp` names every MCP tool, `<server>__*`
//! one server's (such a server is not even connected for that agent), other entries are tool
//! names or `*` globs. A deny always wins; an allow list keeps only what it names.

use serde_json::Value;

use crate::names::glob_match;

/// One level of the policy: its allow list (if any) and its deny list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyLevel {
    pub allow: Option<Vec<String>>,
    pub deny: Vec<String>,
}

fn strings(v: Option<&Value>) -> Option<Vec<String>> {
    v.and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    })
}

impl PolicyLevel {
    /// A `tools` object (`{allow?, deny?}`).
    pub fn from_tools(tools: &Value) -> PolicyLevel {
        PolicyLevel {
            allow: strings(tools.get("allow")),
            deny: strings(tools.get("deny")).unwrap_or_default(),
        }
    }
}

/// Whether every level admits the server whose tools are prefixed `safe_server`.
pub fn admits_server(levels: &[PolicyLevel], safe_server: &str) -> bool {
    let whole = format!("{safe_server}__*");
    let prefix = format!("{safe_server}__");
    levels.iter().all(|l| {
        let denied = l
            .deny
            .iter()
            .any(|d| d == "bundle-mcp" || d == "*" || *d == whole);
        let allowed = l.allow.as_ref().is_none_or(|a| {
            a.iter()
                .any(|p| p == "bundle-mcp" || p == "*" || p.starts_with(&prefix))
        });
        !denied && allowed
    })
}

/// Whether every level admits the MCP tool `name` (`<server>__<tool>`).
pub fn admits_tool(levels: &[PolicyLevel], name: &str) -> bool {
    levels.iter().all(|l| {
        let denied = l.deny.iter().any(|d| glob_match(d, name));
        let allowed = l
            .allow
            .as_ref()
            .is_none_or(|a| a.iter().any(|p| p == "bundle-mcp" || glob_match(p, name)));
        !denied && allowed
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bundle_mcp_server_globs_and_tool_names() {
        let none = [PolicyLevel::from_tools(&json!({"deny": ["bundle-mcp"]}))];
        assert!(!admits_server(&none, "docs"));
        let one = [PolicyLevel::from_tools(&json!({"deny": ["docs__*"]}))];
        assert!(!admits_server(&one, "docs"));
        assert!(admits_server(&one, "files"));
        let tool = [PolicyLevel::from_tools(&json!({"deny": ["docs__publish"]}))];
        assert!(admits_server(&tool, "docs"));
        assert!(!admits_tool(&tool, "docs__publish"));
        assert!(admits_tool(&tool, "docs__search"));
        let only = [
            PolicyLevel::default(),
            PolicyLevel::from_tools(&json!({"allow": ["read", "docs__search"]})),
        ];
        assert!(admits_server(&only, "docs"));
        assert!(!admits_server(&only, "files"));
        assert!(admits_tool(&only, "docs__search"));
        assert!(!admits_tool(&only, "docs__publish"));
    }
}
