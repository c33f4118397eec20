//! The skills and prompt templates one agent session sees, found in pi's places
//! ([`SkillCatalog::pi`]) or OpenClaw's ([`SkillCatalog::openclaw`]), each skill with its
//! eligibility; and what the frontends derive from it: pi's `get_commands` list, the prompt
//! block, the expansion of a typed command.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::discover::{self, Discovered, Limits, Problem, Scope, Shadowed, Skill, SkillRoot};
use super::prompt;
use super::requirements::{Checker, Eligibility, SkillsConfig};
use super::templates::{self, PromptTemplate, TemplateDir};

/// A discovered skill and its standing for this agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSkill {
    pub skill: Skill,
    pub eligibility: Eligibility,
    /// Not in the agent's skill allowlist (`agents.defaults.skills` / the agent's `skills`).
    pub blocked_by_agent_filter: bool,
}

impl CatalogSkill {
    /// Eligible here and allowed for the agent.
    pub fn usable(&self) -> bool {
        self.eligibility.eligible && !self.blocked_by_agent_filter
    }

    /// Why it cannot be used (`None` when it can).
    pub fn reason(&self) -> Option<String> {
        match self.eligibility.reason() {
            Some(r) => Some(r),
            None if self.blocked_by_agent_filter => {
                Some("not in the agent's skills allowlist".into())
            }
            None => None,
        }
    }
}

/// Everything a session's skills and templates are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillCatalog {
    /// Every skill that won its name, usable or not, in precedence order.
    pub skills: Vec<CatalogSkill>,
    /// Files that could not be used.
    pub problems: Vec<Problem>,
    /// Skills and templates hidden by an earlier one of the same name.
    pub shadowed: Vec<Shadowed>,
    pub templates: Vec<PromptTemplate>,
    /// Where skills were looked for, in precedence order.
    pub roots: Vec<SkillRoot>,
}

/// Where OpenClaw's view of one agent looks.
#[derive(Debug, Clone)]
pub struct OpenClawPlaces<'a> {
    pub workspace: &'a Path,
    pub state_dir: &'a Path,
    /// The user's home; its `~/.agents/skills` and `~/.pi/agent/skills` count only when the
    /// state dir is the default `~/.openclaw`, as OpenClaw has it.
    pub home: Option<&'a Path>,
    /// The parsed `openclaw.json`.
    pub config: &'a Value,
    /// The agent's skill allowlist (`None`: every skill).
    pub agent_filter: Option<Vec<String>>,
}

/// One entry of pi's `get_commands` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RpcCommand {
    pub name: String,
    pub description: String,
    pub source: &'static str,
    pub source_info: SourceInfo,
}

/// pi's `sourceInfo` of an automatically discovered resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub path: PathBuf,
    pub source: &'static str,
    pub scope: Scope,
    pub origin: &'static str,
    pub base_dir: PathBuf,
}

fn ancestors_agents_dirs(cwd: &Path) -> Vec<PathBuf> {
    let git_root = cwd.ancestors().find(|d| d.join(".git").exists());
    let mut out = Vec::new();
    for dir in cwd.ancestors() {
        out.push(dir.join(".agents").join("skills"));
        if Some(dir) == git_root {
            break;
        }
    }
    out
}

impl SkillCatalog {
    /// pi's places for `cwd`: `<cwd>/.pi/skills`, `.agents/skills` in `cwd` and its ancestors
    /// (up to the git root), `<agentDir>/skills`, `~/.agents/skills`; templates in
    /// `<cwd>/.pi/prompts` and `<agentDir>/prompts`. Project before user.
    pub fn pi(cwd: &Path, agent_dir: &Path, home: Option<&Path>, config: &Value) -> Self {
        let project_base = cwd.join(".pi");
        let mut roots = vec![SkillRoot {
            dir: project_base.join("skills"),
            source: "pi-project",
            scope: Scope::Project,
            base_dir: project_base.clone(),
            root_markdown: true,
        }];
        let personal = home.map(|h| h.join(".agents").join("skills"));
        for dir in ancestors_agents_dirs(cwd) {
            if Some(&dir) != personal.as_ref() {
                roots.push(SkillRoot {
                    dir,
                    source: "agents-skills-project",
                    scope: Scope::Project,
                    base_dir: project_base.clone(),
                    root_markdown: false,
                });
            }
        }
        roots.push(SkillRoot {
            dir: agent_dir.join("skills"),
            source: "pi-user",
            scope: Scope::User,
            base_dir: agent_dir.to_path_buf(),
            root_markdown: true,
        });
        if let Some(dir) = personal {
            roots.push(SkillRoot {
                dir,
                source: "agents-skills-personal",
                scope: Scope::User,
                base_dir: agent_dir.to_path_buf(),
                root_markdown: false,
            });
        }
        let template_dirs = [
            TemplateDir {
                dir: project_base.join("prompts"),
                scope: Scope::Project,
                base_dir: project_base.clone(),
            },
            TemplateDir {
                dir: agent_dir.join("prompts"),
                scope: Scope::User,
                base_dir: agent_dir.to_path_buf(),
            },
        ];
        Self::build(roots, &template_dirs, config, None)
    }

    /// OpenClaw's places for an agent, highest precedence first: `<workspace>/skills`,
    /// `<workspace>/.agents/skills`, `<workspace>/.pi/skills`, `~/.agents/skills`,
    /// `<stateDir>/skills`, `~/.pi/agent/skills`, then `skills.load.extraDirs`. No templates.
    pub fn openclaw(places: &OpenClawPlaces<'_>) -> Self {
        Self::build(
            Self::openclaw_roots(places),
            &[],
            places.config,
            places.agent_filter.clone(),
        )
    }

    /// The roots [`SkillCatalog::openclaw`] searches, in precedence order (the gateway's skills
    /// watcher watches them).
    pub fn openclaw_roots(places: &OpenClawPlaces<'_>) -> Vec<SkillRoot> {
        let ws = places.workspace;
        let root = |dir: PathBuf, source, scope, base: &Path| SkillRoot {
            dir,
            source,
            scope,
            base_dir: base.to_path_buf(),
            root_markdown: false,
        };
        let mut roots = vec![
            root(ws.join("skills"), "openclaw-workspace", Scope::Project, ws),
            root(
                ws.join(".agents/skills"),
                "agents-skills-project",
                Scope::Project,
                ws,
            ),
            root(ws.join(".pi/skills"), "pi-project", Scope::Project, ws),
        ];
        let home = places
            .home
            .filter(|h| places.state_dir == h.join(".openclaw"));
        if let Some(h) = home {
            roots.push(root(
                h.join(".agents/skills"),
                "agents-skills-personal",
                Scope::User,
                h,
            ));
        }
        roots.push(root(
            places.state_dir.join("skills"),
            "openclaw-managed",
            Scope::User,
            places.state_dir,
        ));
        if let Some(h) = home {
            let agent_dir = h.join(".pi/agent");
            roots.push(root(
                agent_dir.join("skills"),
                "pi-user",
                Scope::User,
                &agent_dir,
            ));
        }
        let (skills_config, _) = skills_config(places.config);
        for extra in &skills_config.load.extra_dirs {
            let dir = crate::config::expand_home(Path::new(extra));
            let dir = if dir.is_absolute() { dir } else { ws.join(dir) };
            roots.push(root(dir.clone(), "openclaw-extra", Scope::User, &dir));
        }
        roots
    }

    fn build(
        roots: Vec<SkillRoot>,
        template_dirs: &[TemplateDir],
        config: &Value,
        agent_filter: Option<Vec<String>>,
    ) -> Self {
        let (skills_config, config_problem) = skills_config(config);
        let defaults = Limits::default();
        let limits = Limits {
            max_file_bytes: skills_config
                .limits
                .max_skill_file_bytes
                .unwrap_or(defaults.max_file_bytes),
            max_skills_per_root: skills_config
                .limits
                .max_skills_loaded_per_source
                .unwrap_or(defaults.max_skills_per_root),
            ..defaults
        };
        let Discovered {
            skills,
            mut problems,
            mut shadowed,
        } = discover::discover(&roots, &limits);
        problems.extend(config_problem);
        let checker = Checker::new(config, &skills_config);
        let skills = skills
            .into_iter()
            .map(|skill| {
                let eligibility = checker.check(&skill);
                let blocked = agent_filter
                    .as_ref()
                    .is_some_and(|allowed| !allowed.contains(&skill.name));
                CatalogSkill {
                    skill,
                    eligibility,
                    blocked_by_agent_filter: blocked,
                }
            })
            .collect();
        let (templates, template_problems, template_shadowed) = templates::load(template_dirs);
        problems.extend(template_problems);
        shadowed.extend(template_shadowed);
        SkillCatalog {
            skills,
            problems,
            shadowed,
            templates,
            roots,
        }
    }

    /// The skills the session can use, in precedence order.
    pub fn usable(&self) -> Vec<&Skill> {
        self.skills
            .iter()
            .filter(|s| s.usable())
            .map(|s| &s.skill)
            .collect()
    }

    /// The block the system prompt ends its instructions with (empty: no skill to list).
    pub fn prompt_block(&self) -> String {
        prompt::format_for_prompt(&self.usable())
    }

    /// pi's `get_commands` entries: prompt templates, then the usable skills as `skill:<name>`.
    pub fn rpc_commands(&self) -> Vec<RpcCommand> {
        let templates = self.templates.iter().map(|t| RpcCommand {
            name: t.name.clone(),
            description: t.description.clone(),
            source: "prompt",
            source_info: SourceInfo {
                path: t.file_path.clone(),
                source: "auto",
                scope: t.scope,
                origin: "top-level",
                base_dir: t.root_base.clone(),
            },
        });
        let skills = self.usable().into_iter().map(|s| RpcCommand {
            name: format!("skill:{}", s.name),
            description: s.description.clone(),
            source: "skill",
            source_info: SourceInfo {
                path: s.file_path.clone(),
                source: "auto",
                scope: s.scope,
                origin: "top-level",
                base_dir: s.root_base.clone(),
            },
        });
        templates.chain(skills).collect()
    }

    /// A typed prompt as pi expands it: `/skill:name args`, then `/template args`; anything
    /// else (and an unknown name) is returned as it is.
    pub fn expand(&self, text: &str) -> String {
        let text = match prompt::expand_pi_command(text, &self.usable()) {
            Some(Ok(expanded)) => expanded,
            Some(Err(e)) => {
                tracing::warn!("skill expansion failed: {e}");
                text.to_string()
            }
            None => text.to_string(),
        };
        templates::expand(&text, &self.templates).unwrap_or(text)
    }

    /// OpenClaw's slash-command names for the usable, user-invocable skills, unique among
    /// themselves and against `reserved` (the built-in commands): `(command, skill)`.
    pub fn command_names(&self, reserved: &[&str]) -> Vec<(String, &Skill)> {
        let mut used: Vec<String> = reserved.iter().map(|r| r.to_lowercase()).collect();
        let mut out = Vec::new();
        for skill in self.usable().into_iter().filter(|s| s.user_invocable) {
            let base = prompt::command_name(&skill.name);
            let mut name = base.clone();
            let mut n = 2;
            while used.contains(&name) && n < 1000 {
                let suffix = format!("_{n}");
                let keep = 32usize.saturating_sub(suffix.len()).max(1);
                name = format!("{}{suffix}", base.chars().take(keep).collect::<String>());
                n += 1;
            }
            used.push(name.clone());
            out.push((name, skill));
        }
        out
    }
}

fn skills_config(config: &Value) -> (SkillsConfig, Option<Problem>) {
    match SkillsConfig::from_openclaw_json(config) {
        Ok(c) => (c, None),
        Err(message) => (
            SkillsConfig::default(),
            Some(Problem {
                path: PathBuf::from("openclaw.json"),
                message,
            }),
        ),
    }
}
