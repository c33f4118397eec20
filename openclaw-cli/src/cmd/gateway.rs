//! `openclaw gateway run|status|call`: serve the WebSocket gateway (`run` is
//! [`crate::gateway_cmd`]), or talk to a running one (`--url`/`--token`, `OPENCLAW_GATEWAY_URL`/`OPENCLAW_GATEWAY_TOKEN`).

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::{Value, json};

use super::runtime;
use super::tui::gateway_error;
use crate::cli::{GatewayCmd, GatewayTarget};
use crate::error::{CliError, CliResult};
use crate::output::print_json;

/// The URL to use: `--url`, the env var, else the configured local port.
fn target_url(t: &GatewayTarget) -> String {
    t.url.clone().unwrap_or_else(|| {
        let port = openclaw_core::config::OpenClawConfig::load()
            .ok()
            .and_then(|c| c.section("gateway.port").and_then(Value::as_u64))
            .unwrap_or(18789);
        format!("ws://127.0.0.1:{port}")
    })
}

fn call(
    t: &GatewayTarget,
    method: &str,
    params: Value,
    scopes: &[&str],
) -> CliResult<(Value, Value)> {
    let url = target_url(t);
    let mut opts = ConnectOptions::new(url).scopes(scopes.iter().copied());
    opts.token = t.token.clone();
    runtime()?.block_on(async move {
        let client = GatewayClient::connect(opts).await.map_err(gateway_error)?;
        let res = client
            .call(method, Some(params))
            .await
            .map_err(gateway_error);
        let hello = client.hello().clone();
        client.close().await;
        Ok((hello, res?))
    })
}

pub fn run(cmd: GatewayCmd) -> CliResult {
    match cmd {
        GatewayCmd::Run(args) => {
            match crate::gateway_cmd::run(crate::gateway_cmd::GatewayCommand::Run(args)) {
                0 => Ok(()),
                // gateway_cmd has already printed the reason.
                code => std::process::exit(code),
            }
        }
        GatewayCmd::Status { gateway, json } => {
            let (hello, health) = call(&gateway, "health", json!({}), &["operator.read"])?;
            let url = target_url(&gateway);
            if json.json {
                print_json(
                    &json!({"url": url, "server": hello.get("server"), "protocol": hello.get("protocol"), "health": health}),
                );
            } else {
                let version = hello
                    .pointer("/server/version")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let ok = health.get("ok").and_then(Value::as_bool).unwrap_or(false);
                crate::out!(
                    "{url}: {} (server {version}, protocol {})",
                    if ok { "ok" } else { "unhealthy" },
                    hello.get("protocol").unwrap_or(&Value::Null)
                );
            }
            Ok(())
        }
        GatewayCmd::Call {
            method,
            params,
            gateway,
        } => {
            let params: Value = match params {
                None => json!({}),
                Some(p) => openclaw_core::config::json5_from_str(&p).map_err(|e| {
                    CliError::usage(format!("--params is not valid JSON: {e}"))
                        .hint("e.g. --params '{\"sessionKey\":\"main\"}'")
                })?,
            };
            let scopes = ["operator.read", "operator.write", "operator.admin"];
            let (_, res) = call(&gateway, &method, params, &scopes)?;
            print_json(&res);
            Ok(())
        }
    }
}
