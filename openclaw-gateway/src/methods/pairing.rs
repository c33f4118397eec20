//! `device.pair.list`, `device.pair.approve`, `device.pair.reject` and `device.pair.remove`.

use std::sync::Arc;

use openclaw_core::protocol::ErrorShape;
use serde_json::{Value, json};

use crate::state::{Shared, now_ms};
use openclaw_core::protocol::system::{NoParams, PairRemoveParams, PairResolveParams};

pub(crate) fn list(shared: &Arc<Shared>, _: NoParams) -> Result<Value, ErrorShape> {
    shared
        .pairing
        .list()
        .map_err(|e| ErrorShape::unavailable(e.to_string()))
}

pub(crate) fn resolve(
    shared: &Arc<Shared>,
    p: PairResolveParams,
    approve: bool,
) -> Result<Value, ErrorShape> {
    let request_id = &*p.request_id;
    let now = now_ms();
    let resolution = shared
        .pairing
        .resolve(request_id, approve, now)
        .map_err(|e| ErrorShape::unavailable(format!("cannot update the pairing store: {e}")))?
        .ok_or_else(|| ErrorShape::invalid_request(format!("unknown requestId: {request_id}")))?;
    let decision = if approve { "approved" } else { "rejected" };
    shared.hub.broadcast(
        "device.pair.resolved",
        Some(
            json!({"requestId": resolution.request_id, "deviceId": resolution.device_id,
                    "decision": decision, "ts": now}),
        ),
        None,
    );
    shared
        .log
        .line(&format!("device {} {decision}", resolution.device_id));
    if approve {
        Ok(json!({"requestId": resolution.request_id, "device": resolution.record}))
    } else {
        Ok(json!({"requestId": resolution.request_id, "deviceId": resolution.device_id}))
    }
}

pub(crate) fn remove(shared: &Arc<Shared>, p: PairRemoveParams) -> Result<Value, ErrorShape> {
    let device_id = &*p.device_id;
    let removed = shared
        .pairing
        .remove(device_id)
        .map_err(|e| ErrorShape::unavailable(format!("cannot update the pairing store: {e}")))?;
    if !removed {
        return Err(ErrorShape::invalid_request(format!(
            "unknown deviceId: {device_id}"
        )));
    }
    Ok(json!({"deviceId": device_id, "removed": true}))
}
