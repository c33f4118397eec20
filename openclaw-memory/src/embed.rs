//! Embeddings from an OpenAI-compatible `POST <baseUrl>/embeddings` endpoint (`{model, input}`
//! → `{data: [{index, embedding}]}`), bounded: batches of [`BATCH`] inputs, a deadline per
//! request, a cap on the response size. Vectors are L2-normalised and stored as little-endian
//! f32 blobs.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::EmbeddingEndpoint;

/// Inputs per request.
pub const BATCH: usize = 64;
/// Characters of one input sent (a chunk is already bounded; this guards a query).
const MAX_INPUT_CHARS: usize = 8_000;
/// The largest response body read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;
/// The widest vector accepted.
const MAX_DIMS: usize = 16_384;

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: Vec<&'a str>,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

/// A failed embeddings call (the message never holds the API key).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embeddings from {provider} failed: {reason}")]
pub struct EmbedError {
    pub provider: String,
    pub reason: String,
}

/// A client for one endpoint.
#[derive(Clone)]
pub struct Embedder {
    endpoint: EmbeddingEndpoint,
    http: reqwest::Client,
    timeout: Duration,
}

impl Embedder {
    /// A client whose every request is given up after `timeout`.
    pub fn new(endpoint: EmbeddingEndpoint, timeout: Duration) -> Result<Self, EmbedError> {
        let http = reqwest::Client::builder()
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build()
            .map_err(|e| EmbedError {
                provider: endpoint.provider.clone(),
                reason: e.to_string(),
            })?;
        Ok(Embedder {
            endpoint,
            http,
            timeout,
        })
    }

    /// The model the vectors come from.
    pub fn model(&self) -> &str {
        &self.endpoint.model
    }

    /// The endpoint's provider id.
    pub fn provider(&self) -> &str {
        &self.endpoint.provider
    }

    fn err(&self, reason: impl Into<String>) -> EmbedError {
        EmbedError {
            provider: self.endpoint.provider.clone(),
            reason: reason.into(),
        }
    }

    /// The vectors of `texts` (at most [`BATCH`]), normalised, in order.
    pub async fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        if texts.len() > BATCH {
            return Err(self.err(format!(
                "{} inputs in one batch (at most {BATCH})",
                texts.len()
            )));
        }
        let body = Request {
            model: &self.endpoint.model,
            input: texts
                .iter()
                .map(|t| crate::chunk::cut(t, MAX_INPUT_CHARS))
                .collect(),
        };
        let url = format!("{}/embeddings", self.endpoint.base_url);
        let mut req = self.http.post(&url).json(&body);
        if let Some(key) = &self.endpoint.api_key {
            req = req.bearer_auth(key);
        }
        for (k, v) in &self.endpoint.headers {
            req = req.header(k, v);
        }
        let call = async {
            let mut resp = req.send().await.map_err(|e| self.err(redact(e)))?;
            let status = resp.status();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| self.err(redact(e)))? {
                if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                    return Err(self.err("the response is over 64 MiB"));
                }
                body.extend_from_slice(&chunk);
            }
            if !status.is_success() {
                let text = String::from_utf8_lossy(crate::chunk::cut_bytes(&body, 300));
                return Err(self.err(format!("HTTP {status}: {}", text.trim())));
            }
            Ok(body)
        };
        let body = tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| self.err(format!("no answer within {} s", self.timeout.as_secs())))??;
        let parsed: Response = serde_json::from_slice(&body)
            .map_err(|e| self.err(format!("the response is not an embeddings list: {e}")))?;
        if parsed.data.len() != texts.len() {
            return Err(self.err(format!(
                "{} vectors for {} inputs",
                parsed.data.len(),
                texts.len()
            )));
        }
        let mut out = vec![Vec::new(); texts.len()];
        for (i, item) in parsed.data.into_iter().enumerate() {
            let at = item.index.unwrap_or(i);
            let dims = item.embedding.len();
            if at >= out.len() || dims == 0 || dims > MAX_DIMS {
                return Err(self.err(format!("a malformed vector (index {at}, {dims} dims)")));
            }
            out[at] = normalize(item.embedding);
        }
        if out.iter().any(Vec::is_empty) {
            return Err(self.err("a vector is missing"));
        }
        Ok(out)
    }
}

/// reqwest's error without the URL's query (no secrets are in URLs here, but keep it short).
fn redact(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        e.without_url().to_string()
    }
}

fn normalize(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in &mut v {
            *x /= norm;
        }
    }
    v
}

/// A vector as a little-endian f32 blob.
pub fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The dot product of a normalised query and a stored blob (its cosine similarity); `None` when
/// the dimensions differ.
pub fn dot_blob(query: &[f32], blob: &[u8]) -> Option<f32> {
    if blob.len() != query.len() * 4 {
        return None;
    }
    let mut sum = 0.0f32;
    for (q, b) in query.iter().zip(blob.chunks_exact(4)) {
        sum += q * f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    Some(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_round_trip_into_cosine() {
        let v = normalize(vec![3.0, 4.0]);
        let blob = to_blob(&v);
        assert_eq!(blob.len(), 8);
        let d = dot_blob(&v, &blob).unwrap();
        assert!((d - 1.0).abs() < 1e-6);
        assert_eq!(dot_blob(&[1.0], &blob), None);
    }
}
