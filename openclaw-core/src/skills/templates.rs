//! pi's prompt templates: `.md` files in `<cwd>/.pi/prompts/` and `<agentDir>/prompts/` (not
//! recursive; project first, the first of a name wins), typed as `/name args`. The
//! description is the front matter's, else the body's first non-empty line cut to 60
//! characters. Arguments are split like a shell does with quotes only, and substituted as pi
//! does: `$1`…, then `${@:N}` / `${@:N:L}`, then `$ARGUMENTS` and `$@`; substituted values are
//! never substituted again.

use std::path::{Path, PathBuf};

use regex::Regex;

use super::discover::{Problem, Scope, Shadowed, read_bounded};
use super::frontmatter::{self, TemplateFrontmatter};

/// A template file larger than this is refused.
pub const MAX_TEMPLATE_BYTES: u64 = 256_000;
/// Templates loaded from one folder at most.
pub const MAX_TEMPLATES_PER_DIR: usize = 500;

/// One prompt template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromptTemplate {
    /// The file name without `.md`: typed as `/name`.
    pub name: String,
    pub description: String,
    pub argument_hint: Option<String>,
    /// The body after the front matter (trimmed).
    pub content: String,
    pub file_path: PathBuf,
    pub scope: Scope,
    /// pi's `sourceInfo.baseDir` (`<cwd>/.pi` or the agent dir).
    pub root_base: PathBuf,
}

/// A folder of templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDir {
    pub dir: PathBuf,
    pub scope: Scope,
    pub base_dir: PathBuf,
}

/// Loads the templates of `dirs` (earlier folders win a name).
pub fn load(dirs: &[TemplateDir]) -> (Vec<PromptTemplate>, Vec<Problem>, Vec<Shadowed>) {
    let mut templates: Vec<PromptTemplate> = Vec::new();
    let mut problems = Vec::new();
    let mut shadowed = Vec::new();
    for dir in dirs {
        let entries = match std::fs::read_dir(&dir.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                problems.push(Problem {
                    path: dir.dir.clone(),
                    message: format!("cannot read the directory: {e}"),
                });
                continue;
            }
        };
        let mut names: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .take(MAX_TEMPLATES_PER_DIR * 4)
            .collect();
        names.sort();
        let mut loaded = 0;
        for name in names {
            let text = name.to_string_lossy().into_owned();
            if text.starts_with('.') || !text.ends_with(".md") {
                continue;
            }
            let path = dir.dir.join(&name);
            if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            if loaded >= MAX_TEMPLATES_PER_DIR {
                problems.push(Problem {
                    path: dir.dir.clone(),
                    message: format!(
                        "more than {MAX_TEMPLATES_PER_DIR} templates: the rest were not loaded"
                    ),
                });
                break;
            }
            loaded += 1;
            match load_one(&path, &text, dir) {
                Ok(t) => match templates.iter().find(|w| w.name == t.name) {
                    Some(winner) => shadowed.push(Shadowed {
                        name: t.name.clone(),
                        winner_path: winner.file_path.clone(),
                        loser_path: t.file_path.clone(),
                    }),
                    None => templates.push(t),
                },
                Err(message) => problems.push(Problem { path, message }),
            }
        }
    }
    (templates, problems, shadowed)
}

fn load_one(path: &Path, file_name: &str, dir: &TemplateDir) -> Result<PromptTemplate, String> {
    let content = read_bounded(path, MAX_TEMPLATE_BYTES)?;
    let split = frontmatter::split(&content);
    let fm: TemplateFrontmatter = match &split.yaml {
        Some(yaml) => frontmatter::parse(yaml)?,
        None => TemplateFrontmatter::default(),
    };
    let description = match fm.description.filter(|d| !d.is_empty()) {
        Some(d) => d,
        None => split
            .body
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|line| {
                let mut short: String = line.chars().take(60).collect();
                if line.chars().count() > 60 {
                    short.push_str("...");
                }
                short
            })
            .unwrap_or_default(),
    };
    Ok(PromptTemplate {
        name: file_name.trim_end_matches(".md").to_string(),
        description,
        argument_hint: fm.argument_hint,
        content: split.body,
        file_path: path.to_path_buf(),
        scope: dir.scope,
        root_base: dir.base_dir.clone(),
    })
}

/// Splits command arguments at spaces and tabs, keeping quoted runs (`"…"`, `'…'`) together.
pub fn parse_args(text: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => current.push(c),
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == ' ' || c == '\t' => {
                if !current.is_empty() {
                    args.push(std::mem::take(&mut current));
                }
            }
            None => current.push(c),
        }
    }
    if !current.is_empty() {
        args.push(current);
    }
    args
}

/// Substitutes `$1`…, `${@:N[:L]}`, `$ARGUMENTS` and `$@` in `content`, each in one pass over
/// the text as it was before that pass, as pi does.
pub fn substitute(content: &str, args: &[String]) -> String {
    static POSITIONAL: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    static SLICE: std::sync::OnceLock<Option<Regex>> = std::sync::OnceLock::new();
    let mut out = content.to_string();
    if let Some(re) = POSITIONAL.get_or_init(|| Regex::new(r"\$(\d+)").ok()) {
        out = re
            .replace_all(&out, |c: &regex::Captures| {
                c[1].parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| args.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .into_owned();
    }
    if let Some(re) = SLICE.get_or_init(|| Regex::new(r"\$\{@:(\d+)(?::(\d+))?\}").ok()) {
        out = re
            .replace_all(&out, |c: &regex::Captures| {
                let start = c[1].parse::<usize>().unwrap_or(1).saturating_sub(1);
                let rest = args.get(start..).unwrap_or_default();
                match c.get(2).and_then(|l| l.as_str().parse::<usize>().ok()) {
                    Some(len) => rest.iter().take(len).cloned().collect::<Vec<_>>().join(" "),
                    None => rest.join(" "),
                }
            })
            .into_owned();
    }
    let all = args.join(" ");
    out.replace("$ARGUMENTS", &all).replace("$@", &all)
}

/// `/name args` when `name` is one of `templates`: the expanded text.
pub fn expand(text: &str, templates: &[PromptTemplate]) -> Option<String> {
    let rest = text.strip_prefix('/')?;
    let (name, args) = match rest.find(' ') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let template = templates.iter().find(|t| t.name == name)?;
    Some(substitute(&template.content, &parse_args(args)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_as_pi_substitutes_them() {
        let args = parse_args("a.txt \"two words\" 'x y' z");
        assert_eq!(args, ["a.txt", "two words", "x y", "z"]);
        assert_eq!(
            substitute("$1|${@:2}|${@:2:1}|$@|$ARGUMENTS|[$9]", &args),
            "a.txt|two words x y z|two words|a.txt two words x y z|a.txt two words x y z|[]"
        );
        // A value holding `$1` is not substituted again.
        assert_eq!(substitute("$1 $2", &["$2".into(), "b".into()]), "$2 b");
    }
}
