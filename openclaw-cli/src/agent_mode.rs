//! Running the agent modes: build the engine from the launch flags (startup failures print one
//! line to stderr and exit 1 before anything reaches stdout), then hand it to the RPC, JSON or
//! text front end.

use std::path::PathBuf;
use std::sync::Arc;

use openclaw_core::engine::{Engine, EngineConfig, SessionTarget, ToolSelection};
use openclaw_core::exec_policy::{Approver, ExecPolicy, GateContext};

use crate::agent_args::{AgentArgs, Mode};

/// Run the selected mode; returns the process exit code.
pub fn run(args: AgentArgs) -> i32 {
    init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(async move {
        let mode = args.effective_mode();
        let prompt = args.prompt_text();
        if mode != Mode::Rpc && !args.print {
            eprintln!(
                "Error: interactive mode is not available yet; use --mode rpc or -p \"prompt\""
            );
            return 1;
        }
        let mut config = match engine_config(&args) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        };
        // `-p` gets the MCP servers' tools; RPC mode stays pi's tool set.
        if mode != Mode::Rpc {
            for w in add_mcp_tools(&mut config).await {
                eprintln!("Warning: {w}");
            }
        }
        let engine = match Engine::start(config).await {
            Ok((engine, warnings)) => {
                for w in warnings {
                    eprintln!("Warning: {w}");
                }
                engine
            }
            Err(e) => {
                eprintln!("Error: {e}");
                return 1;
            }
        };
        match mode {
            Mode::Rpc => openclaw_rpc::stdio::run(engine).await,
            Mode::Json | Mode::Text => {
                let Some(prompt) = prompt else {
                    eprintln!("Error: -p needs a prompt");
                    return 1;
                };
                if mode == Mode::Json {
                    openclaw_rpc::print::run_json(engine, prompt).await
                } else {
                    openclaw_rpc::print::run_text(engine, prompt).await
                }
            }
        }
    });
    // Stdin's reader thread may still be blocked in `read`: do not wait for it.
    runtime.shutdown_background();
    code
}

pub(crate) fn engine_config(args: &AgentArgs) -> Result<EngineConfig, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let mut config = EngineConfig::new(cwd);
    let session_dir = args
        .session_dir
        .clone()
        .unwrap_or_else(|| config.default_session_dir());
    config.session = Some(if args.no_session {
        SessionTarget::InMemory
    } else if let Some(path) = &args.session {
        SessionTarget::Open(PathBuf::from(path))
    } else if args.continue_session {
        SessionTarget::ContinueRecent(session_dir)
    } else {
        SessionTarget::NewIn(session_dir)
    });
    config.provider = args.provider.clone();
    config.model = args.model.clone();
    config.thinking = match &args.thinking {
        None => None,
        Some(t) => Some(t.parse()?),
    };
    config.tools = if args.no_tools {
        ToolSelection::None
    } else {
        match &args.tools {
            Some(names) => ToolSelection::Only(names.clone()),
            None => ToolSelection::Default,
        }
    };
    config.system_prompt = args.system_prompt.clone();
    config.append_system_prompt = args.append_system_prompt.clone();
    config.api_key = args.api_key.clone();
    config.context_files = !args.no_context_files;
    if args.no_skills || args.no_prompt_templates {
        config.skills = openclaw_core::engine::SkillSetting::PiWithout {
            skills: args.no_skills,
            templates: args.no_prompt_templates,
        };
    }
    config.exec_target = crate::cmd::sandbox::in_process_target(&config.cwd);
    // `-p` follows the exec policy (no one to ask: `askFallback` decides); RPC mode keeps pi's
    // behaviour unless openclaw.json sets a policy.
    let policy = exec_policy()?;
    if args.effective_mode() != Mode::Rpc || policy.explicit {
        config.exec_gate = Some(exec_gate(&config, policy, None));
    }
    Ok(config)
}

/// Adds the MCP servers' tools (`mcp.servers` of openclaw.json, as the tool policy of agent
/// `main` admits them) to an in-process engine: the servers start now and live as long as the
/// engine's tools hold them (a stdio child also exits when this process closes its stdin).
/// A server that cannot start is left out with a warning in the returned list.
pub(crate) async fn add_mcp_tools(config: &mut EngineConfig) -> Vec<String> {
    let Ok(oc) = openclaw_core::config::OpenClawConfig::load() else {
        return Vec::new();
    };
    let mcp = match openclaw_mcp::McpConfig::from_openclaw_json(&oc.raw) {
        Ok(c) if !c.servers.is_empty() => c,
        Ok(_) => return Vec::new(),
        Err(e) => return vec![format!("MCP servers not started: {e}")],
    };
    let main = oc
        .raw
        .pointer("/agents/list")
        .and_then(|l| l.as_array())
        .and_then(|l| {
            l.iter()
                .find(|e| e.get("id").and_then(|i| i.as_str()) == Some("main"))
        });
    let levels: Vec<_> = [oc.raw.get("tools"), main.and_then(|e| e.get("tools"))]
        .into_iter()
        .flatten()
        .map(openclaw_mcp::policy::PolicyLevel::from_tools)
        .collect();
    let warnings = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = warnings.clone();
    let traced = openclaw_mcp::tracing_sink();
    let log: openclaw_mcp::LogSink = Arc::new(move |line: &str| {
        traced(line);
        if line.contains("left out") {
            openclaw_core::sync::lock(&sink).push(line.to_owned());
        }
    });
    let manager = openclaw_mcp::McpManager::with_log(&mcp, log);
    let admits = |safe: &str| openclaw_mcp::policy::admits_server(&levels, safe);
    let mut reserved: Vec<&str> = openclaw_core::tool::ALL_TOOL_NAMES.to_vec();
    reserved.push("sessions_send");
    let tools = manager.tools(&admits, &reserved).await;
    config.extra_tools.0.extend(
        tools
            .into_iter()
            .filter(|t| openclaw_mcp::policy::admits_tool(&levels, t.name())),
    );
    openclaw_core::sync::lock(&warnings).clone()
}

/// The exec policy of the in-process agent (`main`) from openclaw.json.
pub(crate) fn exec_policy() -> Result<ExecPolicy, String> {
    let oc = openclaw_core::config::OpenClawConfig::load().map_err(|e| e.to_string())?;
    ExecPolicy::from_config(&oc.raw, Some("main"))
}

/// The gate for an in-process engine of `config`, asking `approver` (none: `askFallback`).
pub(crate) fn exec_gate(
    config: &EngineConfig,
    policy: ExecPolicy,
    approver: Option<Arc<dyn Approver>>,
) -> Arc<GateContext> {
    let mut gate = GateContext::new(policy, "main", config.cwd.clone());
    gate.approvals_path = Some(openclaw_core::exec_policy::document::path_in(
        &config.state_dir,
    ));
    gate.approver = approver;
    Arc::new(gate)
}

/// Logs go to stderr, off unless `OPENCLAW_LOG` (or `RUST_LOG`) asks for them: stdout carries
/// protocol lines only.
pub(crate) fn init_logging() {
    init_logging_or("off");
}

/// Logs to stderr filtered by `OPENCLAW_LOG` (or `RUST_LOG`), else by `default` (a tracing
/// filter such as `"warn"`).
pub(crate) fn init_logging_or(default: &str) {
    let filter = std::env::var("OPENCLAW_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| default.into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        // Colours only for a terminal: a service manager's log gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
