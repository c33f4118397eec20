//! A real MCP server for this workspace's tests, on rmcp's server side: `stdio` speaks MCP on
//! stdin/stdout; `http` serves streamable HTTP on a loopback port and prints
//! `listening <port>` on stdout; `https <cert.pem> <key.pem> [<client-ca.pem>]` serves the same
//! over TLS with that certificate chain and key (and, with a client CA, requires a client
//! certificate it signed). Its tools: `echo {text}`, `add {a, b}` (structured content),
//! `image` (a 1×1 PNG), `sleep {ms}` (a call that hangs that long), `crash` (the process exits
//! with status 3), `spawn_child` (starts `sleep 600` in the server's process group and answers
//! its pid) and `pid`.

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ContentBlock as Content, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerInfo, Tool,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::{ErrorData, ServerHandler, ServiceExt};
use serde_json::{Value, json};

const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

#[derive(Clone, Default)]
struct TestServer;

fn schema(v: Value) -> Arc<serde_json::Map<String, Value>> {
    Arc::new(v.as_object().cloned().unwrap_or_default())
}

fn tools() -> Vec<Tool> {
    vec![
        Tool::new(
            "echo",
            "Echo the text back",
            schema(
                json!({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}),
            ),
        ),
        Tool::new(
            "add",
            "Add two numbers",
            schema(
                json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}, "required": ["a", "b"]}),
            ),
        ),
        Tool::new(
            "image",
            "A tiny PNG",
            schema(json!({"type": "object", "properties": {}})),
        ),
        Tool::new(
            "sleep",
            "Sleep for ms milliseconds",
            schema(
                json!({"type": "object", "properties": {"ms": {"type": "integer"}}, "required": ["ms"]}),
            ),
        ),
        Tool::new(
            "crash",
            "Exit the server process",
            schema(json!({"type": "object", "properties": {}})),
        ),
        Tool::new(
            "spawn_child",
            "Start a child process and answer its pid",
            schema(json!({"type": "object", "properties": {}})),
        ),
        Tool::new(
            "pid",
            "The server's pid",
            schema(json!({"type": "object", "properties": {}})),
        ),
    ]
}

fn arg<'a>(req: &'a CallToolRequestParams, key: &str) -> Option<&'a Value> {
    req.arguments.as_ref().and_then(|a| a.get(key))
}

impl ServerHandler for TestServer {
    fn get_info(&self) -> ServerInfo {
        ServerInfo::new(ServerCapabilities::builder().enable_tools().build())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        req: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        match req.name.as_ref() {
            "echo" => {
                let text = arg(&req, "text")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                Ok(CallToolResult::success(vec![Content::text(format!(
                    "echo: {text}"
                ))]))
            }
            "add" => {
                let n = |k| arg(&req, k).and_then(Value::as_f64).unwrap_or(0.0);
                let sum = n("a") + n("b");
                let mut r = CallToolResult::structured(json!({"sum": sum}));
                r.content = vec![Content::text(format!("sum is {sum}"))];
                Ok(r)
            }
            "image" => Ok(CallToolResult::success(vec![
                Content::text("a pixel"),
                Content::image(PNG_1X1, "image/png"),
            ])),
            "sleep" => {
                let ms = arg(&req, "ms").and_then(Value::as_u64).unwrap_or(0);
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                Ok(CallToolResult::success(vec![Content::text(format!(
                    "slept {ms} ms"
                ))]))
            }
            "crash" => {
                eprintln!("crashing on request");
                std::process::exit(3)
            }
            "spawn_child" => {
                let child = std::process::Command::new("sleep")
                    .arg("600")
                    .spawn()
                    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
                let pid = child.id();
                std::mem::forget(child);
                Ok(CallToolResult::success(vec![Content::text(
                    pid.to_string(),
                )]))
            }
            "pid" => Ok(CallToolResult::success(vec![Content::text(
                std::process::id().to_string(),
            )])),
            other => Ok(CallToolResult::error(vec![Content::text(format!(
                "no tool {other}"
            ))])),
        }
    }
}

fn http_router() -> axum::Router {
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
    };
    let service: StreamableHttpService<TestServer, LocalSessionManager> =
        StreamableHttpService::new(
            || Ok(TestServer),
            Default::default(),
            StreamableHttpServerConfig::default(),
        );
    axum::Router::new().nest_service("/mcp", service)
}

/// The streamable HTTP service behind a TLS listener (tokio-rustls, ring): each accepted
/// connection's handshake, then hyper serving the router on it. A failed handshake (a client
/// that does not trust the certificate) is reported on stderr and the listener goes on.
async fn serve_https(
    cert: &str,
    key: &str,
    client_ca: Option<&String>,
) -> Result<(), Box<dyn std::error::Error>> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let builder = match client_ca {
        // Mutual TLS: a client certificate signed by this CA is required.
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_file_iter(ca)? {
                roots.add(c?)?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("listening {}", listener.local_addr()?.port());
    let router = http_router();
    loop {
        let (tcp, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match acceptor.accept(tcp).await {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("TLS handshake failed: {e}");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            let builder =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            if let Err(e) = builder
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                .await
            {
                eprintln!("connection ended: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_else(|| "stdio".into());
    eprintln!("test server starting ({mode})");
    match mode.as_str() {
        "stdio" => {
            let running = TestServer.serve(rmcp::transport::stdio()).await?;
            running.waiting().await?;
        }
        "http" => {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            println!("listening {}", listener.local_addr()?.port());
            axum::serve(listener, http_router()).await?;
        }
        "https" => match (args.get(1), args.get(2)) {
            (Some(cert), Some(key)) => serve_https(cert, key, args.get(3)).await?,
            _ => return Err("usage: https <cert.pem> <key.pem> [<client-ca.pem>]".into()),
        },
        other => return Err(format!("unknown mode {other} (stdio, http or https)").into()),
    }
    Ok(())
}
