use super::*;
use serde_json::json;

struct Run {
    result: Result<ToolOutput, ToolError>,
    updates: Vec<ToolOutput>,
}

async fn bash(
    dir: &std::path::Path,
    args: Value,
    ctx_cancel: Option<crate::CancellationToken>,
) -> Run {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let u2 = updates.clone();
    let mut ctx = ToolCallContext::detached("c");
    ctx.on_update = Arc::new(move |o| u2.lock().unwrap().push(o));
    if let Some(t) = ctx_cancel {
        ctx.cancel = t;
    }
    let result = BashTool::new(Arc::new(ToolEnv::new(dir)))
        .execute(args, ctx)
        .await;
    let updates = updates.lock().unwrap().clone();
    Run { result, updates }
}

#[tokio::test]
async fn success_streams_updates_and_has_no_details() {
    let d = tempfile::tempdir().unwrap();
    let run = bash(d.path(), json!({"command": "echo hello from bash"}), None).await;
    let out = run.result.unwrap();
    assert_eq!(
        serde_json::to_string(&out).unwrap(),
        r#"{"content":[{"type":"text","text":"hello from bash\n"}]}"#
    );
    let ups: Vec<String> = run
        .updates
        .iter()
        .map(|u| serde_json::to_string(u).unwrap())
        .collect();
    assert_eq!(ups[0], r#"{"content":[]}"#);
    assert_eq!(
        ups.last().unwrap(),
        r#"{"content":[{"type":"text","text":"hello from bash\n"}],"details":{}}"#
    );
}

#[tokio::test]
async fn exit_code_is_an_error_with_output() {
    let d = tempfile::tempdir().unwrap();
    let run = bash(
        d.path(),
        json!({"command": "echo out; echo err >&2; exit 3"}),
        None,
    )
    .await;
    assert_eq!(
        run.result.unwrap_err().message,
        "out\nerr\n\n\nCommand exited with code 3"
    );
    let run = bash(d.path(), json!({"command": "exit 1"}), None).await;
    assert_eq!(
        run.result.unwrap_err().message,
        "(no output)\n\nCommand exited with code 1"
    );
    let run = bash(d.path(), json!({"command": "true"}), None).await;
    assert_eq!(
        run.result.unwrap().content[0].as_text(),
        Some("(no output)")
    );
}

#[tokio::test]
async fn timeout_text() {
    let d = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let run = bash(
        d.path(),
        json!({"command": "echo before; sleep 5", "timeout": 1}),
        None,
    )
    .await;
    assert_eq!(
        run.result.unwrap_err().message,
        "before\n\n\nCommand timed out after 1 seconds"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    let run = bash(
        d.path(),
        json!({"command": "sleep 5", "timeout": 0.3}),
        None,
    )
    .await;
    assert_eq!(
        run.result.unwrap_err().message,
        "Command timed out after 0.3 seconds"
    );
}

#[tokio::test]
async fn abort_text() {
    let d = tempfile::tempdir().unwrap();
    let token = crate::CancellationToken::new();
    let t2 = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        t2.cancel();
    });
    let run = bash(
        d.path(),
        json!({"command": "echo start; sleep 10"}),
        Some(token),
    )
    .await;
    assert_eq!(
        run.result.unwrap_err().message,
        "start\n\n\nCommand aborted"
    );
}

#[tokio::test]
async fn long_output_is_tail_truncated_and_spilled() {
    let d = tempfile::tempdir().unwrap();
    let run = bash(d.path(), json!({"command": "seq 1 3000"}), None).await;
    let out = run.result.unwrap();
    let text = out.content[0].as_text().unwrap().to_string();
    let details = out.details.unwrap();
    let path = details["fullOutputPath"].as_str().unwrap().to_string();
    assert!(path.contains("pi-bash-") && path.ends_with(".log"));
    // 3000 numbers + the trailing empty line = 3001 lines; the last 2000 are kept.
    assert!(text.starts_with("1002\n"), "{}", &text[..20]);
    assert!(text.ends_with(&format!(
        "3000\n\n\n[Showing lines 1002-3001 of 3001. Full output: {path}]"
    )));
    assert_eq!(details["truncation"]["truncatedBy"], "lines");
    let full = std::fs::read_to_string(&path).unwrap();
    assert_eq!(full.lines().count(), 3000);
    let last = run.updates.last().unwrap();
    // Partial results carry the truncated tail too (the temp file is only started at the end,
    // as the output stayed under 50 KB).
    assert_eq!(
        last.details.as_ref().unwrap()["truncation"]["truncated"],
        true
    );
    assert!(last.content[0].as_text().unwrap().ends_with("3000\n"));

    // A single line over 50 KB keeps its tail.
    let run = bash(
        d.path(),
        json!({"command": "head -c 60000 /dev/zero | tr '\\0' x"}),
        None,
    )
    .await;
    let out = run.result.unwrap();
    let text = out.content[0].as_text().unwrap();
    assert!(text.starts_with(&"x".repeat(51_200)));
    assert!(text.contains("\n\n[Showing last 50.0KB of line 1 (line is 58.6KB). Full output: /"));
}
