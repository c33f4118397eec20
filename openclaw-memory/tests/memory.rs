//! The memory index and tools against a real workspace on disk, the real state database and a
//! real loopback embeddings server.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use openclaw_core::tool::{Tool, ToolCallContext};
use openclaw_memory::{MemoryContext, MemoryIndex, MemorySettings, memory_tools, testing};
use serde_json::{Value, json};

fn write(ws: &Path, rel: &str, text: &str) {
    let p = ws.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn settings(config: &Value) -> MemorySettings {
    MemorySettings::resolve(config, "main", &|_| None).unwrap()
}

fn tools(index: &Arc<MemoryIndex>, ws: &Path, config: &Value) -> (Arc<dyn Tool>, Arc<dyn Tool>) {
    let t = memory_tools(MemoryContext {
        index: index.clone(),
        agent_id: "main".into(),
        workspace: ws.to_path_buf(),
        settings: settings(config),
    });
    (t[0].clone(), t[1].clone())
}

async fn call(tool: &Arc<dyn Tool>, args: Value) -> Value {
    let out = tool
        .execute(args, ToolCallContext::detached("t"))
        .await
        .unwrap();
    let details = out.details.clone().unwrap();
    // The text the model reads is the same JSON.
    let text = match &out.content[0] {
        openclaw_core::message::ContentBlock::Text(t) => t.text.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), details);
    details
}

/// Every file of the workspace with its bytes and mtime (to prove indexing wrote nothing).
fn snapshot(ws: &Path) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![ws.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let m = std::fs::symlink_metadata(e.path()).unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() {
                let bytes = std::fs::read(e.path()).unwrap_or_default();
                out.insert(
                    e.path().display().to_string(),
                    (bytes, m.modified().unwrap()),
                );
            }
        }
    }
    out
}

#[tokio::test]
async fn search_finds_daily_notes_with_line_ranges_and_follows_changes() {
    let state = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "MEMORY.md",
        "# Preferences\nThe user prefers TypeScript over Python.\n",
    );
    write(
        ws.path(),
        "memory/2026-11-20.md",
        "# 2026-11-20\n\n## Errands\nPicked up groceries.\n\n## Health\nDentist appointment moved to Friday 3pm.\nBring the insurance card.\n",
    );
    write(
        ws.path(),
        "AGENTS.md",
        "dentist dentist dentist (not a memory file)\n",
    );
    let before = snapshot(ws.path());
    let index = MemoryIndex::new(state.path());
    let (search, get) = tools(&index, ws.path(), &json!({}));

    let r = call(
        &search,
        json!({"query": "when is the dentist appointment?"}),
    )
    .await;
    assert_eq!(r["mode"], "fts-only");
    assert_eq!(r["provider"], "none");
    let hits = r["results"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{r}");
    assert_eq!(hits[0]["path"], "memory/2026-11-20.md");
    assert_eq!(
        (hits[0]["startLine"].as_u64(), hits[0]["endLine"].as_u64()),
        (Some(6), Some(8))
    );
    assert!(hits[0]["snippet"].as_str().unwrap().contains("Friday 3pm"));
    assert_eq!(hits[0]["citation"], "memory/2026-11-20.md#L6-L8");
    assert!(hits[0]["score"].as_f64().unwrap() > 0.0);

    // memory_get reads the cited range.
    let g = call(
        &get,
        json!({"path": "memory/2026-11-20.md", "from": 7, "lines": 1}),
    )
    .await;
    assert_eq!(g["status"], "ok");
    assert_eq!(
        g["text"],
        "Dentist appointment moved to Friday 3pm.\n\n[More content available. Use from=8 to continue.]"
    );
    assert_eq!(g["nextFrom"], 8);

    // Reading indexed and searched, and wrote nothing in the workspace.
    assert_eq!(snapshot(ws.path()), before);

    // A changed file is re-indexed, a deleted one dropped, the others left alone.
    write(
        ws.path(),
        "memory/2026-11-21.md",
        "Dentist called: the appointment is cancelled.\n",
    );
    std::fs::remove_file(ws.path().join("memory/2026-11-20.md")).unwrap();
    let report = index.sync("main", ws.path(), false, None).await.unwrap();
    assert_eq!(
        (report.indexed, report.removed, report.unchanged),
        (1, 1, 1),
        "{report:?}"
    );
    let r = call(&search, json!({"query": "dentist"})).await;
    let hits = r["results"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{r}");
    assert_eq!(hits[0]["path"], "memory/2026-11-21.md");
    let report = index.sync("main", ws.path(), false, None).await.unwrap();
    assert_eq!((report.indexed, report.unchanged), (0, 2));
}

#[tokio::test]
async fn damaged_and_oversized_files_are_reported_not_empty() {
    let state = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    write(ws.path(), "MEMORY.md", "The boat is called Marlin.\n");
    std::fs::create_dir_all(ws.path().join("memory")).unwrap();
    std::fs::write(
        ws.path().join("memory/broken.md"),
        b"Marlin \xff\xfe broken bytes",
    )
    .unwrap();
    // 50,000 lines: indexed up to the per-file chunk bound, marked truncated.
    let long: String = (1..=50_000)
        .map(|i| format!("line {i} harbour log entry, wind and tide noted for the crossing\n\n"))
        .collect();
    write(ws.path(), "memory/long.md", &long);
    let index = MemoryIndex::new(state.path());
    let report = index.sync("main", ws.path(), false, None).await.unwrap();
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert_eq!(report.failed[0].0, "memory/broken.md");
    assert!(report.failed[0].1.contains("not valid UTF-8"), "{report:?}");
    assert_eq!(report.truncated, vec!["memory/long.md".to_owned()]);
    let counts = index.with_db(|db| Ok(db.counts("main", None)?)).unwrap();
    assert_eq!(counts.failed, 1);
    assert_eq!(counts.files, 3);
    assert!(counts.chunks <= 1001, "{counts:?}");

    let (search, get) = tools(&index, ws.path(), &json!({}));
    // A later search (after the sync interval) says which file is not searched.
    tokio::time::sleep(openclaw_memory::index::SYNC_INTERVAL).await;
    let r = call(&search, json!({"query": "Marlin"})).await;
    assert_eq!(r["results"][0]["path"], "MEMORY.md");
    let w = r["warning"].as_str().unwrap();
    assert!(
        w.contains("memory/broken.md") && w.contains("not valid UTF-8"),
        "{w}"
    );

    // memory_get on the long file: a bounded excerpt from the middle.
    let g = call(&get, json!({"path": "memory/long.md", "from": 99_995})).await;
    assert_eq!(g["status"], "ok");
    assert_eq!(g["lines"], 6);
    assert!(
        g["text"]
            .as_str()
            .unwrap()
            .starts_with("line 49998 harbour")
    );
    let g = call(&get, json!({"path": "memory/long.md"})).await;
    assert_eq!(g["lines"], 120);
    assert_eq!(g["truncated"], true);
}

#[tokio::test]
async fn memory_get_refuses_escapes_and_symlinks() {
    let ws = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret.md", "top secret\n");
    write(ws.path(), "memory/ok.md", "fine\n");
    write(ws.path(), "notes.md", "not memory\n");
    std::os::unix::fs::symlink(
        outside.path().join("secret.md"),
        ws.path().join("memory/link.md"),
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), ws.path().join("memory/dir")).unwrap();
    let state = tempfile::tempdir().unwrap();
    let index = MemoryIndex::new(state.path());
    let (search, get) = tools(&index, ws.path(), &json!({}));
    let secret = outside.path().join("secret.md").display().to_string();
    for path in [
        "../secret.md",
        "memory/../../secret.md",
        secret.as_str(),
        "notes.md",
        "memory/link.md",
        "memory/dir/secret.md",
    ] {
        let g = call(&get, json!({"path": path})).await;
        assert_eq!(g["status"], "error", "{path}: {g}");
        assert_eq!(g["code"], "MEMORY_PATH_NOT_ALLOWED", "{path}: {g}");
        assert_eq!(g["text"], "");
    }
    let g = call(&get, json!({"path": "memory/missing.md"})).await;
    assert_eq!(g["status"], "not_found");
    // The symlinked note is not indexed either.
    let r = call(&search, json!({"query": "secret"})).await;
    assert_eq!(r["results"].as_array().unwrap().len(), 0, "{r}");
}

#[tokio::test]
async fn embeddings_give_hybrid_search_and_a_failure_degrades_to_keywords() {
    let server = testing::start().await.unwrap();
    let state = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "MEMORY.md",
        "# Car\nThe car is a blue Volvo estate.\n\n# Pets\nThe cat is named Miso.\n",
    );
    let config = json!({"memory": {"search": {
        "provider": "openai-compatible", "model": "test-embed",
        "remote": {"baseUrl": server.base_url(), "apiKey": "sk-test"}}}});
    let index = MemoryIndex::new(state.path());
    let (search, _) = tools(&index, ws.path(), &config);
    let r = call(&search, json!({"query": "Volvo"})).await;
    assert_eq!(r["mode"], "hybrid", "{r}");
    assert_eq!(r["provider"], "openai-compatible");
    assert_eq!(r["model"], "test-embed");
    assert_eq!(r["results"][0]["startLine"], 1);
    assert!(r.get("warning").is_none(), "{r}");
    let embedded = index
        .with_db(|db| Ok(db.counts("main", Some("test-embed"))?))
        .unwrap();
    assert_eq!((embedded.chunks, embedded.embedded), (2, 2));
    // The vector side finds the cat chunk by a word the keyword side drops as a stop word?
    // No: by sharing words; "Miso cat" ranks the pets chunk first in both.
    let r = call(&search, json!({"query": "cat Miso"})).await;
    assert_eq!(r["results"][0]["startLine"], 4);

    // The endpoint fails: keyword results with a clear note, never an error.
    server.set_failing(true);
    let r = call(&search, json!({"query": "Volvo"})).await;
    assert_eq!(r["mode"], "fts-only", "{r}");
    assert_eq!(r["results"][0]["path"], "MEMORY.md");
    let w = r["warning"].as_str().unwrap();
    assert!(
        w.contains("semantic search unavailable") && w.contains("HTTP 500"),
        "{w}"
    );
    assert!(!w.contains("sk-test"));

    // An unchanged chunk of an edited file keeps its vector: only the new chunk is embedded.
    server.set_failing(false);
    let before = server.inputs();
    write(
        ws.path(),
        "MEMORY.md",
        "# Car\nThe car is a blue Volvo estate.\n\n# Pets\nThe cat is named Miso.\n\n# Boat\nA red kayak.\n",
    );
    let report = index
        .sync(
            "main",
            ws.path(),
            false,
            Some(
                &openclaw_memory::Embedder::new(
                    settings(&config).embeddings.unwrap(),
                    std::time::Duration::from_secs(5),
                )
                .unwrap(),
            ),
        )
        .await
        .unwrap();
    assert_eq!(report.embedded, 1, "{report:?}");
    assert_eq!(server.inputs() - before, 1);

    // Another model (named before and after the first one): every chunk is embedded again,
    // once; the next sync embeds nothing.
    for model in ["a-embed", "z-embed"] {
        let mut ep = settings(&config).embeddings.unwrap();
        ep.model = model.into();
        let embedder =
            openclaw_memory::Embedder::new(ep, std::time::Duration::from_secs(5)).unwrap();
        let r = index
            .sync("main", ws.path(), false, Some(&embedder))
            .await
            .unwrap();
        assert_eq!(r.embedded, 3, "{model}: {r:?}");
        let r = index
            .sync("main", ws.path(), false, Some(&embedder))
            .await
            .unwrap();
        assert_eq!(r.embedded, 0, "{model}: {r:?}");
    }
}

#[tokio::test]
async fn sessions_corpus_reports_unavailable_and_disabled_memory_has_no_tools() {
    let state = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let index = MemoryIndex::new(state.path());
    let (search, _) = tools(&index, ws.path(), &json!({}));
    let r = call(&search, json!({"query": "x", "corpus": "sessions"})).await;
    assert_eq!(r["unavailable"], true);
    let none = memory_tools(MemoryContext {
        index,
        agent_id: "main".into(),
        workspace: ws.path().to_path_buf(),
        settings: settings(&json!({"memory": {"search": {"enabled": false}}})),
    });
    assert!(none.is_empty());
}
