//! `openclaw gateway run|status|call`: `run` serves the gateway with the engine backend
//! (options from `openclaw_rpc::gateway::engine::options_from_env`); `status` and `call` use
//! the typed WebSocket client in `openclaw_rpc::client::gateway`.

use std::time::Duration;

use clap::Subcommand;
use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient, GatewayClientError};
use openclaw_rpc::gateway::BindMode;
use serde_json::{Value, json};

#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Serve the gateway (WebSocket + HTTP) until SIGTERM or ctrl-c.
    Run {
        /// Port (overrides OPENCLAW_GATEWAY_PORT and gateway.port).
        #[arg(long)]
        port: Option<u16>,
        /// loopback or lan.
        #[arg(long)]
        bind: Option<String>,
    },
    /// Connect to a gateway and print its health and status.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Call one gateway method and print its answer.
    Call {
        method: String,
        /// The params as a JSON object.
        #[arg(long)]
        params: Option<String>,
        /// Wait past an "accepted" answer for the final one (agent).
        #[arg(long)]
        expect_final: bool,
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// ws://host:port (default: OPENCLAW_GATEWAY_URL, else ws://127.0.0.1:<gateway.port>).
    #[arg(long)]
    url: Option<String>,
    /// The gateway token (default: OPENCLAW_GATEWAY_TOKEN).
    #[arg(long)]
    token: Option<String>,
    /// The gateway password (default: OPENCLAW_GATEWAY_PASSWORD).
    #[arg(long)]
    password: Option<String>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Overall timeout in milliseconds.
    #[arg(long, default_value_t = 30_000)]
    timeout: u64,
}

pub fn run(cmd: GatewayCommand) -> i32 {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("openclaw gateway: cannot start the runtime: {e}");
            return 1;
        }
    };
    let code = match cmd {
        GatewayCommand::Run { port, bind } => runtime.block_on(serve(port, bind)),
        GatewayCommand::Status { target } => runtime.block_on(status(target)),
        GatewayCommand::Call {
            method,
            params,
            expect_final,
            target,
        } => runtime.block_on(call(&method, params.as_deref(), expect_final, target)),
    };
    // Do not wait for stragglers: the gateway has already closed every socket.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

async fn serve(port: Option<u16>, bind: Option<String>) -> i32 {
    let mut opts = match openclaw_rpc::gateway::engine::options_from_env() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            return 2;
        }
    };
    if let Some(p) = port {
        opts.config.port = p;
    }
    match bind.as_deref() {
        None => {}
        Some("loopback") => opts.config.bind = BindMode::Loopback,
        Some("lan") => opts.config.bind = BindMode::Lan,
        Some(other) => {
            eprintln!("openclaw gateway run: --bind must be loopback or lan, got {other:?}");
            return 2;
        }
    }
    match openclaw_rpc::gateway::run(opts).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("openclaw gateway run: {e}");
            1
        }
    }
}

fn connect_options(t: &Target) -> ConnectOptions {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let url = t
        .url
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_URL"))
        .unwrap_or_else(|| {
            let port = env("OPENCLAW_GATEWAY_PORT").unwrap_or_else(|| "18789".into());
            format!("ws://127.0.0.1:{port}")
        });
    let mut o = ConnectOptions::new(url);
    o.token = t.token.clone().or_else(|| env("OPENCLAW_GATEWAY_TOKEN"));
    o.password = t
        .password
        .clone()
        .or_else(|| env("OPENCLAW_GATEWAY_PASSWORD"));
    o.timeout = Duration::from_millis(t.timeout.max(1));
    o
}

fn print_error(e: &GatewayClientError, as_json: bool) {
    if as_json {
        let body = match e {
            GatewayClientError::Request { error, .. }
            | GatewayClientError::Refused { error, .. } => {
                let mut v = error.clone();
                v["type"] = json!("gateway_request_error");
                v
            }
            other => json!({"type": "gateway_transport_error", "message": other.to_string()}),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"ok": false, "error": body})).unwrap_or_default()
        );
    } else {
        eprintln!("openclaw gateway: {e}");
    }
}

async fn status(t: Target) -> i32 {
    let client = match GatewayClient::connect(connect_options(&t)).await {
        Ok(c) => c,
        Err(e) => {
            print_error(&e, t.json);
            return 1;
        }
    };
    let health = client.call("health", None).await;
    let status = client.call("status", Some(json!({}))).await;
    let hello = client.hello().clone();
    client.close().await;
    let (health, status) = match (health, status) {
        (Ok(h), Ok(s)) => (h, s),
        (Err(e), _) | (_, Err(e)) => {
            print_error(&e, t.json);
            return 1;
        }
    };
    if t.json {
        let out = json!({"ok": true, "server": hello.get("server"), "protocol": hello.get("protocol"),
            "health": health, "status": status});
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        let server = &hello["server"];
        println!(
            "gateway {} (protocol {}), connection {}",
            server["version"].as_str().unwrap_or("?"),
            hello["protocol"],
            server["connId"].as_str().unwrap_or("?")
        );
        println!(
            "health: {}",
            if health["ok"] == Value::Bool(true) {
                "ok"
            } else {
                "not ok"
            }
        );
        println!(
            "default agent: {}",
            health["defaultAgentId"].as_str().unwrap_or("?")
        );
        println!("sessions: {}", status["sessions"]["count"]);
        println!(
            "uptime: {} ms, connections: {}",
            status["gateway"]["uptimeMs"], status["gateway"]["connections"]
        );
    }
    0
}

async fn call(method: &str, params: Option<&str>, expect_final: bool, t: Target) -> i32 {
    let params = match params.map(serde_json::from_str::<Value>) {
        None => None,
        Some(Ok(v @ Value::Object(_))) => Some(v),
        Some(_) => {
            eprintln!("openclaw gateway call: --params must be a JSON object");
            return 2;
        }
    };
    let client = match GatewayClient::connect(connect_options(&t)).await {
        Ok(c) => c,
        Err(e) => {
            print_error(&e, t.json);
            return 1;
        }
    };
    let timeout = Duration::from_millis(t.timeout.max(1));
    let r = if expect_final {
        client
            .call_expect_final(method, params, Some(timeout))
            .await
    } else {
        client.call(method, params).await
    };
    client.close().await;
    match r {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            0
        }
        Err(e) => {
            print_error(&e, t.json);
            1
        }
    }
}
