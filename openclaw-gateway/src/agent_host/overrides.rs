//! What a run uses besides its message, applied to the session's engine for one turn:
//! - the session's own settings (`sessions.patch`: `model`, `thinkingLevel`), else the agent's
//!   configured model — they stay, since every turn applies them again;
//! - the call's overrides (`chat.send` / `agent` / `sessions.send`: `thinking`, `model`,
//!   `provider`, `extraSystemPrompt`), undone when the turn ends;
//! - image attachments, which go to the model as image content blocks (anything else is refused).
//!
//! The engine's model and level are set on its agent directly: a session's choice is recorded
//! in the session index, never as the user's global default.

use base64::Engine as _;
use openclaw_core::engine::Engine;
use openclaw_core::message::ImageContent;
use openclaw_core::model::{Model, ThinkingLevel};
use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::chat::Attachment;
use openclaw_core::protocol::params::invalid;
use openclaw_state::SessionRow;
use serde_json::Value;

/// Decoded bytes allowed per image (OpenClaw: min(`mediaMaxMb`, 6 MB)).
pub const MAX_IMAGE_BYTES: usize = 6 * 1024 * 1024;
/// Images accepted per message.
pub const MAX_IMAGES: usize = 16;

/// A call's per-run overrides.
#[derive(Debug, Clone, Default)]
pub(crate) struct RunOptions {
    pub thinking: Option<ThinkingLevel>,
    /// `provider/id` or a bare id.
    pub model: Option<String>,
    pub provider: Option<String>,
    pub extra_system_prompt: Option<String>,
    pub images: Vec<ImageContent>,
    /// Light context: the workspace files section of the system prompt replaced by this
    /// (HEARTBEAT.md alone, or nothing) for the turn.
    pub light_context: Option<String>,
}

impl RunOptions {
    fn is_empty(&self) -> bool {
        self.thinking.is_none()
            && self.model.is_none()
            && self.provider.is_none()
            && self.extra_system_prompt.is_none()
            && self.light_context.is_none()
    }
}

/// `attachments[]` as image blocks; a non-image, an empty, undecodable or oversized one is
/// refused rather than dropped.
pub(crate) fn attachments_of(
    method: &str,
    items: Option<&[Attachment]>,
) -> Result<Vec<ImageContent>, ErrorShape> {
    let items = items.unwrap_or_default();
    if items.len() > MAX_IMAGES {
        return Err(invalid(
            method,
            "attachments",
            format!("at most {MAX_IMAGES} attachments"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, a)| image_of(method, i, a))
        .collect()
}

fn image_of(method: &str, i: usize, a: &Attachment) -> Result<ImageContent, ErrorShape> {
    let name = a
        .file_name
        .clone()
        .unwrap_or_else(|| format!("attachment {i}"));
    let mime = a.mime_type.clone().unwrap_or_default();
    let is_image = mime.starts_with("image/") || a.kind.as_deref() == Some("image");
    if !is_image || !mime.starts_with("image/") {
        return Err(ErrorShape::invalid_request(format!(
            "attachment {name}: only images (mimeType image/*) are supported, got {}",
            if mime.is_empty() {
                "no mimeType"
            } else {
                &mime
            }
        )));
    }
    let content = a.content.as_deref().unwrap_or_default();
    // A data URL is accepted too.
    let data = content.split_once(";base64,").map_or(content, |(_, d)| d);
    let at = format!("attachments/{i}/content");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| invalid(method, &at, format!("not base64: {e}")))?;
    if bytes.is_empty() {
        return Err(invalid(method, &at, "empty"));
    }
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(ErrorShape::invalid_request(format!(
            "attachment {name}: {} bytes is over the {MAX_IMAGE_BYTES}-byte image limit",
            bytes.len()
        )));
    }
    Ok(ImageContent {
        data: base64::engine::general_purpose::STANDARD.encode(bytes),
        mime_type: mime,
    })
}

/// Finds a model the engine can use: `provider/id`, or `id` with `provider` (else the current
/// model's provider, else any provider with credentials).
pub(crate) fn resolve_model(
    engine: &Engine,
    provider: Option<&str>,
    model: &str,
) -> Result<Model, String> {
    let registry = engine.registry();
    let (prov, id) = match model.split_once('/') {
        Some((p, m)) if provider.is_none() => (Some(p.to_owned()), m),
        _ => (provider.map(str::to_owned), model),
    };
    let usable = |p: &str| registry.find(p, id).filter(|_| registry.has_credentials(p));
    let found = match &prov {
        Some(p) => usable(p),
        None => usable(&engine.agent().model().provider)
            .or_else(|| registry.available_models().into_iter().find(|m| m.id == id)),
    };
    found.ok_or_else(|| match prov {
        Some(p) => format!("model not allowed or unknown: {p}/{id}"),
        None => format!("model not allowed or unknown: {id}"),
    })
}

/// Refuses a model (`provider/id` or `id`) that no provider with credentials offers, before
/// it is stored for a session (`sessions.patch`).
pub(crate) fn check_model(
    config: &Value,
    state_dir: &std::path::Path,
    model: &str,
) -> Result<(), ErrorShape> {
    use openclaw_core::config::{self as core_config, OpenClawConfig};
    let path = state_dir.join("openclaw.json");
    let config = OpenClawConfig::parse(&path, &config.to_string())
        .map_err(|e| ErrorShape::unavailable(format!("cannot read the model config: {e}")))?;
    let pi = core_config::load_pi_models(&core_config::pi_models_path()).ok();
    let registry = openclaw_core::provider::ModelRegistry::from_config(&config, pi.as_ref());
    let found = match model.split_once('/') {
        Some((p, id)) => registry.find(p, id).is_some() && registry.has_credentials(p),
        None => registry.available_models().iter().any(|m| m.id == model),
    };
    if found {
        Ok(())
    } else {
        Err(ErrorShape::invalid_request(format!(
            "model not allowed or unknown: {model}"
        )))
    }
}

/// The session's model choice from its index entry (`providerOverride` / `modelOverride`).
fn session_model(row: Option<&SessionRow>) -> Option<(Option<String>, String)> {
    let meta = &row?.meta;
    let m = meta.model_override.clone()?;
    Some((meta.provider_override.clone(), m))
}

/// What the engine had before a turn's call overrides, put back by [`restore`].
pub(crate) struct Saved {
    model: Model,
    thinking: ThinkingLevel,
    system_prompt: String,
}

fn set_model(engine: &Engine, model: Model) {
    let agent = engine.agent();
    let current = agent.model();
    if current.provider != model.provider || current.id != model.id {
        let level = agent.thinking_level().clamp_to(&model);
        agent.set_model(model);
        agent.set_thinking_level(level);
    }
}

/// Applies the session's settings, then the call's overrides. Returns what to restore after
/// the turn (`None` when the call overrode nothing).
pub(crate) fn apply(
    engine: &Engine,
    configured: Option<&str>,
    row: Option<&SessionRow>,
    opts: &RunOptions,
) -> Result<Option<Saved>, String> {
    let agent = engine.agent();
    match session_model(row) {
        Some((prov, m)) => set_model(engine, resolve_model(engine, prov.as_deref(), &m)?),
        // The configured model was resolved (or taken as a custom model) when the engine
        // started; go back to it when it is in the registry.
        None => {
            if let Some(m) = configured.and_then(|m| resolve_model(engine, None, m).ok()) {
                set_model(engine, m);
            }
        }
    }
    if let Some(level) = row
        .and_then(|r| r.meta.thinking_level.as_deref())
        .and_then(|s| s.parse::<ThinkingLevel>().ok())
    {
        agent.set_thinking_level(level.clamp_to(&agent.model()));
    }
    if opts.is_empty() {
        return Ok(None);
    }
    let saved = Saved {
        model: agent.model(),
        thinking: agent.thinking_level(),
        system_prompt: agent.system_prompt(),
    };
    if opts.model.is_some() || opts.provider.is_some() {
        let id = opts.model.clone().unwrap_or_else(|| saved.model.id.clone());
        match resolve_model(engine, opts.provider.as_deref(), &id) {
            Ok(m) => set_model(engine, m),
            Err(e) => {
                restore(engine, saved);
                return Err(e);
            }
        }
    }
    if let Some(level) = opts.thinking {
        agent.set_thinking_level(level.clamp_to(&agent.model()));
    }
    if let Some(keep) = &opts.light_context {
        agent.set_system_prompt(super::workspace::light_prompt(&saved.system_prompt, keep));
    }
    if let Some(extra) = opts
        .extra_system_prompt
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        agent.set_system_prompt(format!("{}\n\n{extra}", agent.system_prompt()));
    }
    Ok(Some(saved))
}

/// Undoes a turn's call overrides.
pub(crate) fn restore(engine: &Engine, saved: Saved) {
    let agent = engine.agent();
    agent.set_model(saved.model);
    agent.set_thinking_level(saved.thinking);
    agent.set_system_prompt(saved.system_prompt);
}
