//! Test support shared by every crate's tests (enable the `testing` feature): a scripted
//! in-process provider, a loopback HTTP server replaying recorded SSE streams, and the one way
//! to find (or fail for want of) what end-to-end tests need from the machine (`prereq`).

pub mod prereq;
pub mod scripted;
#[cfg(feature = "tokio")]
pub mod sse_server;
