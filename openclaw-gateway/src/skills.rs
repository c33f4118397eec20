//! An agent's skills as OpenClaw sees them: the catalogue from the agent's workspace, the
//! state dir, the user's folders and `skills.load.extraDirs`, with the agent's allowlist
//! applied; shared by the `skills.*` methods, `commands.list`, the agents' engines and
//! `openclaw skills`.

use std::path::{Path, PathBuf};

use openclaw_core::skills::{OpenClawPlaces, SkillCatalog, StatusReport};
use serde_json::Value;

use crate::roster::{AgentEntry, Roster};

/// One agent's skills.
pub struct AgentSkills {
    pub agent: AgentEntry,
    pub workspace: PathBuf,
    pub catalog: SkillCatalog,
}

impl AgentSkills {
    /// The skills of `agent` (`None`: the default agent); `Err` names an unknown agent as
    /// OpenClaw does.
    pub fn load(config: &Value, state_dir: &Path, agent: Option<&str>) -> Result<Self, String> {
        let roster = Roster::from_config(config, state_dir);
        let id = agent.unwrap_or(roster.default_id());
        let agent = roster
            .get(id)
            .cloned()
            .ok_or_else(|| format!("unknown agent id \"{id}\""))?;
        Ok(Self::for_agent(config, state_dir, agent))
    }

    /// The skills of a known agent.
    pub fn for_agent(config: &Value, state_dir: &Path, agent: AgentEntry) -> Self {
        let workspace = openclaw_core::config::expand_home(Path::new(&agent.workspace));
        let home = dirs::home_dir();
        let catalog = SkillCatalog::openclaw(&OpenClawPlaces {
            workspace: &workspace,
            state_dir,
            home: home.as_deref(),
            config,
            agent_filter: agent.skills.clone(),
        });
        AgentSkills {
            agent,
            workspace,
            catalog,
        }
    }

    /// The skill commands (`/<command>`, `/skill <name>`) as `commands.list` names them:
    /// `(command, skill)`, unique against the built-in commands.
    pub fn commands(&self) -> Vec<(String, &openclaw_core::skills::Skill)> {
        let reserved: Vec<&str> = crate::agent_host::commands::COMMANDS
            .iter()
            .map(|c| c.name)
            .collect();
        self.catalog.command_names(&reserved)
    }

    /// A chat message invoking a skill (`/<command> args`, `/skill <name> args`) rewritten as
    /// OpenClaw sends it to the model: an instruction to read the skill's `SKILL.md` first,
    /// then the request. `None` when the message invokes no skill.
    pub fn expand_command(&self, message: &str) -> Option<String> {
        openclaw_core::skills::prompt::expand_openclaw_command(message, &self.commands())
    }

    /// The `skills.status` report.
    pub fn report(&self, state_dir: &Path) -> StatusReport {
        StatusReport::build(
            &self.catalog,
            &self.workspace,
            state_dir,
            &self.agent.id,
            self.agent.skills.clone(),
        )
    }
}
