//! # openclaw-core
//!
//! The embeddable OpenClaw agent: pi-compatible messages and events, the agent loop, tools,
//! sessions, model providers and the gateway protocol's frame types.
//!
//! The crate is runtime-agnostic: with `default-features = false` it needs no tokio. The
//! default `tokio` feature adds what needs a runtime: the built-in filesystem and process tools
//! and the HTTP model providers.

pub mod agent;
pub mod cancel;
pub mod channel;
pub mod config;
#[cfg(feature = "tokio")]
pub mod engine;
pub mod event;
pub mod exec_policy;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod message;
pub mod model;
#[doc(hidden)]
pub mod num;
pub mod protocol;
pub mod provider;
pub mod sandbox;
pub mod session;
pub mod settings;
pub mod skills;
pub mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tool;

pub use cancel::CancellationToken;
pub use event::{AgentEvent, AssistantMessageEvent, ToolOutput};
pub use message::{AssistantMessage, ContentBlock, Message, StopReason, Usage};
pub use model::{Model, ThinkingLevel};
pub use provider::{LlmContext, Provider, StreamEvent, StreamOptions};
pub use tool::{Tool, ToolCallContext, ToolError, ToolSpec};
