//! Configuration: `openclaw.json` (JSON5), pi `models.json`, and the state-directory layout.
//!
//! [`OpenClawConfig`] keeps the whole parsed file as a `serde_json::Value` (so the gateway and
//! other subsystems can read their own sections) plus the typed parts the model layer needs:
//! `models.providers.<id>` (pi's models.json provider shape) and `agents` (default model,
//! fallbacks, aliases, per-agent overrides). `edit` changes the file in place, keeping its
//! comments and formatting. `secret_ref` resolves OpenClaw's SecretRefs (`secrets.providers`).

pub mod edit;
mod models;
mod nesting;
mod secret_exec;
pub mod secret_ref;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use models::{
    AgentConfig, AgentDefaults, AgentModelConfig, AliasEntry, ModelConfig, ModelsConfig,
    ProviderConfig,
};
pub use nesting::{MAX_JSON5_DEPTH, json5_from_str};

/// A configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: invalid JSON5: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: invalid value at `{key}`: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// The state directory: `$OPENCLAW_STATE_DIR`, else `~/.openclaw`.
pub fn state_dir() -> PathBuf {
    match std::env::var_os("OPENCLAW_STATE_DIR") {
        Some(p) if !p.is_empty() => expand_home(Path::new(&p)),
        _ => home().join(".openclaw"),
    }
}

/// The config file: `$OPENCLAW_CONFIG_PATH`, else `<stateDir>/openclaw.json`.
pub fn config_path() -> PathBuf {
    match std::env::var_os("OPENCLAW_CONFIG_PATH") {
        Some(p) if !p.is_empty() => expand_home(Path::new(&p)),
        _ => state_dir().join("openclaw.json"),
    }
}

/// pi's agent directory: `$PI_CODING_AGENT_DIR`, else `~/.pi/agent`.
pub fn pi_agent_dir() -> PathBuf {
    match std::env::var_os("PI_CODING_AGENT_DIR") {
        Some(p) if !p.is_empty() => expand_home(Path::new(&p)),
        _ => home().join(".pi").join("agent"),
    }
}

/// pi's `models.json`: `<piAgentDir>/models.json`.
pub fn pi_models_path() -> PathBuf {
    pi_agent_dir().join("models.json")
}

fn home() -> PathBuf {
    dirs::home_dir().unwrap_or_else(|| PathBuf::from("."))
}

/// `~` and `~/x` expanded against the home directory.
pub fn expand_home(p: &Path) -> PathBuf {
    match p.to_str() {
        Some("~") => home(),
        Some(s) if s.starts_with("~/") => home().join(&s[2..]),
        _ => p.to_path_buf(),
    }
}

/// The parsed `openclaw.json`.
#[derive(Debug, Clone, Default)]
pub struct OpenClawConfig {
    /// Where it was read from (`None` when no file existed).
    pub path: Option<PathBuf>,
    /// The whole document (an empty object when no file existed).
    pub raw: Value,
    /// `models` (providers).
    pub models: ModelsConfig,
    /// `agents` (defaults and per-agent entries).
    pub agents: AgentDefaultsAndList,
}

/// The `agents` section.
#[derive(Debug, Clone, Default)]
pub struct AgentDefaultsAndList {
    pub defaults: AgentDefaults,
    pub list: Vec<AgentConfig>,
}

/// Parse JSON5 text into a JSON value, with file/line/column in errors.
pub fn parse_json5(path: &Path, text: &str) -> Result<Value, ConfigError> {
    json5_from_str(text).map_err(|e| match e {
        json5::Error::Message { msg, location } => {
            let (line, column) = location.map(|l| (l.line, l.column)).unwrap_or((0, 0));
            ConfigError::Syntax {
                path: path.to_path_buf(),
                line,
                column,
                // pest renders a source excerpt; keep only its one-line explanation.
                message: msg
                    .lines()
                    .rev()
                    .find_map(|l| l.trim().strip_prefix("= ").map(str::to_owned))
                    .unwrap_or_else(|| msg.lines().last().unwrap_or_default().trim().to_owned()),
            }
        }
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, ConfigError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl OpenClawConfig {
    /// Load from [`config_path`]; a missing file gives the empty default.
    pub fn load() -> Result<OpenClawConfig, ConfigError> {
        Self::load_from(&config_path())
    }

    /// Load from `path`; a missing file gives the empty default.
    pub fn load_from(path: &Path) -> Result<OpenClawConfig, ConfigError> {
        match read_optional(path)? {
            None => Ok(OpenClawConfig {
                raw: Value::Object(Default::default()),
                ..Default::default()
            }),
            Some(text) => Self::parse(path, &text),
        }
    }

    /// Parse the text of `path`.
    pub fn parse(path: &Path, text: &str) -> Result<OpenClawConfig, ConfigError> {
        let raw = parse_json5(path, text)?;
        if !raw.is_object() {
            return Err(ConfigError::Invalid {
                path: path.to_path_buf(),
                key: "(root)".into(),
                message: "the configuration must be an object".into(),
            });
        }
        let models = match raw.get("models") {
            Some(m) => ModelsConfig::from_value(path, "models", m)?,
            None => ModelsConfig::default(),
        };
        let mut agents = AgentDefaultsAndList::default();
        if let Some(d) = raw.pointer("/agents/defaults") {
            agents.defaults = models::typed(path, "agents.defaults", d)?;
        }
        if let Some(list) = raw.pointer("/agents/list").and_then(Value::as_array) {
            for (i, a) in list.iter().enumerate() {
                agents
                    .list
                    .push(models::typed(path, &format!("agents.list[{i}]"), a)?);
            }
        }
        Ok(OpenClawConfig {
            path: Some(path.to_path_buf()),
            raw,
            models,
            agents,
        })
    }

    /// A section of the raw document by dotted path (`gateway.port`).
    pub fn section(&self, dotted: &str) -> Option<&Value> {
        dotted.split('.').try_fold(&self.raw, |v, key| v.get(key))
    }
}

/// Load a pi `models.json` (`{"providers": {...}}`); a missing file gives no providers.
pub fn load_pi_models(path: &Path) -> Result<ModelsConfig, ConfigError> {
    match read_optional(path)? {
        None => Ok(ModelsConfig::default()),
        Some(text) => {
            let raw = parse_json5(path, &text)?;
            ModelsConfig::from_value(path, "", &raw)
        }
    }
}

#[cfg(test)]
mod tests;
