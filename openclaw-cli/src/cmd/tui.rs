//! `openclaw` / `openclaw tui`: the interactive chat (openclaw-tui) on the in-process engine,
//! or attached to a gateway with `--url`.

use std::sync::{Arc, Mutex};

use openclaw_core::config;
use openclaw_core::engine::{Engine, EngineError};
use openclaw_tui::{AppOptions, ChatBackend, GatewayBackend, PendingBackend};

use super::runtime;
use crate::agent_args::AgentArgs;
use crate::agent_mode::{engine_config, exec_gate, exec_policy};
use crate::cli::GatewayTarget;
use crate::error::{CliError, CliResult};
use crate::in_process::InProcessBackend;
use crate::in_process::ScreenApprover;
use openclaw_core::exec_policy::Approver;

/// A user-facing error for an engine that would not start.
pub(crate) fn engine_error(e: EngineError) -> CliError {
    let hint = match &e {
        EngineError::NoApiKey(p) => Some(super::models::key_hint(p)),
        EngineError::NoModel => {
            Some("run `openclaw models list` to see what is configured".to_string())
        }
        EngineError::Resolve(_) | EngineError::ModelNotFound(_) => {
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

/// Starts the engine from the agent flags. With `screen_approvals` (the TUI) the exec policy
/// asks the user through approval cards; otherwise (the line chat) nobody is asked.
pub(crate) async fn start_engine(
    args: &AgentArgs,
    screen_approvals: bool,
) -> CliResult<InProcessBackend> {
    let mut cfg = engine_config(args).map_err(CliError::usage)?;
    let approver = Arc::new(ScreenApprover::default());
    if screen_approvals {
        let policy = exec_policy().map_err(CliError::usage)?;
        let asker: Arc<dyn Approver> = approver.clone();
        cfg.exec_gate = Some(exec_gate(&cfg, policy, Some(asker)));
    }
    let mcp_warnings = crate::agent_mode::add_mcp_tools(&mut cfg).await;
    let dir = cfg.default_session_dir();
    let (engine, mut warnings) = Engine::start(cfg).await.map_err(engine_error)?;
    warnings.extend(mcp_warnings);
    // The TUI shows warnings as notices; the REPL prints them (the screen may already be up).
    let backend = InProcessBackend::new(engine, dir, warnings);
    Ok(if screen_approvals {
        backend.with_approver(approver)
    } else {
        backend
    })
}

/// The gateway error with the URL tried and how to start one.
pub(crate) fn gateway_error(e: openclaw_rpc::client::gateway::GatewayClientError) -> CliError {
    use openclaw_rpc::client::gateway::GatewayClientError as G;
    match e {
        G::Connect { .. } | G::Timeout { .. } | G::Closed => CliError::failure(e.to_string())
            .hint("start one with `openclaw gateway run`, or point --url / OPENCLAW_GATEWAY_URL at a running gateway"),
        G::Refused { .. } => CliError::failure(e.to_string()).hint("check --token / OPENCLAW_GATEWAY_TOKEN"),
        G::Request { .. } => CliError::failure(e.to_string()),
    }
}

pub fn run(agent: AgentArgs, gateway: GatewayTarget, session: String) -> CliResult {
    let rt = runtime()?;
    rt.block_on(async move {
        // The first frame is drawn while the engine starts (or the gateway handshake runs);
        // a failure ends the screen and is reported here with its hint.
        let failure: Arc<Mutex<Option<CliError>>> = Arc::new(Mutex::new(None));
        let slot = failure.clone();
        let location = gateway.url.clone().unwrap_or_else(|| "local".into());
        let initial_prompt = agent.prompt_text();
        let pending: PendingBackend = Box::pin(async move {
            let made: CliResult<Arc<dyn ChatBackend>> = match &gateway.url {
                Some(url) => GatewayBackend::connect(
                    url,
                    super::gateway::secret_for(&gateway, url),
                    &session,
                )
                .await
                .map(|b| Arc::new(b) as Arc<dyn ChatBackend>)
                .map_err(gateway_error),
                None => start_engine(&agent, true)
                    .await
                    .map(|b| Arc::new(b) as Arc<dyn ChatBackend>),
            };
            made.map_err(|e| {
                let text = e.message.clone();
                if let Ok(mut s) = slot.lock() {
                    *s = Some(e);
                }
                text
            })
        });
        let options = AppOptions {
            cwd: std::env::current_dir().unwrap_or_default(),
            history_path: Some(config::state_dir().join("tui-history.jsonl")),
            location,
            initial_prompt,
        };
        match openclaw_tui::run_connecting(pending, options).await {
            Ok(()) => Ok(()),
            Err(e) => Err(failure
                .lock()
                .ok()
                .and_then(|mut s| s.take())
                .unwrap_or_else(|| CliError::failure(e.to_string()))),
        }
    })
}
