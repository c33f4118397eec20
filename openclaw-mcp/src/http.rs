//! The streamable HTTP transport of a remote server (`http://` or `https://`): rmcp's
//! `StreamableHttpClient` implemented over the workspace's reqwest (rustls with ring, the one TLS
//! stack of the gateway), so a server is trusted as OpenClaw users expect: the bundled webpki
//! roots, the system's roots (`SSL_CERT_FILE` / `SSL_CERT_DIR` honoured), a private CA from
//! `NODE_EXTRA_CA_CERTS` (what OpenClaw's users set for Node), and per server OpenClaw's
//! `sslVerify: false`, `clientCert` and `clientKey`. The configured `headers` go with every
//! request (an `Authorization: Bearer …` header becomes rmcp's auth header); header values never
//! reach the log. A transport error names its cause (the certificate problem, the refused
//! connection), not only "error sending request".

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use http::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, JsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::common::http_header::{
    EVENT_STREAM_MIME_TYPE, HEADER_LAST_EVENT_ID, HEADER_SESSION_ID, JSON_MIME_TYPE,
};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, SseError, StreamableHttpClient, StreamableHttpClientTransportConfig,
    StreamableHttpError, StreamableHttpPostResponse,
};
use sse_stream::{Sse, SseStream};

use crate::config::ServerConfig;

/// Headers the transport sets itself; a configured one of these names is refused.
const RESERVED: [&str; 3] = ["accept", HEADER_SESSION_ID, HEADER_LAST_EVENT_ID];

/// A non-success body is read at most this far into an error message.
const ERROR_BODY_LIMIT: usize = 2048;

/// A transport failure with its whole cause chain in one line.
#[derive(Debug)]
pub struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

impl From<reqwest::Error> for HttpError {
    fn from(e: reqwest::Error) -> Self {
        HttpError(describe(&e))
    }
}

type HttpResult<T> = Result<T, StreamableHttpError<HttpError>>;

fn client_error(e: reqwest::Error) -> StreamableHttpError<HttpError> {
    StreamableHttpError::Client(e.into())
}

/// reqwest's error and its sources, deduplicated ("error sending request for url (…): client
/// error (Connect): invalid peer certificate: UnknownIssuer"), with a hint for a certificate
/// the client does not trust.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = err.source();
    }
    let mut line = parts.join(": ");
    let lower = line.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("handshake") {
        line.push_str(
            " (TLS: the server's certificate is not trusted; trust its CA with SSL_CERT_FILE or \
             NODE_EXTRA_CA_CERTS, or set sslVerify: false for this server)",
        );
    }
    line
}

/// The configured headers on a request; rmcp's own (session, accept) cannot be overridden.
fn with_headers(
    mut builder: reqwest::RequestBuilder,
    headers: HashMap<HeaderName, HeaderValue>,
) -> HttpResult<reqwest::RequestBuilder> {
    for (name, value) in headers {
        if RESERVED
            .iter()
            .any(|r| name.as_str().eq_ignore_ascii_case(r))
        {
            return Err(StreamableHttpError::ReservedHeaderConflict(
                name.to_string(),
            ));
        }
        builder = builder.header(name, value);
    }
    Ok(builder)
}

fn content_type(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get(CONTENT_TYPE)
        .map(|ct| String::from_utf8_lossy(ct.as_bytes()).into_owned())
}

/// The workspace's reqwest client as rmcp's HTTP client.
#[derive(Clone)]
pub struct HttpClient(reqwest::Client);

impl StreamableHttpClient for HttpClient {
    type Error = HttpError;

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        last_event_id: Option<String>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<BoxStream<'static, Result<Sse, SseError>>> {
        let mut request = self
            .0
            .get(uri.as_ref())
            .header(ACCEPT, [EVENT_STREAM_MIME_TYPE, JSON_MIME_TYPE].join(", "))
            .header(HEADER_SESSION_ID, session_id.as_ref());
        if let Some(id) = last_event_id {
            request = request.header(HEADER_LAST_EVENT_ID, id);
        }
        if let Some(token) = auth_token {
            request = request.bearer_auth(token);
        }
        let response = with_headers(request, custom_headers)?
            .send()
            .await
            .map_err(client_error)?;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Err(StreamableHttpError::ServerDoesNotSupportSse);
        }
        let response = response.error_for_status().map_err(client_error)?;
        match content_type(&response) {
            Some(ct)
                if ct.starts_with(EVENT_STREAM_MIME_TYPE) || ct.starts_with(JSON_MIME_TYPE) => {}
            other => return Err(StreamableHttpError::UnexpectedContentType(other)),
        }
        Ok(SseStream::from_bytes_stream(response.bytes_stream()).boxed())
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session: Arc<str>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<()> {
        let mut request = self
            .0
            .delete(uri.as_ref())
            .header(HEADER_SESSION_ID, session.as_ref());
        if let Some(token) = auth_token {
            request = request.bearer_auth(token);
        }
        let response = with_headers(request, custom_headers)?
            .send()
            .await
            .map_err(client_error)?;
        if response.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(());
        }
        response.error_for_status().map_err(client_error)?;
        Ok(())
    }

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_token: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> HttpResult<StreamableHttpPostResponse> {
        let mut request = self
            .0
            .post(uri.as_ref())
            .header(ACCEPT, [EVENT_STREAM_MIME_TYPE, JSON_MIME_TYPE].join(", "));
        if let Some(token) = auth_token {
            request = request.bearer_auth(token);
        }
        let session_attached = session_id.is_some();
        if let Some(id) = session_id {
            request = request.header(HEADER_SESSION_ID, id.as_ref());
        }
        let response = with_headers(request, custom_headers)?
            .json(&message)
            .send()
            .await
            .map_err(client_error)?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED {
            if let Some(header) = response.headers().get(WWW_AUTHENTICATE) {
                return Err(StreamableHttpError::AuthRequired(AuthRequiredError::new(
                    String::from_utf8_lossy(header.as_bytes()).into_owned(),
                )));
            }
        }
        if matches!(status, StatusCode::ACCEPTED | StatusCode::NO_CONTENT) {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_attached {
            return Err(StreamableHttpError::SessionExpired);
        }
        let ct = content_type(&response);
        let session = response
            .headers()
            .get(HEADER_SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Some servers answer a notification with an empty 200 rather than 202.
        if status.is_success()
            && response.content_length() == Some(0)
            && !matches!(message, ClientJsonRpcMessage::Request(_))
        {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if !status.is_success() {
            return error_response(response, status, ct, session).await;
        }
        match ct.as_deref() {
            Some(ct) if ct.starts_with(EVENT_STREAM_MIME_TYPE) => {
                Ok(StreamableHttpPostResponse::Sse(
                    SseStream::from_bytes_stream(response.bytes_stream()).boxed(),
                    session,
                ))
            }
            Some(ct) if ct.starts_with(JSON_MIME_TYPE) => {
                match response.json::<ServerJsonRpcMessage>().await {
                    Ok(m) => Ok(StreamableHttpPostResponse::Json(m, session)),
                    // A malformed answer to a notification is as good as accepted (rmcp's own
                    // client does the same).
                    Err(_) => Ok(StreamableHttpPostResponse::Accepted),
                }
            }
            _ => Err(StreamableHttpError::UnexpectedContentType(ct)),
        }
    }
}

/// A non-success answer: a JSON-RPC error in it is the call's answer; anything else is an error
/// naming the status and the start of the body.
async fn error_response(
    response: reqwest::Response,
    status: StatusCode,
    ct: Option<String>,
    session: Option<String>,
) -> HttpResult<StreamableHttpPostResponse> {
    let body = response.text().await.unwrap_or_default();
    if ct.as_deref().is_some_and(|c| c.starts_with(JSON_MIME_TYPE)) {
        if let Ok(m @ JsonRpcMessage::Error(_)) =
            serde_json::from_str::<ServerJsonRpcMessage>(&body)
        {
            return Ok(StreamableHttpPostResponse::Json(m, session));
        }
    }
    let mut end = body.len().min(ERROR_BODY_LIMIT);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    Err(StreamableHttpError::UnexpectedServerResponse(Cow::Owned(
        format!("HTTP {status}: {}", &body[..end]),
    )))
}

/// The client for one server: trust roots, `sslVerify`, the client certificate; no redirects
/// (the configured headers must not follow one to another host), no idle pool (rmcp's choice:
/// a half-read response body stalls a reused connection), connects bounded by the server's
/// connection timeout.
pub(crate) fn client(cfg: &ServerConfig) -> Result<HttpClient, String> {
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(cfg.connect_timeout());
    if cfg
        .url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        if cfg.ssl_verify == Some(false) {
            builder = builder.danger_accept_invalid_certs(true);
        } else {
            for cert in crate::trust::extra_roots()? {
                builder = builder.add_root_certificate(cert);
            }
        }
        match (&cfg.client_cert, &cfg.client_key) {
            (Some(cert), Some(key)) => {
                builder = builder.identity(crate::trust::identity(cert, key)?);
            }
            (None, None) => {}
            _ => return Err("clientCert and clientKey must be set together".into()),
        }
    }
    builder
        .build()
        .map(HttpClient)
        .map_err(|e| format!("the HTTP client could not be built: {}", describe(&e)))
}

/// The transport's configuration (`Err` names a bad url or header).
pub(crate) fn config(cfg: &ServerConfig) -> Result<StreamableHttpClientTransportConfig, String> {
    let url = cfg.url.clone().unwrap_or_default();
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(format!(
            "url must be http:// or https:// (got {})",
            crate::config::redact_url(&url)
        ));
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    let mut headers = HashMap::new();
    for (k, v) in &cfg.headers {
        if k.eq_ignore_ascii_case("authorization") {
            let token = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v);
            config = config.auth_header(token.to_owned());
            continue;
        }
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("headers: \"{k}\" is not a valid header name"))?;
        if RESERVED.iter().any(|r| k.eq_ignore_ascii_case(r)) {
            return Err(format!(
                "headers: \"{k}\" is set by the MCP transport itself"
            ));
        }
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("headers.{k}: not a valid header value"))?;
        headers.insert(name, value);
    }
    Ok(config.custom_headers(headers))
}
