use super::*;
use serde_json::json;

fn seed(files: &[&str]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for name in files {
        let p = d.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }
    d
}

async fn find_call(dir: &Path, args: Value) -> Result<ToolOutput, ToolError> {
    FindTool::new(Arc::new(ToolEnv::new(dir)))
        .execute(args, ToolCallContext::detached("c"))
        .await
}

fn text(out: &ToolOutput) -> &str {
    out.content[0].as_text().unwrap()
}

#[tokio::test]
async fn golden_outputs() {
    let d = seed(&["a.txt", "b.md", "src/c.py", "src/d.md"]);
    let out = find_call(d.path(), json!({"pattern": "*.txt"}))
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"a.txt"}]}"#
    );
    let out = find_call(d.path(), json!({"pattern": "*.py", "path": "src"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "c.py");
    let out = find_call(d.path(), json!({"pattern": "*.nothing"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "No files found matching pattern");
    let out = find_call(d.path(), json!({"pattern": "*.md"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "b.md\nsrc/d.md");
}

#[tokio::test]
async fn hidden_gitignore_dirs_smart_case_and_paths() {
    let d = seed(&[
        ".gitignore",
        ".env.txt",
        "build/out.txt",
        "notes/Readme.TXT",
        "notes/deep/x.txt",
    ]);
    std::fs::write(d.path().join(".gitignore"), "build/\n").unwrap();
    // .gitignore applies without a git repository, as with pi's fd flags.
    let out = find_call(d.path(), json!({"pattern": "*.txt"}))
        .await
        .unwrap();
    assert_eq!(text(&out), ".env.txt\nnotes/Readme.TXT\nnotes/deep/x.txt");
    // An upper-case letter makes the match case-sensitive.
    let out = find_call(d.path(), json!({"pattern": "*.TXT"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "notes/Readme.TXT");
    // Directories match too, with a trailing slash.
    let out = find_call(d.path(), json!({"pattern": "dee*"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "notes/deep/");
    // A pattern with a slash matches the relative path.
    let out = find_call(d.path(), json!({"pattern": "notes/*.txt"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "notes/Readme.TXT");
    let out = find_call(d.path(), json!({"pattern": "**/deep/*.txt"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "notes/deep/x.txt");
}

#[tokio::test]
async fn limit_notice_and_missing_path() {
    let d = seed(&["a1.rs", "a2.rs", "a3.rs"]);
    let out = find_call(d.path(), json!({"pattern": "*.rs", "limit": 2}))
        .await
        .unwrap();
    assert_eq!(
        text(&out),
        "a1.rs\na2.rs\n\n[2 results limit reached. Use limit=4 for more, or refine pattern]"
    );
    assert_eq!(out.details, Some(json!({"resultLimitReached": 2})));
    let err = find_call(d.path(), json!({"pattern": "*", "path": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(
        err.message,
        format!("Path not found: {}/nope", d.path().display())
    );
}
