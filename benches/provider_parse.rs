//! Parsing cost per streamed token for each wire API: a 10,000-token SSE response held in
//! memory, cut into 1 KiB network-sized chunks, framed by sse-core and decoded into
//! `StreamEvent`s (no HTTP). Divide the reported time by 10,000 for ns/token. The
//! `framing-only` cases compare SSE framing crates on the completions body: sse-parse (what the
//! client used before sse-core), sse-core (what it uses now) and eventsource-stream (the first
//! framer); the `decoder-only` cases time the API decoders alone on pre-framed events
//! (`decoder-only` is openai-completions).

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use openclaw_core::CancellationToken;
use openclaw_core::provider::StreamEvent;
use openclaw_core::provider::anthropic::MessagesDecoder;
use openclaw_core::provider::google::GeminiDecoder;
use openclaw_core::provider::http::{SseDecoder, decode_bytes};
use openclaw_core::provider::openai_completions::CompletionsDecoder;
use openclaw_core::provider::openai_responses::ResponsesDecoder;

const TOKENS: usize = 10_000;

fn completions() -> String {
    let mut s = String::new();
    for i in 0..TOKENS {
        s.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"t{i} \"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    s.push_str("data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":10000}}\n\ndata: [DONE]\n\n");
    s
}

fn anthropic() -> String {
    let mut s = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..TOKENS {
        s.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"t{i} \"}}}}\n\n"
        ));
    }
    s.push_str("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":10000}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s
}

fn responses() -> String {
    let mut s = String::from(
        "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\"}}\n\nevent: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_1\"}}\n\n",
    );
    for i in 0..TOKENS {
        s.push_str(&format!(
            "event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"t{i} \"}}\n\n"
        ));
    }
    s.push_str("event: response.output_item.done\ndata: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_1\"}}\n\nevent: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":10000}}}\n\n");
    s
}

fn google() -> String {
    let mut s = String::new();
    for i in 0..TOKENS {
        s.push_str(&format!(
            "data: {{\"candidates\":[{{\"content\":{{\"role\":\"model\",\"parts\":[{{\"text\":\"t{i} \"}}]}},\"index\":0}}],\"responseId\":\"g1\"}}\r\n\r\n"
        ));
    }
    s.push_str("data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1,\"candidatesTokenCount\":10000}}\r\n\r\n");
    s
}

fn chunks(body: &str) -> Vec<Bytes> {
    body.as_bytes()
        .chunks(1024)
        .map(Bytes::copy_from_slice)
        .collect()
}

fn decode<D: SseDecoder>(chunks: &[Bytes], decoder: D) -> usize {
    // `decode_bytes` wants a 'static stream: own the (cheap, shared) `Bytes`.
    #[allow(clippy::unnecessary_to_owned)]
    let body = futures::stream::iter(chunks.to_vec().into_iter().map(Ok::<_, std::io::Error>));
    let events = decode_bytes(body, decoder, CancellationToken::new());
    let events: Vec<StreamEvent> = futures::executor::block_on(events.collect());
    assert!(matches!(events.last(), Some(StreamEvent::Done { .. })));
    events.len()
}

/// The (event, data) pairs of a whole body.
fn sse_events(body: &str) -> Vec<(String, String)> {
    let mut parser = sse_parse::SseParser::new();
    parser.feed(body.as_bytes());
    std::iter::from_fn(|| parser.next_event())
        .map(|e| (e.event, e.data))
        .collect()
}

fn decode_only<D: SseDecoder>(events: &[(String, String)], mut decoder: D) -> usize {
    let mut out = Vec::new();
    for (event, data) in events {
        decoder.on_event(event, data, &mut out);
    }
    out.len()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("provider_parse_10k_tokens");
    group.throughput(Throughput::Elements(TOKENS as u64));
    group.sample_size(20);
    let cases: [(&str, Vec<Bytes>); 4] = [
        ("openai-completions", chunks(&completions())),
        ("anthropic-messages", chunks(&anthropic())),
        ("openai-responses", chunks(&responses())),
        ("google-generative-ai", chunks(&google())),
    ];
    for (name, data) in &cases {
        group.bench_function(*name, |b| {
            b.iter(|| match *name {
                "openai-completions" => decode(data, CompletionsDecoder::new()),
                "anthropic-messages" => decode(data, MessagesDecoder::new()),
                "openai-responses" => decode(data, ResponsesDecoder::new()),
                _ => decode(data, GeminiDecoder::new()),
            })
        });
    }
    let data = &cases[0].1;
    group.bench_function("framing-only", |b| {
        b.iter(|| {
            let mut parser = sse_parse::SseParser::new();
            let mut n = 0;
            for chunk in data {
                parser.feed(chunk);
                while let Some(ev) = parser.next_event() {
                    n += ev.data.len();
                }
            }
            n
        })
    });
    group.bench_function("framing-only-eventsource-stream", |b| {
        b.iter(|| {
            use eventsource_stream::Eventsource;
            let body = futures::stream::iter(data.iter().cloned().map(Ok::<_, std::io::Error>));
            futures::executor::block_on(body.eventsource().count())
        })
    });
    group.bench_function("framing-only-sse-core", |b| {
        b.iter(|| {
            let mut parser = sse_core::SseDecoder::new();
            let mut n = 0;
            for chunk in data {
                let mut buf = chunk.clone();
                while let Some(ev) = parser.next(&mut buf) {
                    if let Ok(sse_core::SseEvent::Message(ev)) = ev {
                        n += ev.data.len();
                    }
                }
            }
            n
        })
    });
    let raw = completions();
    let datas: Vec<&str> = raw
        .split("\n\n")
        .filter_map(|l| l.strip_prefix("data: "))
        .collect();
    group.bench_function("decoder-only", |b| {
        b.iter(|| {
            let mut d = CompletionsDecoder::new();
            let mut out = Vec::new();
            for x in &datas {
                d.on_event("message", x, &mut out);
            }
            out.len()
        })
    });
    // The decoder alone for the other APIs (SSE events framed beforehand).
    for (name, body) in [
        ("anthropic-messages", anthropic()),
        ("openai-responses", responses()),
        ("google-generative-ai", google()),
    ] {
        let events = sse_events(&body);
        group.bench_function(format!("decoder-only-{name}"), |b| {
            b.iter(|| match name {
                "anthropic-messages" => decode_only(&events, MessagesDecoder::new()),
                "openai-responses" => decode_only(&events, ResponsesDecoder::new()),
                _ => decode_only(&events, GeminiDecoder::new()),
            })
        });
    }
    // The agent loop's side: every delta becomes a `message_update` carrying a snapshot of
    // the partial message (the events are dropped here, as by a subscriber that keeps none).
    let model = openclaw_core::provider::catalog::builtin_models()
        .into_iter()
        .next()
        .unwrap();
    group.bench_function("builder-10k-deltas", |b| {
        b.iter(|| {
            let mut builder = openclaw_core::provider::MessageBuilder::new(&model);
            let mut n = 0;
            n += builder.apply(StreamEvent::TextStart { index: 0 }).len();
            for i in 0..TOKENS {
                n += builder
                    .apply(StreamEvent::TextDelta {
                        index: 0,
                        delta: format!("t{i} "),
                    })
                    .len();
            }
            n += builder
                .apply(StreamEvent::TextEnd {
                    index: 0,
                    signature: None,
                })
                .len();
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
