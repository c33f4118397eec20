//! `openclaw` / `openclaw tui`: the interactive chat (openclaw-tui) on the in-process engine,
//! or attached to a gateway with `--url`.

use std::sync::Arc;

use openclaw_core::config;
use openclaw_core::engine::{Engine, EngineError};
use openclaw_tui::{AppOptions, ChatBackend, GatewayBackend};

use super::runtime;
use crate::agent_args::AgentArgs;
use crate::agent_mode::engine_config;
use crate::cli::GatewayTarget;
use crate::engine_backend::EngineBackend;
use crate::error::{CliError, CliResult};

/// A user-facing error for an engine that would not start.
pub(crate) fn engine_error(e: EngineError) -> CliError {
    let hint = match &e {
        EngineError::NoApiKey(p) => Some(super::models::key_hint(p)),
        EngineError::NoModel => Some("run `openclaw models list` to see what is configured".to_string()),
        EngineError::UnknownProvider(_) | EngineError::ModelNotFound(_) => {
            Some("run `openclaw models list` for the known provider/model names".to_string())
        }
        _ => None,
    };
    let err = CliError::failure(e.to_string());
    match hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// Starts the engine from the agent flags.
pub(crate) async fn start_engine(args: &AgentArgs) -> CliResult<EngineBackend> {
    let cfg = engine_config(args).map_err(CliError::usage)?;
    let dir = cfg.default_session_dir();
    let (engine, warnings) = Engine::start(cfg).await.map_err(engine_error)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(EngineBackend::new(engine, dir))
}

/// The gateway error with the URL tried and how to start one.
pub(crate) fn gateway_error(e: openclaw_tui::gateway::GatewayError) -> CliError {
    use openclaw_tui::gateway::GatewayError as G;
    match e {
        G::Unreachable { .. } | G::Timeout(_) | G::Closed => CliError::failure(e.to_string())
            .hint("start one with `openclaw gateway run`, or point --url / OPENCLAW_GATEWAY_URL at a running gateway"),
        G::Rejected(_) => CliError::failure(e.to_string()).hint("check --token / OPENCLAW_GATEWAY_TOKEN"),
        G::Request { .. } => CliError::failure(e.to_string()),
    }
}

pub fn run(agent: AgentArgs, gateway: GatewayTarget, session: String) -> CliResult {
    let rt = runtime()?;
    rt.block_on(async move {
        let (backend, location): (Arc<dyn ChatBackend>, String) = match &gateway.url {
            Some(url) => {
                let b = GatewayBackend::connect(url, gateway.token.clone(), &session).await.map_err(gateway_error)?;
                (Arc::new(b), url.clone())
            }
            None => (Arc::new(start_engine(&agent).await?), "local".into()),
        };
        let options = AppOptions {
            cwd: std::env::current_dir().unwrap_or_default(),
            history_path: Some(config::state_dir().join("tui-history.jsonl")),
            location,
        };
        openclaw_tui::run(backend, options)
            .await
            .map_err(|e| CliError::failure(e.to_string()))
    })
}
