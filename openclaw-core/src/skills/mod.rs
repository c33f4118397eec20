//! Agent Skills and prompt templates, as pi 0.73.1 and OpenClaw 2026.9.6 have them (see
//! `docs/skills.md`).
//!
//! A skill is a folder with a `SKILL.md` (YAML front matter: `name`, `description`, optional
//! `disable-model-invocation`, `user-invocable` and OpenClaw's `metadata.openclaw`
//! requirements); a prompt template is a `.md` file typed as `/name args`. This module owns
//! reading them (`frontmatter`), finding them in precedence order (`discover`), deciding
//! whether a skill can be used here (`requirements`), the catalogue one session sees
//! (`catalog`), OpenClaw's status report (`status`), the env a run gets from `skills.entries` (`env`), and how they reach the model (`prompt`, `templates`). It reads files only;
//! nothing here writes.

pub mod catalog;
pub mod discover;
pub mod env;
pub mod frontmatter;
pub mod prompt;
pub mod requirements;
pub mod status;
pub mod templates;

pub use catalog::{CatalogSkill, OpenClawPlaces, RpcCommand, SkillCatalog, SourceInfo};
pub use discover::{Limits, Problem, Scope, Shadowed, Skill, SkillRoot};
pub use requirements::{Eligibility, RequirementSet, SkillsConfig};
pub use status::{SkillStatus, StatusReport};
pub use templates::PromptTemplate;
