//! OpenClaw's skill status report (`skills.status`, `openclaw skills list|info|check`): one
//! entry per skill with its source, visibility, requirements and what is missing, plus
//! (our addition) the files that could not be used.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::catalog::{CatalogSkill, SkillCatalog};
use super::discover::Problem;
use super::requirements::{ConfigCheck, RequirementSet};

/// A `skill-card.md` beside a skill, at most this large, is shown by `skills.skillCard`.
pub const MAX_SKILL_CARD_BYTES: u64 = 256 * 1024;

/// The answer of `skills.status` (also read back from a gateway by `openclaw skills --url`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub workspace_dir: PathBuf,
    pub managed_skills_dir: PathBuf,
    #[serde(default)]
    pub agent_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_skill_filter: Option<Vec<String>>,
    pub skills: Vec<SkillStatus>,
    /// Skill files that could not be used (damaged, too large, unreadable) and search limits
    /// reached: an addition to OpenClaw's shape, which only logs them.
    #[serde(default)]
    pub problems: Vec<Problem>,
}

/// One skill of the report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillStatus {
    pub name: String,
    pub description: String,
    pub source: String,
    pub bundled: bool,
    pub file_path: PathBuf,
    pub base_dir: PathBuf,
    pub skill_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    pub always: bool,
    pub disabled: bool,
    pub blocked_by_allowlist: bool,
    pub blocked_by_agent_filter: bool,
    pub eligible: bool,
    pub platform_incompatible: bool,
    pub model_visible: bool,
    pub user_invocable: bool,
    pub command_visible: bool,
    pub requirements: RequirementSet,
    pub missing: RequirementSet,
    pub config_checks: Vec<ConfigCheck>,
    /// Why `skills.entries.<key>.apiKey` (a SecretRef) could not be resolved: an addition to
    /// OpenClaw's shape (it reports the failed secret owner through status and doctor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_error: Option<String>,
    /// Installer options: none here (this implementation installs nothing).
    #[serde(default)]
    pub install: Vec<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_card: Option<SkillCardRef>,
}

/// A skill's `skill-card.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillCardRef {
    pub present: bool,
    pub path: PathBuf,
    pub size_bytes: u64,
}

impl SkillStatus {
    /// Eligible and allowed for the agent.
    pub fn ready(&self) -> bool {
        self.eligible && !self.blocked_by_agent_filter
    }

    /// Not eligible for a reason other than being switched off.
    pub fn missing_requirements(&self) -> bool {
        !self.eligible && !self.disabled && !self.blocked_by_allowlist
    }

    /// `bins: gh; env: TOKEN`, as OpenClaw's CLI summarises `missing`.
    /// An unresolvable apiKey SecretRef follows the env part: `env: K (apiKey: why)`.
    pub fn missing_summary(&self) -> String {
        let m = &self.missing;
        [
            ("bins", &m.bins),
            ("anyBins", &m.any_bins),
            ("env", &m.env),
            ("config", &m.config),
            ("os", &m.os),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| match (&self.api_key_error, *k) {
            (Some(e), "env") => format!("{k}: {} (apiKey: {e})", v.join(", ")),
            _ => format!("{k}: {}", v.join(", ")),
        })
        .collect::<Vec<_>>()
        .join("; ")
    }
}

/// The `skill-card.md` of a skill folder, when it is a regular file within the size limit.
pub fn skill_card(base_dir: &Path) -> Option<SkillCardRef> {
    let path = base_dir.join("skill-card.md");
    let meta = std::fs::symlink_metadata(&path).ok()?;
    (meta.is_file() && meta.len() <= MAX_SKILL_CARD_BYTES).then_some(SkillCardRef {
        present: true,
        path,
        size_bytes: meta.len(),
    })
}

fn status_of(entry: &CatalogSkill) -> SkillStatus {
    let skill = &entry.skill;
    let e = &entry.eligibility;
    let meta = skill.openclaw.clone().unwrap_or_default();
    let available = e.eligible && !entry.blocked_by_agent_filter;
    SkillStatus {
        name: skill.name.clone(),
        description: skill.description.clone(),
        source: skill.source.to_string(),
        bundled: false,
        file_path: skill.file_path.clone(),
        base_dir: skill.base_dir.clone(),
        skill_key: e.skill_key.clone(),
        primary_env: meta.primary_env.clone(),
        emoji: meta.emoji.clone(),
        homepage: meta.homepage.clone().or_else(|| skill.homepage.clone()),
        always: e.always,
        disabled: e.disabled,
        blocked_by_allowlist: false,
        blocked_by_agent_filter: entry.blocked_by_agent_filter,
        eligible: e.eligible,
        platform_incompatible: !e.missing.os.is_empty(),
        model_visible: available && !skill.disable_model_invocation,
        user_invocable: skill.user_invocable,
        command_visible: available && skill.user_invocable,
        requirements: e.required.clone(),
        missing: e.missing.clone(),
        config_checks: e.config_checks.clone(),
        api_key_error: e.api_key_error.clone(),
        install: Vec::new(),
        skill_card: skill_card(&skill.base_dir),
    }
}

impl StatusReport {
    /// The report for `catalog`, an agent's OpenClaw view.
    pub fn build(
        catalog: &SkillCatalog,
        workspace: &Path,
        state_dir: &Path,
        agent_id: &str,
        agent_filter: Option<Vec<String>>,
    ) -> Self {
        StatusReport {
            workspace_dir: workspace.to_path_buf(),
            managed_skills_dir: state_dir.join("skills"),
            agent_id: agent_id.to_string(),
            agent_skill_filter: agent_filter,
            skills: catalog.skills.iter().map(status_of).collect(),
            problems: catalog.problems.clone(),
        }
    }

    /// The entry `name` selects (exact name, then key, then case-insensitive; never an
    /// ambiguous match).
    pub fn find(&self, name: &str) -> Option<&SkillStatus> {
        let raw = name.trim();
        let lower = raw.to_lowercase();
        let matchers: [&dyn Fn(&SkillStatus) -> bool; 3] =
            [&|s| s.name == raw, &|s| s.skill_key == raw, &|s| {
                s.name.to_lowercase() == lower || s.skill_key.to_lowercase() == lower
            }];
        for matches in matchers {
            let found: Vec<&SkillStatus> = self.skills.iter().filter(|s| matches(s)).collect();
            if !found.is_empty() {
                return (found.len() == 1).then(|| found[0]);
            }
        }
        None
    }
}
