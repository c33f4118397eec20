//! `config.get` (secrets redacted), `config.set` (whole file, JSON5), `config.patch` (JSON
//! merge patch) and `config.schema`. Writers must echo the `hash` from `config.get` as
//! `baseHash` once a file exists; redacted values sent back are restored from the current file.

use std::path::Path;
use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::{ConfigSource, GatewayConfig, process_env};
use crate::state::Shared;
use openclaw_core::config::edit;
use openclaw_core::protocol::system::{ConfigPatchParams, ConfigSetParams, NoParams};

/// What a redacted secret looks like.
pub const REDACTED: &str = "__OPENCLAW_REDACTED__";

fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    [
        "token",
        "password",
        "secret",
        "apikey",
        "api_key",
        "privatekey",
        "credential",
    ]
    .iter()
    .any(|s| k.contains(s))
        || k == "proxyurl"
}

fn is_secret_ref(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.contains_key("source")
            && m.contains_key("provider")
            && m.contains_key("id")
            && m.len() <= 4
    })
}

/// A copy of `v` with secrets replaced by [`REDACTED`]; collects the secret strings seen.
pub fn redact(v: &Value, secrets: &mut Vec<String>) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let out = if is_secret_ref(x) {
                        json!(REDACTED)
                    } else if is_secret_key(k)
                        && !x.is_object()
                        && !x.is_array()
                        && !x.is_null()
                        && !x.is_boolean()
                    {
                        if let Some(s) = x.as_str() {
                            secrets.push(s.to_owned());
                        }
                        json!(REDACTED)
                    } else {
                        redact(x, secrets)
                    };
                    (k.clone(), out)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| redact(x, secrets)).collect()),
        other => other.clone(),
    }
}

fn redact_raw(raw: &str, secrets: &[String]) -> String {
    let mut out = raw.to_owned();
    for s in secrets.iter().filter(|s| !s.is_empty()) {
        for q in ['"', '\''] {
            out = out.replace(&format!("{q}{s}{q}"), &format!("\"{REDACTED}\""));
        }
    }
    out
}

fn hash_of(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

pub(crate) fn get(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
    let live = shared
        .config
        .read()
        .map_err(|_| ErrorShape::unavailable("config lock poisoned"))?
        .clone();
    // The file as it is on disk now; one that cannot be read or parsed shows the running
    // config, marked invalid with the file's error (its position), never as empty.
    let (source, rejected) = match crate::config::load(&live.source.path) {
        Ok(source) => (source, live.rejected),
        Err(e) => (live.source, Some(e.to_string())),
    };
    let mut secrets = Vec::new();
    let redacted = redact(&source.value, &mut secrets);
    let raw = source.raw.as_deref().map(|r| redact_raw(r, &secrets));
    let mut out = json!({
        "path": source.path.display().to_string(),
        "exists": source.raw.is_some(),
        "raw": raw,
        "parsed": redacted.clone(),
        "config": redacted.clone(),
        "runtimeConfig": redacted,
        "valid": rejected.is_none(),
        "issues": rejected.iter().map(|m| json!({"path": "", "message": m})).collect::<Vec<_>>(),
        "warnings": [],
        "legacyIssues": [],
    });
    if let Some(raw) = &source.raw {
        out["hash"] = json!(hash_of(raw));
    }
    Ok(out)
}

/// Checks `baseHash` against the file on disk, builds the new text from the disk's (`edit`:
/// path, current text, current value → new text and value), validates it, writes it and makes
/// it live.
fn write(
    shared: &Arc<Shared>,
    base_hash: Option<&str>,
    method: &str,
    edit: impl FnOnce(&Path, &str, &Value) -> Result<(String, Value), ErrorShape>,
) -> Result<Value, ErrorShape> {
    let mut live = shared
        .config
        .write()
        .map_err(|_| ErrorShape::unavailable("config lock poisoned"))?;
    let disk = crate::config::load(&live.source.path)
        .map_err(|e| ErrorShape::unavailable(e.to_string()))?;
    if let Some(raw) = &disk.raw {
        match base_hash {
            None => {
                return Err(ErrorShape::invalid_request(format!(
                    "{method} needs baseHash (the hash from config.get) because the config file exists"
                )));
            }
            Some(h) if h != hash_of(raw) => {
                return Err(ErrorShape::invalid_request(
                    "config changed since last load; re-run config.get and retry",
                ));
            }
            Some(_) => {}
        }
    }
    let path = disk.path.clone();
    let (text, value) = edit(&path, disk.raw.as_deref().unwrap_or(""), &disk.value)?;
    let gateway = GatewayConfig::from_value(&value, Some((&path, &text)), &process_env)
        .map_err(|e| ErrorShape::invalid_request(format!("invalid config: {e}")))?;
    write_atomic(&path, &text)
        .map_err(|e| ErrorShape::unavailable(format!("cannot write {}: {e}", path.display())))?;
    let hash = hash_of(&text);
    let source = ConfigSource {
        path: path.clone(),
        raw: Some(text),
        value,
    };
    let report = crate::reload::apply(shared, &mut live, source, gateway, method);
    let mut secrets = Vec::new();
    Ok(json!({"ok": true, "path": path.display().to_string(),
        "config": redact(live.value(), &mut secrets), "hash": hash, "reload": report}))
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    openclaw_core::fsutil::atomic_write(
        path,
        text.as_bytes(),
        openclaw_core::fsutil::Permissions::Private,
    )
}

fn parse_raw(shared: &Shared, method: &str, raw: &str) -> Result<Value, ErrorShape> {
    let path = shared
        .config
        .read()
        .map(|c| c.source.path.clone())
        .unwrap_or_default();
    openclaw_core::config::parse_json5(&path, raw)
        .map_err(|e| ErrorShape::invalid_params(method, e))
}

/// The paths at which `v` holds [`REDACTED`].
fn redacted_paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::String(s) if s == REDACTED => out.push(at.clone()),
        Value::Object(m) => {
            for (k, x) in m {
                at.push(k.clone());
                redacted_paths(x, at, out);
                at.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                at.push(i.to_string());
                redacted_paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// `config.set`: the client's whole text, written as sent (its comments included); secrets
/// it echoed as [`REDACTED`] are put back from the file, in place.
pub(crate) fn set(shared: &Arc<Shared>, p: ConfigSetParams) -> Result<Value, ErrorShape> {
    let raw = &*p.raw;
    let value = parse_raw(shared, "config.set", raw)?;
    if !value.is_object() {
        return Err(ErrorShape::invalid_params(
            "config.set",
            "at /raw: the config must be an object",
        ));
    }
    write(
        shared,
        p.base_hash.as_deref(),
        "config.set",
        |path, _, old| {
            let mut paths = Vec::new();
            redacted_paths(&value, &mut Vec::new(), &mut paths);
            let mut text = raw.to_owned();
            let mut value = value.clone();
            for keys in paths {
                let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
                let Some(orig) = keys.iter().try_fold(old, |v, k| match v {
                    Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
                    _ => v.get(*k),
                }) else {
                    continue;
                };
                (text, value) = edit::set_path(path, &text, &keys, orig)
                    .map_err(|e| ErrorShape::invalid_request(e.to_string()))?;
            }
            Ok((text, value))
        },
    )
}

/// The patch without the secrets a client echoed as [`REDACTED`] (the file keeps them).
fn without_redacted(patch: &Value) -> Value {
    match patch {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| v.as_str() != Some(REDACTED))
                .map(|(k, v)| (k.clone(), without_redacted(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `config.patch`: an RFC 7396 merge patch applied to the file on disk in place, keeping its
/// comments and formatting (or refused when that is not possible).
///
/// `sessionKey`, `deliveryContext` and `note` (a note delivered after a restart),
/// `restartDelayMs` and `replacePaths` are refused: this gateway sends no post-restart notes,
/// applies a change as soon as it is written, and merges every path.
pub(crate) fn patch(shared: &Arc<Shared>, p: ConfigPatchParams) -> Result<Value, ErrorShape> {
    let refusals = [
        ("sessionKey", p.session_key.is_some()),
        ("deliveryContext", p.delivery_context.is_some()),
        ("note", p.note.is_some()),
        ("restartDelayMs", p.restart_delay_ms.is_some()),
        (
            "replacePaths",
            p.replace_paths.as_ref().is_some_and(|r| !r.is_empty()),
        ),
    ];
    if let Some((name, _)) = refusals.iter().find(|(_, on)| *on) {
        return Err(ErrorShape::invalid_request(format!(
            "{name} is not supported by this gateway's config.patch"
        )));
    }
    let raw = &*p.raw;
    let patch = parse_raw(shared, "config.patch", raw)?;
    if !patch.is_object() {
        return Err(ErrorShape::invalid_params(
            "config.patch",
            "at /raw: the patch must be an object",
        ));
    }
    let patch = without_redacted(&patch);
    write(
        shared,
        p.base_hash.as_deref(),
        "config.patch",
        |path, text, _| {
            edit::merge_patch(path, text, &patch)
                .map_err(|e| ErrorShape::invalid_request(e.to_string()))
        },
    )
}

pub(crate) fn schema(_: NoParams) -> Result<Value, ErrorShape> {
    let auth = json!({"type": "object", "properties": {
        "mode": {"enum": ["none", "token", "password"]},
        "token": {"type": "string"}, "password": {"type": "string"},
        "rateLimit": {"type": "object", "properties": {
            "maxAttempts": {"type": "integer", "minimum": 1}, "windowMs": {"type": "integer", "minimum": 0},
            "lockoutMs": {"type": "integer", "minimum": 0}, "exemptLoopback": {"type": "boolean"}}}}});
    let names = json!({"type": "array", "items": {"type": "string"}});
    let tools = json!({"type": "object", "properties": {"allow": names, "deny": names}});
    let model = json!({"oneOf": [{"type": "string"}, {"type": "object", "properties": {
        "primary": {"type": "string"}, "fallbacks": names}}]});
    let agent = json!({"type": "object", "required": ["id"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "default": {"type": "boolean"},
        "workspace": {"type": "string"}, "model": model, "tools": tools,
        "identity": {"type": "object"}}});
    let lane = json!({"type": "integer", "minimum": 1, "maximum": 100_000});
    // The keys this gateway reads; the rest of OpenClaw's schema is accepted and kept as is.
    let schema = json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {
            "gateway": {"type": "object", "properties": {
                "mode": {"enum": ["local", "remote"]},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "bind": {"enum": ["loopback", "lan", "auto", "custom"]},
                "customBindHost": {"type": "string"},
                "handshakeTimeoutMs": {"type": "integer", "minimum": 1},
                "maxPreauthConnections": {"type": "integer", "minimum": 1},
                "maxPreauthConnectionsPerIp": {"type": "integer", "minimum": 1},
                "auth": auth,
                "reload": {"type": "object", "properties": {
                    "mode": {"enum": ["off", "hot", "restart", "hybrid"]},
                    "debounceMs": {"type": "integer", "minimum": 0, "maximum": 60_000}}},
                "tools": tools,
                "http": {"type": "object", "properties": {"endpoints": {"type": "object", "properties": {
                    "chatCompletions": {"type": "object", "properties": {"enabled": {"type": "boolean"}}},
                    "responses": {"type": "object", "properties": {"enabled": {"type": "boolean"}}}}}}}}},
            "agents": {"type": "object", "properties": {
                "defaults": {"type": "object", "properties": {
                    "model": model, "workspace": {"type": "string"},
                    "skipBootstrap": {"type": "boolean"},
                    "bootstrapMaxChars": {"type": "integer", "minimum": 0},
                    "bootstrapTotalMaxChars": {"type": "integer", "minimum": 0},
                    "maxConcurrent": lane,
                    "subagents": {"type": "object", "properties": {"maxConcurrent": lane}},
                    "models": {"type": "object", "additionalProperties": {"type": "object",
                        "properties": {"alias": {"type": "string"}}}}}},
                "list": {"type": "array", "items": agent},
                "entries": {"type": "object", "additionalProperties": agent}}},
            "tools": tools,
            "models": {"type": "object", "properties": {
                "mode": {"enum": ["merge", "replace"]},
                "providers": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                    "baseUrl": {"type": "string"}, "api": {"type": "string"},
                    "apiKey": {"type": "string"}, "models": {"type": "array", "items": {
                        "type": "object", "required": ["id"]}}}}}}},
            "session": {"type": "object"},
        },
    });
    let ui_hints = json!({
        "gateway.auth.token": {"label": "Gateway token", "sensitive": true},
        "gateway.auth.password": {"label": "Gateway password", "sensitive": true},
        "gateway.port": {"label": "Port"},
    });
    let generated = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    Ok(
        json!({"schema": schema, "uiHints": ui_hints, "version": env!("CARGO_PKG_VERSION"), "generatedAt": generated}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_and_what_a_writer_puts_back() {
        let v = json!({"gateway":{"auth":{"mode":"token","token":"s3cret"}},
            "models":{"providers":{"x":{"apiKey":{"source":"env","provider":"default","id":"K"},"baseUrl":"u"}}}});
        let mut secrets = vec![];
        let r = redact(&v, &mut secrets);
        assert_eq!(r["gateway"]["auth"]["token"], REDACTED);
        assert_eq!(r["gateway"]["auth"]["mode"], "token");
        assert_eq!(r["models"]["providers"]["x"]["apiKey"], REDACTED);
        assert_eq!(secrets, vec!["s3cret".to_owned()]);
        assert_eq!(
            redact_raw("{token: 's3cret'}", &secrets),
            format!("{{token: \"{REDACTED}\"}}")
        );
        let mut paths = Vec::new();
        redacted_paths(&r, &mut Vec::new(), &mut paths);
        assert_eq!(
            paths,
            vec![
                vec!["gateway", "auth", "token"],
                vec!["models", "providers", "x", "apiKey"]
            ]
        );
        assert_eq!(
            without_redacted(&r)["gateway"]["auth"],
            json!({"mode": "token"})
        );
    }
}
