//! HTTP on the gateway port (bearer auth is in front): `POST /v1/chat/completions` (OpenAI
//! Chat Completions, stream and not), `POST /v1/responses` (OpenAI Responses), `GET /v1/models`;
//! `POST /tools/invoke` is routed here and served by [`super::tools_invoke`]. `model` names an agent: `openclaw`, `openclaw/<agentId>`,
//! `openclaw:<agentId>` or `agent:<agentId>`. A request is its own session unless `user` (or the
//! `x-openclaw-session-key` header) names one. The bodies are typed in [`super::http_body`]: a
//! field we do not act on is refused with a 400 naming it before any run starts. Streamed text
//! comes through the run's bounded tap ([`super::tap`]); `usage` is the run's last model call.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Core;
use super::http_body::{ChatBody, Refusal, ResponsesBody, Turn};
use super::live::RunSpec;
use super::overrides::RunOptions;
use super::run::{RunHandle, TurnRequest, outcome_of, spawn_run};
use super::runs::Outcome;
use super::tap::{Received, TAP_CAPACITY, Tap};
use crate::state::now_ms;

pub(crate) fn router(core: Arc<Core>) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat_completions))
        .route("/v1/responses", post(responses))
        .route("/v1/models", get(models))
        .route("/tools/invoke", post(super::tools_invoke::tools_invoke))
        .layer(DefaultBodyLimit::max(20 * 1024 * 1024))
        .with_state(core)
}

fn error(status: StatusCode, kind: &str, message: impl Into<String>) -> Response {
    let body = json!({"error": {"message": message.into(), "type": kind}});
    (status, axum::Json(body)).into_response()
}

/// A refused or malformed body: OpenAI's error shape with `param`.
fn refused(r: Refusal) -> Response {
    let body = json!({"error": {"message": r.message, "type": "invalid_request_error",
        "param": r.param}});
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// Parses a typed body; a body that does not fit is a 400 saying where.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice::<T>(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            format!("the body is not a valid request: {e}"),
        ))
    })
}

/// Token counts of a run as OpenAI names them (`prompt`/`completion` or `input`/`output`).
fn usage_of(o: &Outcome, input: &str, output: &str) -> Value {
    let u = o.usage.unwrap_or_default();
    json!({input: u.input + u.cache_read + u.cache_write, output: u.output,
        "total_tokens": u.total_tokens})
}

fn endpoint_enabled(core: &Core, name: &str) -> bool {
    core.settings()
        .config
        .pointer(&format!("/gateway/http/endpoints/{name}/enabled"))
        .and_then(Value::as_bool)
        != Some(false)
}

/// The agent a `model` names.
fn agent_of(core: &Core, model: &str) -> Option<String> {
    let id = match model {
        "openclaw" | "openclaw/default" => core.default_agent(),
        m => m
            .strip_prefix("openclaw/")
            .or_else(|| m.strip_prefix("openclaw:"))
            .or_else(|| m.strip_prefix("agent:"))?
            .to_owned(),
    };
    core.agent(&id).map(|a| a.id)
}

struct Prepared {
    agent: String,
    key: String,
    model: String,
    prompt: String,
    /// `system`/`developer` messages: the run's extra system prompt.
    system: Option<String>,
    stream: bool,
}

/// What both endpoints take from a body: `model`, `user`, `stream`.
struct Asked<'a> {
    model: Option<&'a str>,
    user: Option<&'a str>,
    stream: bool,
}

fn prepare(
    core: &Core,
    headers: &HeaderMap,
    asked: Asked<'_>,
    turn: Turn,
) -> Result<Prepared, Box<Response>> {
    let Turn {
        message: prompt,
        system,
    } = turn;
    let model = asked.model.unwrap_or("openclaw").to_owned();
    let agent = headers
        .get("x-openclaw-agent-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| agent_of(core, &model))
        .filter(|a| core.agent(a).is_some())
        .ok_or_else(|| {
            Box::new(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("unknown model \"{model}\": use openclaw or openclaw/<agentId>"),
            ))
        })?;
    if prompt.trim().is_empty() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "no user message to send",
        )
        .into());
    }
    let key = match headers
        .get("x-openclaw-session-key")
        .and_then(|v| v.to_str().ok())
    {
        Some(k)
            if ["subagent:", "cron:", "acp:"]
                .iter()
                .any(|p| k.starts_with(p)) =>
        {
            return Err(error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                format!("session key prefix of \"{k}\" is reserved"),
            )
            .into());
        }
        Some(k) => core.canonical_key(k, Some(&agent)).0,
        None => match asked.user {
            Some(u) => format!("agent:{agent}:openai-user:{u}"),
            None => format!("agent:{agent}:openai:{}", uuid::Uuid::new_v4()),
        },
    };
    Ok(Prepared {
        agent,
        key,
        model,
        prompt,
        system,
        stream: asked.stream,
    })
}

/// Starts the run; returns the text deltas and the outcome.
fn launch(core: &Arc<Core>, p: &Prepared) -> (mpsc::Receiver<Tap>, RunHandle) {
    let (tx, rx) = mpsc::channel(TAP_CAPACITY);
    let live = core.live_for(&p.key, &p.agent);
    let done = spawn_run(
        core,
        live,
        TurnRequest {
            spec: RunSpec {
                run_id: uuid::Uuid::new_v4().to_string(),
                origin: None,
                channel: super::live::CHANNEL_HTTP,
                admin: false,
                depth: 0,
                chain: Vec::new(),
                tap: Some(tx),
            },
            message: p.prompt.clone(),
            options: RunOptions {
                extra_system_prompt: p.system.clone(),
                ..RunOptions::default()
            },
            timeout: None,
            gate: None,
            heartbeat_ack: None,
        },
    );
    (rx, done)
}

fn sse_response(rx: mpsc::Receiver<Result<Bytes, Infallible>>) -> Response {
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|x| (x, rx)) });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                "stream setup failed",
            )
        })
}

fn data_line(v: &Value) -> Result<Bytes, Infallible> {
    Ok(Bytes::from(format!("data: {v}\n\n")))
}

async fn chat_completions(
    State(core): State<Arc<Core>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !endpoint_enabled(&core, "chatCompletions") {
        return error(StatusCode::NOT_FOUND, "not_found", "Not Found");
    }
    let body: ChatBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let (prompt, include_usage) = match body.validate() {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let asked = Asked {
        model: body.model.as_deref(),
        user: body.user.as_deref(),
        stream: body.stream == Some(true),
    };
    let p = match prepare(&core, &headers, asked, prompt) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let id = format!("chatcmpl-{}", uuid::Uuid::new_v4().simple());
    let created = now_ms() / 1000;
    let (mut deltas, done) = launch(&core, &p);
    let finish_of = |o: &Outcome| {
        if o.stop_reason == "length" {
            "length"
        } else {
            "stop"
        }
    };
    if !p.stream {
        while deltas.recv().await.is_some() {}
        return match outcome_of(done).await {
            Some(o) if o.status == "ok" => axum::Json(json!({
                "id": id, "object": "chat.completion", "created": created, "model": p.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": o.text},
                    "logprobs": null, "finish_reason": finish_of(&o)}],
                "usage": usage_of(&o, "prompt_tokens", "completion_tokens"),
            }))
            .into_response(),
            o => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                o.and_then(|o| o.error.or(Some(o.status.to_owned())))
                    .unwrap_or_else(|| "run failed".into()),
            ),
        };
    }
    let (tx, rx) = mpsc::channel(64);
    let model = p.model.clone();
    tokio::spawn(async move {
        let chunk = |delta: Value, finish: Value| {
            json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
        };
        let _ = tx
            .send(data_line(&chunk(
                json!({"role": "assistant", "content": ""}),
                Value::Null,
            )))
            .await;
        let mut got = Received::default();
        while let Some(tap) = deltas.recv().await {
            if let Some(d) = got.take(tap) {
                let _ = tx
                    .send(data_line(&chunk(json!({"content": d}), Value::Null)))
                    .await;
            }
        }
        let outcome = outcome_of(done).await;
        if let Some(rest) = outcome.as_ref().and_then(|o| got.missing(&o.text)) {
            let _ = tx
                .send(data_line(&chunk(json!({"content": rest}), Value::Null)))
                .await;
        }
        let finish = outcome.as_ref().map_or("stop", finish_of);
        let _ = tx.send(data_line(&chunk(json!({}), json!(finish)))).await;
        if include_usage && let Some(o) = &outcome {
            let mut last = chunk(json!({}), Value::Null);
            last["choices"] = json!([]);
            last["usage"] = usage_of(o, "prompt_tokens", "completion_tokens");
            let _ = tx.send(data_line(&last)).await;
        }
        let _ = tx.send(Ok(Bytes::from_static(b"data: [DONE]\n\n"))).await;
    });
    sse_response(rx)
}

async fn responses(State(core): State<Arc<Core>>, headers: HeaderMap, body: Bytes) -> Response {
    if !endpoint_enabled(&core, "responses") {
        return error(StatusCode::NOT_FOUND, "not_found", "Not Found");
    }
    let body: ResponsesBody = match parse(&body) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let prompt = match body.validate() {
        Ok(v) => v,
        Err(r) => return refused(r),
    };
    let asked = Asked {
        model: body.model.as_deref(),
        user: body.user.as_deref(),
        stream: body.stream == Some(true),
    };
    let p = match prepare(&core, &headers, asked, prompt) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let resp_id = format!("resp_{}", uuid::Uuid::new_v4().simple());
    let msg_id = format!("msg_{}", uuid::Uuid::new_v4().simple());
    let created = now_ms() / 1000;
    let (mut deltas, done) = launch(&core, &p);
    let model = p.model.clone();
    // `usage` is null until the run ends, as OpenAI's in-progress responses have it.
    let response = move |status: &str, output: Value, outcome: Option<&Outcome>| {
        json!({
        "id": resp_id, "object": "response", "created_at": created, "status": status,
        "model": model, "output": output,
        "usage": outcome.map(|o| usage_of(o, "input_tokens", "output_tokens"))})
    };
    let part = |text: &str| json!({"type": "output_text", "text": text, "annotations": []});
    let item_id = msg_id.clone();
    let item = move |status: &str, content: Value| {
        json!({"type": "message", "id": item_id,
        "status": status, "role": "assistant", "content": content})
    };
    if !p.stream {
        while deltas.recv().await.is_some() {}
        return match outcome_of(done).await {
            Some(o) if o.status == "ok" => axum::Json(response(
                "completed",
                json!([item("completed", json!([part(&o.text)]))]),
                Some(&o),
            ))
            .into_response(),
            o => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_error",
                o.and_then(|o| o.error)
                    .unwrap_or_else(|| "run failed".into()),
            ),
        };
    }
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(async move {
        let mut seq = 0u64;
        let mut send = async |name: &str, mut data: Value| {
            data["type"] = json!(name);
            data["sequence_number"] = json!(seq);
            seq += 1;
            let _ = tx
                .send(Ok(Bytes::from(format!("event: {name}\ndata: {data}\n\n"))))
                .await;
        };
        send(
            "response.created",
            json!({"response": response("in_progress", json!([]), None)}),
        )
        .await;
        send(
            "response.in_progress",
            json!({"response": response("in_progress", json!([]), None)}),
        )
        .await;
        send(
            "response.output_item.added",
            json!({"output_index": 0, "item": item("in_progress", json!([]))}),
        )
        .await;
        send(
            "response.content_part.added",
            json!({"item_id": msg_id, "output_index": 0,
            "content_index": 0, "part": part("")}),
        )
        .await;
        let mut got = Received::default();
        while let Some(tap) = deltas.recv().await {
            if let Some(d) = got.take(tap) {
                send(
                    "response.output_text.delta",
                    json!({"item_id": msg_id, "output_index": 0,
                    "content_index": 0, "delta": d}),
                )
                .await;
            }
        }
        let outcome = outcome_of(done).await;
        if let Some(o) = outcome.as_ref().filter(|o| o.status == "ok") {
            if let Some(rest) = got.missing(&o.text) {
                send(
                    "response.output_text.delta",
                    json!({"item_id": msg_id, "output_index": 0,
                    "content_index": 0, "delta": rest}),
                )
                .await;
            }
            let text = o.text.clone();
            send(
                "response.output_text.done",
                json!({"item_id": msg_id, "output_index": 0,
                "content_index": 0, "text": text}),
            )
            .await;
            send(
                "response.content_part.done",
                json!({"item_id": msg_id, "output_index": 0,
                "content_index": 0, "part": part(&text)}),
            )
            .await;
            send(
                "response.output_item.done",
                json!({"output_index": 0,
                "item": item("completed", json!([part(&text)]))}),
            )
            .await;
            send(
                "response.completed",
                json!({"response": response("completed",
                json!([item("completed", json!([part(&text)]))]), Some(o))}),
            )
            .await;
        } else {
            let mut r = response("failed", json!([]), outcome.as_ref());
            r["error"] = json!({"code": "server_error", "message":
                outcome.and_then(|o| o.error).unwrap_or_else(|| "run failed".into())});
            send("response.failed", json!({"response": r})).await;
        }
    });
    sse_response(rx)
}

async fn models(State(core): State<Arc<Core>>) -> Response {
    let data: Vec<Value> = core
        .settings()
        .roster
        .agents
        .iter()
        .map(|a| json!({"id": format!("openclaw/{}", a.id), "object": "model", "created": 0, "owned_by": "openclaw"}))
        .chain(std::iter::once(json!({"id": "openclaw", "object": "model", "created": 0, "owned_by": "openclaw"})))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}
