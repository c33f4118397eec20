//! Memory of a streamed message is proportional to the message, not to the number of chunks:
//! 100,000 one-character deltas go through the SSE framing, the openai-completions decoder and
//! the `MessageBuilder` (dropping each `message_update`, as a subscriber that keeps nothing
//! does), while a counting global allocator tracks the peak of live heap bytes.
//!
//! This is its own test binary because the allocator is process-wide.

#![cfg(feature = "tokio")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::StreamExt;
use openclaw_core::CancellationToken;
use openclaw_core::model::{Model, ModelCost};
use openclaw_core::provider::MessageBuilder;
use openclaw_core::provider::http::decode_bytes;
use openclaw_core::provider::openai_completions::CompletionsDecoder;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size >= layout.size() {
            let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                - layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const DELTAS: usize = 100_000;

fn model() -> Model {
    Model {
        id: "m".into(),
        name: "m".into(),
        api: "openai-completions".into(),
        provider: "fake".into(),
        base_url: "http://127.0.0.1:1".into(),
        reasoning: false,
        input: vec!["text".into()],
        cost: ModelCost::default(),
        context_window: 128_000,
        max_tokens: 4096,
        headers: None,
        compat: None,
    }
}

#[test]
fn streamed_message_memory_is_proportional_to_the_message() {
    // The whole body, built before measuring and handed over in 1 KiB network chunks; `kept`
    // holds the chunks' buffers alive so that their release does not mask growth.
    let mut body = String::new();
    for i in 0..DELTAS {
        let c = (b'a' + (i % 26) as u8) as char;
        body.push_str(&format!(
            "data: {{\"id\":\"c\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{c}\"}},\"finish_reason\":null}}]}}\n\n"
        ));
    }
    body.push_str("data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n");
    let chunks: Vec<Bytes> = body
        .as_bytes()
        .chunks(1024)
        .map(Bytes::copy_from_slice)
        .collect();
    let kept = chunks.clone();
    let body_bytes = body.len();
    drop(body);

    let model = model();
    let baseline = LIVE.load(Ordering::Relaxed);
    PEAK.store(baseline, Ordering::Relaxed);

    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let mut events = decode_bytes(stream, CompletionsDecoder::new(), CancellationToken::new());
    let mut builder = MessageBuilder::new(&model);
    let mut updates = 0usize;
    futures::executor::block_on(async {
        while let Some(e) = events.next().await {
            updates += builder.apply(e).len();
        }
    });
    drop(events);
    let message = builder.finish();

    assert_eq!(message.text().len(), DELTAS);
    assert!(updates >= DELTAS, "{updates} updates");
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(baseline);
    let retained = LIVE.load(Ordering::Relaxed).saturating_sub(baseline);
    eprintln!("peak {peak} bytes, retained {retained} bytes above the baseline");
    // The message is 100 KB of text. A snapshot per update alive at once, or one allocation
    // kept per chunk (100,000 events of ≥ 24 bytes each), would exceed these bounds.
    assert!(
        retained <= 4 * DELTAS,
        "retained {retained} bytes for a {DELTAS}-byte message"
    );
    assert!(
        peak <= 8 * DELTAS + 64 * 1024,
        "peak {peak} bytes above the baseline for a {DELTAS}-byte message \
         (body was {body_bytes} bytes)"
    );
    drop(message);
    drop(kept);
}
