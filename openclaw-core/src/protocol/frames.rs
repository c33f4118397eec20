//! The three frame envelopes (`req`, `res`, `event`) and [`Frame`], which parses any of them.
//!
//! All three are closed objects: an unknown top-level key makes the frame invalid. `params` and
//! `payload` are kept as raw JSON; each method or event types its own payload.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::errors::ErrorShape;

macro_rules! literal_tag {
    ($name:ident, $lit:literal) => {
        #[doc = concat!("The literal `", $lit, "`.")]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            #[default]
            #[serde(rename = $lit)]
            Tag,
        }
    };
}
literal_tag!(ReqTag, "req");
literal_tag!(ResTag, "res");
literal_tag!(EventTag, "event");

/// Deserialises a present field (even `null`) as `Some`, so `"params": null` round-trips.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A request from a client: `{type:"req", id, method, params?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestFrame {
    #[serde(rename = "type")]
    pub kind: ReqTag,
    pub id: String,
    pub method: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub params: Option<Value>,
    /// v4: W3C trace context, at most 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    /// v4: the owner profile the client expects (`profile-binding-v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_profile_id: Option<String>,
}

impl RequestFrame {
    /// A request with the given id, method and params.
    pub fn new(id: impl Into<String>, method: impl Into<String>, params: Option<Value>) -> Self {
        Self {
            kind: ReqTag::Tag,
            id: id.into(),
            method: method.into(),
            params,
            traceparent: None,
            expected_profile_id: None,
        }
    }
}

/// A response from the server: `{type:"res", id, ok, payload?, error?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseFrame {
    #[serde(rename = "type")]
    pub kind: ResTag,
    pub id: String,
    pub ok: bool,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
}

impl ResponseFrame {
    /// A successful response carrying `payload`.
    pub fn ok(id: impl Into<String>, payload: Value) -> Self {
        Self {
            kind: ResTag::Tag,
            id: id.into(),
            ok: true,
            payload: Some(payload),
            error: None,
        }
    }

    /// A failed response carrying `error`.
    pub fn err(id: impl Into<String>, error: ErrorShape) -> Self {
        Self {
            kind: ResTag::Tag,
            id: id.into(),
            ok: false,
            payload: None,
            error: Some(error),
        }
    }
}

/// `{presence, health}` counters that go up whenever the presence list or health summary changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateVersion {
    pub presence: u64,
    pub health: u64,
}

/// A server event: `{type:"event", event, payload?, seq?, stateVersion?}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EventFrame {
    #[serde(rename = "type")]
    pub kind: EventTag,
    pub event: String,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub payload: Option<Value>,
    /// Per-connection counter, starting at 1; absent on `connect.challenge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_version: Option<StateVersion>,
    /// v4: set on connections bound to an owner profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient_profile_id: Option<String>,
}

impl EventFrame {
    /// An event without `seq` (the caller stamps it per connection).
    pub fn new(event: impl Into<String>, payload: Option<Value>) -> Self {
        Self {
            kind: EventTag::Tag,
            event: event.into(),
            payload,
            seq: None,
            state_version: None,
            recipient_profile_id: None,
        }
    }
}

/// Any frame, discriminated by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Frame {
    Req(RequestFrame),
    Res(ResponseFrame),
    Event(EventFrame),
}

/// Why a text frame is not a valid envelope.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("frame is not valid JSON: {0}")]
    Json(serde_json::Error),
    #[error("frame is not a JSON object")]
    NotObject,
    #[error("frame has no valid type (expected req, res or event)")]
    UnknownType,
    #[error("invalid {kind} frame: {source}")]
    Shape {
        kind: &'static str,
        source: serde_json::Error,
    },
}

impl Frame {
    /// Parses one text frame.
    pub fn parse(text: &str) -> Result<Self, FrameError> {
        let value: Value = serde_json::from_str(text).map_err(FrameError::Json)?;
        Self::from_value(value)
    }

    /// Interprets an already-parsed JSON value as a frame.
    pub fn from_value(value: Value) -> Result<Self, FrameError> {
        let kind = match &value {
            Value::Object(map) => map.get("type").and_then(Value::as_str).map(str::to_owned),
            _ => return Err(FrameError::NotObject),
        };
        let shape = |kind| move |source| FrameError::Shape { kind, source };
        match kind.as_deref() {
            Some("req") => serde_json::from_value(value)
                .map(Frame::Req)
                .map_err(shape("req")),
            Some("res") => serde_json::from_value(value)
                .map(Frame::Res)
                .map_err(shape("res")),
            Some("event") => serde_json::from_value(value)
                .map(Frame::Event)
                .map_err(shape("event")),
            _ => Err(FrameError::UnknownType),
        }
    }

    /// Serialises the frame to its JSON text.
    pub fn to_json(&self) -> String {
        // Serialising plain data structures to a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
