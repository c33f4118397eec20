use super::*;
use serde_json::json;

struct Run {
    result: Result<ToolOutput, ToolError>,
    updates: Vec<ToolOutput>,
    /// The environment, alive: the spill files it keeps live as long as it does.
    #[allow(dead_code)]
    env: Arc<ToolEnv>,
}

async fn bash(
    dir: &std::path::Path,
    args: Value,
    ctx_cancel: Option<crate::CancellationToken>,
) -> Run {
    bash_in(Arc::new(ToolEnv::new(dir)), args, ctx_cancel).await
}

async fn bash_in(
    env: Arc<ToolEnv>,
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
    let result = BashTool::new(env.clone()).execute(args, ctx).await;
    let updates = updates.lock().unwrap().clone();
    Run {
        result,
        updates,
        env,
    }
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

#[tokio::test]
async fn the_configured_default_timeout_ends_a_hung_command() {
    let d = tempfile::tempdir().unwrap();
    let mut env = ToolEnv::new(d.path());
    env.exec.default_timeout = Some(Duration::from_secs(1));
    let run = tokio::time::timeout(
        Duration::from_secs(20),
        bash_in(
            Arc::new(env),
            json!({"command": "echo waiting; sleep 1000"}),
            None,
        ),
    )
    .await
    .expect("a command with no timeout of its own still ends");
    assert_eq!(
        run.result.unwrap_err().message,
        "waiting\n\n\nCommand timed out after 1 seconds"
    );
    // The default is OpenClaw's `tools.exec.timeoutSeconds`.
    assert_eq!(
        ToolEnv::new(d.path()).exec.default_timeout,
        Some(Duration::from_secs(1800))
    );
}

#[tokio::test]
async fn spill_files_live_while_results_need_them() {
    let d = tempfile::tempdir().unwrap();
    let mut env = ToolEnv::new(d.path());
    env.exec.output_file_max_bytes = 200_000;
    let env = Arc::new(env);
    // Short output: no file at all. Long output past the cap: a capped file, said so.
    let short = bash_in(env.clone(), json!({"command": "seq 1 10"}), None).await;
    assert!(short.result.unwrap().details.is_none());
    drop(short.env);
    let run = bash_in(env.clone(), json!({"command": "seq 1 100000"}), None).await;
    let out = run.result.unwrap();
    let path = out.details.unwrap()["fullOutputPath"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 200_000);
    let text = out.content[0].as_text().unwrap();
    assert!(
        text.ends_with("[The full output file stops at its first 195.3KB]"),
        "{text}"
    );
    assert_eq!(env.spill.paths(), [std::path::PathBuf::from(&path)]);
    // The engine's tool environment goes: so do the files its results pointed at.
    drop(run.env);
    drop(env);
    assert!(
        !std::path::Path::new(&path).exists(),
        "{path} outlived its session"
    );
}
