//! Request dispatch: the role/scope check (before the method lookup, as OpenClaw does), the
//! engine-free methods answered here, and the hand-off of engine methods to the backend.

pub(crate) mod agents;
pub(crate) mod config;
mod health_sandbox;
pub(crate) mod heartbeat;
pub(crate) mod pairing;
mod skills;
pub(crate) mod system;

use std::sync::Arc;

use openclaw_core::protocol::names::ENGINE_METHODS;
use openclaw_core::protocol::scopes::method_access;
use openclaw_core::protocol::{ErrorShape, MethodAccess, RequestFrame, Role};
use serde_json::{Value, json};

use super::backend::CallContext;
use super::hub::Connection;
use super::state::Shared;
use openclaw_core::protocol::params::parse;
use openclaw_core::protocol::sessions::ListParams;
use openclaw_core::protocol::system::NoParams;

/// Checks the caller's role and scopes for `method`.
pub(crate) fn authorize(conn: &Connection, method: &str) -> Result<(), ErrorShape> {
    match method_access(method) {
        MethodAccess::Authenticated => Ok(()),
        MethodAccess::Node if conn.role == Role::Node => Ok(()),
        MethodAccess::Node => Err(ErrorShape::invalid_request(format!(
            "unauthorized role: {}",
            conn.role.as_str()
        ))),
        MethodAccess::Operator(_) if conn.role != Role::Operator => Err(
            ErrorShape::invalid_request(format!("unauthorized role: {}", conn.role.as_str())),
        ),
        MethodAccess::Operator(scope) if scope.satisfied_by(&conn.scopes) => Ok(()),
        MethodAccess::Operator(scope) => Err(ErrorShape::missing_scope(
            conn.protocol,
            scope.as_str(),
            &[scope.as_str()],
        )),
    }
}

pub(crate) fn is_engine_method(method: &str) -> bool {
    ENGINE_METHODS.contains(&method)
}

pub(crate) async fn call_backend(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    req: RequestFrame,
    first_sent: Arc<tokio::sync::Notify>,
) -> Result<Value, ErrorShape> {
    let ctx = CallContext {
        conn: conn.clone(),
        request_id: req.id.clone(),
        hub: shared.hub.clone(),
        approvals: shared.approvals.clone(),
        first_sent,
    };
    shared.backend.call(&req.method, req.params, ctx).await
}

/// Answers a method the gateway handles itself (or `unknown method`).
pub(crate) async fn call_core(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    req: RequestFrame,
) -> Result<Value, ErrorShape> {
    let m = req.method.as_str();
    let p = req.params.clone();
    match m {
        "health" => system::health(shared, parse(m, p)?),
        "status" => system::status(shared, parse(m, p)?),
        "system-presence" => system::presence(shared, parse(m, p)?),
        "logs.tail" => system::logs_tail(shared, parse(m, p)?),
        "usage.status" => system::usage_status(shared, parse(m, p)?),
        "commands.list" => system::commands_list(shared, parse(m, p)?).await,
        "tools.catalog" => system::tools_catalog(shared, parse(m, p)?).await,
        "skills.status" => skills::status(shared, parse(m, p)?).await,
        "skills.skillCard" => skills::skill_card(shared, parse(m, p)?).await,
        "skills.detail" => skills::detail(parse(m, p)?),
        "models.list" => agents::models_list(shared, parse(m, p)?),
        "agents.list" => agents::agents_list(shared, parse(m, p)?),
        "agent.identity.get" => agents::identity_get(shared, parse(m, p)?),
        "config.get" => config::get(shared, parse(m, p)?),
        "config.set" => config::set(shared, parse(m, p)?),
        "config.patch" => config::patch(shared, parse(m, p)?),
        "config.schema" => config::schema(parse(m, p)?),
        "device.pair.list" => pairing::list(shared, parse(m, p)?),
        "device.pair.approve" => pairing::resolve(shared, parse(m, p)?, true),
        "device.pair.reject" => pairing::resolve(shared, parse(m, p)?, false),
        "device.pair.remove" => pairing::remove(shared, parse(m, p)?),
        m if m.starts_with("cron.") => crate::cron::methods::call(&shared.cron, m, p),
        "wake" => heartbeat::wake(shared, parse(m, p)?),
        "last-heartbeat" => heartbeat::last(shared, parse(m, p)?),
        "set-heartbeats" => heartbeat::set(shared, parse(m, p)?),
        "sessions.subscribe" => subscribe(shared, conn, &req.id, p).await,
        "sessions.unsubscribe" => {
            parse::<NoParams>(m, p)?;
            shared.hub.set_subscribed(conn, false);
            Ok(json!({"subscribed": false}))
        }
        _ => Err(ErrorShape::unknown_method(m)),
    }
}

/// `sessions.subscribe`: `sessions.changed` events from now on. v4 params are `sessions.list`'s
/// (checked the same way); with any, the answer carries that list as `list`.
async fn subscribe(
    shared: &Arc<Shared>,
    conn: &Arc<Connection>,
    request_id: &str,
    params: Option<Value>,
) -> Result<Value, ErrorShape> {
    parse::<ListParams>("sessions.subscribe", params.clone())?;
    let asked = params
        .as_ref()
        .and_then(Value::as_object)
        .is_some_and(|o| !o.is_empty());
    let list = if asked {
        let ctx = CallContext {
            conn: conn.clone(),
            request_id: request_id.to_owned(),
            hub: shared.hub.clone(),
            approvals: shared.approvals.clone(),
            first_sent: Arc::new(tokio::sync::Notify::new()),
        };
        Some(shared.backend.call("sessions.list", params, ctx).await?)
    } else {
        None
    };
    shared.hub.set_subscribed(conn, true);
    Ok(match list {
        Some(list) => json!({"subscribed": true, "list": list}),
        None => json!({"subscribed": true}),
    })
}
