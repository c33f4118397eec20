//! Routing and failover: a primary model plus ordered fallbacks (from `agents.defaults.model`
//! or a per-agent override, with aliases), retries with exponential backoff on retryable
//! failures (429, 5xx, overloaded, connection refused, timeouts), then the next fallback.
//! Every retry and every switch is reported as a [`RoutedEvent`] so the session can record a
//! `model_change` — failover is never silent.
//!
//! Only failures before any content arrived are retried: once a reply has started streaming,
//! its events are passed through as they are.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use futures::future::{Either, select};
use futures::stream::{self, BoxStream};
use regex::Regex;

use super::registry::{ModelRegistry, ResolveError};
use super::{LlmContext, Provider, StreamEvent, StreamOptions};
use crate::config::{AgentModelConfig, OpenClawConfig};
use crate::event::AgentEvent;
use crate::message::StopReason;
use crate::model::{Model, ThinkingLevel};

/// Whether a provider error is worth retrying (rate limits, overload, server errors, broken or
/// refused connections, timeouts).
pub fn is_retryable(message: &str) -> bool {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^(429|5\d\d)\b|overloaded|rate.?limit|too many requests|service.?unavailable|server error|internal error|bad gateway|gateway timeout|connection (error|refused|reset|closed)|timed? ?out|fetch failed|other side closed",
        )
        .ok()
    })
    .as_ref()
    .is_some_and(|re| re.is_match(message.trim()))
}

/// Retry settings for one model before moving to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries of the same model (0 = go straight to the next fallback).
    pub max_retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            base_delay: Duration::from_millis(1000),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based): base × 2^(attempt−1), capped.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

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

/// What a routed stream yields.
#[derive(Debug, Clone, PartialEq)]
pub enum RoutedEvent {
    /// A provider event of the current model's attempt.
    Stream(StreamEvent),
    /// The current model failed before replying and is retried after `delay`.
    Retrying {
        model: Model,
        attempt: u32,
        delay: Duration,
        error: String,
    },
    /// The router moved to the next model; start a fresh message for `to`.
    Fallback {
        from: Model,
        to: Model,
        error: String,
    },
}

impl RoutedEvent {
    /// The agent event for a fallback (`None` for other events).
    pub fn to_agent_event(&self) -> Option<AgentEvent> {
        match self {
            RoutedEvent::Fallback { from, to, error } => Some(AgentEvent::ModelFallback {
                from_provider: from.provider.clone(),
                from_model: from.id.clone(),
                to_provider: to.provider.clone(),
                to_model: to.id.clone(),
                error_message: error.clone(),
            }),
            _ => None,
        }
    }
}

/// Streams through a [`ModelChain`] with retries and failover.
#[derive(Clone)]
pub struct Router {
    registry: Arc<ModelRegistry>,
    policy: RetryPolicy,
    providers: HashMap<String, Arc<dyn Provider>>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Router")
            .field("policy", &self.policy)
            .field("apis", &self.providers.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Router {
    /// A router using the built-in HTTP providers.
    #[cfg(feature = "tokio")]
    pub fn new(registry: Arc<ModelRegistry>, policy: RetryPolicy) -> Self {
        let providers = [
            "openai-completions",
            "openai-responses",
            "anthropic-messages",
            "google-generative-ai",
        ]
        .into_iter()
        .filter_map(super::provider_for_api)
        .collect();
        Self::with_providers(registry, policy, providers)
    }

    /// A router using the given providers (keyed by their `api()`).
    pub fn with_providers(
        registry: Arc<ModelRegistry>,
        policy: RetryPolicy,
        providers: Vec<Arc<dyn Provider>>,
    ) -> Self {
        let providers = providers
            .into_iter()
            .map(|p| (p.api().to_owned(), p))
            .collect();
        Router {
            registry,
            policy,
            providers,
        }
    }

    /// Stream one assistant message through `chain`. The API key of each model's provider
    /// comes from the registry unless `options.api_key` is set.
    pub fn stream(
        &self,
        chain: &ModelChain,
        context: &LlmContext,
        options: &StreamOptions,
    ) -> BoxStream<'static, RoutedEvent> {
        let state = Run {
            router: self.clone(),
            models: chain.models().cloned().collect(),
            index: 0,
            attempt: 0,
            current: None,
            started: false,
            done: false,
            context: context.clone(),
            options: options.clone(),
        };
        stream::unfold(state, Run::step)
            .flat_map(stream::iter)
            .boxed()
    }
}

struct Run {
    router: Router,
    models: Vec<Model>,
    index: usize,
    attempt: u32,
    current: Option<BoxStream<'static, StreamEvent>>,
    started: bool,
    done: bool,
    context: LlmContext,
    options: StreamOptions,
}

fn fail(message: String) -> StreamEvent {
    StreamEvent::Error {
        reason: StopReason::Error,
        message,
    }
}

impl Run {
    fn open(&self) -> BoxStream<'static, StreamEvent> {
        let model = &self.models[self.index];
        let Some(provider) = self.router.providers.get(&model.api) else {
            return stream::iter([fail(format!(
                "No provider for API \"{}\" (model {})",
                model.api,
                model.key()
            ))])
            .boxed();
        };
        let mut options = self.options.clone();
        if options.api_key.is_none() {
            options.api_key = self.router.registry.api_key(&model.provider);
        }
        provider.stream(model, &self.context, &options)
    }

    async fn step(mut self) -> Option<(Vec<RoutedEvent>, Run)> {
        if self.done {
            return None;
        }
        let mut current = match self.current.take() {
            Some(s) => s,
            None => self.open(),
        };
        let Some(event) = current.next().await else {
            self.done = true;
            return Some((Vec::new(), self));
        };
        let retryable = match &event {
            StreamEvent::Error {
                reason: StopReason::Error,
                message,
            } if !self.started && is_retryable(message) => Some(message.clone()),
            _ => None,
        };
        let Some(error) = retryable else {
            match &event {
                StreamEvent::Done { .. } | StreamEvent::Error { .. } => self.done = true,
                StreamEvent::ResponseId(_) | StreamEvent::Usage(_) => {}
                _ => self.started = true,
            }
            self.current = Some(current);
            return Some((vec![RoutedEvent::Stream(event)], self));
        };
        drop(current);
        let model = self.models[self.index].clone();
        if self.attempt < self.router.policy.max_retries {
            self.attempt += 1;
            let delay = self.router.policy.delay(self.attempt);
            let notice = RoutedEvent::Retrying {
                model,
                attempt: self.attempt,
                delay,
                error,
            };
            let sleep = futures_timer::Delay::new(delay);
            let cancel = self.options.cancel.clone();
            let cancelled = std::pin::pin!(cancel.cancelled());
            if let Either::Left(_) = select(cancelled, sleep).await {
                self.done = true;
                let aborted = StreamEvent::Error {
                    reason: StopReason::Aborted,
                    message: "Request was aborted".to_owned(),
                };
                return Some((vec![notice, RoutedEvent::Stream(aborted)], self));
            }
            return Some((vec![notice], self));
        }
        if self.index + 1 < self.models.len() {
            self.index += 1;
            self.attempt = 0;
            let to = self.models[self.index].clone();
            return Some((
                vec![RoutedEvent::Fallback {
                    from: model,
                    to,
                    error,
                }],
                self,
            ));
        }
        self.done = true;
        Some((vec![RoutedEvent::Stream(fail(error))], self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_messages() {
        for m in [
            "529 overloaded",
            "429 Rate limit reached",
            "500 internal server error",
            "503 {\"type\":\"error\"}",
            "fake: Connection error: error sending request: tcp connect error: Connection refused (os error 111)",
            "request timed out",
        ] {
            assert!(is_retryable(m), "{m}");
        }
        for m in [
            "400 invalid model",
            "401 Incorrect API key",
            "Request was aborted",
        ] {
            assert!(!is_retryable(m), "{m}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        assert_eq!(p.delay(1), Duration::from_millis(100));
        assert_eq!(p.delay(2), Duration::from_millis(200));
        assert_eq!(p.delay(3), Duration::from_millis(350));
    }
}
