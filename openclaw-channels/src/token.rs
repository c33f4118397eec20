//! Where an account's bot token comes from, the same for every channel: the config's inline
//! token, else its `tokenFile`, else (default account only) the channel's environment variable.

use std::path::Path;

use openclaw_core::channel::policy::DEFAULT_ACCOUNT;

/// The token (trimmed) and its source (`config`, `tokenFile`, `env`, `none`); an empty or
/// unreadable `tokenFile` is an error naming it, never "no token".
pub(crate) fn resolve(
    inline: Option<&str>,
    file: Option<&Path>,
    env_var: &str,
    account_id: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Option<String>, &'static str), String> {
    if let Some(t) = inline.map(str::trim).filter(|t| !t.is_empty()) {
        return Ok((Some(t.to_owned()), "config"));
    }
    if let Some(path) = file {
        return match std::fs::read_to_string(path) {
            Ok(t) if !t.trim().is_empty() => Ok((Some(t.trim().to_owned()), "tokenFile")),
            Ok(_) => Err(format!("tokenFile {} is empty", path.display())),
            Err(e) => Err(format!("tokenFile {} cannot be read: {e}", path.display())),
        };
    }
    match env(env_var).filter(|_| account_id == DEFAULT_ACCOUNT) {
        Some(t) if !t.trim().is_empty() => Ok((Some(t.trim().to_owned()), "env")),
        _ => Ok((None, "none")),
    }
}
