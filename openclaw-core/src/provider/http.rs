//! Shared HTTP + SSE plumbing for the wire APIs: sending the request, turning HTTP failures
//! into pi-style error texts, framing the body with `eventsource-stream`, feeding each SSE
//! event to an API-specific [`SseDecoder`], and aborting at once on cancellation (dropping the
//! body closes the connection).

use std::pin::pin;

use bytes::Bytes;
use eventsource_stream::Eventsource;
use futures::future::{Either, select};
use futures::stream::{self, BoxStream, Stream, StreamExt};

use super::StreamEvent;
use crate::cancel::CancellationToken;
use crate::message::StopReason;

/// pi's text for a cancelled request.
pub const ABORTED_MESSAGE: &str = "Request was aborted";

/// An incremental, synchronous decoder of one wire API's SSE events.
pub trait SseDecoder: Send + 'static {
    /// Handle one SSE event (`event` is `message` when the server sent no `event:` line).
    fn on_event(&mut self, event: &str, data: &str, out: &mut Vec<StreamEvent>);
    /// The body ended: emit whatever closes the message (exactly one `Done`/`Error` overall).
    fn on_end(&mut self, out: &mut Vec<StreamEvent>);
    /// Whether a final `Done`/`Error` was already emitted (the rest of the body is ignored).
    fn is_finished(&self) -> bool;
}

/// How an API's SDK words an HTTP error (pi shows the SDK's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// OpenAI SDK: `<status> <error.message>` (or the body when it has no message).
    OpenAi,
    /// Anthropic SDK: `<status> <whole JSON body>`.
    Anthropic,
    /// Google: `<status> <error.message>`.
    Google,
}

/// The error text for an HTTP failure with `status` and response `body`.
pub fn http_error_message(style: ErrorStyle, status: u16, body: &str) -> String {
    let trimmed = body.trim();
    let parsed: Option<serde_json::Value> = serde_json::from_str(trimmed).ok();
    let detail = match (style, &parsed) {
        (ErrorStyle::OpenAi | ErrorStyle::Google, Some(v)) => v
            .get("error")
            .and_then(|e| e.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .or_else(|| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| trimmed.to_owned()),
        (ErrorStyle::Anthropic, Some(v)) => v.to_string(),
        (_, None) if trimmed.is_empty() => "status code (no body)".to_owned(),
        (_, None) => trimmed.to_owned(),
    };
    format!("{status} {detail}")
}

/// Decode an in-memory or network byte stream with `decoder` (no HTTP): the building block of
/// [`send_and_decode`], exposed for tests and benches.
pub fn decode_bytes<S, E, D>(
    body: S,
    decoder: D,
    cancel: CancellationToken,
) -> BoxStream<'static, StreamEvent>
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
    D: SseDecoder,
{
    let events = body
        .map(|r| r.map_err(|e| e.to_string()))
        .eventsource()
        .boxed();
    let state = State::Body {
        events,
        decoder,
        cancel,
        label: String::new(),
    };
    drive(state)
}

/// Send `request` and decode its SSE body. `label` names the provider in transport errors.
pub fn send_and_decode<D: SseDecoder>(
    label: String,
    request: reqwest::RequestBuilder,
    decoder: D,
    style: ErrorStyle,
    cancel: CancellationToken,
) -> BoxStream<'static, StreamEvent> {
    drive(State::Init {
        request,
        decoder,
        style,
        cancel,
        label,
    })
}

enum State<D> {
    Init {
        request: reqwest::RequestBuilder,
        decoder: D,
        style: ErrorStyle,
        cancel: CancellationToken,
        label: String,
    },
    Body {
        events: BoxStream<
            'static,
            Result<eventsource_stream::Event, eventsource_stream::EventStreamError<String>>,
        >,
        decoder: D,
        cancel: CancellationToken,
        label: String,
    },
    Finished,
}

fn aborted() -> StreamEvent {
    StreamEvent::Error {
        reason: StopReason::Aborted,
        message: ABORTED_MESSAGE.to_owned(),
    }
}

fn failed(message: String) -> StreamEvent {
    StreamEvent::Error {
        reason: StopReason::Error,
        message,
    }
}

fn drive<D: SseDecoder>(state: State<D>) -> BoxStream<'static, StreamEvent> {
    stream::unfold(state, step).flat_map(stream::iter).boxed()
}

fn with_label(label: &str, message: String) -> String {
    if label.is_empty() {
        message
    } else {
        format!("{label}: {message}")
    }
}

async fn step<D: SseDecoder>(state: State<D>) -> Option<(Vec<StreamEvent>, State<D>)> {
    match state {
        State::Finished => None,
        State::Init {
            request,
            decoder,
            style,
            cancel,
            label,
        } => {
            if cancel.is_cancelled() {
                return Some((vec![aborted()], State::Finished));
            }
            let sent = {
                let send = pin!(request.send());
                let cancelled = pin!(cancel.cancelled());
                match select(cancelled, send).await {
                    Either::Left(_) => return Some((vec![aborted()], State::Finished)),
                    Either::Right((r, _)) => r,
                }
            };
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    let msg = with_label(&label, format!("Connection error: {}", describe(&e)));
                    return Some((vec![failed(msg)], State::Finished));
                }
            };
            let status = response.status();
            if !status.is_success() {
                let body = {
                    let text = pin!(response.text());
                    let cancelled = pin!(cancel.cancelled());
                    match select(cancelled, text).await {
                        Either::Left(_) => return Some((vec![aborted()], State::Finished)),
                        Either::Right((r, _)) => r.unwrap_or_default(),
                    }
                };
                let msg = http_error_message(style, status.as_u16(), &body);
                return Some((vec![failed(msg)], State::Finished));
            }
            let events = response
                .bytes_stream()
                .map(|r| r.map_err(|e| describe(&e)))
                .eventsource()
                .boxed();
            Some((
                Vec::new(),
                State::Body {
                    events,
                    decoder,
                    cancel,
                    label,
                },
            ))
        }
        State::Body {
            mut events,
            mut decoder,
            cancel,
            label,
        } => {
            let mut out = Vec::new();
            loop {
                let next = {
                    let next = events.next();
                    let cancelled = pin!(cancel.cancelled());
                    match select(cancelled, next).await {
                        Either::Left(_) => {
                            out.push(aborted());
                            return Some((out, State::Finished));
                        }
                        Either::Right((r, _)) => r,
                    }
                };
                match next {
                    Some(Ok(ev)) => {
                        decoder.on_event(&ev.event, &ev.data, &mut out);
                        if decoder.is_finished() {
                            return Some((out, State::Finished));
                        }
                        if !out.is_empty() {
                            return Some((
                                out,
                                State::Body {
                                    events,
                                    decoder,
                                    cancel,
                                    label,
                                },
                            ));
                        }
                    }
                    Some(Err(e)) => {
                        let msg = with_label(&label, format!("Connection error: {e}"));
                        out.push(failed(msg));
                        return Some((out, State::Finished));
                    }
                    None => {
                        decoder.on_end(&mut out);
                        if !decoder.is_finished() {
                            let msg = with_label(
                                &label,
                                "connection closed before the response finished".to_owned(),
                            );
                            out.push(failed(msg));
                        }
                        return Some((out, State::Finished));
                    }
                }
            }
        }
    }
}

/// A reqwest error with its causes (reqwest's own text is terse: "error sending request").
fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// `base` + `/` + `path` without a doubled slash.
pub fn join_url(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// A shared HTTP client (connection pooling across requests).
pub fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}

/// Add the model's headers, then the request's own.
pub fn with_headers(
    mut req: reqwest::RequestBuilder,
    model: &crate::model::Model,
    options: &super::StreamOptions,
) -> reqwest::RequestBuilder {
    if let Some(h) = &model.headers {
        for (k, v) in h {
            req = req.header(k.as_str(), v.as_str());
        }
    }
    for (k, v) in &options.headers {
        req = req.header(k.as_str(), v.as_str());
    }
    req
}
