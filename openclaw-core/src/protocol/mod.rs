//! OpenClaw gateway protocol types (v3 and v4), free of any runtime: the `req` / `res` / `event`
//! envelopes ([`frames`]), the handshake (`connect.challenge`, [`ConnectParams`], [`HelloOk`]),
//! the error shape with the codes clients branch on ([`errors`]), and the method / event / scope
//! tables ([`names`], [`scopes`]).
//!
//! Envelopes and client-sent objects are closed (unknown keys are rejected, as OpenClaw's schema
//! does). Server-sent objects that the real gateway extends between releases (hello-ok, the
//! snapshot, presence entries) keep unknown keys in an `extra` map so captured frames round-trip.

pub mod approvals;
pub mod channels;
pub mod chat;
pub mod connect;
pub mod cron;
pub mod errors;
pub mod frames;
pub mod names;
pub mod params;
pub mod scopes;
pub mod sessions;
pub mod system;

pub use connect::{
    ClientInfo, ConnectAuth, ConnectChallenge, ConnectParams, DeviceIdentity, Features, HelloAuth,
    HelloOk, Policy, PresenceEntry, ServerInfo, SessionDefaults, ShutdownEvent, Snapshot,
    TickEvent,
};
pub use errors::{ErrorShape, codes, details};
pub use frames::{EventFrame, Frame, FrameError, RequestFrame, ResponseFrame, StateVersion};
pub use scopes::{MethodAccess, Role, Scope};

/// The newest protocol version this implementation speaks (OpenClaw 2026.9.x).
pub const PROTOCOL_VERSION: u32 = 4;
/// The oldest protocol version accepted from a client (OpenClaw 2026.5.x).
pub const MIN_PROTOCOL_VERSION: u32 = 3;
/// Largest frame accepted before the handshake completes (`MAX_PREAUTH_PAYLOAD_BYTES`).
pub const MAX_PREAUTH_PAYLOAD_BYTES: usize = 65_536;
/// Default `policy.maxPayload`: the largest frame accepted after the handshake (25 MiB).
pub const DEFAULT_MAX_PAYLOAD: u64 = 26_214_400;
/// Default `policy.maxBufferedBytes`: outbound bytes queued for a client before it is dropped (50 MiB).
pub const DEFAULT_MAX_BUFFERED_BYTES: u64 = 52_428_800;
/// Default `policy.tickIntervalMs`: the `tick` event cadence.
pub const DEFAULT_TICK_INTERVAL_MS: u64 = 30_000;
/// Allowed skew between a device signature's `signedAt` and server time.
pub const DEVICE_SIGNATURE_SKEW_MS: u64 = 120_000;

/// Picks the protocol version to answer with for a client offering `[min, max]`: 4 when the
/// range includes 4, else 3 when it includes 3, else `None` (protocol mismatch).
pub fn negotiate_protocol(min: u32, max: u32) -> Option<u32> {
    if min > max {
        return None;
    }
    [PROTOCOL_VERSION, MIN_PROTOCOL_VERSION]
        .into_iter()
        .find(|v| (min..=max).contains(v))
}

#[cfg(test)]
mod tests;
