//! OpenClaw's SecretRefs (`{source: "env"|"file"|"exec"|"store", provider, id}`, and the
//! `${NAME}` / `$NAME` env shorthand on a secret field) resolved against `secrets.providers`
//! and `secrets.defaults` of `openclaw.json`, as OpenClaw 2026.9.6's resolver does: an `env` ref
//! of the default alias reads the process environment (an explicit env provider may allowlist
//! names); a `file` ref reads a private regular file (`mode: "json"` with a JSON pointer id, or
//! `"singleValue"` with id `value`); an `exec` ref runs an absolute binary without a shell
//! (see [`super::secret_exec`]). The shared `store` is not implemented here: such a ref is an
//! error. A ref that cannot be resolved is always an error naming the ref, never an empty value,
//! and no error or `Debug` output carries a secret.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// Defaults of OpenClaw's file provider: 1 MiB.
const FILE_MAX_BYTES: u64 = 1024 * 1024;

/// A SecretRef could not be resolved (the text names the ref and the reason, never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SecretRefError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, SecretRefError> {
    Err(SecretRefError(message.into()))
}

/// Where a ref's value lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretSource {
    Env,
    File,
    Exec,
    Store,
}

impl SecretSource {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "env" => Some(Self::Env),
            "file" => Some(Self::File),
            "exec" => Some(Self::Exec),
            "store" => Some(Self::Store),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Env => "env",
            Self::File => "file",
            Self::Exec => "exec",
            Self::Store => "store",
        }
    }
}

/// One SecretRef.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRef {
    pub source: SecretSource,
    pub provider: String,
    pub id: String,
}

impl SecretRef {
    /// `source:provider:id`, as OpenClaw labels a ref.
    pub fn label(&self) -> String {
        format!("{}:{}:{}", self.source.as_str(), self.provider, self.id)
    }
}

/// `secrets` of `openclaw.json`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretsConfig {
    #[serde(default)]
    pub providers: BTreeMap<String, SecretProvider>,
    #[serde(default)]
    pub defaults: SecretDefaults,
}

/// `secrets.defaults`: each source's default provider alias (`default` when unset).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecretDefaults {
    pub env: Option<String>,
    pub file: Option<String>,
    pub exec: Option<String>,
    pub store: Option<String>,
}

impl SecretDefaults {
    fn alias(&self, source: SecretSource) -> &str {
        match source {
            SecretSource::Env => self.env.as_deref(),
            SecretSource::File => self.file.as_deref(),
            SecretSource::Exec => self.exec.as_deref(),
            SecretSource::Store => self.store.as_deref(),
        }
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("default")
    }
}

/// `mode` of a file provider.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FileMode {
    #[default]
    Json,
    SingleValue,
}

/// Variables an exec provider passes to its command; `Debug` shows the names only.
#[derive(Clone, Default, Deserialize)]
pub struct ProviderEnv(pub BTreeMap<String, String>);

impl std::fmt::Debug for ProviderEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// `secrets.providers.<alias>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(
    tag = "source",
    rename_all = "lowercase",
    rename_all_fields = "camelCase"
)]
pub enum SecretProvider {
    Env {
        allowlist: Option<Vec<String>>,
    },
    File {
        path: String,
        #[serde(default)]
        mode: FileMode,
        max_bytes: Option<u64>,
    },
    Exec(Box<super::secret_exec::ExecProvider>),
    Store {},
}

impl SecretProvider {
    fn source(&self) -> SecretSource {
        match self {
            Self::Env { .. } => SecretSource::Env,
            Self::File { .. } => SecretSource::File,
            Self::Exec(_) => SecretSource::Exec,
            Self::Store {} => SecretSource::Store,
        }
    }
}

impl SecretsConfig {
    /// `secrets` of the parsed `openclaw.json` (absent: none configured).
    pub fn from_openclaw_json(config: &Value) -> Result<Self, SecretRefError> {
        match config.get("secrets") {
            None | Some(Value::Null) => Ok(Self::default()),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| SecretRefError(format!("secrets: invalid config: {e}"))),
        }
    }

    /// The ref a secret field holds: a SecretRef object (one without `provider` gets its
    /// source's default alias), or an env shorthand string; `None` for a literal or nothing.
    pub fn coerce(&self, value: &Value) -> Option<SecretRef> {
        match value {
            Value::Object(m) => {
                let source = SecretSource::parse(m.get("source")?.as_str()?)?;
                let id = m.get("id")?.as_str().filter(|s| !s.trim().is_empty())?;
                let provider = match m.get("provider") {
                    None => self.defaults.alias(source).to_owned(),
                    Some(p) => p.as_str().filter(|s| !s.trim().is_empty())?.to_owned(),
                };
                Some(SecretRef {
                    source,
                    provider,
                    id: id.to_owned(),
                })
            }
            Value::String(s) => {
                let t = s.trim();
                let name = t
                    .strip_prefix("${")
                    .and_then(|r| r.strip_suffix('}'))
                    .or_else(|| t.strip_prefix('$'))?;
                env_name_ok(name).then(|| SecretRef {
                    source: SecretSource::Env,
                    provider: self.defaults.alias(SecretSource::Env).to_owned(),
                    id: name.to_owned(),
                })
            }
            _ => None,
        }
    }

    /// A secret field's value: a literal (trimmed), a resolved ref, or `None` when unset;
    /// `env` reads the process environment.
    pub fn resolve_input(
        &self,
        value: &Value,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, SecretRefError> {
        if let Some(r) = self.coerce(value) {
            return self.resolve(&r, env).map(Some);
        }
        match value {
            Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            Value::Null | Value::String(_) => Ok(None),
            _ => err(
                "not a SecretRef: expected a string or {source: \"env\"|\"file\"|\"exec\", provider, id}",
            ),
        }
    }

    /// The value `r` names: a non-empty string, or an error naming the ref.
    pub fn resolve(
        &self,
        r: &SecretRef,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, SecretRefError> {
        validate(r)?;
        let configured = self.providers.get(&r.provider);
        let builtin = configured.map(SecretProvider::source) != Some(r.source)
            && matches!(r.source, SecretSource::Env | SecretSource::Store)
            && r.provider == self.defaults.alias(r.source);
        let builtin_env = SecretProvider::Env { allowlist: None };
        let provider = match configured {
            _ if builtin && r.source == SecretSource::Env => &builtin_env,
            _ if builtin => return store_unsupported(r),
            None => {
                return err(format!(
                    "Secret provider \"{}\" is not configured (ref: {}).",
                    r.provider,
                    r.label()
                ));
            }
            Some(p) if p.source() != r.source => {
                return err(format!(
                    "Secret provider \"{}\" has source \"{}\" but ref requests \"{}\".",
                    r.provider,
                    p.source().as_str(),
                    r.source.as_str()
                ));
            }
            Some(p) => p,
        };
        let value = match provider {
            SecretProvider::Env { allowlist } => resolve_env(r, allowlist.as_deref(), env)?,
            SecretProvider::File {
                path,
                mode,
                max_bytes,
            } => resolve_file(r, path, *mode, max_bytes.unwrap_or(FILE_MAX_BYTES))?,
            SecretProvider::Exec(exec) => exec.resolve(&r.provider, &r.id, env)?,
            SecretProvider::Store {} => return store_unsupported(r),
        };
        match value {
            Value::String(s) if !s.is_empty() => Ok(s),
            _ => err(format!(
                "Secret reference \"{}\" resolved to a non-string or empty value.",
                r.label()
            )),
        }
    }
}

fn store_unsupported<T>(r: &SecretRef) -> Result<T, SecretRefError> {
    err(format!(
        "Secret reference \"{}\": the shared secret store (source \"store\") is not supported by \
         this implementation; use an env, file or exec provider.",
        r.label()
    ))
}

fn env_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// OpenClaw's grammar for aliases and each source's ids.
fn validate(r: &SecretRef) -> Result<(), SecretRefError> {
    let p = &r.provider;
    let alias_ok = p.len() <= 64
        && p.starts_with(|c: char| c.is_ascii_lowercase())
        && p.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !alias_ok {
        return err(format!(
            "Secret reference \"{}\": provider must match ^[a-z][a-z0-9_-]{{0,63}}$.",
            r.label()
        ));
    }
    let id = &r.id;
    let id_ok = match r.source {
        SecretSource::Env | SecretSource::Store => env_name_ok(id),
        SecretSource::File => id == "value" || id.starts_with('/'),
        SecretSource::Exec => {
            id.len() <= 256
                && id.starts_with(|c: char| c.is_ascii_alphanumeric())
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._:/#-".contains(c))
                && id.split('/').all(|s| s != "." && s != "..")
        }
    };
    if !id_ok {
        return err(format!(
            "Secret reference \"{}\": invalid id for source \"{}\".",
            r.label(),
            r.source.as_str()
        ));
    }
    Ok(())
}

fn resolve_env(
    r: &SecretRef,
    allowlist: Option<&[String]>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Value, SecretRefError> {
    if allowlist.is_some_and(|list| !list.contains(&r.id)) {
        return err(format!(
            "Environment variable \"{}\" is not allowlisted in secrets.providers.{}.allowlist.",
            r.id, r.provider
        ));
    }
    match env(&r.id) {
        Some(v) if !v.is_empty() => Ok(Value::String(v)),
        _ => err(format!(
            "Environment variable \"{}\" is missing or empty.",
            r.id
        )),
    }
}

fn resolve_file(
    r: &SecretRef,
    path: &str,
    mode: FileMode,
    max_bytes: u64,
) -> Result<Value, SecretRefError> {
    let label = format!("secrets.providers.{}.path", r.provider);
    let path = super::expand_home(Path::new(path));
    let text = read_private_file(&label, &path, max_bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    match mode {
        FileMode::SingleValue if r.id != "value" => err(format!(
            "singleValue file provider \"{}\" expects ref id \"value\".",
            r.provider
        )),
        FileMode::SingleValue => {
            let t = text.strip_suffix('\n').unwrap_or(text);
            Ok(Value::String(t.strip_suffix('\r').unwrap_or(t).to_owned()))
        }
        FileMode::Json => {
            let parsed: Value = serde_json::from_str(text).map_err(|_| {
                SecretRefError(format!(
                    "File provider \"{}\" payload is not valid JSON.",
                    r.provider
                ))
            })?;
            if !parsed.is_object() {
                return err(format!(
                    "File provider \"{}\" payload is not a JSON object.",
                    r.provider
                ));
            }
            parsed.pointer(&r.id).cloned().ok_or_else(|| {
                SecretRefError(format!(
                    "Secret reference \"{}\": JSON pointer {} does not exist in {}.",
                    r.label(),
                    r.id,
                    path.display()
                ))
            })
        }
    }
}

/// A credential file as OpenClaw reads one: an absolute path to a regular file (not a
/// symlink, one hard link) owned by this user and neither readable nor writable by group or
/// others, opened without following links or blocking, at most `max_bytes`.
fn read_private_file(label: &str, path: &Path, max_bytes: u64) -> Result<String, SecretRefError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    if !path.is_absolute() {
        return err(format!("{label} must be an absolute path."));
    }
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path)
        .map_err(|_| SecretRefError(format!("{label} is not readable: {shown}")))?;
    if meta.file_type().is_symlink() {
        return err(format!("{label} must not be a symlink: {shown}"));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|_| SecretRefError(format!("{label} is not readable: {shown}")))?;
    let meta = file
        .metadata()
        .map_err(|_| SecretRefError(format!("{label} is not readable: {shown}")))?;
    if !meta.is_file() {
        return err(format!("{label} must be a regular file: {shown}"));
    }
    if meta.nlink() > 1 {
        return err(format!("{label} must not be hardlinked: {shown}"));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if meta.uid() != uid {
        return err(format!(
            "{label} must be owned by the effective user (uid={uid}): {shown}"
        ));
    }
    if meta.mode() & 0o066 != 0 {
        return err(format!(
            "{label} permissions are too open (group or others can read or write it; chmod 600): {shown}"
        ));
    }
    if meta.len() > max_bytes {
        return err(format!("{label} exceeds maxBytes ({max_bytes}): {shown}"));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|_| SecretRefError(format!("{label} is not readable: {shown}")))?;
    if bytes.len() as u64 > max_bytes {
        return err(format!("{label} exceeds maxBytes ({max_bytes}): {shown}"));
    }
    String::from_utf8(bytes).map_err(|_| SecretRefError(format!("{label} is not UTF-8: {shown}")))
}

/// The directories of `trustedDirs`, `~` expanded.
pub(super) fn expand_all(dirs: &[String]) -> Vec<PathBuf> {
    dirs.iter()
        .map(|d| super::expand_home(Path::new(d)))
        .collect()
}

#[cfg(test)]
#[path = "secret_ref_tests.rs"]
mod tests;
