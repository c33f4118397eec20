//! Loading a 100,000-entry pi session file and building the model's context from it.
//!
//! The file is generated once: a model change and thinking level, then turns of user message,
//! assistant tool call, tool result and assistant answer (realistic ~300–400 byte lines), with a
//! compaction every 10,000 entries (so context building walks the whole path and honours the
//! latest compaction).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use openclaw_core::event::CompactionResult;
use openclaw_core::message::{
    AssistantMessage, ContentBlock, Message, StopReason, ToolCall, ToolResultMessage, Usage,
    UserMessage,
};
use openclaw_core::session::SessionManager;

const ENTRIES: usize = 100_000;

fn generate(dir: &Path) -> std::path::PathBuf {
    let mut m = SessionManager::create(dir, "/home/user/project");
    m.append_model_change("fake", "fake-model").unwrap();
    m.append_thinking_level_change(Default::default()).unwrap();
    let mut turn = 0u64;
    while m.entries().len() < ENTRIES {
        let n = m.entries().len();
        if n >= 10_000
            && n % 10_000 < 4
            && !matches!(m.entries().last(), Some(e) if e.type_name() == "compaction")
        {
            let keep = m.entries()[n - 8].id().to_string();
            let r = CompactionResult {
                summary: format!("Summary of the work up to turn {turn}."),
                first_kept_entry_id: keep,
                tokens_before: 90_000,
                details: None,
            };
            m.append_compaction(&r, false).unwrap();
            continue;
        }
        turn += 1;
        m.append_message(Message::User(UserMessage::new(
            format!("Please look at src/module_{turn}.rs and explain what the parser does there."),
            Vec::new(),
        )))
        .unwrap();
        let mut a = AssistantMessage::empty("openai-completions", "fake", "fake-model");
        a.content = vec![
            ContentBlock::text("Let me read the file first."),
            ContentBlock::ToolCall(Box::new(ToolCall {
                id: format!("call_{turn}_abcdef"),
                name: "read".into(),
                arguments: serde_json::json!({"path": format!("src/module_{turn}.rs")}),
                thought_signature: None,
            })),
        ];
        a.usage = Usage {
            input: 1200 + turn,
            output: 40,
            total_tokens: 1240 + turn,
            ..Usage::default()
        };
        a.stop_reason = StopReason::ToolUse;
        m.append_message(Message::Assistant(a)).unwrap();
        m.append_message(Message::ToolResult(ToolResultMessage {
            tool_call_id: format!("call_{turn}_abcdef"),
            tool_name: "read".into(),
            content: vec![ContentBlock::text("fn parse(input: &str) -> Result<Ast, Error> {\n    let tokens = lex(input)?;\n    Parser::new(tokens).parse()\n}\n")],
            details: None,
            is_error: false,
            timestamp: 1_795_310_173_139,
        }))
        .unwrap();
        let mut b = AssistantMessage::empty("openai-completions", "fake", "fake-model");
        b.content = vec![ContentBlock::text(
            "The parser lexes the input and hands the tokens to a recursive-descent Parser.",
        )];
        b.usage = Usage {
            input: 1300 + turn,
            output: 60,
            total_tokens: 1360 + turn,
            ..Usage::default()
        };
        m.append_message(Message::Assistant(b)).unwrap();
    }
    m.session_file().unwrap().to_path_buf()
}

fn bench(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let path = generate(tmp.path());
    let size = std::fs::metadata(&path).unwrap().len();
    eprintln!(
        "session file: {} entries, {:.1} MB",
        ENTRIES,
        size as f64 / 1e6
    );
    phases(&path);
    let mut g = c.benchmark_group("session_load");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.bench_function("load_100k_and_build_context", |b| {
        b.iter(|| {
            let m = SessionManager::open(&path, "/unused").unwrap();
            let ctx = m.build_context();
            black_box((m.entries().len(), ctx.messages.len()))
        })
    });
    g.finish();
}

/// This process's CPU time (user + system, all threads) from /proc, in milliseconds (10 ms
/// resolution; `None` where /proc is missing).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks * 10.0)
}

/// Timed runs split into their phases (wall clock), then the CPU time of whole loads: on a
/// shared, busy machine the CPU time is what one load costs.
fn phases(path: &Path) {
    use openclaw_core::session::file::parse_session;
    use std::time::Instant;
    for _ in 0..2 {
        let t = Instant::now();
        let bytes = std::fs::read(path).unwrap();
        let read = t.elapsed();
        let t = Instant::now();
        let loaded = parse_session(std::str::from_utf8(&bytes).unwrap());
        let parse = t.elapsed();
        let t = Instant::now();
        let m = SessionManager::from_parts(loaded.header.unwrap(), loaded.entries, None, None);
        let index = t.elapsed();
        let t = Instant::now();
        let ctx = m.build_context();
        let context = t.elapsed();
        let t = Instant::now();
        drop(ctx);
        drop(m);
        let dropped = t.elapsed();
        eprintln!(
            "phases: read {read:?}, parse {parse:?}, index {index:?}, context {context:?}, drop {dropped:?}"
        );
    }
    let runs = 5;
    let (cpu0, t) = (cpu_ms(), Instant::now());
    for _ in 0..runs {
        let m = SessionManager::open(path, "/unused").unwrap();
        black_box(m.build_context());
    }
    let wall = t.elapsed() / runs;
    if let (Some(a), Some(b)) = (cpu0, cpu_ms()) {
        eprintln!(
            "whole load + context: {wall:?} wall, {:.0} ms CPU per run ({runs} runs)",
            (b - a) / f64::from(runs)
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
