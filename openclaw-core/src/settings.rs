//! Agent settings in pi's `settings.json` shape (camelCase keys).
//!
//! Three layers are deep-merged, later ones winning: the global file `<state dir>/settings.json`,
//! the project file `<cwd>/.pi/settings.json` (pi compatibility) and `<cwd>/.openclaw/settings.json`.
//! Changes made through the setters go to the global file only (written atomically: temp file +
//! rename); keys this module does not know are preserved. Reading never fails hard: a missing
//! file is an empty layer, and a malformed one is reported by [`Settings::load`] but skipped.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use crate::agent::{QueueMode, RetrySettings};
use crate::model::ThinkingLevel;
pub use crate::session::CompactionSettings;

/// Errors reading or writing a settings file.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read settings file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("settings file {path} is not a JSON object: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("cannot write settings file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The merged settings plus the global layer that writes go to.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    global_path: Option<PathBuf>,
    global: Map<String, Value>,
    project: Map<String, Value>,
    merged: Map<String, Value>,
}

impl Settings {
    /// Settings held in memory only (nothing is read or written).
    pub fn in_memory() -> Settings {
        Settings::default()
    }

    /// Load the global file from `state_dir` and the project files from `cwd`. Unreadable or
    /// malformed files are skipped; their errors are returned alongside so callers can warn.
    pub fn load(state_dir: &Path, cwd: &Path) -> (Settings, Vec<SettingsError>) {
        let mut errors = Vec::new();
        let global_path = state_dir.join("settings.json");
        let global = read_layer(&global_path, &mut errors);
        let mut project = read_layer(&cwd.join(".pi").join("settings.json"), &mut errors);
        deep_merge(
            &mut project,
            &read_layer(&cwd.join(".openclaw").join("settings.json"), &mut errors),
        );
        let mut s = Settings {
            global_path: Some(global_path),
            global,
            project,
            merged: Map::new(),
        };
        s.remerge();
        (s, errors)
    }

    /// Settings from explicit layers (global first), for tests and embedders.
    pub fn from_layers(global: Map<String, Value>, project: Map<String, Value>) -> Settings {
        let mut s = Settings {
            global_path: None,
            global,
            project,
            merged: Map::new(),
        };
        s.remerge();
        s
    }

    /// The global file writes go to, if any.
    pub fn global_path(&self) -> Option<&Path> {
        self.global_path.as_deref()
    }

    /// The merged value at a dotted path such as `retry.maxRetries`.
    pub fn get(&self, dotted: &str) -> Option<&Value> {
        let mut parts = dotted.split('.');
        let mut cur = self.merged.get(parts.next()?)?;
        for p in parts {
            cur = cur.as_object()?.get(p)?;
        }
        Some(cur)
    }

    fn str(&self, dotted: &str) -> Option<&str> {
        self.get(dotted).and_then(Value::as_str)
    }

    fn bool_or(&self, dotted: &str, default: bool) -> bool {
        self.get(dotted).and_then(Value::as_bool).unwrap_or(default)
    }

    fn u64_or(&self, dotted: &str, default: u64) -> u64 {
        self.get(dotted)
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(default)
    }

    /// `defaultProvider`.
    pub fn default_provider(&self) -> Option<&str> {
        self.str("defaultProvider")
    }

    /// `defaultModel`.
    pub fn default_model(&self) -> Option<&str> {
        self.str("defaultModel")
    }

    /// `defaultThinkingLevel` (an unknown name counts as unset).
    pub fn default_thinking_level(&self) -> Option<ThinkingLevel> {
        self.str("defaultThinkingLevel")
            .and_then(|s| s.parse().ok())
    }

    /// `steeringMode` (default one-at-a-time).
    pub fn steering_mode(&self) -> QueueMode {
        self.str("steeringMode")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    /// `followUpMode` (default one-at-a-time).
    pub fn follow_up_mode(&self) -> QueueMode {
        self.str("followUpMode")
            .and_then(|s| s.parse().ok())
            .unwrap_or_default()
    }

    /// `compaction.*` with pi's defaults.
    pub fn compaction(&self) -> CompactionSettings {
        let d = CompactionSettings::default();
        CompactionSettings {
            enabled: self.bool_or("compaction.enabled", d.enabled),
            reserve_tokens: self.u64_or("compaction.reserveTokens", d.reserve_tokens),
            keep_recent_tokens: self.u64_or("compaction.keepRecentTokens", d.keep_recent_tokens),
        }
    }

    /// `retry.*` with pi's defaults.
    pub fn retry(&self) -> RetrySettings {
        let d = RetrySettings::default();
        RetrySettings {
            enabled: self.bool_or("retry.enabled", d.enabled),
            max_retries: self.u64_or("retry.maxRetries", d.max_retries.into()) as u32,
            base_delay_ms: self.u64_or("retry.baseDelayMs", d.base_delay_ms),
            max_delay_ms: self.u64_or("retry.maxDelayMs", d.max_delay_ms),
        }
    }

    /// `shellPath`: the shell for bash (default `/bin/bash`, falling back to `sh`).
    pub fn shell_path(&self) -> Option<&str> {
        self.str("shellPath")
    }

    /// `shellCommandPrefix`: prepended to every bash command.
    pub fn shell_command_prefix(&self) -> Option<&str> {
        self.str("shellCommandPrefix")
    }

    /// Set a dotted key in the global layer and write the global file.
    pub fn set(&mut self, dotted: &str, value: Value) -> Result<(), SettingsError> {
        let parts: Vec<&str> = dotted.split('.').collect();
        set_path(&mut self.global, &parts, value);
        self.remerge();
        self.save()
    }

    /// Persist the chosen model as the default (`defaultProvider`, `defaultModel`).
    pub fn set_default_model(&mut self, provider: &str, model: &str) -> Result<(), SettingsError> {
        self.global
            .insert("defaultProvider".into(), Value::String(provider.into()));
        self.set("defaultModel", Value::String(model.into()))
    }

    /// Persist `defaultThinkingLevel`.
    pub fn set_default_thinking_level(
        &mut self,
        level: ThinkingLevel,
    ) -> Result<(), SettingsError> {
        self.set("defaultThinkingLevel", Value::String(level.as_str().into()))
    }

    /// Persist `steeringMode`.
    pub fn set_steering_mode(&mut self, mode: QueueMode) -> Result<(), SettingsError> {
        self.set("steeringMode", Value::String(mode.as_str().into()))
    }

    /// Persist `followUpMode`.
    pub fn set_follow_up_mode(&mut self, mode: QueueMode) -> Result<(), SettingsError> {
        self.set("followUpMode", Value::String(mode.as_str().into()))
    }

    /// Persist `compaction.enabled`.
    pub fn set_compaction_enabled(&mut self, enabled: bool) -> Result<(), SettingsError> {
        self.set("compaction.enabled", Value::Bool(enabled))
    }

    /// Persist `retry.enabled`.
    pub fn set_retry_enabled(&mut self, enabled: bool) -> Result<(), SettingsError> {
        self.set("retry.enabled", Value::Bool(enabled))
    }

    fn remerge(&mut self) {
        let mut merged = self.global.clone();
        deep_merge(&mut merged, &self.project);
        self.merged = merged;
    }

    fn save(&self) -> Result<(), SettingsError> {
        let Some(path) = &self.global_path else {
            return Ok(());
        };
        let write_err = |source| SettingsError::Write {
            path: path.clone(),
            source,
        };
        let mut text = serde_json::to_string_pretty(&Value::Object(self.global.clone()))
            .map_err(|e| write_err(std::io::Error::other(e)))?;
        text.push('\n');
        crate::fsutil::atomic_write(path, text.as_bytes(), crate::fsutil::Permissions::Default)
            .map_err(write_err)
    }
}

fn set_path(map: &mut Map<String, Value>, parts: &[&str], value: Value) {
    match parts {
        [] => {}
        [last] => {
            map.insert((*last).to_string(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(next) = entry {
                set_path(next, rest, value);
            }
        }
    }
}

fn read_layer(path: &Path, errors: &mut Vec<SettingsError>) -> Map<String, Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Map::new(),
        Err(source) => {
            errors.push(SettingsError::Read {
                path: path.to_path_buf(),
                source,
            });
            return Map::new();
        }
    };
    match crate::config::json5_from_str(&text) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            errors.push(SettingsError::Parse {
                path: path.to_path_buf(),
                message: "the top level must be an object".into(),
            });
            Map::new()
        }
        Err(e) => {
            errors.push(SettingsError::Parse {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
            Map::new()
        }
    }
}

/// Merge `over` into `base`: objects merge key by key, anything else replaces.
pub fn deep_merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(Value::Object(b)), Value::Object(o)) => deep_merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn project_overrides_global_and_writes_go_global() {
        let state = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        std::fs::write(
            state.path().join("settings.json"),
            r#"{"retry":{"maxRetries":5,"enabled":true},"custom":{"x":1}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(cwd.path().join(".pi")).unwrap();
        std::fs::write(
            cwd.path().join(".pi/settings.json"),
            r#"{"retry":{"maxRetries":2,"baseDelayMs":100}}"#,
        )
        .unwrap();
        let (mut s, errors) = Settings::load(state.path(), cwd.path());
        assert!(errors.is_empty());
        let r = s.retry();
        assert_eq!((r.enabled, r.max_retries, r.base_delay_ms), (true, 2, 100));
        assert_eq!(r.max_delay_ms, 60000);

        s.set_retry_enabled(false).unwrap();
        assert!(!s.retry().enabled);
        let written: Value = serde_json::from_str(
            &std::fs::read_to_string(state.path().join("settings.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            written,
            json!({"retry":{"maxRetries":5,"enabled":false},"custom":{"x":1}})
        );
        // The project file is untouched.
        assert_eq!(
            std::fs::read_to_string(cwd.path().join(".pi/settings.json")).unwrap(),
            r#"{"retry":{"maxRetries":2,"baseDelayMs":100}}"#
        );
    }

    #[test]
    fn defaults_and_malformed_files() {
        let state = tempfile::tempdir().unwrap();
        let cwd = tempfile::tempdir().unwrap();
        std::fs::write(state.path().join("settings.json"), "{nope").unwrap();
        let (mut s, errors) = Settings::load(state.path(), cwd.path());
        assert_eq!(errors.len(), 1);
        assert_eq!(s.steering_mode(), QueueMode::OneAtATime);
        assert_eq!(s.compaction(), CompactionSettings::default());
        s.set_default_model("fake", "fake-model").unwrap();
        s.set_steering_mode(QueueMode::All).unwrap();
        assert_eq!(s.default_provider(), Some("fake"));
        assert_eq!(s.steering_mode(), QueueMode::All);
        let (reloaded, errors) = Settings::load(state.path(), cwd.path());
        assert!(errors.is_empty());
        assert_eq!(reloaded.default_model(), Some("fake-model"));
    }
}
