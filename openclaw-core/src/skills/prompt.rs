//! How skills reach the model: the `<available_skills>` block of the system prompt (name,
//! description, location; skills with `disable-model-invocation` left out), bounded as OpenClaw
//! bounds it (150 skills, 18,000 characters, descriptions dropped before skills are), and the
//! explicit forms: pi's `/skill:name args` (the file's body inlined in a `<skill>` block) and
//! OpenClaw's `/skill name args` / `/<command> args` (an instruction to read the file first).

use super::discover::Skill;

/// Skills in the prompt at most (OpenClaw's default).
pub const MAX_SKILLS_IN_PROMPT: usize = 150;
/// Characters of the skills block at most (OpenClaw's default).
pub const MAX_SKILLS_PROMPT_CHARS: usize = 18_000;

fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

fn render(skills: &[&Skill], with_descriptions: bool) -> String {
    let mut lines = vec![
        "\n\nThe following skills provide specialized instructions for specific tasks.".to_string(),
        "Use the read tool to load a skill's file when the task matches its description.".into(),
        "When a skill file references a relative path, resolve it against the skill directory (parent of SKILL.md / dirname of the path) and use that absolute path in tool commands.".into(),
        String::new(),
        "<available_skills>".into(),
    ];
    for skill in skills {
        lines.push("  <skill>".into());
        lines.push(format!("    <name>{}</name>", escape_xml(&skill.name)));
        if with_descriptions {
            lines.push(format!(
                "    <description>{}</description>",
                escape_xml(&skill.description)
            ));
        }
        lines.push(format!(
            "    <location>{}</location>",
            escape_xml(&skill.file_path.to_string_lossy())
        ));
        lines.push("  </skill>".into());
    }
    lines.push("</available_skills>".into());
    lines.join("\n")
}

/// The skills block appended to the system prompt (empty when no skill is model-visible):
/// pi's text exactly while it fits the bounds; past them, descriptions are dropped, then
/// skills, with a note saying so.
pub fn format_for_prompt(skills: &[&Skill]) -> String {
    let visible: Vec<&Skill> = skills
        .iter()
        .copied()
        .filter(|s| !s.disable_model_invocation)
        .collect();
    if visible.is_empty() {
        return String::new();
    }
    let total = visible.len();
    let admitted = &visible[..total.min(MAX_SKILLS_IN_PROMPT)];
    let full = render(admitted, true);
    if full.len() <= MAX_SKILLS_PROMPT_CHARS && admitted.len() == total {
        return full;
    }
    let mut count = admitted.len();
    let mut with_descriptions = full.len() <= MAX_SKILLS_PROMPT_CHARS;
    let mut block = if with_descriptions {
        full
    } else {
        render(admitted, false)
    };
    while block.len() > MAX_SKILLS_PROMPT_CHARS && count > 0 {
        with_descriptions = false;
        count -= 1;
        block = render(&admitted[..count], false);
    }
    let note = format!(
        "\n\nSkills truncated: included {count} of {total}{}. Run `openclaw skills check` to audit.",
        if with_descriptions {
            ""
        } else {
            " (descriptions omitted)"
        }
    );
    format!("{note}{block}")
}

/// pi's `/skill:name [args]`: the skill's body in a `<skill>` block, then the arguments.
/// `None` when `text` is not that form or names no skill in `skills`; `Err` when the file
/// cannot be read.
pub fn expand_pi_command(text: &str, skills: &[&Skill]) -> Option<Result<String, String>> {
    let rest = text.strip_prefix("/skill:")?;
    let (name, args) = match rest.find(' ') {
        Some(i) => (&rest[..i], rest[i + 1..].trim()),
        None => (rest, ""),
    };
    let skill = skills.iter().find(|s| s.name == name)?;
    let content = match super::discover::read_bounded(&skill.file_path, 256_000) {
        Ok(c) => c,
        Err(e) => return Some(Err(format!("{}: {e}", skill.file_path.display()))),
    };
    let body = super::frontmatter::split(&content).body.trim().to_string();
    let block = format!(
        "<skill name=\"{}\" location=\"{}\">\nReferences are relative to {}.\n\n{body}\n</skill>",
        skill.name,
        skill.file_path.display(),
        skill.base_dir.display()
    );
    Some(Ok(if args.is_empty() {
        block
    } else {
        format!("{block}\n\n{args}")
    }))
}

/// OpenClaw's command name for a skill: lowercase, runs of anything but `a-z0-9_` as one
/// `_`, trimmed of `_`, at most 32 characters (`skill` when nothing is left).
pub fn command_name(skill_name: &str) -> String {
    let mut out = String::new();
    for c in skill_name.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let mut collapsed = String::new();
    for c in out.chars() {
        if !(c == '_' && collapsed.ends_with('_')) {
            collapsed.push(c);
        }
    }
    let trimmed: String = collapsed.trim_matches('_').chars().take(32).collect();
    if trimmed.is_empty() {
        "skill".into()
    } else {
        trimmed
    }
}

/// OpenClaw's explicit skill invocation in a chat message (`/skill <name> [args]` or
/// `/<command> [args]`, `commands` pairing each command name with its skill): the message
/// with OpenClaw's instruction to read the skill first. `None` when it is not one.
pub fn expand_openclaw_command(text: &str, commands: &[(String, &Skill)]) -> Option<String> {
    let trimmed = text.trim();
    let rest = trimmed.strip_prefix('/')?;
    let (word, args) = match rest.split_once(char::is_whitespace) {
        Some((w, a)) => (w, a.trim()),
        None => (rest, ""),
    };
    let word = word.to_lowercase();
    let skill = if word == "skill" {
        let name = args.split_whitespace().next()?;
        let lower = name.to_lowercase();
        commands
            .iter()
            .find(|(c, s)| s.name == name || *c == lower || s.name.to_lowercase() == lower)?
            .1
    } else {
        commands.iter().find(|(c, _)| *c == word)?.1
    };
    let line = if skill.disable_model_invocation {
        format!("- {} (SKILL.md: {})", skill.name, skill.file_path.display())
    } else {
        format!("- {}", skill.name)
    };
    Some(format!(
        "Use the following explicitly referenced skills for this request. Read each skill's SKILL.md before acting:\n{line}\n\nUser request:\n{trimmed}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_as_openclaw_sanitizes_them() {
        assert_eq!(command_name("release-notes"), "release_notes");
        assert_eq!(command_name("Bad Name!!x"), "bad_name_x");
        assert_eq!(command_name("--"), "skill");
        assert_eq!(command_name(&"a".repeat(40)).len(), 32);
    }
}
