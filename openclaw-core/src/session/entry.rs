//! The lines of a pi session file: the header and the typed tree entries.
//!
//! Every type here serialises with pi 0.73.1's exact key order and omission rules, so that a file
//! read and written again is byte-for-byte unchanged. Entry types this crate does not know (or a
//! known type whose fields do not fit) are kept as raw JSON ([`SessionEntry::Other`]) and written
//! back untouched. Timestamps stay the ISO strings pi wrote; new ones come from [`iso_now`].

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message::{Message, UserContent};

/// The session format version this crate writes.
pub const CURRENT_VERSION: u32 = 3;

/// Line 1 of a session file:
/// `{"type":"session","version":3,"id","timestamp","cwd","parentSession"?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "session", rename_all = "camelCase")]
pub struct SessionHeader {
    /// Format version; files without one are version 1.
    #[serde(default = "version_one")]
    pub version: u32,
    /// The session id (a UUID).
    pub id: String,
    /// Creation time, ISO 8601 with milliseconds.
    pub timestamp: String,
    /// The working directory the session belongs to.
    pub cwd: String,
    /// The file this session was forked or cloned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_session: Option<String>,
}

fn version_one() -> u32 {
    1
}

impl SessionHeader {
    /// A fresh v3 header stamped now.
    pub fn new(
        id: impl Into<String>,
        cwd: impl Into<String>,
        parent_session: Option<String>,
    ) -> Self {
        SessionHeader {
            version: CURRENT_VERSION,
            id: id.into(),
            timestamp: iso_now(),
            cwd: cwd.into(),
            parent_session,
        }
    }
}

/// `{type:"message", id, parentId, timestamp, message}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    /// Shared with the agent's context and the events that carried it.
    pub message: Arc<Message>,
}

/// `{type:"model_change", id, parentId, timestamp, provider, modelId}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelChangeEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub provider: String,
    pub model_id: String,
}

/// `{type:"thinking_level_change", id, parentId, timestamp, thinkingLevel}` (the level is kept
/// as written, so an unknown level still round-trips).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThinkingLevelChangeEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub thinking_level: String,
}

/// `{type:"compaction", id, parentId, timestamp, summary, firstKeptEntryId, tokensBefore,
/// details?, fromHook?}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompactionEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub summary: String,
    pub first_kept_entry_id: String,
    pub tokens_before: u64,
    /// Usually `{readFiles:[], modifiedFiles:[]}`; extensions may store anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_hook: Option<bool>,
}

/// `{type:"branch_summary", id, parentId, timestamp, fromId, summary, details?, fromHook?}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BranchSummaryEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    /// The entry the abandoned branch left from, or `"root"`.
    pub from_id: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_hook: Option<bool>,
}

/// `{type:"custom", customType, data?, id, parentId, timestamp}`: extension state, never part of
/// the model's context. pi writes the custom keys before `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomEntry {
    pub custom_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
}

/// `{type:"custom_message", id, parentId, timestamp, customType, content, display, details?}`:
/// an extension message that reaches the model as user content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMessageEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub custom_type: String,
    pub content: UserContent,
    pub display: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// `{type:"label", id, parentId, timestamp, targetId, label?}`; no label clears it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    pub target_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// `{type:"session_info", id, parentId, timestamp, name?}`: the session's display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfoEntry {
    pub id: String,
    pub parent_id: Option<String>,
    pub timestamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The entry types this crate understands, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownEntry {
    Message(MessageEntry),
    ModelChange(ModelChangeEntry),
    ThinkingLevelChange(ThinkingLevelChangeEntry),
    Compaction(CompactionEntry),
    BranchSummary(BranchSummaryEntry),
    Custom(CustomEntry),
    CustomMessage(CustomMessageEntry),
    Label(LabelEntry),
    SessionInfo(SessionInfoEntry),
}

/// Every known `type` value.
const KNOWN_TYPES: [&str; 9] = [
    "message",
    "model_change",
    "thinking_level_change",
    "compaction",
    "branch_summary",
    "custom",
    "custom_message",
    "label",
    "session_info",
];

/// One tree entry (every line after the header).
///
/// Message entries, by far the most numerous, are stored inline; the other kinds are boxed so
/// that they do not widen every entry of a long transcript.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEntry {
    Message(MessageEntry),
    ModelChange(Box<ModelChangeEntry>),
    ThinkingLevelChange(Box<ThinkingLevelChangeEntry>),
    Compaction(Box<CompactionEntry>),
    BranchSummary(Box<BranchSummaryEntry>),
    Custom(Box<CustomEntry>),
    CustomMessage(Box<CustomMessageEntry>),
    Label(Box<LabelEntry>),
    SessionInfo(Box<SessionInfoEntry>),
    /// An entry of a type this crate does not know, or one whose fields it cannot read: kept
    /// as the JSON object it was and written back unchanged. It still takes part in the tree
    /// through its `id`/`parentId`.
    Other(Value),
}

/// Why a line is not a session entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryParseError {
    #[error("not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a session entry (a JSON object with a string `type` is required)")]
    NotAnEntry,
}

impl From<KnownEntry> for SessionEntry {
    fn from(k: KnownEntry) -> Self {
        match k {
            KnownEntry::Message(e) => SessionEntry::Message(e),
            KnownEntry::ModelChange(e) => SessionEntry::ModelChange(Box::new(e)),
            KnownEntry::ThinkingLevelChange(e) => SessionEntry::ThinkingLevelChange(Box::new(e)),
            KnownEntry::Compaction(e) => SessionEntry::Compaction(Box::new(e)),
            KnownEntry::BranchSummary(e) => SessionEntry::BranchSummary(Box::new(e)),
            KnownEntry::Custom(e) => SessionEntry::Custom(Box::new(e)),
            KnownEntry::CustomMessage(e) => SessionEntry::CustomMessage(Box::new(e)),
            KnownEntry::Label(e) => SessionEntry::Label(Box::new(e)),
            KnownEntry::SessionInfo(e) => SessionEntry::SessionInfo(Box::new(e)),
        }
    }
}

impl SessionEntry {
    /// Parse one line. Known types become typed entries; any other JSON object with a string
    /// `type` (and a known type whose fields do not fit) is kept raw.
    pub fn parse(line: &str) -> Result<SessionEntry, EntryParseError> {
        if let Some(e) = super::fast_parse::parse(line) {
            return Ok(e);
        }
        match serde_json::from_str::<KnownEntry>(line) {
            Ok(k) => Ok(k.into()),
            Err(_) => {
                let v: Value = serde_json::from_str(line)?;
                SessionEntry::from_value(v)
            }
        }
    }

    /// Convert a parsed JSON value (see [`SessionEntry::parse`]).
    pub fn from_value(v: Value) -> Result<SessionEntry, EntryParseError> {
        let ty = v.get("type").and_then(Value::as_str);
        match ty {
            None => Err(EntryParseError::NotAnEntry),
            Some("session") => Err(EntryParseError::NotAnEntry),
            Some(t) if KNOWN_TYPES.contains(&t) => {
                match serde_json::from_value::<KnownEntry>(v.clone()) {
                    Ok(k) => Ok(k.into()),
                    Err(_) => Ok(SessionEntry::Other(v)),
                }
            }
            Some(_) => Ok(SessionEntry::Other(v)),
        }
    }

    /// The JSON line (without newline) pi would write for this entry.
    pub fn to_line(&self) -> String {
        let r = match self {
            SessionEntry::Other(v) => serde_json::to_string(v),
            SessionEntry::Message(e) => serde_json::to_string(&KnownRef::Message(e)),
            SessionEntry::ModelChange(e) => serde_json::to_string(&KnownRef::ModelChange(e)),
            SessionEntry::ThinkingLevelChange(e) => {
                serde_json::to_string(&KnownRef::ThinkingLevelChange(e))
            }
            SessionEntry::Compaction(e) => serde_json::to_string(&KnownRef::Compaction(e)),
            SessionEntry::BranchSummary(e) => serde_json::to_string(&KnownRef::BranchSummary(e)),
            SessionEntry::Custom(e) => serde_json::to_string(&KnownRef::Custom(e)),
            SessionEntry::CustomMessage(e) => serde_json::to_string(&KnownRef::CustomMessage(e)),
            SessionEntry::Label(e) => serde_json::to_string(&KnownRef::Label(e)),
            SessionEntry::SessionInfo(e) => serde_json::to_string(&KnownRef::SessionInfo(e)),
        };
        // Serialising these types cannot fail (string keys, no non-finite floats reach here:
        // `num` writes them as null).
        r.unwrap_or_default()
    }

    /// The entry's `type` value.
    pub fn type_name(&self) -> &str {
        match self {
            SessionEntry::Message(_) => "message",
            SessionEntry::ModelChange(_) => "model_change",
            SessionEntry::ThinkingLevelChange(_) => "thinking_level_change",
            SessionEntry::Compaction(_) => "compaction",
            SessionEntry::BranchSummary(_) => "branch_summary",
            SessionEntry::Custom(_) => "custom",
            SessionEntry::CustomMessage(_) => "custom_message",
            SessionEntry::Label(_) => "label",
            SessionEntry::SessionInfo(_) => "session_info",
            SessionEntry::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The entry id (`""` for a raw entry without one).
    pub fn id(&self) -> &str {
        match self {
            SessionEntry::Message(e) => &e.id,
            SessionEntry::ModelChange(e) => &e.id,
            SessionEntry::ThinkingLevelChange(e) => &e.id,
            SessionEntry::Compaction(e) => &e.id,
            SessionEntry::BranchSummary(e) => &e.id,
            SessionEntry::Custom(e) => &e.id,
            SessionEntry::CustomMessage(e) => &e.id,
            SessionEntry::Label(e) => &e.id,
            SessionEntry::SessionInfo(e) => &e.id,
            SessionEntry::Other(v) => v.get("id").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// The parent entry id (`None` for a root).
    pub fn parent_id(&self) -> Option<&str> {
        match self {
            SessionEntry::Message(e) => e.parent_id.as_deref(),
            SessionEntry::ModelChange(e) => e.parent_id.as_deref(),
            SessionEntry::ThinkingLevelChange(e) => e.parent_id.as_deref(),
            SessionEntry::Compaction(e) => e.parent_id.as_deref(),
            SessionEntry::BranchSummary(e) => e.parent_id.as_deref(),
            SessionEntry::Custom(e) => e.parent_id.as_deref(),
            SessionEntry::CustomMessage(e) => e.parent_id.as_deref(),
            SessionEntry::Label(e) => e.parent_id.as_deref(),
            SessionEntry::SessionInfo(e) => e.parent_id.as_deref(),
            SessionEntry::Other(v) => v.get("parentId").and_then(Value::as_str),
        }
    }

    /// The entry's ISO timestamp (`""` for a raw entry without one).
    pub fn timestamp(&self) -> &str {
        match self {
            SessionEntry::Message(e) => &e.timestamp,
            SessionEntry::ModelChange(e) => &e.timestamp,
            SessionEntry::ThinkingLevelChange(e) => &e.timestamp,
            SessionEntry::Compaction(e) => &e.timestamp,
            SessionEntry::BranchSummary(e) => &e.timestamp,
            SessionEntry::Custom(e) => &e.timestamp,
            SessionEntry::CustomMessage(e) => &e.timestamp,
            SessionEntry::Label(e) => &e.timestamp,
            SessionEntry::SessionInfo(e) => &e.timestamp,
            SessionEntry::Other(v) => v.get("timestamp").and_then(Value::as_str).unwrap_or(""),
        }
    }

    /// Set id, parent and timestamp (used when appending).
    pub(crate) fn set_base(&mut self, id: String, parent_id: Option<String>, timestamp: String) {
        macro_rules! set {
            ($e:expr) => {{
                $e.id = id;
                $e.parent_id = parent_id;
                $e.timestamp = timestamp;
            }};
        }
        match self {
            SessionEntry::Message(e) => set!(e),
            SessionEntry::ModelChange(e) => set!(e),
            SessionEntry::ThinkingLevelChange(e) => set!(e),
            SessionEntry::Compaction(e) => set!(e),
            SessionEntry::BranchSummary(e) => set!(e),
            SessionEntry::Custom(e) => set!(e),
            SessionEntry::CustomMessage(e) => set!(e),
            SessionEntry::Label(e) => set!(e),
            SessionEntry::SessionInfo(e) => set!(e),
            SessionEntry::Other(v) => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("id".into(), Value::String(id));
                    o.insert(
                        "parentId".into(),
                        parent_id.map_or(Value::Null, Value::String),
                    );
                    o.insert("timestamp".into(), Value::String(timestamp));
                }
            }
        }
    }

    /// The message of a `message` entry.
    pub fn message(&self) -> Option<&Message> {
        match self {
            SessionEntry::Message(e) => Some(&e.message),
            _ => None,
        }
    }

    /// Whether this is a `message` entry holding an assistant message.
    pub fn is_assistant_message(&self) -> bool {
        matches!(self, SessionEntry::Message(e) if matches!(*e.message, Message::Assistant(_)))
    }
}

impl Serialize for SessionEntry {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SessionEntry::Other(v) => v.serialize(s),
            SessionEntry::Message(e) => KnownRef::Message(e).serialize(s),
            SessionEntry::ModelChange(e) => KnownRef::ModelChange(e).serialize(s),
            SessionEntry::ThinkingLevelChange(e) => KnownRef::ThinkingLevelChange(e).serialize(s),
            SessionEntry::Compaction(e) => KnownRef::Compaction(e).serialize(s),
            SessionEntry::BranchSummary(e) => KnownRef::BranchSummary(e).serialize(s),
            SessionEntry::Custom(e) => KnownRef::Custom(e).serialize(s),
            SessionEntry::CustomMessage(e) => KnownRef::CustomMessage(e).serialize(s),
            SessionEntry::Label(e) => KnownRef::Label(e).serialize(s),
            SessionEntry::SessionInfo(e) => KnownRef::SessionInfo(e).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for SessionEntry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        SessionEntry::from_value(v).map_err(serde::de::Error::custom)
    }
}

/// Borrowing twin of [`KnownEntry`] for serialisation without cloning.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum KnownRef<'a> {
    Message(&'a MessageEntry),
    ModelChange(&'a ModelChangeEntry),
    ThinkingLevelChange(&'a ThinkingLevelChangeEntry),
    Compaction(&'a CompactionEntry),
    BranchSummary(&'a BranchSummaryEntry),
    Custom(&'a CustomEntry),
    CustomMessage(&'a CustomMessageEntry),
    Label(&'a LabelEntry),
    SessionInfo(&'a SessionInfoEntry),
}

/// The current UTC time as pi writes it: `2026-11-22T00:23:13.661Z`.
pub fn iso_now() -> String {
    iso_from_ms(crate::message::now_ms())
}

/// A millisecond Unix time as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn iso_from_ms(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        ),
        Err(_) => "1970-01-01T00:00:00.000Z".to_string(),
    }
}

/// Milliseconds since the epoch of an ISO timestamp as written by pi (`None` if unreadable).
pub fn ms_from_iso(iso: &str) -> Option<i64> {
    let t =
        time::OffsetDateTime::parse(iso, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A new entry id: the first 8 hex digits of a random UUID, drawn again while `is_taken`.
pub fn new_entry_id(is_taken: impl Fn(&str) -> bool) -> String {
    loop {
        let u = uuid::Uuid::new_v4().simple().to_string();
        let id = u[..8].to_string();
        if !is_taken(&id) {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_entry_writes_custom_keys_before_id() {
        let line = r#"{"type":"custom","customType":"ext","data":{"a":1},"id":"0a1b2c3d","parentId":null,"timestamp":"2026-11-22T00:00:00.000Z"}"#;
        let e = SessionEntry::parse(line).unwrap();
        assert!(matches!(e, SessionEntry::Custom(_)));
        assert_eq!(e.to_line(), line);
    }

    #[test]
    fn unknown_types_and_misfit_known_types_are_kept_raw() {
        for line in [
            r#"{"type":"future_thing","id":"12345678","parentId":"87654321","timestamp":"x","z":[1,2]}"#,
            r#"{"type":"label","id":"12345678","parentId":null,"timestamp":"x"}"#,
        ] {
            let e = SessionEntry::parse(line).unwrap();
            assert!(matches!(e, SessionEntry::Other(_)), "{line}");
            assert_eq!(e.to_line(), line);
            assert_eq!(e.id(), "12345678");
        }
        assert!(SessionEntry::parse("[1]").is_err());
        assert!(SessionEntry::parse("{\"type\":\"mess").is_err());
    }

    #[test]
    fn header_round_trips_and_iso_format_matches_pi() {
        let line = r#"{"type":"session","version":3,"id":"01a200a9-57a3-7344-ab73-3ffb3e4a16d5","timestamp":"2026-11-22T00:30:27.748Z","cwd":"/tmp/p","parentSession":"/tmp/a.jsonl"}"#;
        let h: SessionHeader = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&h).unwrap(), line);
        assert_eq!(iso_from_ms(1795307427748), "2026-11-22T00:30:27.748Z");
        assert_eq!(ms_from_iso("2026-11-22T00:30:27.748Z"), Some(1795307427748));
        let id = new_entry_id(|_| false);
        assert_eq!(id.len(), 8);
        assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
