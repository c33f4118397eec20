//! `skills.status` (an agent's skills with eligibility and what is missing), `skills.skillCard`
//! (a skill's `skill-card.md`) and `skills.detail` (ClawHub's registry page: not reachable
//! from here, so `UNAVAILABLE`). Discovery reads the disk, so it runs on a blocking thread.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::system::{
    SkillsDetailParams, SkillsSkillCardParams, SkillsStatusParams,
};
use openclaw_core::skills::discover::read_bounded;
use openclaw_core::skills::status::MAX_SKILL_CARD_BYTES;
use serde::Serialize;
use serde_json::Value;

use crate::skills::AgentSkills;
use crate::state::Shared;

/// The agent a call names: `agentId`, else the agent of an `agent:<id>:…` session key, else
/// the default agent (`None`).
fn agent_of(agent: Option<&str>, key: Option<&str>) -> Option<String> {
    agent.map(str::to_owned).or_else(|| {
        key.and_then(|k| k.strip_prefix("agent:"))
            .and_then(|r| r.split_once(':'))
            .map(|(a, _)| a.to_owned())
    })
}

async fn load(shared: &Arc<Shared>, agent: Option<String>) -> Result<AgentSkills, ErrorShape> {
    let config = shared.config_value();
    let state_dir = shared.state_dir.clone();
    tokio::task::spawn_blocking(move || AgentSkills::load(&config, &state_dir, agent.as_deref()))
        .await
        .map_err(|e| ErrorShape::unavailable(format!("skills: {e}")))?
        .map_err(ErrorShape::invalid_request)
}

fn to_value(v: impl Serialize) -> Result<Value, ErrorShape> {
    serde_json::to_value(v).map_err(|e| ErrorShape::unavailable(e.to_string()))
}

pub(crate) async fn status(
    shared: &Arc<Shared>,
    p: SkillsStatusParams,
) -> Result<Value, ErrorShape> {
    let agent = agent_of(p.agent_id.as_deref(), p.session_key.as_deref());
    let skills = load(shared, agent).await?;
    to_value(skills.report(&shared.state_dir))
}

/// `skills.skillCard`'s answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SkillCard {
    schema: &'static str,
    skill_key: String,
    path: std::path::PathBuf,
    size_bytes: u64,
    content: String,
}

pub(crate) async fn skill_card(
    shared: &Arc<Shared>,
    p: SkillsSkillCardParams,
) -> Result<Value, ErrorShape> {
    let skills = load(shared, p.agent_id.as_deref().map(str::to_owned)).await?;
    let report = skills.report(&shared.state_dir);
    let key: &str = &p.skill_key;
    let card = report
        .skills
        .iter()
        .find(|s| s.skill_key == key)
        .and_then(|s| s.skill_card.clone())
        .ok_or_else(|| ErrorShape::invalid_request(format!("skill card not found for {key}")))?;
    let path = card.path.clone();
    let content = tokio::task::spawn_blocking(move || read_bounded(&path, MAX_SKILL_CARD_BYTES))
        .await
        .map_err(|e| ErrorShape::unavailable(format!("skills: {e}")))?
        .map_err(|_| ErrorShape::invalid_request(format!("skill card not readable for {key}")))?;
    to_value(SkillCard {
        schema: "openclaw.skills.skill-card.v1",
        skill_key: key.to_owned(),
        size_bytes: content.len() as u64,
        path: card.path,
        content,
    })
}

pub(crate) fn detail(p: SkillsDetailParams) -> Result<Value, ErrorShape> {
    Err(ErrorShape::unavailable(format!(
        "ClawHub is not reachable from this gateway: no registry details for {}",
        &*p.slug
    )))
}
