//! A real OpenAI-compatible `/v1/embeddings` server on a loopback port for tests and benches:
//! each input's vector is a deterministic hashed bag of its words (so texts sharing words are
//! similar), and it can be told to fail.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;

/// Dimensions of the vectors.
pub const DIMS: usize = 64;

#[derive(Default)]
struct Shared {
    fail: AtomicBool,
    calls: AtomicUsize,
    inputs: AtomicUsize,
}

/// A running server; dropped, it stops.
pub struct EmbeddingServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EmbeddingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EmbeddingServer {
    /// The base URL to configure (`http://127.0.0.1:<port>/v1`).
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
    /// From now on answer 500 (`true`) or vectors (`false`).
    pub fn set_failing(&self, fail: bool) {
        self.shared.fail.store(fail, Ordering::SeqCst);
    }
    /// Requests answered so far.
    pub fn calls(&self) -> usize {
        self.shared.calls.load(Ordering::SeqCst)
    }
    /// Inputs embedded so far.
    pub fn inputs(&self) -> usize {
        self.shared.inputs.load(Ordering::SeqCst)
    }
}

#[derive(Deserialize)]
struct Req {
    #[allow(dead_code)]
    model: String,
    input: Vec<String>,
}

/// The vector of `text`.
pub fn vector_of(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIMS];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let w = word.to_lowercase();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in w.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        v[(h % DIMS as u64) as usize] += 1.0;
    }
    v
}

async fn embeddings(State(s): State<Arc<Shared>>, Json(req): Json<Req>) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    if s.fail.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "embedding backend down").into_response();
    }
    s.inputs.fetch_add(req.input.len(), Ordering::SeqCst);
    let data: Vec<_> = req
        .input
        .iter()
        .enumerate()
        .map(|(i, t)| json!({"object": "embedding", "index": i, "embedding": vector_of(t)}))
        .collect();
    Json(json!({"object": "list", "data": data, "model": "test-embed"})).into_response()
}

/// Starts a server on 127.0.0.1 (an ephemeral port).
pub async fn start() -> std::io::Result<EmbeddingServer> {
    let shared = Arc::new(Shared::default());
    let app = axum::Router::new()
        .route("/v1/embeddings", post(embeddings))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(EmbeddingServer { addr, shared, task })
}
