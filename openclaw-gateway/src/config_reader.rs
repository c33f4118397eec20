//! Reading typed values out of the parsed `openclaw.json` with errors that name the dotted key
//! and its line and column in the file.

use std::path::Path;

use serde_json::{Map, Value};

use super::config::ConfigError;

/// Reads typed values out of the config, reporting the dotted key and its file position.
pub(crate) struct Reader<'a> {
    pub(crate) source: Option<(&'a Path, &'a str)>,
}

impl Reader<'_> {
    pub(crate) fn invalid(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let (file, line, column) = match self.source {
            Some((path, text)) => {
                let (line, column) = locate_key(text, key).unzip();
                (path.display().to_string(), line, column)
            }
            None => ("config".to_owned(), None, None),
        };
        ConfigError::Invalid {
            key: key.to_owned(),
            message: message.into(),
            file,
            line,
            column,
        }
    }

    pub(crate) fn object<'v>(
        &self,
        v: Option<&'v Value>,
        key: &str,
    ) -> Result<Option<&'v Map<String, Value>>, ConfigError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(self.invalid(key, "expected an object")),
        }
    }

    pub(crate) fn string(
        &self,
        v: Option<&Value>,
        key: &str,
    ) -> Result<Option<String>, ConfigError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.invalid(key, "expected a string")),
        }
    }

    pub(crate) fn uint(
        &self,
        v: Option<&Value>,
        key: &str,
        max: u64,
    ) -> Result<Option<u64>, ConfigError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(n) => match n.as_u64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            }) {
                Some(x) if x <= max => Ok(Some(x)),
                _ => Err(self.invalid(key, format!("expected an integer between 0 and {max}"))),
            },
        }
    }

    pub(crate) fn boolean(
        &self,
        v: Option<&Value>,
        key: &str,
    ) -> Result<Option<bool>, ConfigError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.invalid(key, "expected true or false")),
        }
    }
}

/// Finds the line and column of the last segment of a dotted key in JSON5 text (best effort:
/// the first occurrence of the key name written as an object key).
pub fn locate_key(text: &str, dotted: &str) -> Option<(usize, usize)> {
    let name = dotted.rsplit('.').next()?;
    for (i, line) in text.lines().enumerate() {
        for pat in [format!("\"{name}\""), format!("'{name}'"), name.to_owned()] {
            let mut from = 0;
            while let Some(pos) = line[from..].find(&pat) {
                let at = from + pos;
                let rest = line[at + pat.len()..].trim_start();
                let before_ok =
                    at == 0 || !line[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_');
                if rest.starts_with(':') && before_ok {
                    return Some((i + 1, line[..at].chars().count() + 1));
                }
                from = at + pat.len();
            }
        }
    }
    None
}

/// `gateway.controlUi.allowedOrigins`: a list of origins (`scheme://host[:port]`) or `*`.
pub(crate) fn allowed_origins(
    r: &Reader<'_>,
    gw: &Map<String, Value>,
) -> Result<Vec<String>, ConfigError> {
    const KEY: &str = "gateway.controlUi.allowedOrigins";
    let ui = r.object(gw.get("controlUi"), "gateway.controlUi")?;
    match ui.and_then(|u| u.get("allowedOrigins")) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                _ => Err(r.invalid(KEY, "expected a list of origins like \"https://host:port\"")),
            })
            .collect(),
        Some(_) => Err(r.invalid(KEY, "expected a list of origins")),
    }
}

/// `gateway.controlUi.enabled` and `gateway.controlUi.basePath` (a path such as `/openclaw`;
/// `/` or empty serves the UI at the root).
pub(crate) fn control_ui(
    r: &Reader<'_>,
    gw: &Map<String, Value>,
) -> Result<super::config::ControlUiConfig, ConfigError> {
    let mut cfg = super::config::ControlUiConfig::default();
    let Some(ui) = r.object(gw.get("controlUi"), "gateway.controlUi")? else {
        return Ok(cfg);
    };
    if let Some(on) = r.boolean(ui.get("enabled"), "gateway.controlUi.enabled")? {
        cfg.enabled = on;
    }
    const KEY: &str = "gateway.controlUi.basePath";
    const RESERVED: &[&str] = &[
        "v1", "api", "tools", "health", "healthz", "ready", "readyz", "hooks",
    ];
    if let Some(path) = r.string(ui.get("basePath"), KEY)? {
        let trimmed = path.trim().trim_end_matches('/');
        let ok = trimmed.is_empty()
            || (trimmed.starts_with('/')
                && trimmed[1..].split('/').all(|seg| {
                    !seg.is_empty()
                        && seg != "."
                        && seg != ".."
                        && seg
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_.~".contains(c))
                }));
        if !ok {
            return Err(r.invalid(
                KEY,
                "expected a path like \"/openclaw\" (letters, digits, - _ . ~ between slashes)",
            ));
        }
        // The gateway's own HTTP routes keep their paths.
        let first = trimmed.split('/').nth(1).unwrap_or("");
        if RESERVED.contains(&first) {
            return Err(r.invalid(
                KEY,
                format!("\"/{first}\" is one of the gateway's own HTTP paths; choose another"),
            ));
        }
        cfg.base_path = trimmed.to_owned();
    }
    if let Some(root) = r.string(ui.get("root"), "gateway.controlUi.root")? {
        let root = root.trim();
        if !root.is_empty() {
            let path = match root.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(|h| std::path::PathBuf::from(h).join(rest))
                    .unwrap_or_else(|| root.into()),
                None => root.into(),
            };
            cfg.root = Some(path);
        }
    }
    Ok(cfg)
}
