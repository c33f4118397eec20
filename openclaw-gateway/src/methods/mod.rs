//! Request dispatch: the role/scope check (before the method lookup, as OpenClaw does), the
//! engine-free methods answered here, and the hand-off of engine methods to the backend.

pub(crate) mod agents;
pub(crate) mod config;
pub(crate) mod pairing;
pub(crate) mod params;
pub(crate) mod system;

use std::sync::Arc;

use openclaw_core::protocol::names::ENGINE_METHODS;
use openclaw_core::protocol::scopes::method_access;
use openclaw_core::protocol::{ErrorShape, MethodAccess, RequestFrame, Role};
use serde_json::{Value, json};

use super::backend::CallContext;
use super::hub::Connection;
use super::state::Shared;
use params::Params;

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
    let p = || Params::new(m, req.params.clone());
    match m {
        "health" => system::health(shared, p()?),
        "status" => system::status(shared, p()?),
        "system-presence" => system::presence(shared, p()?),
        "logs.tail" => system::logs_tail(shared, p()?),
        "usage.status" => system::usage_status(shared, p()?),
        "commands.list" => system::commands_list(p()?),
        "tools.catalog" => system::tools_catalog(shared, p()?),
        "models.list" => agents::models_list(shared, p()?),
        "agents.list" => agents::agents_list(shared, p()?),
        "agent.identity.get" => agents::identity_get(shared, p()?),
        "config.get" => config::get(shared, p()?),
        "config.set" => config::set(shared, p()?),
        "config.patch" => config::patch(shared, p()?),
        "config.schema" => config::schema(p()?),
        "device.pair.list" => pairing::list(shared, p()?),
        "device.pair.approve" => pairing::resolve(shared, p()?, true),
        "device.pair.reject" => pairing::resolve(shared, p()?, false),
        "device.pair.remove" => pairing::remove(shared, p()?),
        "sessions.subscribe" | "sessions.unsubscribe" => {
            let on = m == "sessions.subscribe";
            shared.hub.set_subscribed(conn, on);
            Ok(json!({"subscribed": on}))
        }
        _ => Err(ErrorShape::unknown_method(m)),
    }
}
