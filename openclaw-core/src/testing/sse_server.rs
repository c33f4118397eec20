//! A loopback HTTP server that replays recorded SSE byte streams, for provider tests.
//!
//! Each request gets the next scripted [`Reply`] (the last one repeats): an SSE body sent as
//! the given byte chunks (so tests can split inside a UTF-8 character or an SSE line), an HTTP
//! status with a body, or a stream that stops and holds the connection open or closes it
//! mid-message. The server records every request and notices when a client hangs up early.
//! [`SseServer::start_fn`] instead computes each reply from its request and records nothing
//! (only counts), for long benchmark runs.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use tokio::sync::Notify;

/// One scripted response.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `200 text/event-stream`, written chunk by chunk with `delay` between chunks; with
    /// `hold_open` the body then stays open until the client goes away, otherwise it ends
    /// (a body that ends before the API's final event is a "closed mid-stream" case).
    Sse {
        chunks: Vec<Vec<u8>>,
        delay: Duration,
        hold_open: bool,
    },
    /// A status code with a body (JSON error bodies, 429s…).
    Status {
        code: u16,
        body: String,
        content_type: String,
    },
}

impl Reply {
    /// An SSE body sent as the given chunks, without delay.
    pub fn sse<I, C>(chunks: I) -> Reply
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        Reply::Sse {
            chunks: chunks.into_iter().map(Into::into).collect(),
            delay: Duration::ZERO,
            hold_open: false,
        }
    }

    /// A JSON body with `code`.
    pub fn json(code: u16, body: &str) -> Reply {
        Reply::Status {
            code,
            body: body.to_owned(),
            content_type: "application/json".to_owned(),
        }
    }
}

/// Split `data` into pieces of at most `size` bytes (cutting anywhere, even inside a UTF-8
/// character or an SSE line).
pub fn split_every(data: &[u8], size: usize) -> Vec<Vec<u8>> {
    data.chunks(size.max(1)).map(<[u8]>::to_vec).collect()
}

/// One request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RecordedRequest {
    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Computes a reply from a request (see [`SseServer::start_fn`]).
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

#[derive(Default)]
struct Shared {
    replies: Mutex<Vec<Reply>>,
    responder: Option<Responder>,
    served: std::sync::atomic::AtomicUsize,
    requests: Mutex<Vec<RecordedRequest>>,
    disconnects: Mutex<usize>,
    disconnected: Notify,
}

/// The running server; it stops when dropped.
pub struct SseServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SseServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Marks a body dropped before it ended (the client closed the connection).
struct HangupGuard {
    shared: Arc<Shared>,
    completed: bool,
}

impl Drop for HangupGuard {
    fn drop(&mut self) {
        if !self.completed {
            if let Ok(mut n) = self.shared.disconnects.lock() {
                *n += 1;
            }
            self.shared.disconnected.notify_waiters();
            self.shared.disconnected.notify_one();
        }
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = if let Some(responder) = &shared.responder {
        shared
            .served
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Some(responder(&RecordedRequest {
            path: uri.to_string(),
            headers,
            body,
        }))
    } else {
        let mut requests = crate::sync::lock(&shared.requests);
        requests.push(RecordedRequest {
            path: uri.to_string(),
            headers,
            body,
        });
        let replies = crate::sync::lock(&shared.replies);
        let n = requests.len() - 1;
        replies.get(n).or_else(|| replies.last()).cloned()
    };
    match reply {
        None => status_response(
            404,
            "{\"error\":{\"message\":\"no scripted reply\"}}",
            "application/json",
        ),
        Some(Reply::Status {
            code,
            body,
            content_type,
        }) => status_response(code, &body, &content_type),
        Some(Reply::Sse {
            chunks,
            delay,
            hold_open,
        }) => {
            let guard = HangupGuard {
                shared: shared.clone(),
                completed: false,
            };
            let stream = futures::stream::unfold(
                (chunks.into_iter(), guard, delay, hold_open),
                |(mut it, mut guard, delay, hold)| async move {
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    match it.next() {
                        Some(c) => Some((
                            Ok::<_, Infallible>(Bytes::from(c)),
                            (it, guard, delay, hold),
                        )),
                        None if hold => {
                            futures::future::pending::<()>().await;
                            None
                        }
                        None => {
                            guard.completed = true;
                            drop(guard);
                            None
                        }
                    }
                },
            );
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/event-stream")
                .header("cache-control", "no-cache")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| Response::new(Body::empty()))
        }
    }
}

fn status_response(code: u16, body: &str, content_type: &str) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", content_type)
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

impl SseServer {
    /// Start on a free loopback port with the scripted replies.
    pub async fn start(replies: Vec<Reply>) -> std::io::Result<SseServer> {
        let shared = Arc::new(Shared {
            replies: Mutex::new(replies),
            ..Default::default()
        });
        Self::serve(shared).await
    }

    /// Start on a free loopback port answering each request with `responder(request)`.
    /// Requests are counted but not kept ([`SseServer::requests`] stays empty).
    pub async fn start_fn<F>(responder: F) -> std::io::Result<SseServer>
    where
        F: Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            responder: Some(Arc::new(responder)),
            ..Default::default()
        });
        Self::serve(shared).await
    }

    async fn serve(shared: Arc<Shared>) -> std::io::Result<SseServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SseServer { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().map(|r| r.len()).unwrap_or(0)
            + self
                .shared
                .served
                .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// How many SSE bodies were abandoned by the client before they ended.
    pub fn disconnects(&self) -> usize {
        self.shared.disconnects.lock().map(|n| *n).unwrap_or(0)
    }

    /// Wait until a client hung up on an SSE body (true) or `timeout` passed (false).
    pub async fn wait_disconnect(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.shared.disconnected.notified();
                if self.disconnects() > 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn start_fn_answers_from_the_request_and_only_counts() {
        let server = SseServer::start_fn(|req| {
            let said = req.json()["say"].as_str().unwrap_or("?").to_owned();
            Reply::sse([format!("data: {said}\n\n")])
        })
        .await
        .unwrap();
        let client = reqwest::Client::new();
        for word in ["one", "two"] {
            let body = client
                .post(format!("{}/v1/x", server.url()))
                .body(format!("{{\"say\":\"{word}\"}}"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(body, format!("data: {word}\n\n"));
        }
        assert_eq!(server.request_count(), 2);
        assert!(server.requests().is_empty());
    }
}
