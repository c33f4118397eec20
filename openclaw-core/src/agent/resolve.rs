//! How the agent finds the provider and API key for a model call.
//!
//! The agent asks its [`ProviderResolver`] before **every** model call, so a key rotated on disk,
//! an OAuth token refreshed in the background or a model switched mid-run is picked up at the
//! next turn.

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::Model;
use crate::provider::Provider;

/// A provider client plus the key to call it with.
#[derive(Clone)]
pub struct ResolvedProvider {
    pub provider: Arc<dyn Provider>,
    /// Passed on in [`crate::provider::StreamOptions::api_key`]; never logged.
    pub api_key: Option<String>,
}

impl std::fmt::Debug for ResolvedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedProvider")
            .field("api", &self.provider.api())
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Resolves the provider and credentials for `model`, once per model call.
///
/// An `Err` becomes an assistant message with `stopReason:"error"` and the error text as its
/// `errorMessage` (the run then ends like any failed model call).
#[async_trait]
pub trait ProviderResolver: Send + Sync {
    async fn resolve(&self, model: &Model) -> Result<ResolvedProvider, String>;
}

/// Plain closures resolve synchronously.
#[async_trait]
impl<F> ProviderResolver for F
where
    F: Fn(&Model) -> Result<ResolvedProvider, String> + Send + Sync,
{
    async fn resolve(&self, model: &Model) -> Result<ResolvedProvider, String> {
        self(model)
    }
}

/// Always the same provider and key, whatever the model.
#[derive(Clone, Debug)]
pub struct StaticResolver(pub ResolvedProvider);

impl StaticResolver {
    pub fn new(provider: Arc<dyn Provider>, api_key: Option<String>) -> Self {
        StaticResolver(ResolvedProvider { provider, api_key })
    }
}

#[async_trait]
impl ProviderResolver for StaticResolver {
    async fn resolve(&self, _model: &Model) -> Result<ResolvedProvider, String> {
        Ok(self.0.clone())
    }
}
