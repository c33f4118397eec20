//! Test support shared by every crate's tests (enable the `testing` feature): a scripted
//! in-process provider, and a loopback HTTP server replaying recorded SSE streams.

pub mod scripted;
#[cfg(feature = "tokio")]
pub mod sse_server;
