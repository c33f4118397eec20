//! A fast path for reading the entries pi writes, in pi's key order.
//!
//! serde's internally tagged enums buffer a whole object before choosing a variant. pi always
//! writes an entry's `type` first, so the tag can be read off the line's prefix and the line
//! deserialised straight into the right struct (serde ignores the tag key there); the nested
//! message and content-block tags are read first by their own deserialisers (`message/de.rs`).
//! Anything that does not fit the prefix pattern or fails to parse goes through the general
//! path.

use serde::Deserialize;

use super::entry::SessionEntry;

/// The string value right after `prefix` at the start of `s` (no escapes expected).
fn tag_after<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = s.strip_prefix(prefix)?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

fn plain<E, F>(line: &str, wrap: F) -> Option<SessionEntry>
where
    E: for<'de> Deserialize<'de>,
    F: FnOnce(E) -> SessionEntry,
{
    serde_json::from_str::<E>(line).ok().map(wrap)
}

/// Parse a line written in pi's key order; `None` sends it to the general path.
pub(super) fn parse(line: &str) -> Option<SessionEntry> {
    let ty = tag_after(line, "{\"type\":\"")?;
    match ty {
        // The message's own deserialiser reads its `role` tag first (message/de.rs).
        "message" => plain(line, SessionEntry::Message),
        "model_change" => plain(line, SessionEntry::ModelChange),
        "thinking_level_change" => plain(line, SessionEntry::ThinkingLevelChange),
        "compaction" => plain(line, SessionEntry::Compaction),
        "branch_summary" => plain(line, SessionEntry::BranchSummary),
        "custom" => plain(line, SessionEntry::Custom),
        "custom_message" => plain(line, SessionEntry::CustomMessage),
        "label" => plain(line, SessionEntry::Label),
        "session_info" => plain(line, SessionEntry::SessionInfo),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path and serde's tagged enums read pi's lines identically.
    #[test]
    fn fast_path_agrees_with_the_general_path() {
        let text = include_str!("../../tests/fixtures/pi_0.73.1_session.jsonl");
        let mut n = 0;
        for line in text.lines().skip(1) {
            let fast = parse(line).expect("pi's key order takes the fast path");
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(Some(fast), SessionEntry::from_value(v).ok(), "{line}");
            n += 1;
        }
        assert_eq!(n, 12);
        // Other key orders fall back.
        assert!(
            parse(r#"{"id":"1","type":"label","parentId":null,"timestamp":"t","targetId":"x"}"#)
                .is_none()
        );
        assert!(parse(r#"{"type":"message","id":"1","parentId":null,"timestamp":"t","message":{"role":"nope"}}"#).is_none());
    }
}
