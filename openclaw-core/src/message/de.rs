//! Fast deserialisation of the tagged message types.
//!
//! serde's derived internally tagged enums buffer every object before choosing a variant, and
//! an untagged enum buffers to try each variant. pi always writes the tag first (`type` on
//! content blocks, `role` on messages), so these impls read the first key, and when it is the
//! tag, deserialise the rest of the object straight into the variant's struct. Objects whose
//! tag is not first take the derived (buffering) path, so any key order is still accepted.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{
    AssistantMessage, BashExecutionMessage, BranchSummaryMessage, CompactionSummaryMessage,
    ContentBlock, CustomMessage, ImageContent, Message, TextContent, ThinkingContent, ToolCall,
    ToolResultMessage, UserContent, UserMessage,
};

/// A map key or tag value, borrowed from the input when possible.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Collect the rest of a map whose first key was not the tag into a JSON object.
fn buffer_rest<'de, A: MapAccess<'de>>(first: Key<'de>, mut map: A) -> Result<Value, A::Error> {
    let mut obj = serde_json::Map::new();
    let v: Value = map.next_value()?;
    obj.insert(first.as_str().to_owned(), v);
    while let Some((k, v)) = map.next_entry::<String, Value>()? {
        obj.insert(k, v);
    }
    Ok(Value::Object(obj))
}

/// Implements `Deserialize` for a tagged enum whose variants wrap one struct each.
macro_rules! tag_first {
    ($ty:ident, $repr:ident, $tag:literal, $expecting:literal,
     { $($name:literal => $variant:ident($inner:ty)),+ $(,)? }) => {
        /// The derived, order-independent representation (used when the tag is not first).
        #[derive(serde::Deserialize)]
        #[serde(tag = $tag)]
        enum $repr {
            $(#[serde(rename = $name)] $variant($inner),)+
        }

        impl From<$repr> for $ty {
            fn from(r: $repr) -> Self {
                match r {
                    $($repr::$variant(v) => $ty::$variant(v),)+
                }
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $ty;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$ty, A::Error> {
                        let Some(first) = map.next_key::<Key<'de>>()? else {
                            return Err(de::Error::missing_field($tag));
                        };
                        if first.as_str() != $tag {
                            let value = buffer_rest(first, map)?;
                            return $repr::deserialize(value).map(Into::into).map_err(de::Error::custom);
                        }
                        let tag: Key<'de> = map.next_value()?;
                        let rest = de::value::MapAccessDeserializer::new(map);
                        match tag.as_str() {
                            $($name => <$inner>::deserialize(rest).map($ty::$variant),)+
                            other => Err(de::Error::unknown_variant(other, &[$($name),+])),
                        }
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

tag_first!(ContentBlock, ContentBlockRepr, "type", "a content block", {
    "text" => Text(TextContent),
    "thinking" => Thinking(ThinkingContent),
    "image" => Image(ImageContent),
    "toolCall" => ToolCall(Box<ToolCall>),
});

tag_first!(Message, MessageRepr, "role", "a message", {
    "user" => User(UserMessage),
    "assistant" => Assistant(AssistantMessage),
    "toolResult" => ToolResult(ToolResultMessage),
    "bashExecution" => BashExecution(BashExecutionMessage),
    "custom" => Custom(CustomMessage),
    "branchSummary" => BranchSummary(BranchSummaryMessage),
    "compactionSummary" => CompactionSummary(CompactionSummaryMessage),
});

impl<'de> Deserialize<'de> for UserContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserContent;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of content blocks")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UserContent, E> {
                Ok(UserContent::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<UserContent, E> {
                Ok(UserContent::Text(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UserContent, A::Error> {
                let mut blocks = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(64));
                while let Some(b) = seq.next_element::<ContentBlock>()? {
                    blocks.push(b);
                }
                Ok(UserContent::Blocks(blocks))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_key_order_is_accepted() {
        let a: ContentBlock = serde_json::from_str(r#"{"text":"hi","type":"text"}"#).unwrap();
        let b: ContentBlock = serde_json::from_str(r#"{"type":"text","text":"hi"}"#).unwrap();
        assert_eq!(a, b);
        let m: Message =
            serde_json::from_str(r#"{"timestamp":1,"content":"x","role":"user"}"#).unwrap();
        assert_eq!(m.role(), "user");
    }

    #[test]
    fn values_and_escaped_keys_deserialize_too() {
        let v =
            serde_json::json!({"role":"user","content":[{"type":"text","text":"a"}],"timestamp":2});
        let m: Message = serde_json::from_value(v).unwrap();
        assert_eq!(m.timestamp(), 2);
        let escaped: ContentBlock =
            serde_json::from_str(r#"{"\u0074ype":"text","text":"x"}"#).unwrap();
        assert_eq!(escaped.as_text(), Some("x"));
    }

    #[test]
    fn unknown_tags_are_errors() {
        let e = serde_json::from_str::<ContentBlock>(r#"{"type":"video","url":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant `video`"), "{e}");
        assert!(serde_json::from_str::<Message>(r#"{"content":"x"}"#).is_err());
        assert!(serde_json::from_str::<UserContent>("5").is_err());
    }
}
