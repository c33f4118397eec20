//! Building an engine's parts from an [`EngineConfig`]: settings, the model registry and the
//! model choice (pi's `--provider`/`--model` rules and texts), the session, the tools and the
//! system prompt, and the agent configured from all of them.

use std::path::PathBuf;
use std::sync::Arc;

use super::{EngineConfig, EngineError, SessionTarget, SkillSetting, ToolSelection};
use crate::agent::resolve::{ProviderResolver, ResolvedProvider};
use crate::agent::system_prompt::{
    SystemPromptOptions, ToolLine, build_system_prompt, load_context_files,
};
use crate::agent::{Agent, AgentOptions};
use crate::config::{self, OpenClawConfig};
use crate::model::{Model, ThinkingLevel};
use crate::provider::routing::ModelChain;
use crate::provider::{ModelRegistry, provider_for_api};
use crate::session::SessionManager;
use crate::settings::Settings;
use crate::tool::{Tool, ToolEnv, validate_arguments};

use super::state::State;

pub(super) struct Parts {
    pub(super) agent: Agent,
    pub(super) registry: Arc<ModelRegistry>,
    pub(super) state: State,
    pub(super) tool_env: Arc<ToolEnv>,
    pub(super) skills: Arc<crate::skills::SkillCatalog>,
    /// The level asked for (flag or `:level` suffix), if any.
    pub(super) thinking: Option<ThinkingLevel>,
    pub(super) warnings: Vec<String>,
}

pub(super) fn prepare(config: &EngineConfig) -> Result<Parts, EngineError> {
    let mut warnings = Vec::new();
    let (settings, errors) = Settings::load(&config.state_dir, &config.cwd);
    warnings.extend(errors.iter().map(ToString::to_string));

    let (registry, openclaw_config) = if config.reuse_config && config.api_key.is_none() {
        shared_registry(config)?
    } else {
        let (registry, oc) = load_registry(config)?;
        (Arc::new(registry), Arc::new(oc))
    };
    // `agents.defaults.model {primary, fallbacks}`: the primary is the default choice, and the
    // fallbacks take over (visibly) when it keeps failing.
    let chain = ModelChain::for_agent(&openclaw_config, &registry, None)?;
    let (model, suffix_level, warning) =
        choose_model(&registry, &settings, config, chain.as_ref())?;
    warnings.extend(warning);
    let fallbacks = match &chain {
        Some(c)
            if c.models()
                .any(|m| m.provider == model.provider && m.id == model.id) =>
        {
            c.models().cloned().collect()
        }
        _ => Vec::new(),
    };

    let cwd_text = config.cwd.to_string_lossy().into_owned();
    let session = match config
        .session
        .clone()
        .unwrap_or_else(|| SessionTarget::NewIn(config.default_session_dir()))
    {
        SessionTarget::InMemory => SessionManager::in_memory(cwd_text.clone()),
        SessionTarget::NewIn(dir) => SessionManager::create(dir, cwd_text.clone()),
        SessionTarget::Open(path) => SessionManager::open(path, &cwd_text)?,
        SessionTarget::ContinueRecent(dir) => SessionManager::continue_recent(dir, &cwd_text)?,
    };

    let skills = skill_catalog(config, &openclaw_config.raw);
    let mut tool_env = ToolEnv::new(config.cwd.clone());
    tool_env.shell_path = settings.shell_path().map(PathBuf::from);
    tool_env.shell_command_prefix = settings.shell_command_prefix().map(String::from);
    tool_env.exec = match &config.exec {
        Some(exec) => exec.clone(),
        None => crate::tool::ExecSettings::from_openclaw_json(&openclaw_config.raw)
            .map_err(EngineError::Config)?,
    };
    tool_env.exec_target = config.exec_target.clone();
    // Every run mode (gateway, `-p`, RPC, the in-process TUI) gets its skills' env here.
    tool_env.extra_env = crate::skills::env::run_overlay(
        &skills,
        &openclaw_config.raw,
        &config.exec_target,
        &mut warnings,
    );
    let tool_env = Arc::new(tool_env);
    let mut tools: Vec<Arc<dyn Tool>> = match &config.tools {
        ToolSelection::Default => crate::tool::default_tools(&tool_env),
        ToolSelection::Only(names) => crate::tool::builtin_tools(names, &tool_env),
        ToolSelection::None => Vec::new(),
    };
    // Host-provided tools (MCP servers' tools) after the built-ins; a name a built-in already
    // has is dropped, never shadows it.
    for extra in &config.extra_tools.0 {
        if tools.iter().all(|t| t.name() != extra.name()) {
            tools.push(extra.clone());
        }
    }
    let tools: Vec<Arc<dyn Tool>> = match &config.exec_gate {
        Some(gate) => crate::exec_policy::gate_tools(tools, gate),
        None => tools,
    }
    .into_iter()
    .map(SpecOnce::wrap)
    .collect();
    for problem in &skills.problems {
        tracing::warn!("skill {}: {}", problem.path.display(), problem.message);
    }
    let system_prompt = build_system_prompt(&SystemPromptOptions {
        cwd: config.cwd.clone(),
        tools: tools
            .iter()
            .map(|t| ToolLine::new(t.name(), t.description()))
            .collect(),
        custom_prompt: config.system_prompt.clone(),
        append: config.append_system_prompt.clone(),
        context_files: if config.context_files {
            load_context_files(&config.cwd, Some(&config.state_dir))
        } else {
            Vec::new()
        },
        skills: skills.prompt_block(),
        date: None,
    });

    let mut options = AgentOptions::new(model);
    options.system_prompt = system_prompt;
    options.tools = tools;
    options.steering_mode = settings.steering_mode();
    options.follow_up_mode = settings.follow_up_mode();
    options.retry = settings.retry();
    options.session_id = Some(session.session_id().to_string());
    let agent = Agent::new(options, Arc::new(RegistryResolver(registry.clone())));
    agent.set_argument_validator(Arc::new(
        |name: &str, schema: &serde_json::Value, args: &serde_json::Value| {
            validate_arguments(name, schema, args)
        },
    ));

    Ok(Parts {
        agent,
        registry,
        state: {
            let mut state = State::new(session, settings, fallbacks);
            state.memory_flush = config.memory_flush.clone();
            state
        },
        tool_env,
        skills,
        thinking: config.thinking.or(suffix_level),
        warnings,
    })
}

/// The session's skills and templates: pi's places (minus what `--no-skills` /
/// `--no-prompt-templates` turned off), the host's catalogue, or none.
fn skill_catalog(
    config: &EngineConfig,
    raw: &serde_json::Value,
) -> Arc<crate::skills::SkillCatalog> {
    match &config.skills {
        SkillSetting::Pi | SkillSetting::PiWithout { .. } => {
            let mut catalog = crate::skills::SkillCatalog::pi(
                &config.cwd,
                &config::pi_agent_dir(),
                dirs::home_dir().as_deref(),
                raw,
            );
            if let SkillSetting::PiWithout { skills, templates } = config.skills {
                if skills {
                    catalog.skills.clear();
                }
                if templates {
                    catalog.templates.clear();
                }
            }
            Arc::new(catalog)
        }
        SkillSetting::Catalog(catalog) => catalog.clone(),
        SkillSetting::Off => Arc::default(),
    }
}

fn config_path(config: &EngineConfig) -> PathBuf {
    match std::env::var_os("OPENCLAW_CONFIG_PATH") {
        Some(p) if !p.is_empty() => config::expand_home(std::path::Path::new(&p)),
        _ => config.state_dir.join("openclaw.json"),
    }
}

/// What identifies a file's version on disk: (modified time, size, inode); `None` if absent.
type FileStamp = Option<(std::time::SystemTime, u64, u64)>;

fn stamp(path: &std::path::Path) -> FileStamp {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&m);
    #[cfg(not(unix))]
    let inode = 0;
    Some((m.modified().ok()?, m.len(), inode))
}

type Loaded = (Arc<ModelRegistry>, Arc<OpenClawConfig>);

/// [`load_registry`] through a one-entry process-wide cache keyed by both files' paths and
/// stamps ([`EngineConfig::reuse_config`]).
fn shared_registry(config: &EngineConfig) -> Result<Loaded, EngineError> {
    type Key = (PathBuf, FileStamp, PathBuf, FileStamp);
    static CACHE: std::sync::Mutex<Option<(Key, Loaded)>> = std::sync::Mutex::new(None);
    let oc_path = config_path(config);
    let pi_path = config::pi_models_path();
    let key = (
        oc_path.clone(),
        stamp(&oc_path),
        pi_path.clone(),
        stamp(&pi_path),
    );
    if let Some((k, loaded)) = crate::sync::lock(&CACHE).as_ref() {
        if *k == key {
            return Ok(loaded.clone());
        }
    }
    let (registry, oc) = load_registry(config)?;
    let loaded = (Arc::new(registry), Arc::new(oc));
    *crate::sync::lock(&CACHE) = Some((key, loaded.clone()));
    Ok(loaded)
}

/// `openclaw.json` (from `OPENCLAW_CONFIG_PATH` or the state dir) over pi's `models.json`.
fn load_registry(config: &EngineConfig) -> Result<(ModelRegistry, OpenClawConfig), EngineError> {
    let config_path = config_path(config);
    let oc =
        OpenClawConfig::load_from(&config_path).map_err(|e| EngineError::Config(e.to_string()))?;
    let pi = config::load_pi_models(&config::pi_models_path())
        .map_err(|e| EngineError::Config(e.to_string()))?;
    let mut registry = ModelRegistry::from_config(&oc, Some(&pi));
    if let (Some(key), Some(provider)) = (&config.api_key, &config.provider) {
        registry.set_runtime_api_key(provider, key.clone());
    }
    Ok((registry, oc))
}

/// pi's model choice: `--model` (with `--provider`), else the provider's first model, else the
/// saved default, else the configured primary (`agents.defaults.model`), else the first
/// available model.
fn choose_model(
    registry: &ModelRegistry,
    settings: &Settings,
    config: &EngineConfig,
    chain: Option<&ModelChain>,
) -> Result<(Model, Option<ThinkingLevel>, Option<String>), EngineError> {
    let provider = config.provider.as_deref();
    if let Some(spec) = config.model.as_deref() {
        let r = registry.resolve(provider, spec)?;
        return Ok((r.model, r.thinking, r.warning));
    }
    if let Some(p) = provider {
        if !registry.has_provider(p) {
            return Err(crate::provider::ResolveError::UnknownProvider(p.to_string()).into());
        }
        let first = registry
            .available_models()
            .into_iter()
            .find(|m| m.provider == p)
            .or_else(|| {
                registry
                    .all_models()
                    .iter()
                    .find(|m| m.provider == p)
                    .cloned()
            });
        return first
            .map(|m| (m, None, None))
            .ok_or_else(|| EngineError::ModelNotFound(p.to_string()));
    }
    let saved = match (settings.default_provider(), settings.default_model()) {
        (Some(p), Some(id)) if registry.has_credentials(p) => registry.find(p, id),
        _ => None,
    };
    if let Some(m) = saved {
        return Ok((m, None, None));
    }
    if let Some(c) = chain {
        return Ok((c.primary.clone(), c.thinking, c.warnings.first().cloned()));
    }
    registry
        .default_model()
        .map(|m| (m, None, None))
        .ok_or(EngineError::NoModel)
}

/// Providers and keys from the registry, looked up for every model call (so a key changed on
/// disk or a model switch mid-run take effect at the next turn).
struct RegistryResolver(Arc<ModelRegistry>);

/// The provider resolver engines use (also for the memory flush's private agent).
pub(super) fn resolver(registry: Arc<ModelRegistry>) -> impl ProviderResolver {
    RegistryResolver(registry)
}

#[async_trait::async_trait]
impl ProviderResolver for RegistryResolver {
    async fn resolve(&self, model: &Model) -> Result<ResolvedProvider, String> {
        let provider = provider_for_api(&model.api)
            .ok_or_else(|| format!("Model API \"{}\" is not supported", model.api))?;
        Ok(ResolvedProvider {
            provider,
            api_key: self.0.api_key(&model.provider),
        })
    }
}

/// A built-in tool with its spec computed once: the agent asks for every tool's spec on each
/// model call, and the built-ins generate their JSON schema (schemars) on every ask.
struct SpecOnce {
    tool: Arc<dyn Tool>,
    spec: crate::tool::ToolSpec,
}

impl SpecOnce {
    fn wrap(tool: Arc<dyn Tool>) -> Arc<dyn Tool> {
        let spec = tool.spec();
        Arc::new(SpecOnce { tool, spec })
    }
}

#[async_trait::async_trait]
impl Tool for SpecOnce {
    fn name(&self) -> &str {
        &self.spec.name
    }
    fn description(&self) -> &str {
        &self.spec.description
    }
    fn parameters(&self) -> serde_json::Value {
        self.spec.parameters.clone()
    }
    fn prepare_arguments(&self, args: serde_json::Value) -> serde_json::Value {
        self.tool.prepare_arguments(args)
    }
    async fn execute(
        &self,
        args: serde_json::Value,
        ctx: crate::tool::ToolCallContext,
    ) -> Result<crate::event::ToolOutput, crate::tool::ToolError> {
        self.tool.execute(args, ctx).await
    }
    fn spec(&self) -> crate::tool::ToolSpec {
        self.spec.clone()
    }
    fn mcp_origin(&self) -> Option<crate::tool::McpOrigin> {
        self.tool.mcp_origin()
    }
}
