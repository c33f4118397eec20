//! `wake`, `last-heartbeat` and `set-heartbeats` (OpenClaw's params and results), over the
//! heartbeat runner (`cron::heartbeat`).

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use openclaw_core::protocol::cron::{SetHeartbeatsParams, WakeMode, WakeParams};
use openclaw_core::protocol::system::NoParams;
use serde_json::{Value, json};

use crate::cron::heartbeat::HeartbeatService;
use crate::state::Shared;

/// Queues a wake on `hb` (shared by the `wake` method and `POST <hooks.path>/wake`).
pub(crate) fn wake_on(hb: &HeartbeatService, p: &WakeParams) -> Result<(), String> {
    let agent = hb.agent_for(p.agent_id.as_deref(), p.session_key.as_deref())?;
    hb.enqueue(&agent, &p.text, p.mode == WakeMode::Now)
}

/// `wake {mode, text, sessionKey?, agentId?}` → `{ok:true}`.
pub(crate) fn wake(shared: &Arc<Shared>, p: WakeParams) -> Result<Value, ErrorShape> {
    wake_on(&shared.heartbeat, &p).map_err(|e| ErrorShape::invalid_params("wake", e))?;
    Ok(json!({"ok": true}))
}

/// `last-heartbeat` → the last `heartbeat` event or `null`.
pub(crate) fn last(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
    serde_json::to_value(shared.heartbeat.last())
        .map_err(|e| ErrorShape::unavailable(e.to_string()))
}

/// `set-heartbeats {enabled}` → `{ok:true, enabled}`.
pub(crate) fn set(shared: &Arc<Shared>, p: SetHeartbeatsParams) -> Result<Value, ErrorShape> {
    shared.heartbeat.set_enabled(p.enabled);
    Ok(json!({"ok": true, "enabled": p.enabled}))
}
