//! `openclaw models list`: the model catalogue (built-in, openclaw.json, pi models.json) with
//! whether each provider's credentials are present. Work done by openclaw-core's registry.

use openclaw_core::config::{self, OpenClawConfig};
use openclaw_core::provider::catalog::builtin_provider;
use openclaw_core::provider::registry::ModelRegistry;
use serde_json::json;

use crate::cli::ModelsCmd;
use crate::error::{CliError, CliResult};
use crate::output::{Table, print_json};

/// The registry the agent would use: openclaw.json over pi's models.json.
pub(crate) fn registry() -> CliResult<(OpenClawConfig, ModelRegistry)> {
    let cfg = OpenClawConfig::load()?;
    let pi = config::load_pi_models(&config::pi_models_path())?;
    let reg = ModelRegistry::from_config(&cfg, Some(&pi));
    Ok((cfg, reg))
}

/// The env var a user should set for `provider` (for hints).
pub(crate) fn key_hint(provider: &str) -> String {
    match builtin_provider(provider).and_then(|p| p.env_keys.last()) {
        Some(var) => format!(
            "set {var}, or add an apiKey for \"{provider}\" under models.providers in openclaw.json"
        ),
        None => format!(
            "add an apiKey for \"{provider}\" under models.providers in {}",
            config::config_path().display()
        ),
    }
}

pub fn run(cmd: ModelsCmd) -> CliResult {
    let ModelsCmd::List {
        provider,
        available,
        json,
    } = cmd;
    let (_cfg, reg) = registry()?;
    if let Some(p) = &provider {
        if !reg.has_provider(p) {
            return Err(CliError::usage(format!("unknown provider \"{p}\""))
                .hint("run `openclaw models list` to see every provider"));
        }
    }
    let models: Vec<_> = reg
        .all_models()
        .iter()
        .filter(|m| provider.as_ref().is_none_or(|p| &m.provider == p))
        .filter(|m| !available || reg.has_credentials(&m.provider))
        .collect();
    if json.json {
        let rows: Vec<_> = models
            .iter()
            .map(|m| {
                json!({
                    "provider": m.provider,
                    "id": m.id,
                    "name": m.name,
                    "api": m.api,
                    "contextWindow": m.context_window,
                    "maxTokens": m.max_tokens,
                    "reasoning": m.reasoning,
                    "input": m.input,
                    "available": reg.has_credentials(&m.provider),
                })
            })
            .collect();
        print_json(&json!({ "models": rows }));
        return Ok(());
    }
    let mut t = Table::new(&["model", "context", "reasoning", "input", "available"]);
    for m in &models {
        let avail = if reg.has_credentials(&m.provider) {
            "yes".to_string()
        } else {
            match builtin_provider(&m.provider).and_then(|p| p.env_keys.last()) {
                Some(var) => format!("no ({var} not set)"),
                None => "no (no apiKey)".into(),
            }
        };
        t.row(vec![
            format!("{}/{}", m.provider, m.id),
            format!("{}k", m.context_window / 1000),
            if m.reasoning {
                "yes".into()
            } else {
                "-".into()
            },
            m.input.join(","),
            avail,
        ]);
    }
    if t.is_empty() {
        crate::out!("No models match.");
    } else {
        t.print();
    }
    Ok(())
}
