//! An MCP `tools/call` result mapped onto our tool result the way OpenClaw projects it: text and
//! images as they are, audio and resource links as a line of text, an embedded resource as its
//! text, `structuredContent` first as pretty JSON (and in `details`), an empty result as a
//! sentence. The wire shapes are typed here, so an unknown block kind becomes its JSON text
//! instead of being lost.

use openclaw_core::message::{ContentBlock, ImageContent};
use openclaw_core::tool::{ToolError, ToolOutput};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A `tools/call` result as MCP sends it.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallResult {
    #[serde(default)]
    pub content: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_error: Option<bool>,
}

/// One content block of a result.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    Image {
        data: String,
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    Audio {
        #[serde(rename = "mimeType")]
        mime_type: String,
    },
    ResourceLink {
        uri: String,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    Resource {
        resource: EmbeddedResource,
    },
}

#[derive(Debug, Clone, Deserialize)]
struct EmbeddedResource {
    uri: String,
    #[serde(default)]
    text: Option<String>,
}

/// `details` of an MCP tool's result.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CallDetails {
    pub mcp_server: String,
    pub mcp_tool: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_content: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
}

fn block(v: &Value) -> ContentBlock {
    match serde_json::from_value::<Block>(v.clone()) {
        Ok(Block::Text { text }) => ContentBlock::text(text),
        Ok(Block::Image { data, mime_type }) => {
            ContentBlock::Image(ImageContent { data, mime_type })
        }
        Ok(Block::Audio { mime_type }) => ContentBlock::text(format!("[audio {mime_type}]")),
        Ok(Block::ResourceLink { uri, title, name }) => match title.or(name) {
            Some(label) => ContentBlock::text(format!("[{label}] {uri}")),
            None => ContentBlock::text(uri),
        },
        Ok(Block::Resource { resource }) => {
            ContentBlock::text(resource.text.unwrap_or(resource.uri))
        }
        Err(_) => ContentBlock::text(v.to_string()),
    }
}

/// The result for the model: `Ok` with content and details, or — when the server flagged
/// `isError` — a tool error carrying the text and the same details.
pub fn project(server: &str, tool: &str, r: CallResult) -> Result<ToolOutput, ToolError> {
    let is_error = r.is_error == Some(true);
    let mut content = Vec::with_capacity(r.content.len() + 1);
    if let Some(sc @ Value::Object(_)) = &r.structured_content {
        let pretty = serde_json::to_string_pretty(sc).unwrap_or_default();
        content.push(ContentBlock::text(format!("structuredContent:\n{pretty}")));
        // A text block that only mirrors the structured content is not repeated.
        let mirrored = serde_json::to_string_pretty(sc).unwrap_or_default();
        let compact = sc.to_string();
        content.extend(
            r.content
                .iter()
                .filter(|b| {
                    let t = b.get("text").and_then(Value::as_str);
                    !(b.get("type").and_then(Value::as_str) == Some("text")
                        && (t == Some(mirrored.as_str()) || t == Some(compact.as_str())))
                })
                .map(block),
        );
    } else {
        content.extend(r.content.iter().map(block));
    }
    if content.is_empty() {
        content.push(ContentBlock::text(if is_error {
            "MCP tool failed without returning content."
        } else {
            "MCP tool completed without returning content."
        }));
    }
    let details = CallDetails {
        mcp_server: server.to_owned(),
        mcp_tool: tool.to_owned(),
        structured_content: r.structured_content,
        status: is_error.then_some("error"),
    };
    let details = serde_json::to_value(details).ok();
    if is_error {
        let text: Vec<&str> = content.iter().filter_map(ContentBlock::as_text).collect();
        return Err(ToolError {
            message: text.join("\n"),
            details,
        });
    }
    Ok(ToolOutput { content, details })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(v: Value) -> CallResult {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn text_images_links_and_structured_content_map_as_openclaw_does() {
        let out = project(
            "ev",
            "t",
            result(json!({"content": [
                {"type": "text", "text": "hi"},
                {"type": "image", "data": "AAAA", "mimeType": "image/png"},
                {"type": "audio", "data": "xx", "mimeType": "audio/wav"},
                {"type": "resource_link", "uri": "file:///a", "name": "a"},
                {"type": "resource", "resource": {"uri": "file:///b", "text": "B"}},
                {"type": "weird", "x": 1}
            ]})),
        )
        .unwrap();
        let texts: Vec<_> = out.content.iter().map(|b| b.as_text()).collect();
        assert_eq!(
            texts,
            [
                Some("hi"),
                None,
                Some("[audio audio/wav]"),
                Some("[a] file:///a"),
                Some("B"),
                Some(r#"{"type":"weird","x":1}"#)
            ]
        );
        assert!(matches!(&out.content[1], ContentBlock::Image(i) if i.mime_type == "image/png"));
        assert_eq!(
            out.details,
            Some(json!({"mcpServer": "ev", "mcpTool": "t"}))
        );

        let sc = project(
            "ev",
            "t",
            result(json!({"content": [{"type": "text", "text": "{\"n\":3}"}],
                          "structuredContent": {"n": 3}})),
        )
        .unwrap();
        assert_eq!(sc.content.len(), 1);
        assert_eq!(
            sc.content[0].as_text(),
            Some("structuredContent:\n{\n  \"n\": 3\n}")
        );
        assert_eq!(sc.details.unwrap()["structuredContent"], json!({"n": 3}));
    }

    #[test]
    fn errors_and_empty_results_say_so() {
        let e = project("ev", "t", result(json!({"content": [], "isError": true}))).unwrap_err();
        assert_eq!(e.message, "MCP tool failed without returning content.");
        assert_eq!(e.details.unwrap()["status"], "error");
        let ok = project("ev", "t", result(json!({}))).unwrap();
        assert_eq!(
            ok.content[0].as_text(),
            Some("MCP tool completed without returning content.")
        );
    }
}
