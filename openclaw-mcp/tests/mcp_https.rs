//! `https://` MCP servers: this crate's test server (a separate process) serving streamable HTTP
//! over TLS on loopback with a certificate from a private CA made here (rcgen). Trusted through
//! `NODE_EXTRA_CA_CERTS` or `SSL_CERT_FILE` its tools are listed and called; untrusted, the
//! connection fails at once with an error naming the certificate problem; `sslVerify: false`
//! connects anyway. The trust variables are process-wide, so each case runs in a child process
//! (this test binary re-run on one test with the variable set).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_core::tool::{Tool, ToolCallContext};
use openclaw_mcp::{McpConfig, McpManager};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_openclaw-mcp-test-server");
const CHILD: &str = "OPENCLAW_MCP_HTTPS_CHILD";

/// A CA and a certificate for `localhost` / `127.0.0.1` signed by it, as PEM files in `dir`:
/// (ca.pem, cert.pem, key.pem).
fn make_pki(dir: &Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "openclaw-rs test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let path = |n: &str| dir.join(n).to_string_lossy().into_owned();
    std::fs::write(path("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(path("cert.pem"), leaf.pem()).unwrap();
    std::fs::write(path("key.pem"), leaf_key.serialize_pem()).unwrap();
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}

/// The test server's process, killed and reaped when dropped (also when a test fails).
struct ServerProcess(Child);

impl ServerProcess {
    fn kill(&mut self) -> std::io::Result<()> {
        self.0.kill()
    }
    fn wait(&mut self) -> std::io::Result<std::process::ExitStatus> {
        self.0.wait()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The test server in https mode; its port.
fn start_server(cert: &str, key: &str) -> (ServerProcess, u16) {
    start_server_args(&["https", cert, key])
}

fn start_server_args(args: &[&str]) -> (ServerProcess, u16) {
    let mut child = Command::new(SERVER)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening ")
        .unwrap()
        .parse()
        .unwrap();
    (ServerProcess(child), port)
}

fn manager(port: u16, extra: Value) -> McpManager {
    let mut server = json!({"url": format!("https://127.0.0.1:{port}/mcp"),
                            "connectionTimeoutMs": 20000,
                            "headers": {"Authorization": "Bearer s3cret"}});
    if let (Some(o), Some(e)) = (server.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let cfg = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {"secure": server}}}));
    McpManager::new(&cfg.unwrap())
}

async fn tools(m: &McpManager) -> Vec<Arc<dyn Tool>> {
    m.tools(&|_| true, &[]).await
}

/// The tools are listed over https and `echo` answers.
async fn lists_and_calls(m: &McpManager) {
    let tools = tools(m).await;
    let echo = tools.iter().find(|t| t.name() == "secure__echo").cloned();
    let Some(echo) = echo else {
        panic!("no secure__echo; status: {:?}", m.status().await)
    };
    let out = echo
        .execute(json!({"text": "over tls"}), ToolCallContext::detached("c1"))
        .await
        .map_err(|e| e.message)
        .unwrap();
    let text: Vec<_> = out.content.iter().filter_map(|b| b.as_text()).collect();
    assert_eq!(text, ["echo: over tls"]);
}

/// Runs `test` of this binary in a child process with `env` set; true in the child itself.
fn in_child(test: &str, env: &[(&str, &str)]) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .envs(env.iter().copied())
        .env_remove(if env.iter().any(|(k, _)| *k == "SSL_CERT_FILE") {
            "NODE_EXTRA_CA_CERTS"
        } else {
            "SSL_CERT_FILE"
        })
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "child {test} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test: {stdout}"
    );
    false
}

fn pki_dir() -> std::path::PathBuf {
    // Parent and child agree on the directory through the environment.
    match std::env::var_os("OPENCLAW_MCP_HTTPS_PKI") {
        Some(d) => d.into(),
        None => tempfile::tempdir().unwrap().keep(),
    }
}

#[tokio::test]
async fn a_private_ca_from_node_extra_ca_certs_is_trusted() {
    let dir = pki_dir();
    let (ca, _, _) = make_pki_once(&dir);
    let d = dir.to_string_lossy().into_owned();
    if !in_child(
        "a_private_ca_from_node_extra_ca_certs_is_trusted",
        &[("NODE_EXTRA_CA_CERTS", &ca), ("OPENCLAW_MCP_HTTPS_PKI", &d)],
    ) {
        return;
    }
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (mut server, port) = start_server(&cert.to_string_lossy(), &key.to_string_lossy());
    let m = manager(port, json!({}));
    lists_and_calls(&m).await;
    m.shutdown().await;
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn a_private_ca_from_ssl_cert_file_is_trusted() {
    let dir = pki_dir();
    let (ca, _, _) = make_pki_once(&dir);
    let d = dir.to_string_lossy().into_owned();
    if !in_child(
        "a_private_ca_from_ssl_cert_file_is_trusted",
        &[("SSL_CERT_FILE", &ca), ("OPENCLAW_MCP_HTTPS_PKI", &d)],
    ) {
        return;
    }
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (mut server, port) = start_server(&cert.to_string_lossy(), &key.to_string_lossy());
    let m = manager(port, json!({}));
    lists_and_calls(&m).await;
    m.shutdown().await;
    let _ = server.kill();
    let _ = server.wait();
}

/// The PKI of `dir`, made the first time (the parent makes it; the child finds it).
fn make_pki_once(dir: &Path) -> (String, String, String) {
    let ca = dir.join("ca.pem");
    if ca.exists() {
        let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
        return (p("ca.pem"), p("cert.pem"), p("key.pem"));
    }
    make_pki(dir)
}

#[tokio::test]
async fn an_untrusted_certificate_fails_at_once_naming_the_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_pki(dir.path());
    let (mut server, port) = start_server(&cert, &key);
    // Not trusted: neither the CA nor its certificate is in any store this process reads
    // (NODE_EXTRA_CA_CERTS / SSL_CERT_FILE point elsewhere only in the children above).
    let m = manager(port, json!({}));
    let started = Instant::now();
    assert!(tools(&m).await.is_empty());
    let status = m.status().await;
    let error = status[0].last_error.clone().unwrap_or_default();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(error.contains("certificate"), "{error}");
    assert!(error.contains("UnknownIssuer"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");
    m.shutdown().await;

    // sslVerify: false connects to the same server (OpenClaw's per-server escape hatch).
    let m = manager(port, json!({"sslVerify": false}));
    lists_and_calls(&m).await;
    m.shutdown().await;
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test]
async fn a_plain_http_client_cannot_reach_the_https_server_by_http() {
    // The scheme decides TLS: http:// to a TLS port is a clear failure, not a hang.
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_pki(dir.path());
    let (mut server, port) = start_server(&cert, &key);
    let cfg = McpConfig::from_openclaw_json(&json!({"mcp": {"servers": {"secure": {
        "url": format!("http://127.0.0.1:{port}/mcp"), "connectionTimeoutMs": 20000}}}}))
    .unwrap();
    let m = McpManager::new(&cfg);
    let started = Instant::now();
    assert!(tools(&m).await.is_empty());
    assert!(started.elapsed() < Duration::from_secs(15));
    assert!(m.status().await[0].last_error.is_some());
    m.shutdown().await;
    let _ = server.kill();
    let _ = server.wait();
}

/// A client certificate for `openclaw-rs` signed by a CA of its own: (client-ca.pem, cert, key).
fn make_client_pki(dir: &Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "client CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["openclaw-rs".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let path = |n: &str| dir.join(n).to_string_lossy().into_owned();
    std::fs::write(path("client-ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(path("client.pem"), cert.pem()).unwrap();
    std::fs::write(path("client-key.pem"), key.serialize_pem()).unwrap();
    (
        path("client-ca.pem"),
        path("client.pem"),
        path("client-key.pem"),
    )
}

#[tokio::test]
async fn a_server_requiring_a_client_certificate_gets_clientcert_and_clientkey() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_pki(dir.path());
    let (client_ca, client_cert, client_key) = make_client_pki(dir.path());
    let (mut server, port) = start_server_args(&["https", &cert, &key, &client_ca]);
    // Without the client certificate the server ends the connection (under TLS 1.3 the client
    // learns it as a closed stream, not as an alert): a failure at once, not a hang.
    let m = manager(port, json!({"sslVerify": false}));
    let started = Instant::now();
    assert!(tools(&m).await.is_empty());
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(m.status().await[0].last_error.is_some());
    m.shutdown().await;
    // With it, the tools are listed and called.
    let m = manager(
        port,
        json!({"sslVerify": false, "clientCert": client_cert, "clientKey": client_key}),
    );
    lists_and_calls(&m).await;
    m.shutdown().await;
    // Half a pair is refused by name.
    let m = manager(port, json!({"clientCert": "/x.pem"}));
    assert!(tools(&m).await.is_empty());
    let error = m.status().await[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("clientCert and clientKey"), "{error}");
    m.shutdown().await;
    let _ = server.kill();
    let _ = server.wait();
}
