//! # openclaw-tui
//!
//! The interactive terminal chat for openclaw-rs (ratatui + crossterm).
//!
//! - [`ChatBackend`] is the seam to whatever runs the agent: the in-process engine (adapted in
//!   `openclaw-cli`) or a gateway ([`GatewayBackend`]).
//! - [`App`] is the screen's state machine: agent events and keys in, [`Action`]s out. Its
//!   transcript of history cells is the only truth; every frame re-renders (and re-wraps) from
//!   it, so resizing never loses or duplicates anything.
//! - [`run`] owns the terminal: raw mode, the alternate screen, the event loop.
//!
//! Rendering is tested with ratatui's `TestBackend` and insta snapshots (`tests/` beside
//! each module and `src/snapshot_tests.rs`).

pub mod app;
pub mod backend;
pub mod composer;
pub mod gateway;
pub mod mention;
pub mod popup;
mod run;
pub mod slash;
pub mod transcript;
pub mod ui;
pub mod wrap;

pub use app::{Action, App, AppOptions, Reply};
pub use backend::{
    ApprovalPrompt, BackendError, BackendEvent, BackendResult, BackendState, ChatBackend,
    ExtraCommand, ForkPoint, ModelChoice, SessionChoice,
};
pub use gateway::GatewayBackend;
pub use run::{PendingBackend, TuiError, execute_action, run, run_connecting};

#[cfg(test)]
mod snapshot_support;
#[cfg(test)]
mod snapshot_tests;
