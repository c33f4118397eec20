//! The fuzz harnesses of this crate's parsers, shared by the `cargo fuzz` targets in `fuzz/`
//! and the corpus replay tests (`tests/fuzz_corpus.rs`), so CI runs on stable exactly what the
//! fuzzer ran. Each takes arbitrary bytes, must not panic, and asserts the cheap properties
//! noted on it. Not part of the public API.

use std::path::Path;

use crate::config::{ModelsConfig, OpenClawConfig, parse_json5};
use crate::session::SessionManager;
use crate::session::file::{parse_session, render};

/// The session loader: a JSONL transcript from bytes (lossy UTF-8, as `load_file` reads it),
/// then what opening it computes (context, fork points, stats). Properties: entries kept after
/// a damaged header come with a warning naming it; rendering what was loaded and loading that
/// again gives the same entries without warnings (not the same text:
/// `serde_json`'s default float parsing may move a number by one ulp).
pub fn session_loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let loaded = parse_session(&text);
    let Some(header) = loaded.header else {
        // A damaged header keeps the entries after it, and is always reported.
        assert!(
            loaded.entries.is_empty()
                || loaded
                    .warnings
                    .iter()
                    .any(|w| w.contains("not a session header")),
            "entries kept after a damaged header without a warning"
        );
        return;
    };
    let rendered = render(&header, &loaded.entries);
    let again = parse_session(&rendered);
    assert!(
        again.warnings.is_empty(),
        "re-load warned: {:?}",
        again.warnings
    );
    assert_eq!(again.entries.len(), loaded.entries.len());
    assert!(!again.migrated && !again.torn_tail && again.header.is_some());

    let manager = SessionManager::from_parts(header, loaded.entries, None, None);
    let context = manager.build_context();
    let _ = manager.fork_messages();
    let _ = manager.session_name();
    let _ = crate::session::session_stats(&manager, &context.messages, 128_000);
    let _ = crate::session::estimate_context_tokens(&context.messages);
}

/// The JSON5 config: `openclaw.json` and a pi `models.json` from text. Property: a document
/// that parses re-parses from its JSON rendering to the same value.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.json5");
    if let Ok(raw) = parse_json5(path, text) {
        let json = raw.to_string();
        match parse_json5(path, &json) {
            Ok(back) => assert_eq!(back, raw, "JSON rendering re-parses differently"),
            Err(e) => panic!("JSON rendering {json:?} does not re-parse: {e}"),
        }
        if let Ok(models) = ModelsConfig::from_value(path, "", &raw) {
            for (id, provider) in &models.providers {
                for model in provider.models.iter().flatten() {
                    let _ = model.to_model(id, provider);
                }
            }
        }
    }
    if let Ok(config) = OpenClawConfig::parse(path, text) {
        let _ = config.section("gateway.port");
        let _ = config.agents.defaults.model.primary();
    }
}

#[cfg(feature = "tokio")]
pub use self::sse::sse_decoding;

#[cfg(feature = "tokio")]
mod sse {
    use bytes::Bytes;
    use futures::StreamExt;

    use crate::cancel::CancellationToken;
    use crate::model::{Model, ModelCost};
    use crate::provider::http::{SseDecoder, decode_bytes};
    use crate::provider::{MessageBuilder, StreamEvent};
    use crate::provider::{
        anthropic::MessagesDecoder, google::GeminiDecoder, openai_completions::CompletionsDecoder,
        openai_responses::ResponsesDecoder,
    };

    /// SSE decoding: the body (all but the first byte, which picks the network chunk size) is
    /// framed and decoded by each wire API's decoder, and the events build a message.
    /// Properties: the events do not depend on how the body is split into chunks, and exactly
    /// one `Done`/`Error` ends them.
    pub fn sse_decoding(data: &[u8]) {
        let Some((&split, body)) = data.split_first() else {
            return;
        };
        let chunk = usize::from(split % 64) + 1;
        check(body, chunk, "openai-completions", CompletionsDecoder::new);
        check(body, chunk, "anthropic-messages", MessagesDecoder::new);
        check(body, chunk, "openai-responses", ResponsesDecoder::new);
        check(body, chunk, "google-generative-ai", GeminiDecoder::new);
    }

    fn check<D: SseDecoder>(body: &[u8], chunk: usize, api: &str, new: fn() -> D) {
        let whole = decode(vec![Bytes::copy_from_slice(body)], new());
        let pieces = body.chunks(chunk).map(Bytes::copy_from_slice).collect();
        let split = decode(pieces, new());
        assert_eq!(whole, split, "{api}: events depend on the chunking");
        let terminal =
            |e: &StreamEvent| matches!(e, StreamEvent::Done { .. } | StreamEvent::Error { .. });
        assert_eq!(whole.iter().filter(|e| terminal(e)).count(), 1, "{api}");
        assert!(whole.last().is_some_and(terminal), "{api}: not last");

        let mut builder = MessageBuilder::new(&model(api));
        for event in whole {
            let _ = builder.apply(event);
        }
        let _ = builder.finish();
    }

    fn decode<D: SseDecoder>(chunks: Vec<Bytes>, decoder: D) -> Vec<StreamEvent> {
        let body = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
        futures::executor::block_on(decode_bytes(body, decoder, CancellationToken::new()).collect())
    }

    fn model(api: &str) -> Model {
        Model {
            id: "fuzz-model".into(),
            name: "fuzz-model".into(),
            api: api.into(),
            provider: "fuzz".into(),
            base_url: "http://127.0.0.1:1".into(),
            reasoning: true,
            input: vec!["text".into(), "image".into()],
            cost: ModelCost::default(),
            context_window: 128_000,
            max_tokens: 4096,
            headers: None,
            compat: None,
        }
    }
}
