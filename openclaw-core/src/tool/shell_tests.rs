use super::*;
use std::sync::Arc;

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
    let files = SpillFiles::default();
    let spill = (&files, 1 << 20);
    let r = run_rpc_bash(
        &cmd("echo rpc bash output", d.path()),
        &CancellationToken::new(),
        spill,
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
        spill,
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
        spill,
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
    let r = run_rpc_bash(&cmd("sleep 10", d.path()), &token, spill)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        r#"{"output":"","cancelled":true,"truncated":false}"#
    );

    let r = run_rpc_bash(
        &cmd("seq 1 30000", d.path()),
        &CancellationToken::new(),
        spill,
    )
    .await
    .unwrap();
    assert!(r.truncated);
    assert!(r.output.ends_with("30000\n"));
    let full = std::fs::read_to_string(r.full_output_path.unwrap()).unwrap();
    assert!(full.starts_with("1\n2\n"));
    assert_eq!(full.lines().count(), 30000);
}

/// Runs `script` (which must print one pid per line, then block) until `n` pids were printed,
/// then stops it with `stop` (abort) or lets `timeout` end it; returns the pids.
async fn pids_then_stop(script: &str, n: usize, timeout: Option<Duration>) -> Vec<i32> {
    let mut c = cmd(script, &std::env::temp_dir());
    c.timeout = timeout;
    let token = CancellationToken::new();
    let out = Arc::new(std::sync::Mutex::new(String::new()));
    let (t2, o2) = (token.clone(), out.clone());
    let handle = tokio::spawn(async move {
        run_shell(&c, &t2, |b| {
            o2.lock().unwrap().push_str(&String::from_utf8_lossy(b));
        })
        .await
        .unwrap()
    });
    let pids = || -> Vec<i32> {
        let o = out.lock().unwrap();
        o.lines().filter_map(|l| l.trim().parse().ok()).collect()
    };
    for _ in 0..250 {
        if pids().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = pids();
    assert_eq!(got.len(), n, "the script printed {:?}", out.lock().unwrap());
    for p in &got {
        assert!(pid_alive(*p), "{p} is not running before the stop");
    }
    if timeout.is_none() {
        token.cancel();
    }
    let r = tokio::time::timeout(Duration::from_secs(30), handle)
        .await
        .expect("the command ended")
        .unwrap();
    assert!(r.cancelled || r.timed_out);
    got
}

#[tokio::test]
async fn abort_kills_children_that_left_the_process_group() {
    // `setsid` puts the sleeper in a new session and group; the shell then waits.
    let pids = pids_then_stop("setsid sleep 1000 & echo $!; sleep 1000", 1, None).await;
    assert!(
        wait_gone(pids[0]).await,
        "setsid child {} survived the abort",
        pids[0]
    );
}

#[tokio::test]
async fn timeout_kills_double_forked_daemons() {
    // A daemon the classic way: fork, setsid, fork again; its parent exits at once, so the
    // daemon is an orphan outside the command's group and the shell's tree.
    let script = "setsid sh -c 'sleep 1000 & echo $!' & wait; sleep 1000";
    let pids = pids_then_stop(script, 1, Some(Duration::from_millis(800))).await;
    assert!(
        wait_gone(pids[0]).await,
        "daemon {} survived the timeout",
        pids[0]
    );
}

#[tokio::test]
async fn resource_limits_apply_to_the_command() {
    let d = tempfile::tempdir().unwrap();
    let mut c = cmd(
        "ulimit -f; ulimit -d; ulimit -t; head -c 3000000 /dev/zero > big; echo wrote $?",
        d.path(),
    );
    c.limits = ShellLimits {
        max_processes: Some(100),
        max_file_size: Some(1 << 20),
        max_memory: Some(512 << 20),
        max_cpu_seconds: Some(30),
    };
    let mut out = Vec::new();
    let r = run_shell(&c, &CancellationToken::new(), |b| out.extend_from_slice(b))
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let lines: Vec<&str> = out.lines().collect();
    // bash reports -f and -d in KiB blocks.
    assert_eq!(&lines[..3], ["1024", "524288", "30"], "{out}");
    assert!(!out.contains("wrote 0"), "{out}");
    assert_eq!(r.exit_code, Some(0));
    let len = std::fs::metadata(d.path().join("big")).unwrap().len();
    assert!(len <= 1 << 20, "the file grew to {len} bytes");
    // The process limit is headroom over what the user already runs, not an absolute count.
    let mut c = cmd("ulimit -u", d.path());
    c.limits = ShellLimits {
        max_processes: Some(100),
        ..ShellLimits::none()
    };
    let mut out = Vec::new();
    run_shell(&c, &CancellationToken::new(), |b| out.extend_from_slice(b))
        .await
        .unwrap();
    let nproc: u64 = String::from_utf8_lossy(&out).trim().parse().unwrap();
    assert!(nproc > 100, "{nproc}");
}

#[test]
fn the_spill_file_is_capped_and_removed_unless_kept() {
    let files = SpillFiles::default();
    let mut c = OutputCollector::new(100_000);
    let chunk = vec![b'x'; 40_000];
    for _ in 0..10 {
        c.push(&chunk);
    }
    let path = c.full_output_path().unwrap().to_path_buf();
    c.finish();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 100_000);
    assert!(c.spill_capped());
    drop(c);
    assert!(!path.exists(), "an unkept spill file stayed");

    let mut kept = Vec::new();
    for _ in 0..(super::super::spill::KEPT_SPILL_FILES + 2) {
        let mut c = OutputCollector::new(1 << 20);
        c.push(&vec![b'y'; 60_000]);
        c.finish();
        kept.push(c.full_output_path().unwrap().to_path_buf());
        c.keep(&files);
    }
    assert!(!kept[0].exists() && !kept[1].exists(), "the oldest stay");
    assert!(kept[2..].iter().all(|p| p.exists()));
    drop(files);
    assert!(
        kept.iter().all(|p| !p.exists()),
        "kept files outlived their set"
    );
}

#[tokio::test]
async fn a_subreaper_adopts_and_reaps_what_it_killed() {
    proctree::become_subreaper().unwrap();
    let script = "setsid sh -c 'sleep 1000 & echo $!' & wait; sleep 1000";
    let mut c = cmd(script, &std::env::temp_dir());
    c.timeout = Some(Duration::from_millis(1500));
    let out = Arc::new(std::sync::Mutex::new(String::new()));
    let o2 = out.clone();
    let handle = tokio::spawn(async move {
        run_shell(&c, &CancellationToken::new(), |b| {
            o2.lock().unwrap().push_str(&String::from_utf8_lossy(b));
        })
        .await
        .unwrap()
    });
    let mut pid = None;
    for _ in 0..100 {
        pid = out.lock().unwrap().trim().parse::<i32>().ok();
        if pid.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let pid = pid.expect("the daemon's pid");
    // Orphaned, it was re-parented to this process rather than to init.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let ppid: u32 = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(ppid, std::process::id());
    assert!(handle.await.unwrap().timed_out);
    // Killed and reaped: not even a zombie is left.
    let mut gone = false;
    for _ in 0..200 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "daemon {pid} was left behind (alive or a zombie)");
}
