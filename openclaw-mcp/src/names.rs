//! Model-facing names of MCP tools as OpenClaw builds them (`<server>__<tool>`, characters
//! outside `[A-Za-z0-9_-]` replaced by `-`, a server part of at most 30 characters and a whole
//! name of at most 64, collisions suffixed `-2`, `-3`, …), and the `toolFilter` glob.

use std::collections::HashSet;

const MAX_PREFIX: usize = 30;
const MAX_TOTAL: usize = 64;

fn sanitize_fragment(raw: &str, fallback: &str, max: Option<usize>) -> String {
    let trimmed = raw.trim();
    let mut s: String = trimmed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() {
        s = fallback.to_owned();
    }
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s = format!("{fallback}-{s}");
    }
    if let Some(max) = max {
        s.truncate(max);
    }
    s
}

/// Safe server names for every declared server, in declaration order (that order decides who
/// gets a collision suffix, as in OpenClaw).
pub fn assign_server_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<(String, String)> {
    let mut used = HashSet::new();
    let mut out = Vec::new();
    for raw in names {
        let base = sanitize_fragment(raw, "mcp", Some(MAX_PREFIX));
        let mut candidate = base.clone();
        let mut n = 2;
        while used.contains(&candidate.to_lowercase()) {
            let suffix = format!("-{n}");
            let keep = MAX_PREFIX.saturating_sub(suffix.len()).max(1);
            candidate = format!("{}{suffix}", truncate(&base, keep));
            n += 1;
        }
        used.insert(candidate.to_lowercase());
        out.push((raw.to_owned(), candidate));
    }
    out
}

fn truncate(s: &str, max: usize) -> &str {
    // Sanitized fragments are ASCII.
    &s[..s.len().min(max)]
}

/// `<safe server>__<tool>`, unique against `reserved` (lower-cased names already taken); the
/// caller adds the result to `reserved`.
pub fn tool_name(safe_server: &str, tool: &str, reserved: &HashSet<String>) -> String {
    let cleaned = sanitize_fragment(tool, "tool", None);
    let max_tool = MAX_TOTAL.saturating_sub(safe_server.len() + 2).max(1);
    let base = truncate(&cleaned, max_tool).to_owned();
    let base = if base.is_empty() {
        "tool".to_owned()
    } else {
        base
    };
    let mut candidate = format!("{safe_server}__{base}");
    let mut n = 2;
    while reserved.contains(&candidate.to_lowercase()) {
        let suffix = format!("-{n}");
        let keep = max_tool.saturating_sub(suffix.len()).max(1);
        candidate = format!("{safe_server}__{}{suffix}", truncate(&base, keep));
        n += 1;
    }
    candidate
}

/// OpenClaw's filter glob: exact text, or `*` for any run of characters.
pub fn glob_match(pattern: &str, value: &str) -> bool {
    let p = pattern.trim();
    if p.is_empty() {
        return false;
    }
    if !p.contains('*') {
        return p == value;
    }
    let parts: Vec<&str> = p.split('*').collect();
    let first = parts[0];
    let last = parts[parts.len() - 1];
    if !value.starts_with(first) {
        return false;
    }
    let mut cursor = first.len();
    let end = value.len() - last.len();
    if !value.ends_with(last) || end < cursor {
        return false;
    }
    for part in &parts[1..parts.len() - 1] {
        if part.is_empty() {
            continue;
        }
        match value[cursor..end].find(part) {
            Some(i) => cursor += i + part.len(),
            None => return false,
        }
    }
    true
}

/// Include first (empty: everything), then exclude.
pub fn filter_allows(filter: Option<&crate::config::ToolFilter>, tool: &str) -> bool {
    let Some(f) = filter else {
        return true;
    };
    (f.include.is_empty() || f.include.iter().any(|p| glob_match(p, tool)))
        && !f.exclude.iter().any(|p| glob_match(p, tool))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_and_unique_as_openclaw_makes_them() {
        let servers = assign_server_names(["docs", "my server", "9lives", "my:server"]);
        let safe: Vec<_> = servers.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(safe, ["docs", "my-server", "mcp-9lives", "my-server-2"]);
        let mut reserved = HashSet::from(["docs__search".to_owned()]);
        assert_eq!(tool_name("docs", "search", &reserved), "docs__search-2");
        reserved.clear();
        assert_eq!(tool_name("docs", "read.page", &reserved), "docs__read-page");
        assert_eq!(tool_name("docs", "1st", &reserved), "docs__tool-1st");
        let long = "x".repeat(100);
        assert_eq!(tool_name("docs", &long, &reserved).len(), 64);
    }

    #[test]
    fn filter_globs_include_then_exclude() {
        assert!(glob_match("read_*", "read_page"));
        assert!(glob_match("*_page", "read_page"));
        assert!(glob_match("r*d*e", "read_page"));
        assert!(!glob_match("read_*", "write"));
        assert!(!glob_match("ab*ba", "aba"));
        let f = crate::config::ToolFilter {
            include: vec!["read_*".into(), "search".into()],
            exclude: vec!["read_secret".into()],
        };
        assert!(filter_allows(Some(&f), "read_page"));
        assert!(filter_allows(Some(&f), "search"));
        assert!(!filter_allows(Some(&f), "read_secret"));
        assert!(!filter_allows(Some(&f), "delete"));
        assert!(filter_allows(None, "delete"));
    }
}
