//! `channels.<id>.streaming`: how a reply reaches the chat while the run writes it (OpenClaw's
//! `off | partial | block | progress`), in every form OpenClaw accepts — the object `{mode,
//! chunkMode, preview}`, a mode string, a boolean (`true` is `partial`) — plus ours,
//! `preview.throttleMs`. The legacy top-level `streamMode` is read by the policy.

use serde::Deserialize;

/// `streaming.mode` (OpenClaw's modes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamMode {
    /// The reply is sent when the run ends, chunked.
    #[default]
    Off,
    /// One message edited in place as the reply grows (throttled), finalized in place; a reply
    /// longer than a message continues in new ones.
    Partial,
    /// Chunks only (here: as `off`).
    Block,
    /// OpenClaw's status draft; the answer is a normal final message (here: as `off`).
    Progress,
}

/// `streaming`: `{mode, chunkMode, preview: {throttleMs}}`, or the legacy forms `"partial"` and
/// `true` (partial) / `false` (off).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Streaming {
    pub mode: Option<StreamMode>,
    pub chunk_mode: Option<String>,
    /// Ours: the least time between two edits of a streamed reply (ms; default 1000, at least
    /// 250, as OpenClaw's draft stream).
    pub throttle_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamingPreview {
    throttle_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamingObject {
    mode: Option<StreamMode>,
    chunk_mode: Option<String>,
    preview: Option<StreamingPreview>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawStreaming {
    Flag(bool),
    Mode(StreamMode),
    Object(StreamingObject),
}

impl<'de> Deserialize<'de> for Streaming {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawStreaming::deserialize(d).map_err(|_| {
            serde::de::Error::custom(
                "streaming must be off, partial, block or progress, a boolean, or {mode, chunkMode, preview}",
            )
        })?;
        Ok(match raw {
            RawStreaming::Flag(on) => Streaming {
                mode: Some(if on {
                    StreamMode::Partial
                } else {
                    StreamMode::Off
                }),
                ..Streaming::default()
            },
            RawStreaming::Mode(mode) => Streaming {
                mode: Some(mode),
                ..Streaming::default()
            },
            RawStreaming::Object(o) => Streaming {
                mode: o.mode,
                chunk_mode: o.chunk_mode,
                throttle_ms: o.preview.and_then(|p| p.throttle_ms),
            },
        })
    }
}
