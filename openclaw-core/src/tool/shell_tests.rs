use super::*;

fn cmd(command: &str, cwd: &Path) -> ShellCommand {
    ShellCommand {
        command: command.to_string(),
        cwd: cwd.to_path_buf(),
        ..ShellCommand::default()
    }
}

/// Running (not a zombie waiting for a reaper).
fn pid_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

async fn wait_gone(pid: i32) -> bool {
    for _ in 0..50 {
        if !pid_alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn merges_stdout_and_stderr_in_order() {
    let d = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let r = run_shell(
        &cmd("echo out; echo err >&2; echo again; exit 3", d.path()),
        &CancellationToken::new(),
        |c| out.extend_from_slice(c),
    )
    .await
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "out\nerr\nagain\n");
    assert_eq!(r.exit_code, Some(3));
    assert!(!r.cancelled && !r.timed_out);
}

#[tokio::test]
async fn runs_in_cwd_with_prefix_and_bin_dir() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cmd("pwd; echo $GREETING; echo $PATH", d.path());
    c.command_prefix = Some("export GREETING=hi".into());
    c.bin_dir = Some(PathBuf::from("/opt/pi-bin"));
    let mut out = Vec::new();
    run_shell(&c, &CancellationToken::new(), |b| out.extend_from_slice(b))
        .await
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        Path::new(lines[0]).canonicalize().unwrap(),
        d.path().canonicalize().unwrap()
    );
    assert_eq!(lines[1], "hi");
    assert!(lines[2].starts_with("/opt/pi-bin:"));
}

#[tokio::test]
async fn abort_kills_the_whole_tree() {
    let d = tempfile::tempdir().unwrap();
    let pidfile = d.path().join("child.pid");
    let token = CancellationToken::new();
    let t2 = token.clone();
    let script = format!(
        "sleep 30 & echo $! > {}; echo started; wait",
        pidfile.display()
    );
    let handle = tokio::spawn(async move {
        let c = cmd(&script, &std::env::temp_dir());
        let mut out = Vec::new();
        let r = run_shell(&c, &t2, |b| out.extend_from_slice(b))
            .await
            .unwrap();
        (r, String::from_utf8(out).unwrap())
    });
    for _ in 0..100 {
        if std::fs::read_to_string(&pidfile).is_ok_and(|s| s.ends_with('\n')) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid_alive(child));
    token.cancel();
    let (r, out) = handle.await.unwrap();
    assert!(r.cancelled);
    assert_eq!(r.exit_code, None);
    assert_eq!(out, "started\n");
    assert!(
        wait_gone(child).await,
        "grandchild {child} survived the abort"
    );
}

#[tokio::test]
async fn timeout_and_drop_kill_the_tree() {
    let d = tempfile::tempdir().unwrap();
    let pidfile = d.path().join("t.pid");
    let mut c = cmd(
        &format!("sleep 30 & echo $! > {}; wait", pidfile.display()),
        d.path(),
    );
    c.timeout = Some(Duration::from_millis(300));
    let started = std::time::Instant::now();
    let r = run_shell(&c, &CancellationToken::new(), |_| {})
        .await
        .unwrap();
    assert!(r.timed_out);
    assert!(started.elapsed() < Duration::from_secs(5));
    let child: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_gone(child).await);

    // Dropping the future mid-run kills the group too.
    let pidfile2 = d.path().join("d.pid");
    let c = cmd(
        &format!("sleep 30 & echo $! > {}; wait", pidfile2.display()),
        d.path(),
    );
    let token = CancellationToken::new();
    let fut = run_shell(&c, &token, |_| {});
    let _ = tokio::time::timeout(Duration::from_millis(300), fut).await;
    let child: i32 = std::fs::read_to_string(&pidfile2)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_gone(child).await, "grandchild survived drop");
}

#[tokio::test]
async fn background_process_holding_the_pipe_does_not_hang() {
    let d = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    let r = run_shell(
        &cmd("(sleep 3; echo late) & echo now", d.path()),
        &CancellationToken::new(),
        |b| out.extend_from_slice(b),
    )
    .await
    .unwrap();
    assert_eq!(r.exit_code, Some(0));
    assert_eq!(out, b"now\n");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn sanitiser() {
    assert_eq!(
        sanitize_output("\x1b[31mred\x1b[0m\r\nbell\x07 tab\there\n"),
        "red\nbell tab\there\n"
    );
}

#[tokio::test]
async fn rpc_bash_results() {
    let d = tempfile::tempdir().unwrap();
    let r = run_rpc_bash(
        &cmd("echo rpc bash output", d.path()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"output":"rpc bash output\n","exitCode":0,"cancelled":false,"truncated":false}"#
    );
    let r = run_rpc_bash(
        &cmd("echo failing; exit 7", d.path()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"output":"failing\n","exitCode":7,"cancelled":false,"truncated":false}"#
    );
    let r = run_rpc_bash(
        &cmd("printf '\\033[1mbold\\033[0m\\r\\n'", d.path()),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.output, "bold\n");

    let token = CancellationToken::new();
    let t2 = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        t2.cancel();
    });
    let r = run_rpc_bash(&cmd("sleep 10", d.path()), &token)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"output":"","cancelled":true,"truncated":false}"#
    );

    let r = run_rpc_bash(&cmd("seq 1 30000", d.path()), &CancellationToken::new())
        .await
        .unwrap();
    assert!(r.truncated);
    assert!(r.output.ends_with("30000\n"));
    let full = std::fs::read_to_string(r.full_output_path.unwrap()).unwrap();
    assert!(full.starts_with("1\n2\n"));
    assert_eq!(full.lines().count(), 30000);
}
