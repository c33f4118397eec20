//! `openclaw gateway run|status|call`: serve the WebSocket gateway (`run` is
//! [`serve`]), or talk to a running one (`--url`/`--token`, `OPENCLAW_GATEWAY_URL`/`OPENCLAW_GATEWAY_TOKEN`;
//! a gateway on this machine without `--token` gets the configured secret, see [`secret_for`]).

pub mod serve;

use openclaw_gateway::{BindMode, GatewayOptions};
use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::{Value, json};

use super::runtime;
use super::tui::gateway_error;
use crate::cli::{GatewayCmd, GatewayTarget};
use crate::error::{CliError, CliResult};
use crate::output::print_json;

/// How to reach a gateway: `--url`/`OPENCLAW_GATEWAY_URL` with `--token`/`OPENCLAW_GATEWAY_TOKEN`,
/// else the local gateway as openclaw.json configures it (`gateway.port`, `gateway.bind`,
/// `gateway.auth`, with `OPENCLAW_GATEWAY_PORT` and the other overrides the server itself applies).
pub(crate) fn connect_options(t: &GatewayTarget) -> CliResult<ConnectOptions> {
    if let Some(url) = &t.url {
        let mut opts = ConnectOptions::new(url.clone());
        opts.token = secret_for(t, url);
        return Ok(opts);
    }
    let local = GatewayOptions::from_env().map_err(|e| {
        CliError::failure(format!("cannot read the gateway configuration: {e}"))
            .hint("fix the file, or pass --url")
    })?;
    let host = match local.config.bind {
        BindMode::Custom(ip) => ip.to_string(),
        BindMode::Loopback | BindMode::Lan => "127.0.0.1".into(),
    };
    let mut opts = ConnectOptions::new(format!("ws://{host}:{}", local.config.port));
    let creds = openclaw_gateway::local_credentials(&local.source.value, &local.state_dir);
    opts.token = t.token.clone().or(local.config.auth.token).or(creds.token);
    opts.password = local.config.auth.password.or(creds.password);
    Ok(opts)
}

/// Whether a gateway URL points at this machine (`localhost`, a loopback address).
fn is_local_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The secret to offer the gateway at `url`: `--token` / `OPENCLAW_GATEWAY_TOKEN`, else, for a
/// gateway on this machine, the one in this machine's config (`gateway.auth.token` or
/// `.password`, or the `gateway.token` file a first start wrote). A remote URL never gets the
/// local secret.
pub(crate) fn secret_for(t: &GatewayTarget, url: &str) -> Option<String> {
    if t.token.is_some() || !is_local_url(url) {
        return t.token.clone();
    }
    let cfg = openclaw_core::config::OpenClawConfig::load().ok()?;
    let creds = openclaw_gateway::local_credentials(&cfg.raw, &openclaw_core::config::state_dir());
    creds.token.or(creds.password)
}

/// Connects with `opts`, calls `method` with `params`; returns the `hello-ok` payload and the
/// result.
pub(crate) fn call_with(
    opts: ConnectOptions,
    method: &str,
    params: Value,
) -> CliResult<(Value, Value)> {
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

fn call(
    t: &GatewayTarget,
    method: &str,
    params: Value,
    scopes: &[&str],
) -> CliResult<(String, Value, Value)> {
    let opts = connect_options(t)?.scopes(scopes.iter().copied());
    let url = opts.url.clone();
    let (hello, res) = call_with(opts, method, params)?;
    Ok((url, hello, res))
}

pub fn run(cmd: GatewayCmd) -> CliResult {
    match cmd {
        GatewayCmd::Run(args) => {
            match serve::serve(args) {
                0 => Ok(()),
                // serve has already printed the reason.
                code => std::process::exit(code),
            }
        }
        GatewayCmd::Status { gateway, json } => {
            let (url, hello, health) = call(&gateway, "health", json!({}), &["operator.read"])?;
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
            expect_final,
            timeout,
            json: _,
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
            let opts = connect_options(&gateway)?.scopes(scopes);
            let timeout = timeout.map(std::time::Duration::from_millis);
            let res = runtime()?.block_on(async move {
                let client = GatewayClient::connect(opts).await.map_err(gateway_error)?;
                let res = if expect_final {
                    client
                        .call_expect_final(&method, Some(params), timeout)
                        .await
                } else {
                    match timeout {
                        Some(t) => tokio::time::timeout(t, client.call(&method, Some(params)))
                            .await
                            .map_err(|_| {
                                CliError::failure(format!(
                                    "no answer to {method} within {} ms",
                                    t.as_millis()
                                ))
                            })?,
                        None => client.call(&method, Some(params)).await,
                    }
                };
                client.close().await;
                res.map_err(gateway_error)
            })?;
            print_json(&res);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_local_url;

    #[test]
    fn only_loopback_urls_are_local() {
        for local in [
            "ws://127.0.0.1:18789",
            "ws://localhost:1/x",
            "ws://[::1]:5",
            "ws://127.0.0.2",
        ] {
            assert!(is_local_url(local), "{local}");
        }
        for remote in [
            "ws://10.0.0.1:18789",
            "wss://gw.example.com",
            "ws://localhost.evil.com:1",
        ] {
            assert!(!is_local_url(remote), "{remote}");
        }
    }
}
