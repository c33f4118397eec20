//! The verdict on one analyzed command under an effective policy and allowlist: run, ask a
//! human (and what to do when nobody can answer), or refuse. Every segment of a chain or
//! pipeline must pass on its own; a segment passes through an allowlist entry or as a safe bin.

use std::path::Path;

use super::analysis::{CommandAnalysis, Segment};
use super::document::{AllowlistEntry, SOURCE_ALLOW_ALWAYS};
use super::{Ask, ExecPolicy, Security};

/// What to do with a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Ask a human. `allow_always`: the command can be remembered exactly; `fallback_allows`:
    /// what `askFallback` says when nobody can be asked or nobody answers in time.
    Ask {
        allow_always: bool,
        fallback_allows: bool,
    },
    /// Refused without asking; `reason` goes into the text the model sees.
    Deny {
        reason: String,
    },
}

/// The verdict on `a` (run in `cwd`) under `policy` with the allowlist `allowlist`.
pub fn evaluate(
    policy: &ExecPolicy,
    allowlist: &[&AllowlistEntry],
    a: &CommandAnalysis,
    cwd: &Path,
) -> Verdict {
    if policy.security == Security::Deny {
        return Verdict::Deny {
            reason: "security=deny".into(),
        };
    }
    let strict = policy.strict_inline_eval && a.segments.iter().any(|s| s.inline_eval);
    let all_pass = !a.unparsed
        && a.segments
            .iter()
            .all(|s| segment_passes(policy, allowlist, s, cwd));
    let listed = policy.security == Security::Full || all_pass;
    if policy.ask == Ask::Off && !strict {
        return if listed {
            Verdict::Allow
        } else {
            Verdict::Deny {
                reason: "allowlist-miss".into(),
            }
        };
    }
    if policy.ask == Ask::OnMiss && listed && !strict {
        return Verdict::Allow;
    }
    Verdict::Ask {
        allow_always: policy.ask != Ask::Always && a.persistable(),
        fallback_allows: match policy.ask_fallback {
            Security::Full => true,
            Security::Allowlist => all_pass && !strict,
            Security::Deny => false,
        },
    }
}

fn segment_passes(
    policy: &ExecPolicy,
    allowlist: &[&AllowlistEntry],
    s: &Segment,
    cwd: &Path,
) -> bool {
    if s.nested || s.resolved.is_none() {
        return false;
    }
    allowlist.iter().any(|e| entry_matches(e, s, cwd)) || is_safe_bin(policy, s, cwd)
}

/// Whether allowlist entry `e` lets segment `s` (run in `cwd`) through.
pub fn entry_matches(e: &AllowlistEntry, s: &Segment, cwd: &Path) -> bool {
    let Some(resolved) = &s.resolved else {
        return false;
    };
    let pattern = expand_home(&e.pattern);
    let target: &Path = if pattern.contains('/') {
        resolved
    } else if s.via_path {
        match resolved.file_name() {
            Some(n) => Path::new(n),
            None => return false,
        }
    } else {
        return false;
    };
    let Ok(glob) = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
    else {
        return false;
    };
    if !glob.compile_matcher().is_match(target) {
        return false;
    }
    if let Some(dir) = &e.cwd {
        if Path::new(dir) != cwd {
            return false;
        }
    }
    let args = &s.argv[1.min(s.argv.len())..];
    if let Some(exact) = &e.argv {
        if s.dynamic || exact.as_slice() != args {
            return false;
        }
    }
    if let Some(re) = &e.arg_pattern {
        let Ok(re) = regex::Regex::new(re) else {
            return false;
        };
        if s.dynamic || !re.is_match(&args.join(" ")) {
            return false;
        }
    }
    true
}

/// A stdin-only filter from a trusted directory, given no file operand.
fn is_safe_bin(policy: &ExecPolicy, s: &Segment, cwd: &Path) -> bool {
    let Some(resolved) = &s.resolved else {
        return false;
    };
    let name = resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let trusted = resolved
        .parent()
        .is_some_and(|d| policy.safe_bin_trusted_dirs.iter().any(|t| t == d));
    if !s.via_path || !trusted || s.dynamic || s.inline_eval || !policy.safe_bins.contains(&name) {
        return false;
    }
    s.argv[1..]
        .iter()
        .all(|a| a.starts_with('-') || !(a.contains('/') || cwd.join(a).exists()))
}

fn expand_home(pattern: &str) -> String {
    match (pattern.strip_prefix("~/"), dirs::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest).to_string_lossy().into_owned(),
        _ => pattern.to_owned(),
    }
}

/// The allow-always entries for `a` run in `cwd`: one per segment, bound to the resolved
/// executable, the exact arguments and the directory.
pub fn allow_always_entries(a: &CommandAnalysis, cwd: &Path, now_ms: u64) -> Vec<AllowlistEntry> {
    a.segments
        .iter()
        .filter_map(|s| {
            let resolved = s.resolved.as_ref()?.to_string_lossy().into_owned();
            let args = s.argv.get(1..).unwrap_or_default().to_vec();
            Some(AllowlistEntry {
                id: Some(uuid::Uuid::new_v4().to_string().to_uppercase()),
                pattern: resolved.clone(),
                arg_pattern: Some(format!("^{}$", regex::escape(&args.join(" ")))),
                source: Some(SOURCE_ALLOW_ALWAYS.into()),
                argv: Some(args),
                cwd: Some(cwd.to_string_lossy().into_owned()),
                last_used_at: Some(now_ms),
                last_used_command: Some(s.argv.join(" ")),
                last_resolved_path: Some(resolved),
            })
        })
        .collect()
}
