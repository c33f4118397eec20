//! Transports over openclaw-core: the JSONL RPC mode and the WebSocket gateway.

pub mod gateway;
