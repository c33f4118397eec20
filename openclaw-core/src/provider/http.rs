//! Shared HTTP + SSE plumbing for the wire APIs: sending the request, turning HTTP failures
//! into pi-style error texts, framing the body with `sse-core` (the WHATWG event-stream rules,
//! linear in the bytes received), feeding each SSE event to an API-specific [`SseDecoder`] a
//! whole network chunk at a time into one reused buffer, and aborting at once on cancellation (dropping the body
//! closes the connection).

use std::pin::{Pin, pin};
use std::task::{Context, Poll, ready};

use std::fmt;
use std::marker::PhantomData;
use std::num::NonZeroUsize;

use bytes::Bytes;
use futures::future::{BoxFuture, Either, FutureExt, select};
use futures::stream::{self, BoxStream, Stream, StreamExt};
use serde::de::{Deserialize, Deserializer, IgnoredAny, SeqAccess, Visitor};
use sse_core::SseEvent;

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

/// The first element of a JSON array, the others skipped unparsed: the decoders read only the
/// first `choices`/`candidates` entry, and this spares them a `Vec` per SSE event.
pub(crate) struct First<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for First<T> {
    fn deserialize<De: Deserializer<'de>>(deserializer: De) -> Result<Self, De::Error> {
        struct FirstVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
        }

        deserializer.deserialize_seq(FirstVisitor(PhantomData))
    }
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
    let body = body.map(|r| r.map_err(|e| e.to_string())).boxed();
    Decoding::new(body, decoder, cancel, String::new()).boxed()
}

/// Send `request` and decode its SSE body. `label` names the provider in transport errors.
pub fn send_and_decode<D: SseDecoder>(
    label: String,
    request: reqwest::RequestBuilder,
    decoder: D,
    style: ErrorStyle,
    cancel: CancellationToken,
) -> BoxStream<'static, StreamEvent> {
    let start = async move {
        if cancel.is_cancelled() {
            return Err(aborted());
        }
        let sent = {
            let send = pin!(request.send());
            let cancelled = pin!(cancel.cancelled());
            match select(cancelled, send).await {
                Either::Left(_) => return Err(aborted()),
                Either::Right((r, _)) => r,
            }
        };
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                let msg = with_label(&label, format!("Connection error: {}", describe(&e)));
                return Err(failed(msg));
            }
        };
        let status = response.status();
        if !status.is_success() {
            let body = {
                let text = pin!(response.text());
                let cancelled = pin!(cancel.cancelled());
                match select(cancelled, text).await {
                    Either::Left(_) => return Err(aborted()),
                    Either::Right((r, _)) => r.unwrap_or_default(),
                }
            };
            return Err(failed(http_error_message(style, status.as_u16(), &body)));
        }
        let body = response
            .bytes_stream()
            .map(|r| r.map_err(|e| describe(&e)))
            .boxed();
        Ok(Decoding::new(body, decoder, cancel, label))
    };
    stream::once(start)
        .flat_map(|started| match started {
            Ok(decoding) => Either::Left(decoding),
            Err(event) => Either::Right(stream::iter([event])),
        })
        .boxed()
}

/// The body half of a response: frames the bytes with sse-core, feeds each SSE event to the
/// decoder and hands the decoded events out one at a time from a buffer reused for every
/// network chunk (no allocation or future per chunk or per event).
struct Decoding<D> {
    /// `None` once the message finished, failed or was aborted (dropping it closes the
    /// connection).
    body: Option<BoxStream<'static, Result<Bytes, String>>>,
    parser: sse_core::SseDecoder,
    /// Boxed so that the stream is `Unpin` whatever the decoder.
    decoder: Box<D>,
    /// Resolves on cancellation; kept across chunks so no listener is made per chunk.
    cancel: BoxFuture<'static, ()>,
    label: String,
    /// Decoded events not yet handed out, in reverse order (the next one is last).
    ready: Vec<StreamEvent>,
}

impl<D: SseDecoder> Decoding<D> {
    fn new(
        body: BoxStream<'static, Result<Bytes, String>>,
        decoder: D,
        cancel: CancellationToken,
        label: String,
    ) -> Self {
        Decoding {
            body: Some(body),
            // No size limit on one event, as before (sse-core's default drops events over
            // 512 KiB; a large tool call or inline image can arrive as one event).
            parser: sse_core::SseDecoder::with_limit(NonZeroUsize::MAX),
            decoder: Box::new(decoder),
            cancel: cancelled_future(cancel),
            label,
            ready: Vec::new(),
        }
    }

    /// Decode every complete SSE event of the bytes fed so far into `ready`.
    fn decode_chunk(&mut self, mut chunk: &[u8]) {
        while let Some(ev) = self.parser.next(&mut chunk) {
            // `retry:` fields and (with no limit, impossible) oversized events are not ours.
            let Ok(SseEvent::Message(ev)) = ev else {
                continue;
            };
            self.decoder.on_event(&ev.event, &ev.data, &mut self.ready);
            if self.decoder.is_finished() {
                self.body = None;
                return;
            }
        }
    }

    /// The body ended: the decoder closes the message, or it was cut short.
    fn decode_end(&mut self) {
        self.body = None;
        // An unterminated last block is dropped (WHATWG).
        self.decoder.on_end(&mut self.ready);
        if !self.decoder.is_finished() {
            let msg = with_label(
                &self.label,
                "connection closed before the response finished".to_owned(),
            );
            self.ready.push(failed(msg));
        }
    }
}

impl<D: SseDecoder> Stream for Decoding<D> {
    type Item = StreamEvent;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = self.get_mut();
        loop {
            if let Some(event) = this.ready.pop() {
                return Poll::Ready(Some(event));
            }
            let Some(body) = this.body.as_mut() else {
                return Poll::Ready(None);
            };
            if this.cancel.poll_unpin(cx).is_ready() {
                this.body = None;
                return Poll::Ready(Some(aborted()));
            }
            match ready!(body.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => this.decode_chunk(&chunk),
                Some(Err(e)) => {
                    this.body = None;
                    let msg = with_label(&this.label, format!("Connection error: {e}"));
                    return Poll::Ready(Some(failed(msg)));
                }
                None => this.decode_end(),
            }
            this.ready.reverse();
        }
    }
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

fn with_label(label: &str, message: String) -> String {
    if label.is_empty() {
        message
    } else {
        format!("{label}: {message}")
    }
}

fn cancelled_future(token: CancellationToken) -> BoxFuture<'static, ()> {
    async move { token.cancelled().await }.boxed()
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
