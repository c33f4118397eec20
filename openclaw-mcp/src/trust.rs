//! What an `https://` MCP server is trusted by, beyond the bundled webpki roots reqwest always
//! has: the system's certificate store (rustls-native-certs: `SSL_CERT_FILE` / `SSL_CERT_DIR`
//! honoured as OpenSSL does) and the PEM file named by `NODE_EXTRA_CA_CERTS` (how OpenClaw's
//! Node users trust a private CA); and a server's `clientCert` / `clientKey` pair (mutual TLS,
//! OpenClaw's per-server options). A system certificate rustls cannot parse is skipped (stores
//! carry ancient ones); an unreadable or certificate-less `NODE_EXTRA_CA_CERTS` is an error
//! naming it, not a silent "no private CA".

use std::sync::OnceLock;

use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The system's roots, loaded once per process (the store does not change under a running
/// gateway; reading it per connection would cost a file scan each time).
fn system_roots() -> &'static [reqwest::Certificate] {
    static ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let loaded = rustls_native_certs::load_native_certs();
        let mut scratch = rustls::RootCertStore::empty();
        loaded
            .certs
            .into_iter()
            .filter(|c| scratch.add(c.clone()).is_ok())
            .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok())
            .collect()
    })
}

/// The certificates of one PEM file (`what` names it in errors).
fn pem_certs(path: &str, what: &str) -> Result<Vec<reqwest::Certificate>, String> {
    let data = std::fs::read(path).map_err(|e| format!("{what} {path}: {e}"))?;
    let mut out = Vec::new();
    let mut scratch = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert.map_err(|e| format!("{what} {path}: not PEM certificates ({e})"))?;
        scratch
            .add(cert.clone())
            .map_err(|e| format!("{what} {path}: a certificate rustls cannot use ({e})"))?;
        out.push(
            reqwest::Certificate::from_der(cert.as_ref())
                .map_err(|e| format!("{what} {path}: {e}"))?,
        );
    }
    if out.is_empty() {
        return Err(format!("{what} {path}: no PEM certificate in it"));
    }
    Ok(out)
}

/// The roots an https server is checked against besides the webpki bundle.
pub(crate) fn extra_roots() -> Result<Vec<reqwest::Certificate>, String> {
    let mut roots = system_roots().to_vec();
    if let Some(path) = std::env::var_os("NODE_EXTRA_CA_CERTS") {
        let path = path.to_string_lossy();
        if !path.trim().is_empty() {
            roots.extend(pem_certs(&path, "NODE_EXTRA_CA_CERTS")?);
        }
    }
    Ok(roots)
}

/// A client certificate (PEM chain) and its private key (PEM) for mutual TLS.
pub(crate) fn identity(cert: &str, key: &str) -> Result<reqwest::Identity, String> {
    let mut pem = std::fs::read(cert).map_err(|e| format!("clientCert {cert}: {e}"))?;
    pem.push(b'\n');
    pem.extend(std::fs::read(key).map_err(|e| format!("clientKey {key}: {e}"))?);
    reqwest::Identity::from_pem(&pem)
        .map_err(|e| format!("clientCert/clientKey: not a PEM certificate and key ({e})"))
}
