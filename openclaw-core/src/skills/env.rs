//! `skills.entries.<key>.env` and `skills.entries.<key>.apiKey` as OpenClaw injects them into an
//! agent run (its `applySkillEnvOverrides`): for each skill the agent can use, in precedence
//! order, each `env` variable that is not already set in the process, and the `apiKey` (a string
//! or a SecretRef of source `env`, `file` or `exec`, resolved by `config::secret_ref`; one that
//! does not resolve is reported and sets nothing) as the skill's `primaryEnv` when that is not
//! set either; the first skill to name a variable wins. A name that loads code into a process
//! (`LD_*`, `DYLD_*`, `NODE_OPTIONS`, `BASH_ENV`, `OPENSSL_CONF`, …) is always refused, and a
//! credential-looking name (`…_API_KEY`, `…_TOKEN`, `…_SECRET`, `…_PASSWORD`, `…_PRIVATE_KEY`) only
//! passes when it is the skill's `primaryEnv` or in its `requires.env`, as in OpenClaw; a value
//! with a NUL byte is refused.
//!
//! OpenClaw writes them into `process.env` for the run and restores it afterwards; here the
//! process environment is never touched: the result is an overlay that the run's host `bash`
//! children get (not a sandbox's, as in OpenClaw). [`SkillEnv`]'s `Debug` shows names only, so
//! the values cannot reach a log by accident.

use std::collections::BTreeSet;

use serde_json::Value;

use super::catalog::SkillCatalog;
use super::requirements::SkillsConfig;
use crate::config::secret_ref::SecretsConfig;

/// The variables a run's host commands get, and the names refused (for the log).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SkillEnv {
    /// `(name, value)` in the order the skills named them.
    pub vars: Vec<(String, String)>,
    /// `(skill key, variable name)` refused by the rules above.
    pub blocked: Vec<(String, String)>,
    /// `(skill key, why its apiKey SecretRef could not be resolved)`: nothing injected for it.
    pub errors: Vec<(String, String)>,
}

impl std::fmt::Debug for SkillEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkillEnv")
            .field("vars", &self.names())
            .field("blocked", &self.blocked)
            .field("errors", &self.errors)
            .finish()
    }
}

impl SkillEnv {
    /// The injected variables' names.
    pub fn names(&self) -> Vec<&str> {
        self.vars.iter().map(|(k, _)| k.as_str()).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.vars.is_empty()
    }
}

/// Names that change what a process loads or runs: never injected.
fn dangerous(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const EXACT: [&str; 14] = [
        "NODE_OPTIONS",
        "NODE_PATH",
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PERL5OPT",
        "PERL5LIB",
        "RUBYOPT",
        "RUBYLIB",
        "OPENSSL_CONF",
        "SHELLOPTS",
        "IFS",
    ];
    const PREFIXES: [&str; 3] = ["LD_", "DYLD_", "BASH_FUNC_"];
    EXACT.contains(&upper.as_str())
        || PREFIXES.iter().any(|p| upper.starts_with(p))
        || upper == "PATH"
        || upper == "HOME"
}

/// OpenClaw's credential-name rule (`_?(API_KEY|TOKEN|PASSWORD|PRIVATE_KEY|SECRET)$`, and its
/// list of well-known ones, which the suffix rule covers but `_ADMIN_KEY` and the AWS names).
fn credential_like(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["API_KEY", "TOKEN", "PASSWORD", "PRIVATE_KEY", "SECRET"]
        .iter()
        .any(|s| upper.ends_with(s))
        || upper.ends_with("_ADMIN_KEY")
        || matches!(
            upper.as_str(),
            "AWS_SECRET_ACCESS_KEY" | "AWS_SECRET_KEY" | "AWS_SESSION_TOKEN"
        )
}

/// The overlay for a run of an agent whose skills are `catalog`, under `config` (the parsed
/// `openclaw.json`), with `env` the gateway process's environment.
pub fn skill_env(
    catalog: &SkillCatalog,
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> SkillEnv {
    let Ok(skills_config) = SkillsConfig::from_openclaw_json(config) else {
        return SkillEnv::default();
    };
    let secrets = SecretsConfig::from_openclaw_json(config);
    let mut out = SkillEnv::default();
    let mut taken = BTreeSet::new();
    for entry in catalog.skills.iter().filter(|s| s.usable()) {
        let key = &entry.eligibility.skill_key;
        let Some(conf) = skills_config.entries.get(key) else {
            continue;
        };
        if conf.enabled == Some(false) {
            continue;
        }
        let meta = entry.skill.openclaw.as_ref();
        let primary = meta
            .and_then(|m| m.primary_env.as_deref())
            .map(str::trim)
            .filter(|p| !p.is_empty());
        let required: Vec<&str> = meta
            .map(|m| m.requires.env.iter().map(|e| e.trim()).collect())
            .unwrap_or_default();
        let mut pending: Vec<(String, String)> = Vec::new();
        let mut names: Vec<&String> = conf.env.keys().collect();
        names.sort();
        for raw in names {
            let name = raw.trim();
            let value = &conf.env[raw];
            if name.is_empty() || value.is_empty() || env(name).is_some() {
                continue;
            }
            pending.push((name.to_owned(), value.clone()));
        }
        if let Some(p) = primary {
            if env(p).is_none() && !pending.iter().any(|(k, _)| k == p) {
                let resolved = match (&conf.api_key, &secrets) {
                    (None, _) => Ok(None),
                    (Some(v), Ok(secrets)) => secrets.resolve_input(v, env),
                    (Some(_), Err(e)) => Err(e.clone()),
                };
                match resolved {
                    Ok(Some(v)) => pending.push((p.to_owned(), v)),
                    Ok(None) => {}
                    Err(e) => out.errors.push((key.clone(), e.to_string())),
                }
            }
        }
        for (name, value) in pending {
            let allowed_secret =
                primary == Some(name.as_str()) || required.contains(&name.as_str());
            if dangerous(&name)
                || value.contains('\0')
                || (credential_like(&name) && !allowed_secret)
            {
                out.blocked.push((key.clone(), name));
                continue;
            }
            if taken.insert(name.clone()) {
                out.vars.push((name, value));
            }
        }
    }
    out
}

/// The overlay an engine's host `bash` gets, the one place every run mode (the gateway's
/// runs, `openclaw agent -p`, RPC mode, the in-process TUI) computes it: the agent's usable
/// skills under `config`, over this process's environment. A sandboxed or refused target gets
/// nothing (OpenClaw injects into host runs only). Each refused name becomes a warning (the
/// name, never the value).
#[cfg(feature = "tokio")]
pub fn run_overlay(
    catalog: &SkillCatalog,
    config: &Value,
    target: &crate::sandbox::ExecTarget,
    warnings: &mut Vec<String>,
) -> crate::tool::ExtraEnv {
    if !matches!(target, crate::sandbox::ExecTarget::Host) {
        return Default::default();
    }
    let env = skill_env(catalog, config, &|k| std::env::var(k).ok());
    for (skill, name) in &env.blocked {
        warnings.push(format!("skill {skill}: env {name} refused (not injected)"));
    }
    for (skill, error) in &env.errors {
        warnings.push(format!(
            "skill {skill}: skills.entries.{skill}.apiKey not injected: {error}"
        ));
    }
    crate::tool::ExtraEnv(std::sync::Arc::new(env.vars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::skills::{OpenClawPlaces, SkillCatalog};
    use serde_json::json;

    fn skill(dir: &std::path::Path, name: &str, meta: &str) {
        let d = dir.join("skills").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("SKILL.md"),
            format!("---\nname: {name}\ndescription: d\n{meta}---\nbody\n"),
        )
        .unwrap();
    }

    fn catalog(ws: &std::path::Path, config: &Value) -> SkillCatalog {
        SkillCatalog::openclaw(&OpenClawPlaces {
            workspace: ws,
            state_dir: &ws.join("state"),
            home: None,
            config,
            agent_filter: None,
        })
    }

    #[test]
    fn entries_env_and_api_key_follow_openclaws_rules() {
        let d = tempfile::tempdir().unwrap();
        skill(
            d.path(),
            "image-lab",
            "metadata: {\"openclaw\": {\"primaryEnv\": \"LAB_API_KEY\", \"requires\": {\"env\": [\"LAB_API_KEY\"]}}}\n",
        );
        skill(d.path(), "plain", "");
        skill(d.path(), "off", "");
        let config = json!({"skills": {"entries": {
            "image-lab": {"apiKey": "sk-lab", "env": {"LAB_MODE": "fast", "ALREADY": "x",
                          "LD_PRELOAD": "/tmp/x.so", "OTHER_TOKEN": "t"}},
            "plain": {"env": {"LAB_MODE": "slow", "PLAIN_VAR": "1"},
                      "apiKey": {"source": "env", "provider": "default", "id": "SRC"}},
            "off": {"enabled": false, "env": {"OFF_VAR": "1"}}
        }}});
        let env = |k: &str| match k {
            "ALREADY" => Some("set".to_owned()),
            "SRC" => Some("from-env".to_owned()),
            _ => None,
        };
        let got = skill_env(&catalog(d.path(), &config), &config, &env);
        let vars: Vec<(&str, &str)> = got
            .vars
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // image-lab first: its env (minus what the process has and what is refused), then the
        // apiKey as its primaryEnv; plain's LAB_MODE loses to image-lab's.
        assert_eq!(
            vars,
            [
                ("LAB_MODE", "fast"),
                ("LAB_API_KEY", "sk-lab"),
                ("PLAIN_VAR", "1")
            ]
        );
        assert_eq!(
            got.blocked,
            [
                ("image-lab".to_owned(), "LD_PRELOAD".to_owned()),
                ("image-lab".to_owned(), "OTHER_TOKEN".to_owned())
            ]
        );
        // Debug shows names, never values.
        let shown = format!("{got:?}");
        assert!(
            shown.contains("LAB_API_KEY") && !shown.contains("sk-lab"),
            "{shown}"
        );
    }

    #[test]
    fn a_set_variable_is_never_overridden() {
        let d = tempfile::tempdir().unwrap();
        skill(
            d.path(),
            "k",
            "metadata: {\"openclaw\": {\"primaryEnv\": \"K_API_KEY\"}}\n",
        );
        let config = json!({"skills": {"entries": {"k": {"apiKey": "new"}}}});
        let env = |k: &str| (k == "K_API_KEY").then(|| "old".to_owned());
        assert!(skill_env(&catalog(d.path(), &config), &config, &env).is_empty());
    }
}
