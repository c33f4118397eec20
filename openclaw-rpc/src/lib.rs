//! Transports over openclaw-core: the JSONL RPC mode (`stdio`, a drop-in for pi's protocol) and
//! the OpenClaw WebSocket gateway (`gateway`).

pub mod client;
pub mod gateway;
pub mod print;
pub mod stdio;
