//! The YAML front matter of `SKILL.md` files and prompt templates: where it starts and ends
//! (pi's rule: the file starts with `---`, the block ends at the next line starting with
//! `---`), and its fields as typed structs. YAML is parsed by `serde_norway` (serde_yaml's
//! maintained fork), whose recursion and alias-expansion limits make a hostile file (alias
//! bombs, deep nesting) an error instead of a memory hog.

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A file split into its front matter (the YAML text, `None` when there is none) and its body
/// (trimmed, line endings normalised to `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub yaml: Option<String>,
    pub body: String,
}

/// Splits `content` as pi does: a file that does not start with `---`, or whose block is never
/// closed, has no front matter and is all body.
pub fn split(content: &str) -> Split {
    let normalized = content.replace("\r\n", "\n").replace('\r', "\n");
    if !normalized.starts_with("---") {
        return Split {
            yaml: None,
            body: normalized,
        };
    }
    match normalized[3..].find("\n---") {
        Some(rel) => {
            let end = rel + 3;
            let yaml = normalized.get(4..end).unwrap_or_default().to_string();
            let body = normalized
                .get(end + 4..)
                .unwrap_or_default()
                .trim()
                .to_string();
            Split {
                yaml: Some(yaml),
                body,
            }
        }
        None => Split {
            yaml: None,
            body: normalized,
        },
    }
}

/// A front-matter block larger than this is refused. Real ones are a few hundred bytes; the
/// bound also caps what YAML aliases can make of it (every alias to a long string copies it).
pub const MAX_FRONTMATTER_BYTES: usize = 16 * 1024;

/// Parses a front-matter block into `T`. An empty block is `T::default()`. Besides the size
/// bound, the parser's own limits (recursion depth, alias repetition) turn a hostile block into
/// an error.
pub fn parse<T: DeserializeOwned + Default>(yaml: &str) -> Result<T, String> {
    if yaml.trim().is_empty() {
        return Ok(T::default());
    }
    if yaml.len() > MAX_FRONTMATTER_BYTES {
        return Err(format!(
            "front matter is {} bytes, more than the {MAX_FRONTMATTER_BYTES} allowed",
            yaml.len()
        ));
    }
    let parsed: Option<T> = serde_norway::from_str(yaml)
        .map_err(|e| format!("invalid front matter: {}", first_line(&e.to_string())))?;
    Ok(parsed.unwrap_or_default())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The fields of a `SKILL.md` front matter that pi and OpenClaw act on. Unknown fields are
/// ignored, as both do.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SkillFrontmatter {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(rename = "disable-model-invocation")]
    pub disable_model_invocation: Option<bool>,
    #[serde(rename = "user-invocable")]
    pub user_invocable: Option<bool>,
    pub homepage: Option<String>,
    pub metadata: Option<MetadataField>,
}

/// `metadata`: a YAML mapping, or (OpenClaw's older single-line form) a JSON5 string.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum MetadataField {
    Map(Box<Metadata>),
    Text(String),
}

/// The parts of `metadata` OpenClaw reads: `openclaw`, else the legacy `clawdbot`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metadata {
    pub openclaw: Option<OpenClawMetadata>,
    pub clawdbot: Option<OpenClawMetadata>,
}

impl MetadataField {
    /// The OpenClaw block, parsing the JSON5 text form when that is what the file has.
    pub fn openclaw(&self) -> Result<Option<OpenClawMetadata>, String> {
        let metadata = match self {
            MetadataField::Map(m) => (**m).clone(),
            MetadataField::Text(text) => {
                json5::from_str::<Metadata>(text).map_err(|e| format!("invalid metadata: {e}"))?
            }
        };
        Ok(metadata.openclaw.or(metadata.clawdbot))
    }
}

/// `metadata.openclaw`: requirements and presentation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenClawMetadata {
    #[serde(default)]
    pub always: bool,
    pub emoji: Option<String>,
    pub homepage: Option<String>,
    #[serde(default)]
    pub os: Vec<String>,
    #[serde(default)]
    pub requires: Requires,
    pub primary_env: Option<String>,
    pub skill_key: Option<String>,
}

/// `metadata.openclaw.requires`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Requires {
    #[serde(default)]
    pub bins: Vec<String>,
    #[serde(default)]
    pub any_bins: Vec<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub config: Vec<String>,
}

/// The fields of a prompt template's front matter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TemplateFrontmatter {
    pub description: Option<String>,
    #[serde(rename = "argument-hint")]
    pub argument_hint: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_follows_pi() {
        let s = split("---\nname: a\n---\n\n# Body\r\n");
        assert_eq!(s.yaml.as_deref(), Some("name: a"));
        assert_eq!(s.body, "# Body");
        let none = split("# just text\n");
        assert_eq!(none.yaml, None);
        assert_eq!(none.body, "# just text\n");
        let open = split("---\nname: a\nno end");
        assert_eq!(open.yaml, None);
    }

    #[test]
    fn metadata_in_both_forms() {
        let yaml = "name: x\ndescription: d\nmetadata:\n  openclaw:\n    requires:\n      bins: [gh]\n    os: [linux]\n";
        let fm: SkillFrontmatter = parse(yaml).unwrap();
        let oc = fm.metadata.unwrap().openclaw().unwrap().unwrap();
        assert_eq!(oc.requires.bins, ["gh"]);
        assert_eq!(oc.os, ["linux"]);
        let text = "metadata: '{\"openclaw\": {\"requires\": {\"env\": [\"TOKEN\"]}, primaryEnv: \"TOKEN\"}}'\n";
        let fm: SkillFrontmatter = parse(text).unwrap();
        let oc = fm.metadata.unwrap().openclaw().unwrap().unwrap();
        assert_eq!(oc.requires.env, ["TOKEN"]);
        assert_eq!(oc.primary_env.as_deref(), Some("TOKEN"));
    }

    #[test]
    fn broken_or_hostile_yaml_is_an_error_not_a_panic() {
        assert!(parse::<SkillFrontmatter>("description: [unclosed").is_err());
        let deep = format!("name: {}x{}", "[".repeat(500), "]".repeat(500));
        assert!(parse::<SkillFrontmatter>(&deep).is_err());
        let long = format!(
            "name: x\ndescription: {}",
            "y".repeat(MAX_FRONTMATTER_BYTES)
        );
        let err = parse::<SkillFrontmatter>(&long).unwrap_err();
        assert!(err.contains("more than the 16384 allowed"), "{err}");
        // An alias where a string is expected is a type error, not an expansion.
        let alias = "a: &a [x, x]\nname: *a\ndescription: d\n";
        assert!(parse::<SkillFrontmatter>(alias).is_err());
    }
}
