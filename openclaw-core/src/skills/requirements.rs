//! Whether a skill can be used here, as OpenClaw decides it: `metadata.openclaw.requires`
//! (`bins` all on `PATH`, one of `anyBins`, `env` set in the process or through
//! `skills.entries.<key>.env` / `apiKey` for the `primaryEnv`, `config` paths of `openclaw.json`
//! truthy), `os` (always enforced), `always` (skips everything but `os`), and
//! `skills.entries.<key>.enabled: false`. The result names what is missing.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::discover::Skill;
use super::frontmatter::Requires;

/// OpenClaw's `skills` config block (the parts acted on here).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsConfig {
    #[serde(default)]
    pub entries: HashMap<String, SkillEntryConfig>,
    #[serde(default)]
    pub load: SkillsLoadConfig,
    #[serde(default)]
    pub limits: SkillsLimitsConfig,
}

/// `skills.entries.<key>`. `Debug` shows the env names and whether an apiKey is set, never
/// a value.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillEntryConfig {
    pub enabled: Option<bool>,
    #[serde(default)]
    pub env: HashMap<String, String>,
    /// A string or a SecretRef object (`skills::env` resolves `source: "env"` ones).
    pub api_key: Option<Value>,
}

impl std::fmt::Debug for SkillEntryConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        f.debug_struct("SkillEntryConfig")
            .field("enabled", &self.enabled)
            .field("env", &names)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// `skills.load`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsLoadConfig {
    #[serde(default)]
    pub extra_dirs: Vec<String>,
}

/// `skills.limits`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillsLimitsConfig {
    pub max_skills_loaded_per_source: Option<usize>,
    pub max_skill_file_bytes: Option<u64>,
    pub max_skills_in_prompt: Option<usize>,
    pub max_skills_prompt_chars: Option<usize>,
}

impl SkillsConfig {
    /// The `skills` block of a parsed `openclaw.json`; a malformed block is an error naming it.
    pub fn from_openclaw_json(raw: &Value) -> Result<Self, String> {
        match raw.get("skills") {
            None | Some(Value::Null) => Ok(SkillsConfig::default()),
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("skills: {e}")),
        }
    }
}

/// Requirement lists, as OpenClaw's status reports them (`requirements` and `missing`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequirementSet {
    pub bins: Vec<String>,
    pub any_bins: Vec<String>,
    pub env: Vec<String>,
    pub config: Vec<String>,
    pub os: Vec<String>,
}

impl RequirementSet {
    pub fn is_empty(&self) -> bool {
        self.bins.is_empty()
            && self.any_bins.is_empty()
            && self.env.is_empty()
            && self.config.is_empty()
            && self.os.is_empty()
    }
}

/// One `requires.config` path and whether it is truthy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigCheck {
    pub path: String,
    pub satisfied: bool,
}

/// A skill's standing here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eligibility {
    pub skill_key: String,
    pub always: bool,
    /// `skills.entries.<key>.enabled: false`.
    pub disabled: bool,
    pub required: RequirementSet,
    pub missing: RequirementSet,
    pub config_checks: Vec<ConfigCheck>,
    pub eligible: bool,
    /// Why `skills.entries.<key>.apiKey` (a SecretRef) could not be resolved, when the skill's
    /// `primaryEnv` needs it; it then satisfies nothing.
    pub api_key_error: Option<String>,
}

impl Eligibility {
    /// Why the skill cannot be used, in one line (`None` when it can).
    pub fn reason(&self) -> Option<String> {
        if self.eligible {
            return None;
        }
        if self.disabled {
            return Some(format!(
                "disabled in openclaw.json (skills.entries.{}.enabled)",
                self.skill_key
            ));
        }
        let m = &self.missing;
        let mut parts = Vec::new();
        if !m.os.is_empty() {
            parts.push(format!("os: needs {}", m.os.join(", ")));
        }
        if !m.bins.is_empty() {
            parts.push(format!("bins: {}", m.bins.join(", ")));
        }
        if !m.any_bins.is_empty() {
            parts.push(format!("anyBins: one of {}", m.any_bins.join(", ")));
        }
        if !m.env.is_empty() {
            let mut env = format!("env: {}", m.env.join(", "));
            if let Some(e) = &self.api_key_error {
                env.push_str(&format!(" (skills.entries.{}.apiKey: {e})", self.skill_key));
            }
            parts.push(env);
        }
        if !m.config.is_empty() {
            parts.push(format!("config: {}", m.config.join(", ")));
        }
        Some(format!("missing {}", parts.join("; ")))
    }
}

/// OpenClaw's name for this host's platform (`darwin`, `linux`, `win32`, …).
pub fn platform() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

/// Reads an environment variable (the process's, or a test's).
pub type EnvLookup<'a> = Box<dyn Fn(&str) -> Option<OsString> + 'a>;

/// Checks skills against one host: `PATH` is read once and each binary looked up once.
pub struct Checker<'a> {
    config: &'a Value,
    skills: &'a SkillsConfig,
    path: Vec<std::path::PathBuf>,
    bins: std::cell::RefCell<HashMap<String, bool>>,
    env: EnvLookup<'a>,
}

impl<'a> Checker<'a> {
    /// A checker for this process (its `PATH` and environment).
    pub fn new(config: &'a Value, skills: &'a SkillsConfig) -> Self {
        Self::with_env(config, skills, Box::new(|k| std::env::var_os(k)))
    }

    /// A checker reading variables (and `PATH`) through `env`.
    pub fn with_env(config: &'a Value, skills: &'a SkillsConfig, env: EnvLookup<'a>) -> Self {
        let path = env("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        Checker {
            config,
            skills,
            path,
            bins: Default::default(),
            env,
        }
    }

    fn has_bin(&self, bin: &str) -> bool {
        if let Some(&known) = self.bins.borrow().get(bin) {
            return known;
        }
        let found = !bin.contains('/') && self.path.iter().any(|dir| is_executable(&dir.join(bin)));
        self.bins.borrow_mut().insert(bin.to_string(), found);
        found
    }

    /// The skill's standing.
    pub fn check(&self, skill: &Skill) -> Eligibility {
        let meta = skill.openclaw.clone().unwrap_or_default();
        let skill_key = meta.skill_key.clone().unwrap_or_else(|| skill.name.clone());
        let entry = self.skills.entries.get(&skill_key);
        let disabled = entry.and_then(|e| e.enabled) == Some(false);
        let Requires {
            bins,
            any_bins,
            env,
            config,
        } = meta.requires.clone();
        let required = RequirementSet {
            bins,
            any_bins,
            env,
            config,
            os: meta.os.clone(),
        };
        let host = platform();
        let missing_os =
            if required.os.is_empty() || required.os.iter().any(|o| normalize_os(o) == host) {
                Vec::new()
            } else {
                required.os.clone()
            };
        let config_checks: Vec<ConfigCheck> = required
            .config
            .iter()
            .map(|p| ConfigCheck {
                path: p.clone(),
                satisfied: truthy(lookup(self.config, p)),
            })
            .collect();
        let always = meta.always;
        let api_key_error = self.api_key_error(entry, meta.primary_env.as_deref());
        let api_key_ok = api_key_error.is_none();
        let missing = if always {
            RequirementSet {
                os: missing_os,
                ..Default::default()
            }
        } else {
            RequirementSet {
                bins: required
                    .bins
                    .iter()
                    .filter(|b| !self.has_bin(b))
                    .cloned()
                    .collect(),
                any_bins: if required.any_bins.is_empty()
                    || required.any_bins.iter().any(|b| self.has_bin(b))
                {
                    Vec::new()
                } else {
                    required.any_bins.clone()
                },
                env: required
                    .env
                    .iter()
                    .filter(|name| {
                        !self.env_satisfied(name, entry, meta.primary_env.as_deref(), api_key_ok)
                    })
                    .cloned()
                    .collect(),
                config: config_checks
                    .iter()
                    .filter(|c| !c.satisfied)
                    .map(|c| c.path.clone())
                    .collect(),
                os: missing_os,
            }
        };
        let eligible = !disabled && missing.is_empty();
        Eligibility {
            skill_key,
            always,
            disabled,
            required,
            missing,
            config_checks,
            eligible,
            api_key_error,
        }
    }

    /// Why the entry's `apiKey` cannot supply `primaryEnv` (a SecretRef that does not
    /// resolve), when the variable is not set already; `None` when it can or is not needed.
    fn api_key_error(
        &self,
        entry: Option<&SkillEntryConfig>,
        primary_env: Option<&str>,
    ) -> Option<String> {
        let key = entry?.api_key.as_ref()?;
        let primary = primary_env?.trim();
        if primary.is_empty() || (self.env)(primary).is_some_and(|v| !v.is_empty()) {
            return None;
        }
        let env = |k: &str| (self.env)(k).and_then(|v| v.into_string().ok());
        match crate::config::secret_ref::SecretsConfig::from_openclaw_json(self.config) {
            Ok(secrets) => secrets.resolve_input(key, &env).err(),
            Err(e) => Some(e),
        }
        .map(|e| e.to_string())
    }

    fn env_satisfied(
        &self,
        name: &str,
        entry: Option<&SkillEntryConfig>,
        primary_env: Option<&str>,
        api_key_ok: bool,
    ) -> bool {
        if (self.env)(name).is_some_and(|v| !v.is_empty()) {
            return true;
        }
        let Some(entry) = entry else {
            return false;
        };
        if entry.env.get(name).is_some_and(|v| !v.is_empty()) {
            return true;
        }
        primary_env == Some(name)
            && api_key_ok
            && entry.api_key.as_ref().is_some_and(|k| truthy(Some(k)))
    }
}

fn normalize_os(os: &str) -> String {
    let o = os.trim().to_ascii_lowercase();
    if o == "macos" { "darwin".into() } else { o }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The value at a dotted path of `openclaw.json` (`browser.enabled`).
fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(root, |v, key| match v {
            Value::Object(map) => map.get(key),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        })
}

/// JavaScript truthiness, as OpenClaw tests config paths.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    }
}
