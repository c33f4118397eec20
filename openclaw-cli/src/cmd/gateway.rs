//! `openclaw gateway run|status|call`: serve the WebSocket gateway (openclaw-rpc), or talk to a
//! running one (`--url`/`--token`, `OPENCLAW_GATEWAY_URL`/`OPENCLAW_GATEWAY_TOKEN`).

use openclaw_tui::gateway::{ConnectOptions, GatewayClient};
use serde_json::{Value, json};

use super::runtime;
use super::tui::gateway_error;
use crate::cli::{BindArg, GatewayCmd, GatewayTarget};
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
    let mut opts = ConnectOptions::cli(t.token.clone());
    opts.scopes = scopes.iter().map(|s| s.to_string()).collect();
    runtime()?.block_on(async move {
        let (client, _events) = GatewayClient::connect(&url, opts)
            .await
            .map_err(gateway_error)?;
        let res = client.request(method, params).await.map_err(gateway_error);
        client.close();
        Ok((client.hello.clone(), res?))
    })
}

pub fn run(cmd: GatewayCmd) -> CliResult {
    match cmd {
        GatewayCmd::Run { port, bind } => serve(port, bind),
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
                Some(p) => json5::from_str(&p).map_err(|e| {
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

fn serve(port: Option<u16>, bind: Option<BindArg>) -> CliResult {
    use openclaw_rpc::gateway::{BindMode, GatewayOptions};
    let mut opts = GatewayOptions::from_env().map_err(|e| {
        CliError::failure(e.to_string())
            .hint("check the gateway section with `openclaw config validate`")
    })?;
    if let Some(p) = port {
        opts.config.port = p;
    }
    match bind {
        Some(BindArg::Loopback) => opts.config.bind = BindMode::Loopback,
        Some(BindArg::Lan) => opts.config.bind = BindMode::Lan,
        None => {}
    }
    let rt = runtime()?;
    let result = rt.block_on(openclaw_rpc::gateway::run(opts));
    // Do not wait for stragglers: the gateway has already closed every socket.
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    result.map_err(|e| CliError::failure(e.to_string()))
}
