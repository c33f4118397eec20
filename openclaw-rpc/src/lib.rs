//! The headless side of openclaw over openclaw-core: pi's JSONL RPC mode (`stdio`, a drop-in for
//! pi's protocol), the one-shot `print` modes, and the typed `client`s — one for a spawned
//! `openclaw --mode rpc`, one for the OpenClaw gateway protocol (the server itself lives in the
//! `openclaw-gateway` crate).

pub mod client;
pub mod print;
pub mod stdio;
