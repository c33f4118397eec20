//! `openclaw system`, as OpenClaw's CLI: `system event --text … --mode now|next-heartbeat`
//! (the `wake` method, `operator.write`) and `system heartbeat last|enable|disable`
//! (`last-heartbeat` with `operator.read`, `set-heartbeats` with `operator.admin`).

use serde_json::{Value, json};

use super::gateway::{call_with, connect_options};
use crate::cli::{GatewayTarget, HeartbeatCmd, SystemCmd};
use crate::error::CliResult;
use crate::output::print_json;

fn call(t: &GatewayTarget, scope: &str, method: &str, params: Value) -> CliResult<Value> {
    let opts = connect_options(t)?.scopes([scope]);
    Ok(call_with(opts, method, params)?.1)
}

pub fn run(cmd: SystemCmd) -> CliResult {
    match cmd {
        SystemCmd::Event {
            text,
            mode,
            agent,
            session_key,
            gateway,
            json,
        } => {
            let mut params = json!({"mode": mode.as_str(), "text": text});
            if let Some(a) = agent {
                params["agentId"] = json!(a);
            }
            if let Some(k) = session_key {
                params["sessionKey"] = json!(k);
            }
            let res = call(&gateway, "operator.write", "wake", params)?;
            if json.json {
                print_json(&res);
            } else if mode.as_str() == "now" {
                crate::out!("System event queued; heartbeat requested now.");
            } else {
                crate::out!("System event queued for the next heartbeat.");
            }
            Ok(())
        }
        SystemCmd::Heartbeat(HeartbeatCmd::Last { gateway, .. }) => {
            print_json(&call(
                &gateway,
                "operator.read",
                "last-heartbeat",
                json!({}),
            )?);
            Ok(())
        }
        SystemCmd::Heartbeat(HeartbeatCmd::Enable { gateway, json }) => {
            let res = call(
                &gateway,
                "operator.admin",
                "set-heartbeats",
                json!({"enabled": true}),
            )?;
            heartbeat_done(json.json, &res, "Heartbeats enabled.")
        }
        SystemCmd::Heartbeat(HeartbeatCmd::Disable { gateway, json }) => {
            let res = call(
                &gateway,
                "operator.admin",
                "set-heartbeats",
                json!({"enabled": false}),
            )?;
            heartbeat_done(json.json, &res, "Heartbeats disabled.")
        }
    }
}

fn heartbeat_done(as_json: bool, res: &Value, line: &str) -> CliResult {
    if as_json {
        print_json(res);
    } else {
        crate::out!("{line}");
    }
    Ok(())
}
