use super::*;
use serde_json::json;

fn seed(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, body) in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    d
}

async fn grep_call(dir: &Path, args: Value) -> Result<ToolOutput, ToolError> {
    GrepTool::new(Arc::new(ToolEnv::new(dir)))
        .execute(args, ToolCallContext::detached("c"))
        .await
}

fn golden_tree() -> tempfile::TempDir {
    seed(&[
        ("a.txt", "needle here\nno match\nNeedle again\n"),
        ("b.md", "plain\n"),
        ("src/c.py", "needle = 1\n"),
        ("src/d.md", "nothing\n"),
    ])
}

#[tokio::test]
async fn golden_outputs() {
    let d = golden_tree();
    let out = grep_call(d.path(), json!({"pattern": "needle", "path": "src"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"c.py:1: needle = 1"}]}"#
    );
    let out = grep_call(
        d.path(),
        json!({"pattern": "NEEDLE", "glob": "*.txt", "ignoreCase": true}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some("a.txt:1: needle here\na.txt:3: Needle again")
    );
    let out = grep_call(
        d.path(),
        json!({"pattern": "again", "path": "a.txt", "context": 1}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some("a.txt-2- no match\na.txt:3: Needle again\na.txt-4- ")
    );
    let out = grep_call(d.path(), json!({"pattern": "zzz_absent"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"No matches found"}]}"#
    );
}

#[tokio::test]
async fn case_literal_and_hidden() {
    let d = seed(&[
        ("x.txt", "Needle\nneedle\na.b\naxb\n"),
        (".hidden/h.txt", "needle\n"),
    ]);
    let out = grep_call(d.path(), json!({"pattern": "needle"}))
        .await
        .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some(".hidden/h.txt:1: needle\nx.txt:2: needle")
    );
    let out = grep_call(d.path(), json!({"pattern": "a.b", "literal": true}))
        .await
        .unwrap();
    assert_eq!(out.content[0].as_text(), Some("x.txt:3: a.b"));
    let out = grep_call(d.path(), json!({"pattern": "a.b"}))
        .await
        .unwrap();
    assert_eq!(out.content[0].as_text(), Some("x.txt:3: a.b\nx.txt:4: axb"));
}

#[tokio::test]
async fn gitignore_is_respected_in_a_repository() {
    let d = seed(&[
        (".gitignore", "ignored/\n*.log\n"),
        ("ignored/i.txt", "needle\n"),
        ("app.log", "needle\n"),
        ("kept.txt", "needle\n"),
    ]);
    std::fs::create_dir(d.path().join(".git")).unwrap();
    std::fs::write(d.path().join(".git/config"), "needle\n").unwrap();
    let out = grep_call(d.path(), json!({"pattern": "needle"}))
        .await
        .unwrap();
    assert_eq!(out.content[0].as_text(), Some("kept.txt:1: needle"));
}

#[tokio::test]
async fn limit_and_long_lines() {
    let body: String = (0..10).map(|i| format!("hit {i}\n")).collect();
    let long = format!("hit {}\n", "z".repeat(600));
    let d = seed(&[("many.txt", &body), ("long.txt", &long)]);
    let out = grep_call(
        d.path(),
        json!({"pattern": "hit", "path": "many.txt", "limit": 3}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some(
            "many.txt:1: hit 0\nmany.txt:2: hit 1\nmany.txt:3: hit 2\n\n[3 matches limit reached. Use limit=6 for more, or refine pattern]"
        )
    );
    assert_eq!(out.details, Some(json!({"matchLimitReached": 3})));
    let out = grep_call(d.path(), json!({"pattern": "hit", "path": "long.txt"}))
        .await
        .unwrap();
    let text = out.content[0].as_text().unwrap();
    assert!(text.starts_with("long.txt:1: hit zzz"));
    assert!(text.ends_with(
        "z... [truncated]\n\n[Some lines truncated to 500 chars. Use read tool to see full lines]"
    ));
    assert_eq!(out.details, Some(json!({"linesTruncated": true})));
}

#[tokio::test]
async fn errors() {
    let d = golden_tree();
    let err = grep_call(d.path(), json!({"pattern": "x", "path": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        format!("Path not found: {}/nope", d.path().display())
    );
    let err = grep_call(d.path(), json!({"pattern": "("}))
        .await
        .unwrap_err();
    assert!(err.message.contains("regex parse error"), "{}", err.message);
}
