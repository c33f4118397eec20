//! The secret a gateway gets on first start when none is configured: a random token, stored
//! owner-only where the OpenClaw CLI reads it (`gateway.auth.token` in `openclaw.json`, inserted
//! without disturbing the user's comments or layout), or, when the file cannot be edited
//! exactly, in `<state dir>/gateway.token`. [`local_credentials`] is how clients on the same
//! machine find it again.

use std::path::{Path, PathBuf};

use openclaw_core::fsutil::{Permissions, atomic_write};
use rand::RngCore;
use serde_json::{Map, Value, json};

use super::config::{self, ConfigError, ConfigSource};
use super::json5_insert::insert_members;

/// The fallback token file inside the state directory.
pub const TOKEN_FILE: &str = "gateway.token";

/// Where the generated token was put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenHome {
    /// `gateway.auth.token` in this config file (written now).
    Config(PathBuf),
    /// This owner-only file (written now, or found from an earlier start).
    File(PathBuf),
}

impl TokenHome {
    pub fn path(&self) -> &Path {
        match self {
            TokenHome::Config(p) | TokenHome::File(p) => p,
        }
    }
}

/// The outcome of [`ensure_token`].
#[derive(Debug)]
pub struct FirstToken {
    pub token: String,
    pub home: TokenHome,
    /// The config as it is now on disk.
    pub source: ConfigSource,
}

/// Why no token could be stored.
#[derive(Debug, thiserror::Error)]
pub enum FirstTokenError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "cannot store the gateway token in {path}: {source} (set gateway.auth.token yourself, \
         or OPENCLAW_GATEWAY_TOKEN)"
    )]
    Store {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} changed while the gateway was starting; start it again")]
    Changed { path: PathBuf },
}

/// 32 random bytes from the operating system, hex-encoded (64 characters).
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn store_error(path: &Path) -> impl FnOnce(std::io::Error) -> FirstTokenError + '_ {
    move |source| FirstTokenError::Store {
        path: path.to_owned(),
        source,
    }
}

/// Reads a token file; `None` when it does not exist (an unreadable file is an error).
fn read_token_file(path: &Path) -> Result<Option<String>, FirstTokenError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t.trim().to_owned()).filter(|t| !t.is_empty())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(store_error(path)(e)),
    }
}

/// Finds or makes the token for a gateway configured without a secret (see the module docs).
pub fn ensure_token(
    source: &ConfigSource,
    state_dir: &Path,
) -> Result<FirstToken, FirstTokenError> {
    let file = state_dir.join(TOKEN_FILE);
    if let Some(token) = read_token_file(&file)? {
        return Ok(FirstToken {
            token,
            home: TokenHome::File(file),
            source: source.clone(),
        });
    }
    let token = generate_token();
    let auth = json!({"mode": "token", "token": token});
    let path = &source.path;
    let Some(raw) = &source.raw else {
        if let Some(parent) = path.parent() {
            openclaw_core::fsutil::create_private_dir(parent).map_err(store_error(path))?;
        }
        openclaw_core::fsutil::create_private_dir(state_dir).map_err(store_error(state_dir))?;
        let doc = json!({"gateway": {"auth": auth}});
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| store_error(path)(std::io::Error::other(e)))?
            + "\n";
        // Created meanwhile (another start, the user): never replace what this start did not read.
        if path.exists() {
            return Err(FirstTokenError::Changed { path: path.clone() });
        }
        atomic_write(path, text.as_bytes(), Permissions::Private).map_err(store_error(path))?;
        return Ok(FirstToken {
            token,
            home: TokenHome::Config(path.clone()),
            source: config::load(path)?,
        });
    };
    if let Some(text) = edited_config(raw, &source.value, auth) {
        // Only replace the text this start read: a concurrent edit is not overwritten.
        let now = std::fs::read_to_string(path).map_err(store_error(path))?;
        if &now != raw {
            return Err(FirstTokenError::Changed { path: path.clone() });
        }
        if atomic_write(path, text.as_bytes(), Permissions::Private).is_ok() {
            return Ok(FirstToken {
                token,
                home: TokenHome::Config(path.clone()),
                source: config::load(path)?,
            });
        }
    }
    openclaw_core::fsutil::create_private_dir(state_dir).map_err(store_error(state_dir))?;
    atomic_write(&file, format!("{token}\n").as_bytes(), Permissions::Private)
        .map_err(store_error(&file))?;
    Ok(FirstToken {
        token,
        home: TokenHome::File(file),
        source: source.clone(),
    })
}

/// The config text with `gateway.auth = auth` added, when that can be done exactly.
fn edited_config(raw: &str, value: &Value, auth: Value) -> Option<String> {
    let members = |k: &str, v: Value| Map::from_iter([(k.to_owned(), v)]);
    match value.get("gateway") {
        None => insert_members(raw, value, &[], &members("gateway", json!({"auth": auth}))),
        Some(Value::Object(gw)) => match gw.get("auth") {
            None => insert_members(raw, value, &["gateway"], &members("auth", auth)),
            Some(Value::Object(a))
                if ["mode", "token", "password"]
                    .iter()
                    .all(|k| !a.contains_key(*k)) =>
            {
                let Value::Object(m) = auth else { return None };
                insert_members(raw, value, &["gateway", "auth"], &m)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The shared secret a client on this machine should offer a local gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalCredentials {
    pub token: Option<String>,
    pub password: Option<String>,
}

/// `gateway.auth.token` / `gateway.auth.password` from the config value, else the token file in
/// `state_dir` (what [`ensure_token`] wrote when it could not edit the config).
pub fn local_credentials(config: &Value, state_dir: &Path) -> LocalCredentials {
    let get = |k: &str| {
        config
            .pointer(&format!("/gateway/auth/{k}"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut creds = LocalCredentials {
        token: get("token"),
        password: get("password"),
    };
    if creds.token.is_none() && creds.password.is_none() {
        creds.token = read_token_file(&state_dir.join(TOKEN_FILE)).ok().flatten();
    }
    creds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_and_different() {
        let (a, b) = (generate_token(), generate_token());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn edits_only_when_no_secret_or_mode_is_set() {
        let auth = json!({"mode": "token", "token": "t"});
        let raw = "{ gateway: { auth: { mode: 'none' } } }";
        let v: Value = openclaw_core::config::json5_from_str(raw).unwrap();
        assert!(edited_config(raw, &v, auth.clone()).is_none());
        let raw = "{ gateway: { port: 1 } }";
        let v: Value = openclaw_core::config::json5_from_str(raw).unwrap();
        let out = edited_config(raw, &v, auth).unwrap();
        let back: Value = openclaw_core::config::json5_from_str(&out).unwrap();
        assert_eq!(back["gateway"]["auth"]["token"], "t");
        assert_eq!(back["gateway"]["port"], 1);
    }
}
