//! The model chain: a primary model plus ordered fallbacks (from `agents.defaults.model` or a
//! per-agent override, with aliases). The engine walks it when auto-retry could not fix a
//! retryable failure (`engine/run.rs`, with the agent's one classifier,
//! [`crate::agent::is_retryable_error`]), announcing each switch — failover is never silent.

use super::registry::{ModelRegistry, ResolveError};
use crate::config::{AgentModelConfig, OpenClawConfig};
use crate::model::{Model, ThinkingLevel};

/// The models to try, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelChain {
    pub primary: Model,
    pub fallbacks: Vec<Model>,
    /// A `:level` suffix on the primary reference.
    pub thinking: Option<ThinkingLevel>,
    /// Warnings from resolving references (unknown ids turned into synthetic models).
    pub warnings: Vec<String>,
}

impl ModelChain {
    /// A chain of one model.
    pub fn single(model: Model) -> Self {
        ModelChain {
            primary: model,
            fallbacks: Vec::new(),
            thinking: None,
            warnings: Vec::new(),
        }
    }

    /// Resolve `primary` and `fallbacks` references (`provider/model`, aliases, fuzzy ids).
    pub fn resolve(
        registry: &ModelRegistry,
        primary: &str,
        fallbacks: &[String],
    ) -> Result<ModelChain, ResolveError> {
        let p = registry.resolve(None, primary)?;
        let mut chain = ModelChain::single(p.model);
        chain.thinking = p.thinking;
        chain.warnings.extend(p.warning);
        for f in fallbacks {
            let r = registry.resolve(None, f)?;
            chain.warnings.extend(r.warning);
            if r.model.key() != chain.primary.key()
                && !chain.fallbacks.iter().any(|m| m.key() == r.model.key())
            {
                chain.fallbacks.push(r.model);
            }
        }
        Ok(chain)
    }

    /// The chain for `agent` (an `agents.list[]` id) or the defaults: the agent's model
    /// overrides the default primary; its fallbacks, when given, replace the defaults'.
    /// `Ok(None)` when nothing is configured.
    pub fn for_agent(
        config: &OpenClawConfig,
        registry: &ModelRegistry,
        agent: Option<&str>,
    ) -> Result<Option<ModelChain>, ResolveError> {
        let defaults = &config.agents.defaults.model;
        let own = agent
            .and_then(|id| config.agents.list.iter().find(|a| a.id == id))
            .map(|a| &a.model)
            .filter(|m| **m != AgentModelConfig::Unset);
        let primary = own.and_then(|m| m.primary()).or(defaults.primary());
        let fallbacks = match own {
            Some(AgentModelConfig::Chain { fallbacks, .. }) if !fallbacks.is_empty() => fallbacks,
            _ => defaults.fallbacks(),
        };
        match primary {
            None => Ok(None),
            Some(p) => ModelChain::resolve(registry, p, fallbacks).map(Some),
        }
    }

    /// Every model, primary first.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        std::iter::once(&self.primary).chain(self.fallbacks.iter())
    }
}
