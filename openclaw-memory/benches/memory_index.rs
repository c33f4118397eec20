//! The memory index at scale: 10,000 generated daily notes (≈ 50 MB of Markdown, the same
//! bytes every run) indexed into a fresh state database; a full build, a no-change sync, the
//! incremental sync after one file changes, `memory_search` latency (keyword, then hybrid with
//! the in-process loopback `/v1/embeddings` server's deterministic 64-dimension vectors: every
//! chunk embedded, one changed file re-embedded, searches) and the process's RSS.
//!
//! `cargo bench -p openclaw-memory --bench memory_index` (add `-- --notes N` for another size,
//! `--no-hybrid` to skip the embeddings part, `--hybrid-queries N` for the number of hybrid
//! searches, 500 by default).

use std::path::Path;
use std::time::{Duration, Instant};

use openclaw_memory::{Embedder, EmbeddingEndpoint, MemoryIndex, MemorySettings, SearchRequest};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A Zipf-ish rank in 0..n (small ranks far more often).
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

fn vocabulary(n: usize) -> Vec<String> {
    const SYL: [&str; 24] = [
        "ka", "lo", "mi", "ten", "ra", "su", "vel", "do", "an", "ri", "po", "sha", "ne", "tor",
        "ba", "ul", "gri", "fe", "mon", "zi", "cla", "or", "pen", "dy",
    ];
    let mut r = Rng(0x5eed);
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    while out.len() < n {
        let k = 2 + r.below(3);
        let w: String = (0..k).map(|_| SYL[r.below(SYL.len())]).collect();
        if seen.insert(w.clone()) {
            out.push(w);
        }
    }
    out
}

fn note(r: &mut Rng, vocab: &[String], day: usize, target: usize) -> String {
    let mut s = format!("# Day {day}\n\n");
    while s.len() < target {
        s.push_str(&format!(
            "## {} {}\n",
            vocab[r.zipf(vocab.len())],
            vocab[r.zipf(vocab.len())]
        ));
        for _ in 0..(2 + r.below(4)) {
            let words = 8 + r.below(16);
            let line: Vec<&str> = (0..words)
                .map(|_| vocab[r.zipf(vocab.len())].as_str())
                .collect();
            s.push_str(&line.join(" "));
            s.push_str(".\n");
        }
        s.push('\n');
    }
    s
}

fn generate(ws: &Path, notes: usize, vocab: &[String]) -> u64 {
    let mut r = Rng(42);
    let mut bytes = 0u64;
    std::fs::create_dir_all(ws.join("memory")).unwrap();
    for i in 0..notes {
        let (y, m, d) = (2000 + i / 360, 1 + (i / 30) % 12, 1 + i % 30);
        let size = 4_000 + r.below(2_000);
        let text = note(&mut r, vocab, i, size);
        bytes += text.len() as u64;
        std::fs::write(ws.join(format!("memory/{y:04}-{m:02}-{d:02}.md")), text).unwrap();
    }
    let m = "# Long-term\nThe user prefers TypeScript. The boat is called Marlin.\n";
    std::fs::write(ws.join("MEMORY.md"), m).unwrap();
    bytes + m.len() as u64
}

fn rss_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn measure(
    label: &str,
    index: &std::sync::Arc<MemoryIndex>,
    settings: &MemorySettings,
    embedder: Option<&Embedder>,
    ws: &Path,
    queries: &[String],
) {
    let mut times = Vec::with_capacity(queries.len());
    let mut hits = 0usize;
    for q in queries {
        let t = Instant::now();
        let r = openclaw_memory::search(
            index,
            settings,
            embedder,
            SearchRequest {
                agent_id: "main",
                workspace: ws,
                query: q,
                max_results: None,
                min_score: None,
            },
        )
        .await
        .unwrap();
        times.push(t.elapsed());
        hits += r.results.len();
    }
    times.sort();
    println!(
        "{label}: {} queries, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {:.1} results/query",
        queries.len(),
        pct(&times, 0.5),
        pct(&times, 0.99),
        times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        hits as f64 / queries.len() as f64
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let notes = args
        .iter()
        .position(|a| a == "--notes")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(10_000usize);
    let hybrid = !args.iter().any(|a| a == "--no-hybrid");
    let hybrid_queries = args
        .iter()
        .position(|a| a == "--hybrid-queries")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(500usize);
    let dir = tempfile::tempdir().unwrap();
    let (ws, state) = (dir.path().join("ws"), dir.path().join("state"));
    let vocab = vocabulary(20_000);
    let t = Instant::now();
    let bytes = generate(&ws, notes, &vocab);
    println!(
        "generated {notes} notes, {:.1} MB, in {:.1} s",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let index = MemoryIndex::with_sync_interval(&state, Duration::from_secs(3600));
    let rss0 = rss_kib("VmRSS:");

    let t = Instant::now();
    let r = index.sync("main", &ws, false, None).await.unwrap();
    let build = t.elapsed();
    let counts = index.with_db(|db| Ok(db.counts("main", None)?)).unwrap();
    let db_bytes: u64 = ["state.sqlite", "state.sqlite-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(state.join(f)).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "build: {} files, {} chunks in {:.2} s ({:.1} MB/s); database {:.1} MB",
        r.files,
        counts.chunks,
        build.as_secs_f64(),
        bytes as f64 / 1e6 / build.as_secs_f64(),
        db_bytes as f64 / 1e6
    );
    let t = Instant::now();
    let r = index.sync("main", &ws, false, None).await.unwrap();
    println!(
        "no-change sync: {} unchanged in {:.1} ms",
        r.unchanged,
        t.elapsed().as_secs_f64() * 1000.0
    );
    let victim = ws.join("memory/2010-06-15.md");
    let mut text = std::fs::read_to_string(&victim).unwrap_or_default();
    text.push_str("\n## Changed\nThe harbourmaster moved the regatta to Sunday.\n");
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(&victim, text).unwrap();
    let t = Instant::now();
    let r = index.sync("main", &ws, false, None).await.unwrap();
    println!(
        "incremental sync after one file changed: {} re-indexed, {} unchanged in {:.1} ms",
        r.indexed,
        r.unchanged,
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Queries: two or three words from the mid-frequency vocabulary, plus the changed note's.
    let mut rq = Rng(7);
    let mut queries: Vec<String> = (0..1000)
        .map(|_| {
            let k = 2 + rq.below(2);
            (0..k)
                .map(|_| vocab[50 + rq.below(5_000)].as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    queries.push("when is the regatta".into());
    let settings = MemorySettings::resolve(&serde_json::json!({}), "main", &|_| None).unwrap();
    measure(
        "memory_search keyword",
        &index,
        &settings,
        None,
        &ws,
        &queries,
    )
    .await;
    println!(
        "RSS: {} KiB now, peak {} KiB (before indexing {rss0} KiB)",
        rss_kib("VmRSS:"),
        rss_kib("VmHWM:")
    );

    if hybrid {
        let server = openclaw_memory::testing::start().await.unwrap();
        let ep = EmbeddingEndpoint {
            provider: "openai-compatible".into(),
            model: "bench-embed".into(),
            base_url: server.base_url(),
            api_key: None,
            headers: Default::default(),
        };
        let embedder = Embedder::new(ep.clone(), Duration::from_secs(60)).unwrap();
        let t = Instant::now();
        let mut embedded = 0;
        loop {
            let r = index
                .sync("main", &ws, false, Some(&embedder))
                .await
                .unwrap();
            embedded += r.embedded;
            if r.embed_note.is_none() {
                break;
            }
        }
        println!(
            "embedding {embedded} chunks through the loopback server: {:.1} s",
            t.elapsed().as_secs_f64()
        );
        // One more file changes: re-indexed and its chunks re-embedded (the others' vectors
        // are kept by content hash).
        let victim = ws.join("memory/2012-03-07.md");
        let mut text = std::fs::read_to_string(&victim).unwrap_or_default();
        text.push_str("\n## Changed\nThe regatta trophy went to the Marlin crew.\n");
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&victim, text).unwrap();
        let before = server.inputs();
        let t = Instant::now();
        let r = index
            .sync("main", &ws, false, Some(&embedder))
            .await
            .unwrap();
        println!(
            "hybrid incremental sync after one file changed: {} re-indexed, {} chunks embedded ({} sent to the server), {} unchanged in {:.1} ms",
            r.indexed,
            r.embedded,
            server.inputs() - before,
            r.unchanged,
            t.elapsed().as_secs_f64() * 1000.0
        );
        let mut settings = settings.clone();
        settings.embeddings = Some(ep);
        measure(
            "memory_search hybrid (64 dims)",
            &index,
            &settings,
            Some(&embedder),
            &ws,
            &queries[..hybrid_queries.min(queries.len())],
        )
        .await;
        println!(
            "RSS: {} KiB now, peak {} KiB",
            rss_kib("VmRSS:"),
            rss_kib("VmHWM:")
        );
    }
}
