//! `config.get` (secrets redacted), `config.set` (whole file, JSON5), `config.patch` (JSON
//! merge patch) and `config.schema`. Writers must echo the `hash` from `config.get` as
//! `baseHash` once a file exists; redacted values sent back are restored from the current file.

use std::path::Path;
use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::params::Params;
use crate::config::{ConfigSource, GatewayConfig, parse_json5, process_env};
use crate::state::Shared;

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

/// Puts back secrets a client echoed as [`REDACTED`], taking them from `old` at the same path.
fn restore(new: &mut Value, old: &Value) {
    match new {
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                if v.as_str() == Some(REDACTED) {
                    if let Some(orig) = old.get(k) {
                        *v = orig.clone();
                    }
                } else {
                    restore(v, old.get(k).unwrap_or(&Value::Null));
                }
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                restore(v, old.get(i).unwrap_or(&Value::Null));
            }
        }
        _ => {}
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

pub(crate) fn get(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    p.closed(&[])?;
    let live = shared
        .config
        .read()
        .map_err(|_| ErrorShape::unavailable("config lock poisoned"))?
        .clone();
    let mut secrets = Vec::new();
    let redacted = redact(live.value(), &mut secrets);
    let raw = live.source.raw.as_deref().map(|r| redact_raw(r, &secrets));
    let mut out = json!({
        "path": live.source.path.display().to_string(),
        "exists": live.source.raw.is_some(),
        "raw": raw,
        "parsed": redacted.clone(),
        "config": redacted.clone(),
        "runtimeConfig": redacted,
        "valid": live.rejected.is_none(),
        "issues": live.rejected.iter().map(|m| json!({"path": "", "message": m})).collect::<Vec<_>>(),
        "warnings": [],
        "legacyIssues": [],
    });
    if let Some(h) = live.hash() {
        out["hash"] = json!(h);
    }
    Ok(out)
}

/// Checks `baseHash`, validates the new config, writes it and makes it live.
fn write(
    shared: &Arc<Shared>,
    base_hash: Option<&str>,
    method: &str,
    text: String,
    value: Value,
) -> Result<Value, ErrorShape> {
    let mut live = shared
        .config
        .write()
        .map_err(|_| ErrorShape::unavailable("config lock poisoned"))?;
    if let Some(current) = live.hash() {
        match base_hash {
            None => {
                return Err(ErrorShape::invalid_request(format!(
                    "{method} needs baseHash (the hash from config.get) because the config file exists"
                )));
            }
            Some(h) if h != current => {
                return Err(ErrorShape::invalid_request(
                    "config changed since last load; re-run config.get and retry",
                ));
            }
            Some(_) => {}
        }
    }
    let path = live.source.path.clone();
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
    parse_json5(&path, raw).map_err(|e| ErrorShape::invalid_params(method, e))
}

pub(crate) fn set(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&["raw", "baseHash"])?;
    let raw = p.required_str("raw")?;
    let mut value = parse_raw(shared, "config.set", raw)?;
    if !value.is_object() {
        return Err(ErrorShape::invalid_params(
            "config.set",
            "at /raw: the config must be an object",
        ));
    }
    let text = if raw.contains(REDACTED) {
        restore(&mut value, &shared.config_value());
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    } else {
        raw.to_owned()
    };
    write(shared, p.str("baseHash")?, "config.set", text, value)
}

/// RFC 7396 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch_map) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch_map {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

pub(crate) fn patch(shared: &Arc<Shared>, p: Params) -> Result<Value, ErrorShape> {
    let p = p.closed(&[
        "raw",
        "baseHash",
        "sessionKey",
        "deliveryContext",
        "note",
        "restartDelayMs",
        "replacePaths",
    ])?;
    let raw = p.required_str("raw")?;
    let patch = parse_raw(shared, "config.patch", raw)?;
    if !patch.is_object() {
        return Err(ErrorShape::invalid_params(
            "config.patch",
            "at /raw: the patch must be an object",
        ));
    }
    let old = shared.config_value();
    let mut value = old.clone();
    merge_patch(&mut value, &patch);
    restore(&mut value, &old);
    let text = serde_json::to_string_pretty(&value).unwrap_or_default() + "\n";
    write(shared, p.str("baseHash")?, "config.patch", text, value)
}

pub(crate) fn schema(p: Params) -> Result<Value, ErrorShape> {
    p.closed(&[])?;
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
    fn redaction_and_restore() {
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
        let mut back = r.clone();
        restore(&mut back, &v);
        assert_eq!(back, v);
        let mut t = json!({"a":{"b":1,"c":2}});
        merge_patch(&mut t, &json!({"a":{"b":null,"d":3}}));
        assert_eq!(t, json!({"a":{"c":2,"d":3}}));
    }
}
