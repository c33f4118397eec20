//! `openclaw config get|set|validate|path`: openclaw.json read and written through
//! openclaw-core's config loader. Secrets are redacted on output.

use std::path::Path;

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::fsutil::{Permissions, atomic_write};
use serde_json::{Map, Value, json};

use crate::cli::ConfigCmd;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

const REDACTED: &str = "__OPENCLAW_REDACTED__";

/// Whether a key names a secret.
fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["apikey", "token", "password", "secret", "privatekey"]
        .iter()
        .any(|s| k.contains(s))
}

/// `value` with every secret-looking field replaced by a sentinel.
pub(crate) fn redact(value: &Value) -> Value {
    match value {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = if is_secret(k) && (v.is_string() || v.is_object()) {
                        json!(REDACTED)
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// The value at a dotted path (`gateway.port`, `agents.list.0.model`).
pub(crate) fn get_path<'a>(root: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted.split('.').try_fold(root, |v, k| match v {
        Value::Array(a) => k.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => v.get(k),
    })
}

/// Sets a dotted path on a value, creating objects on the way.
pub(crate) fn set_path(root: &mut Value, dotted: &str, new: Value) -> CliResult {
    let keys = keys_of(dotted)?;
    config::edit::set_value(root, &keys, new)
        .map_err(|e| CliError::usage(format!("{e} in \"{dotted}\"")))
}

fn keys_of(dotted: &str) -> CliResult<Vec<&str>> {
    let keys: Vec<&str> = dotted.split('.').collect();
    if keys.iter().any(|k| k.is_empty()) {
        return Err(CliError::usage(format!("invalid key \"{dotted}\""))
            .hint("use dotted keys like gateway.port"));
    }
    Ok(keys)
}

/// Sets `dotted` in the file in place, keeping its comments and formatting (or refusing when
/// that is not possible), validates the result and writes it atomically (owner-only).
pub(crate) fn set_in_file(path: &Path, dotted: &str, new: &Value) -> CliResult {
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
    let keys = keys_of(dotted)?;
    let (text, _) = config::edit::set_path(path, &text, &keys, new)
        .map_err(|e| CliError::failure(e.to_string()))?;
    OpenClawConfig::parse(path, &text).map_err(|e| {
        CliError::usage(format!(
            "the change would make the configuration invalid: {e}"
        ))
    })?;
    atomic_write(path, text.as_bytes(), Permissions::Private)?;
    Ok(())
}

/// A command-line value: JSON5 when it parses, otherwise the literal string.
pub(crate) fn parse_value(text: &str) -> Value {
    openclaw_core::config::json5_from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Reads the raw document (an empty object when the file does not exist).
pub(crate) fn read_raw(path: &Path) -> CliResult<Value> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(config::parse_json5(path, &t)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Value::Object(Map::new())),
        Err(e) => Err(CliError::failure(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

pub fn run(cmd: ConfigCmd) -> CliResult {
    let path = config::config_path();
    match cmd {
        ConfigCmd::Path => {
            crate::out!("{}", path.display());
            Ok(())
        }
        ConfigCmd::Get { key, json } => {
            let doc = read_raw(&path)?;
            let value = match &key {
                None => doc.clone(),
                Some(k) => get_path(&doc, k).cloned().ok_or_else(|| {
                    CliError::failure(format!("{k} is not set in {}", path.display()))
                        .hint("`openclaw config get` prints the whole file")
                })?,
            };
            let last = key
                .as_deref()
                .and_then(|k| k.rsplit('.').next())
                .unwrap_or("");
            let value = if is_secret(last) && !value.is_null() {
                json!(REDACTED)
            } else {
                redact(&value)
            };
            match (&value, json.json) {
                (Value::String(s), false) => crate::out!("{s}"),
                (Value::Number(_) | Value::Bool(_) | Value::Null, false) => crate::out!("{value}"),
                _ => print_json(&value),
            }
            Ok(())
        }
        ConfigCmd::Set { key, value } => {
            set_in_file(&path, &key, &parse_value(&value))?;
            eprintln!("Set {key} in {}", path.display());
            Ok(())
        }
        ConfigCmd::Validate(json) => {
            let exists = path.exists();
            let result = OpenClawConfig::load_from(&path);
            if json.json {
                print_json(&json!({
                    "path": path.display().to_string(),
                    "exists": exists,
                    "valid": result.is_ok(),
                    "error": result.as_ref().err().map(|e| e.to_string()),
                }));
                return result.map(|_| ()).map_err(|_| CliError {
                    message: "invalid configuration".into(),
                    hint: None,
                    code: 1,
                });
            }
            match result {
                Ok(_) if !exists => {
                    crate::out!("{} does not exist; the defaults apply.", path.display());
                    Ok(())
                }
                Ok(cfg) => {
                    crate::out!(
                        "{} is valid ({} providers, {} agents).",
                        path.display(),
                        cfg.models.providers.len(),
                        cfg.agents.list.len()
                    );
                    Ok(())
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_and_redaction() {
        let mut doc = json!({"models": {"providers": {"x": {"apiKey": "sk-secret"}}}, "agents": {"list": [{"id": "main"}]}});
        set_path(&mut doc, "gateway.port", json!(18789)).unwrap();
        set_path(&mut doc, "agents.list.0.model", json!("fake/fake-model")).unwrap();
        assert_eq!(get_path(&doc, "gateway.port"), Some(&json!(18789)));
        assert_eq!(
            get_path(&doc, "agents.list.0.model"),
            Some(&json!("fake/fake-model"))
        );
        assert!(set_path(&mut doc, "agents.list.5.model", json!(1)).is_err());
        let r = redact(&doc);
        assert_eq!(
            get_path(&r, "models.providers.x.apiKey"),
            Some(&json!(REDACTED))
        );
        assert_eq!(parse_value("{a: 1}"), json!({"a": 1}));
        assert_eq!(parse_value("hello world"), json!("hello world"));
    }

    #[test]
    fn config_set_keeps_the_files_comments_and_refuses_what_it_cannot_keep() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let text = "// mine\n{\n  gateway: { port: 18789 }, // port\n}\n";
        std::fs::write(&path, text).unwrap();
        set_in_file(&path, "gateway.port", &json!(19001)).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            text.replace("18789", "19001")
        );
        let broken = "{ gateway: { port: 18789 }\n";
        std::fs::write(&path, broken).unwrap();
        let e = set_in_file(&path, "gateway.port", &json!(1)).unwrap_err();
        assert!(
            e.message.contains(&path.display().to_string()),
            "{}",
            e.message
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    }
}
