//! Checking a `connect` request, in OpenClaw's order: params, protocol, role, browser origin,
//! shared secret, device identity (proof, then pairing), scopes; and building the `hello-ok`
//! answer.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use openclaw_core::protocol::names::{GATEWAY_EVENTS, gateway_methods};
use openclaw_core::protocol::{
    ConnectParams, ErrorShape, Features, HelloAuth, HelloOk, Policy, PresenceEntry, RequestFrame,
    Role, Scope, ServerInfo, SessionDefaults, Snapshot, codes, details, negotiate_protocol,
};
use serde_json::{Map, Value, json};

use super::device;
use super::hub::{Connection, Outbound};
use super::methods::system::health_summary;
use super::roster::Roster;
use super::state::{Shared, now_ms};

/// A refused connect: the error for the `res`, and the close code that follows it.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub error: ErrorShape,
    pub close_code: u16,
}

fn refuse(error: ErrorShape) -> Rejection {
    Rejection {
        error,
        close_code: 1008,
    }
}

/// Validates the connect and returns the new connection with its `hello-ok` payload.
pub(crate) fn accept(
    shared: &Arc<Shared>,
    req: &RequestFrame,
    out: Arc<Outbound>,
    remote: SocketAddr,
    nonce: &str,
    foreign_origin: Option<&str>,
) -> Result<(Arc<Connection>, Value), Rejection> {
    if draining(shared) {
        let e = ErrorShape::unavailable("gateway restarting; retry shortly")
            .with_details(json!({"reason": "gateway-restarting"}))
            .retry_after(500);
        return Err(Rejection {
            error: e,
            close_code: 1013,
        });
    }
    let Connect {
        params,
        protocol,
        role,
    } = parse_connect(req)?;

    if foreign_origin.is_some() {
        let e = ErrorShape::invalid_request(
            "origin not allowed (open the Control UI from the gateway host or allow it in \
             gateway.controlUi.allowedOrigins)",
        )
        .with_details(json!({"code": details::CONTROL_UI_ORIGIN_NOT_ALLOWED}));
        return Err(refuse(e));
    }
    let method = shared
        .auth
        .check_connect(remote.ip(), params.auth.as_ref())
        .map_err(refuse)?;

    let local = remote.ip().is_loopback() && shared.loopback_is_local;
    match &params.device {
        None if role == Role::Node => {
            let e = ErrorShape::new(codes::NOT_PAIRED, "device identity required")
                .with_details(json!({"code": details::DEVICE_IDENTITY_REQUIRED}));
            return Err(refuse(e));
        }
        None => {}
        Some(dev) => {
            device::verify(&params, dev, nonce, now_ms()).map_err(refuse)?;
            check_pairing(shared, &params, dev.id.as_str(), local, remote)?;
        }
    }

    let mut scopes: Vec<Scope> = Vec::new();
    if role == Role::Operator {
        for s in params
            .scopes
            .iter()
            .flatten()
            .filter_map(|s| Scope::parse(s))
        {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
    }
    let scope_names: Vec<String> = scopes.iter().map(|s| s.as_str().to_owned()).collect();
    let conn_id = uuid::Uuid::new_v4().to_string();
    let client = &params.client;
    let presence = PresenceEntry {
        host: client.display_name.clone(),
        ip: Some(remote.ip().to_string()),
        version: Some(client.version.clone()),
        platform: Some(client.platform.clone()),
        device_family: client.device_family.clone().filter(|s| !s.is_empty()),
        mode: Some(client.mode.clone()),
        reason: Some("connect".into()),
        device_id: params.device.as_ref().map(|d| d.id.clone()),
        roles: Some(vec![role.as_str().to_owned()]),
        scopes: Some(scope_names.clone()),
        instance_id: client.instance_id.clone(),
        text: None,
        ts: now_ms(),
        extra: Map::new(),
    };
    let conn = Arc::new(Connection {
        conn_id: conn_id.clone(),
        role,
        scopes,
        protocol,
        remote,
        client_id: client.id.clone(),
        client_mode: client.mode.clone(),
        display_name: client.display_name.clone(),
        caps: params.caps.clone().unwrap_or_default(),
        presence,
        out,
        role_strikes: Default::default(),
    });
    let hello = hello_ok(shared, &conn, protocol, role, scope_names, method);
    Ok((conn, serde_json::to_value(hello).unwrap_or(Value::Null)))
}

/// What a `connect` request asks for, checked without any gateway state.
pub(crate) struct Connect {
    pub params: ConnectParams,
    pub protocol: u32,
    pub role: Role,
}

/// The stateless checks of a `connect`: its params' shape, the protocol range and the role.
pub(crate) fn parse_connect(req: &RequestFrame) -> Result<Connect, Rejection> {
    let raw = req.params.clone().unwrap_or(Value::Null);
    let params: ConnectParams = serde_json::from_value(raw).map_err(|e| {
        refuse(ErrorShape::invalid_request(format!(
            "invalid connect params: {e}"
        )))
    })?;
    params.validate().map_err(|e| {
        refuse(ErrorShape::invalid_request(format!(
            "invalid connect params: {e}"
        )))
    })?;
    let protocol =
        negotiate_protocol(params.min_protocol, params.max_protocol).ok_or_else(|| Rejection {
            error: ErrorShape::protocol_mismatch(params.min_protocol, params.max_protocol),
            close_code: 1002,
        })?;
    let role = match params.role.as_deref() {
        None => Role::Operator,
        Some(r) => {
            Role::parse(r).ok_or_else(|| refuse(ErrorShape::invalid_request("invalid role")))?
        }
    };
    Ok(Connect {
        params,
        protocol,
        role,
    })
}

fn check_pairing(
    shared: &Arc<Shared>,
    params: &ConnectParams,
    device_id: &str,
    local: bool,
    remote: SocketAddr,
) -> Result<(), Rejection> {
    let record = json!({
        "deviceId": device_id,
        "publicKey": params.device.as_ref().map(|d| d.public_key.clone()),
        "displayName": params.client.display_name,
        "platform": params.client.platform,
        "clientId": params.client.id,
        "clientMode": params.client.mode,
        "role": params.role.as_deref().unwrap_or("operator"),
        "scopes": params.scopes.clone().unwrap_or_default(),
        "remoteIp": remote.ip().to_string(),
        "ts": now_ms(),
    });
    if shared.pairing.is_paired(device_id) {
        return Ok(());
    }
    if local {
        let _ = shared.pairing.pair(device_id, record);
        return Ok(());
    }
    let (request, new) = shared.pairing.request(device_id, record).map_err(|e| {
        refuse(ErrorShape::unavailable(format!(
            "cannot record the pairing request: {e}"
        )))
    })?;
    if new {
        shared
            .hub
            .broadcast("device.pair.requested", Some(request.clone()), None);
    }
    let e = ErrorShape::new(codes::NOT_PAIRED, "pairing required").with_details(json!({
        "code": details::PAIRING_REQUIRED,
        "reason": "not-paired",
        "requestId": request["requestId"],
        "recommendedNextStep": "wait_then_retry",
        "pauseReconnect": false,
    }));
    Err(refuse(e))
}

fn hello_ok(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    protocol: u32,
    role: Role,
    scopes: Vec<String>,
    method: &str,
) -> HelloOk {
    let config = shared.config_value();
    let roster = Roster::from_config(&config, &shared.state_dir);
    let default_agent = roster.default_id().to_owned();
    // As OpenClaw: the gateway and the lasting clients (this one too when it lasts); one-shot
    // CLI connections are not listed, so the answer does not grow with their number.
    let presence = super::presence_entries(shared, Some(conn));
    let config_path = shared
        .config
        .read()
        .ok()
        .map(|c| c.source.path.display().to_string());
    HelloOk {
        kind: Default::default(),
        protocol,
        server: ServerInfo {
            version: shared.version.clone(),
            build_id: None,
            boot_id: Some(shared.boot_id.clone()),
            control_ui_build_source: None,
            conn_id: conn.conn_id.clone(),
        },
        features: Features {
            methods: crate::approvals::advertised_methods(
                gateway_methods(shared.backend.has_engine()),
                shared.approvals.is_some(),
            ),
            events: crate::approvals::advertised_events(GATEWAY_EVENTS, shared.approvals.is_some()),
            capabilities: None,
        },
        snapshot: Snapshot {
            presence,
            health: health_summary(shared, &roster),
            state_version: shared.hub.state_version(),
            uptime_ms: shared.uptime_ms(),
            config_path,
            state_dir: Some(shared.state_dir.display().to_string()),
            session_defaults: Some(SessionDefaults {
                main_session_key: format!("agent:{default_agent}:main"),
                default_agent_id: default_agent,
                main_key: "main".into(),
                scope: Some("per-sender".into()),
                extra: Map::new(),
            }),
            auth_mode: Some(shared.auth.mode().as_str().to_owned()),
            extra: Map::new(),
        },
        canvas_host_url: None,
        plugin_surface_urls: None,
        auth: HelloAuth {
            role: role.as_str().to_owned(),
            scopes,
            device_token: None,
            issued_at_ms: None,
            method: Some(method.to_owned()),
            extra: Map::new(),
        },
        policy: Policy {
            max_payload: shared.limits.max_payload,
            max_buffered_bytes: shared.limits.max_buffered_bytes,
            tick_interval_ms: shared.limits.tick_interval_ms,
            extra: Map::new(),
        },
        extra: Map::new(),
    }
}

/// Whether a shutdown has started (new connects are refused with `UNAVAILABLE`).
pub(crate) fn draining(shared: &Shared) -> bool {
    shared.draining.load(Ordering::Acquire)
}
