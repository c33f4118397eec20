//! The policy matrix, chains and pipes, the document's tightening and the gate against real
//! executables, files and the real `bash` tool.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::analysis::analyze;
use super::document::{AllowlistEntry, ApprovalsFile};
use super::evaluate::{Verdict, allow_always_entries, evaluate};
use super::{Ask, ExecPolicy, Security};

const PATH: &str = "/usr/local/bin:/usr/bin:/bin";

fn policy(mode: &str) -> ExecPolicy {
    ExecPolicy::from_config(&json!({"tools": {"exec": {"mode": mode}}}), None).unwrap()
}

fn entry(pattern: &str) -> AllowlistEntry {
    AllowlistEntry {
        pattern: pattern.into(),
        ..AllowlistEntry::default()
    }
}

fn verdict(p: &ExecPolicy, list: &[AllowlistEntry], cmd: &str) -> Verdict {
    let refs: Vec<&AllowlistEntry> = list.iter().collect();
    evaluate(
        p,
        &refs,
        &analyze(cmd, Path::new("/tmp"), PATH),
        Path::new("/tmp"),
    )
}

fn ask(allow_always: bool, fallback_allows: bool) -> Verdict {
    Verdict::Ask {
        allow_always,
        fallback_allows,
    }
}

fn deny(reason: &str) -> Verdict {
    Verdict::Deny {
        reason: reason.into(),
    }
}

#[test]
fn mode_by_allowlist_hit_or_miss() {
    let git = [entry("git"), entry("/usr/bin/ls")];
    // (mode, command, expected)
    let table = [
        ("deny", "git status", deny("security=deny")),
        ("deny", "whoami", deny("security=deny")),
        ("allowlist", "git status", Verdict::Allow),
        ("allowlist", "whoami", deny("allowlist-miss")),
        ("ask", "git status", Verdict::Allow),
        ("ask", "whoami", ask(true, false)),
        ("full", "whoami", Verdict::Allow),
        ("full", "git status", Verdict::Allow),
    ];
    for (mode, cmd, want) in table {
        assert_eq!(verdict(&policy(mode), &git, cmd), want, "{mode} {cmd}");
    }
}

#[test]
fn every_segment_of_chains_pipes_and_subshells_must_pass() {
    let list = [entry("git"), entry("ls")];
    let p = policy("allowlist");
    let table = [
        ("git status && ls -la", Verdict::Allow),
        ("git status; ls", Verdict::Allow),
        ("git log | head -n 3", Verdict::Allow), // head: a safe bin
        ("(git status; ls) || ls", Verdict::Allow),
        ("git status && whoami", deny("allowlist-miss")),
        ("ls | sh", deny("allowlist-miss")),
        ("git status;whoami", deny("allowlist-miss")),
        ("git status&whoami", deny("allowlist-miss")),
        ("ls $(whoami)", deny("allowlist-miss")),
        ("ls `whoami`", deny("allowlist-miss")),
        ("ls <(whoami)", deny("allowlist-miss")),
        ("if true; then whoami; fi", deny("allowlist-miss")),
        ("eval ls", deny("allowlist-miss")),
        ("$CMD status", deny("allowlist-miss")),
        ("ls 'unbalanced", deny("allowlist-miss")),
        ("git status > /tmp/out 2>&1", Verdict::Allow),
        ("head /etc/passwd", deny("allowlist-miss")), // a safe bin given a file operand
    ];
    for (cmd, want) in table {
        assert_eq!(verdict(&p, &list, cmd), want, "{cmd}");
    }
    let a = analyze("git status && ls -la | wc -l", Path::new("/tmp"), PATH);
    let argv: Vec<Vec<String>> = a.segments.iter().map(|s| s.argv.clone()).collect();
    assert_eq!(
        argv,
        [vec!["git", "status"], vec!["ls", "-la"], vec!["wc", "-l"]]
    );
    assert_eq!(
        analyze("echo 'a && b' \"c|d\"", Path::new("/tmp"), PATH).segments[0].argv,
        ["echo", "a && b", "c|d"]
    );
}

#[test]
fn strict_inline_eval_always_asks_and_never_offers_allow_always() {
    let list = [entry("sh"), entry("python3"), entry("node"), entry("bash")];
    let mut p = policy("ask");
    p.strict_inline_eval = true;
    for cmd in [
        "sh -c 'rm -rf x'",
        "bash -lc ls",
        "python3 -c 'print(1)'",
        "node -e 1",
    ] {
        assert_eq!(verdict(&p, &list, cmd), ask(false, false), "{cmd}");
    }
    let mut full = policy("full");
    full.strict_inline_eval = true;
    assert_eq!(verdict(&full, &[], "sh -c ls"), ask(false, false));
    // Without strictInlineEval an allowlisted interpreter runs, but an inline-eval miss is
    // never offered allow-always (it would allowlist the shell itself).
    let plain = policy("ask");
    assert_eq!(verdict(&plain, &[], "sh -c ls"), ask(false, false));
    assert_eq!(verdict(&plain, &list, "sh script.sh"), Verdict::Allow);
}

#[test]
fn ask_always_and_fallbacks() {
    let mut p = policy("ask");
    p.ask = Ask::Always;
    assert_eq!(
        verdict(&p, &[entry("git")], "git status"),
        ask(false, false)
    );
    let mut p = policy("ask");
    p.ask_fallback = Security::Full;
    assert_eq!(verdict(&p, &[], "whoami"), ask(true, true));
    p.ask_fallback = Security::Allowlist;
    assert_eq!(verdict(&p, &[], "whoami"), ask(true, false));
}

#[test]
fn the_default_for_a_new_install_asks_on_a_miss_and_refuses_without_a_surface() {
    let p = ExecPolicy::from_config(&json!({}), Some("main")).unwrap();
    assert_eq!(
        (p.security, p.ask, p.ask_fallback),
        (Security::Allowlist, Ask::OnMiss, Security::Deny)
    );
    assert!(!p.explicit);
    assert_eq!(p.approval_timeout.as_millis(), 1_800_000);
    assert_eq!(verdict(&p, &[], "whoami"), ask(true, false));
    assert_eq!(verdict(&p, &[], "wc -l"), Verdict::Allow);
}

#[test]
fn config_layers_per_agent_and_rejects_mixing_mode_with_security() {
    let c = json!({
        "tools": {"exec": {"mode": "full", "approvalTimeoutMs": 1500}},
        "agents": {"defaults": {"tools": {"exec": {"security": "allowlist", "ask": "always"}}},
                   "list": [{"id": "ops", "tools": {"exec": {"mode": "deny"}}}],
                   "entries": {"dev": {"tools": {"exec": {"mode": "ask", "strictInlineEval": true}}}}}
    });
    let d = ExecPolicy::from_config(&c, Some("main")).unwrap();
    assert_eq!((d.security, d.ask), (Security::Allowlist, Ask::Always));
    assert_eq!(d.approval_timeout.as_millis(), 1500);
    let ops = ExecPolicy::from_config(&c, Some("ops")).unwrap();
    assert_eq!(ops.security, Security::Deny);
    let dev = ExecPolicy::from_config(&c, Some("dev")).unwrap();
    assert_eq!(
        (dev.security, dev.ask, dev.strict_inline_eval),
        (Security::Allowlist, Ask::OnMiss, true)
    );
    let mixed = json!({"tools": {"exec": {"mode": "full", "security": "deny"}}});
    let e = ExecPolicy::from_config(&mixed, None).unwrap_err();
    assert!(e.contains("tools.exec") && e.contains("not both"), "{e}");
    let bad = json!({"tools": {"exec": {"mode": "yolo"}}});
    assert!(
        ExecPolicy::from_config(&bad, None)
            .unwrap_err()
            .contains("tools.exec")
    );
}

#[test]
fn the_document_only_tightens() {
    let doc: ApprovalsFile = serde_json::from_value(json!({
        "version": 1,
        "defaults": {"security": "full", "ask": "off", "askFallback": "full"},
        "agents": {"main": {"security": "allowlist", "allowlist": [{"pattern": "git"}]},
                   "*": {"allowlist": [{"pattern": "/usr/bin/uname"}]}}
    }))
    .unwrap();
    // A looser document never loosens the config.
    let strict = doc.tighten(&policy("deny"), "main");
    assert_eq!(strict.security, Security::Deny);
    let t = doc.tighten(&policy("full"), "main");
    assert_eq!((t.security, t.ask), (Security::Allowlist, Ask::Off));
    let other = doc.tighten(&policy("ask"), "other");
    assert_eq!(
        (other.security, other.ask, other.ask_fallback),
        (Security::Allowlist, Ask::OnMiss, Security::Deny)
    );
    let list = doc.allowlist("main");
    assert_eq!(list.len(), 2, "own entries plus \"*\"");
    assert_eq!(doc.allowlist("other").len(), 1);
}

#[test]
fn an_unreadable_or_invalid_document_is_an_error_never_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exec-approvals.json");
    assert!(ApprovalsFile::load(&path).unwrap().is_none());
    std::fs::write(&path, "{\"version\": 1, \"agents\": {").unwrap();
    let e = ApprovalsFile::load(&path).unwrap_err().to_string();
    assert!(e.contains("not a valid exec approvals document"), "{e}");
    std::fs::write(&path, "{\"version\": 2}").unwrap();
    assert!(
        ApprovalsFile::load(&path)
            .unwrap_err()
            .to_string()
            .contains("version 2")
    );
    std::fs::write(&path, "{\"version\": 1, \"extra\": true}").unwrap();
    assert!(ApprovalsFile::load(&path).is_err(), "closed objects");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert!(
        ApprovalsFile::load(&path)
            .unwrap_err()
            .to_string()
            .contains("cannot read")
    );
}

#[test]
fn allow_always_is_bound_to_the_exact_argv_and_directory_and_persists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exec-approvals.json");
    let cwd = Path::new("/tmp");
    let a = analyze("ls -la /etc", cwd, PATH);
    let mut doc = ApprovalsFile::default();
    for e in allow_always_entries(&a, cwd, 1) {
        assert!(doc.add_entry("main", e));
    }
    doc.save(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let doc = ApprovalsFile::load(&path).unwrap().unwrap();
    let list = doc.allowlist("main");
    assert_eq!(list[0].source.as_deref(), Some("allow-always"));
    let p = policy("allowlist");
    let run = |cmd: &str, dir: &str| {
        evaluate(
            &p,
            &list,
            &analyze(cmd, Path::new(dir), PATH),
            Path::new(dir),
        )
    };
    assert_eq!(run("ls -la /etc", "/tmp"), Verdict::Allow);
    assert_eq!(
        run("ls -la  '/etc'", "/tmp"),
        Verdict::Allow,
        "same argv, other quoting"
    );
    assert_eq!(run("ls -la /root", "/tmp"), deny("allowlist-miss"));
    assert_eq!(run("ls -la /etc", "/"), deny("allowlist-miss"), "other cwd");
    assert_eq!(
        run("ls '-la /etc'", "/tmp"),
        deny("allowlist-miss"),
        "other argv, same text"
    );
}

#[test]
fn last_used_fields_go_to_the_matching_entry_at_most_once_a_second_per_command() {
    let mut doc = ApprovalsFile::default();
    doc.add_entry("main", entry("/usr/bin/true"));
    doc.add_entry("*", entry("ls"));
    let cwd = Path::new("/tmp");
    let ls = analyze("ls -la", cwd, PATH);
    assert!(doc.record_use("main", &ls.segments[0], cwd, 10_000));
    let any = &doc.agents["*"].allowlist[0];
    assert_eq!(any.last_used_at, Some(10_000));
    assert_eq!(any.last_used_command.as_deref(), Some("ls -la"));
    let resolved = ls.segments[0].resolved.clone().unwrap();
    assert_eq!(
        any.last_resolved_path.as_deref(),
        Some(resolved.to_str().unwrap())
    );
    assert_eq!(doc.agents["main"].allowlist[0].last_used_at, None);
    // The same command within a second changes nothing (no write); later, or another, does.
    assert!(!doc.record_use("main", &ls.segments[0], cwd, 11_000));
    assert!(doc.record_use("main", &ls.segments[0], cwd, 11_001));
    let other = analyze("ls /", cwd, PATH);
    assert!(doc.record_use("main", &other.segments[0], cwd, 11_002));
    let unlisted = analyze("uname", cwd, PATH);
    assert!(!doc.record_use("main", &unlisted.segments[0], cwd, 20_000));
}

#[test]
fn patterns_match_resolved_paths_and_bare_names_only_via_path() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("ls");
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let p = policy("allowlist");
    let by_name = [entry("ls")];
    let refs: Vec<&AllowlistEntry> = by_name.iter().collect();
    let local = analyze("./ls", dir.path(), PATH);
    assert_eq!(
        evaluate(&p, &refs, &local, dir.path()),
        deny("allowlist-miss")
    );
    let glob = [entry("/usr/bin/*")];
    let refs: Vec<&AllowlistEntry> = glob.iter().collect();
    let sys = analyze("ls", dir.path(), PATH);
    let want = if sys.segments[0].resolved == Some(PathBuf::from("/usr/bin/ls")) {
        Verdict::Allow
    } else {
        deny("allowlist-miss")
    };
    assert_eq!(evaluate(&p, &refs, &sys, dir.path()), want);
    let arg = [AllowlistEntry {
        arg_pattern: Some("^--version$".into()),
        ..entry("ls")
    }];
    let refs: Vec<&AllowlistEntry> = arg.iter().collect();
    let ok = analyze("ls --version", dir.path(), PATH);
    assert_eq!(evaluate(&p, &refs, &ok, dir.path()), Verdict::Allow);
    let no = analyze("ls -la", dir.path(), PATH);
    assert_eq!(evaluate(&p, &refs, &no, dir.path()), deny("allowlist-miss"));
}

#[cfg(feature = "tokio")]
mod gate {
    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use serde_json::json;

    use crate::cancel::CancellationToken;
    use crate::exec_policy::{
        ApprovalOutcome, ApprovalRequest, Approver, Decision, ExecPolicy, GateContext, gate_tools,
    };
    use crate::tool::{Tool, ToolCallContext, ToolEnv, builtin_tool};

    /// Answers every request with the next scripted outcome and keeps what it was asked.
    struct Scripted {
        answers: Mutex<Vec<ApprovalOutcome>>,
        asked: Mutex<Vec<ApprovalRequest>>,
    }

    #[async_trait]
    impl Approver for Scripted {
        async fn request(&self, req: ApprovalRequest, _c: CancellationToken) -> ApprovalOutcome {
            self.asked.lock().unwrap().push(req);
            self.answers.lock().unwrap().remove(0)
        }
    }

    fn gated(dir: &std::path::Path, approver: Option<Arc<Scripted>>, name: &str) -> Arc<dyn Tool> {
        let env = Arc::new(ToolEnv::new(dir));
        let mut ctx = GateContext::new(ExecPolicy::default(), "main", dir.to_owned());
        ctx.approvals_path = Some(dir.join("exec-approvals.json"));
        ctx.approver = approver.map(|a| a as Arc<dyn Approver>);
        let tools = vec![builtin_tool(name, &env).unwrap()];
        gate_tools(tools, &Arc::new(ctx)).remove(0)
    }

    fn scripted(answers: Vec<ApprovalOutcome>) -> Arc<Scripted> {
        Arc::new(Scripted {
            answers: Mutex::new(answers),
            asked: Mutex::new(Vec::new()),
        })
    }

    #[tokio::test]
    async fn deny_does_not_run_allow_once_runs_and_no_surface_refuses_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let cmd = format!("touch {}", marker.display());
        let approver = scripted(vec![
            ApprovalOutcome::Decided(Decision::Deny),
            ApprovalOutcome::Decided(Decision::AllowOnce),
        ]);
        let bash = gated(dir.path(), Some(approver.clone()), "bash");
        let err = bash
            .execute(json!({"command": cmd}), ToolCallContext::detached("c1"))
            .await
            .unwrap_err();
        let id = approver.asked.lock().unwrap()[0].id.clone();
        assert_eq!(
            err.message,
            format!("Exec denied (gateway id={id}, user-denied): {cmd}")
        );
        assert!(!marker.exists(), "a denied command must not run");
        bash.execute(json!({"command": cmd}), ToolCallContext::detached("c2"))
            .await
            .unwrap();
        assert!(marker.exists(), "allow-once runs it");
        let asked = approver.asked.lock().unwrap()[1].clone();
        assert_eq!(asked.tool_call_id, "c2");
        assert!(asked.allow_always);

        std::fs::remove_file(&marker).unwrap();
        let lonely = gated(dir.path(), None, "bash");
        let started = std::time::Instant::now();
        let err = lonely
            .execute(json!({"command": cmd}), ToolCallContext::detached("c3"))
            .await
            .unwrap_err();
        assert!(
            err.message.contains("approval-unavailable"),
            "{}",
            err.message
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert!(!marker.exists());
    }

    #[tokio::test]
    async fn allow_always_persists_and_the_next_identical_call_runs_unasked() {
        let dir = tempfile::tempdir().unwrap();
        let approver = scripted(vec![ApprovalOutcome::Decided(Decision::AllowAlways)]);
        let bash = gated(dir.path(), Some(approver.clone()), "bash");
        let out = bash
            .execute(
                json!({"command": "uname -s"}),
                ToolCallContext::detached("a"),
            )
            .await
            .unwrap();
        assert!(!out.content.is_empty());
        let doc = std::fs::read_to_string(dir.path().join("exec-approvals.json")).unwrap();
        assert!(doc.contains("\"source\": \"allow-always\""), "{doc}");
        bash.execute(
            json!({"command": "uname -s"}),
            ToolCallContext::detached("b"),
        )
        .await
        .unwrap();
        assert_eq!(approver.asked.lock().unwrap().len(), 1, "not asked again");
        // Other arguments are a miss again (the scripted approver has no answer left → the
        // lonely gate refuses).
        let lonely = gated(dir.path(), None, "bash");
        assert!(
            lonely
                .execute(
                    json!({"command": "uname -a"}),
                    ToolCallContext::detached("c")
                )
                .await
                .is_err()
        );
    }

    #[tokio::test]
    async fn write_outside_the_workspace_is_gated_inside_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir(&ws).unwrap();
        let write = gated(&ws, None, "write");
        write
            .execute(
                json!({"path": "in.txt", "content": "x"}),
                ToolCallContext::detached("w"),
            )
            .await
            .unwrap();
        let outside = dir.path().join("out.txt");
        let err = write
            .execute(
                json!({"path": outside.to_string_lossy(), "content": "x"}),
                ToolCallContext::detached("w2"),
            )
            .await
            .unwrap_err();
        assert!(
            err.message.contains("approval-unavailable"),
            "{}",
            err.message
        );
        assert!(!outside.exists());
    }

    #[tokio::test]
    async fn an_unreadable_document_refuses_instead_of_running() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("exec-approvals.json"), "not json").unwrap();
        let bash = gated(dir.path(), None, "bash");
        let err = bash
            .execute(json!({"command": "wc -l"}), ToolCallContext::detached("x"))
            .await
            .unwrap_err();
        assert!(
            err.message.contains("approvals-unreadable"),
            "{}",
            err.message
        );
    }

    /// A tool that says it comes from MCP server `docs` (the gate is what is tested here).
    struct FromMcp(Mutex<u32>);

    #[async_trait]
    impl Tool for FromMcp {
        fn name(&self) -> &str {
            "docs__publish"
        }
        fn description(&self) -> &str {
            "publish"
        }
        fn parameters(&self) -> serde_json::Value {
            json!({"type": "object"})
        }
        fn mcp_origin(&self) -> Option<crate::tool::McpOrigin> {
            Some(crate::tool::McpOrigin {
                server: "docs".into(),
                tool: "publish".into(),
            })
        }
        async fn execute(
            &self,
            _args: serde_json::Value,
            _ctx: ToolCallContext,
        ) -> Result<crate::tool::ToolOutput, crate::tool::ToolError> {
            *self.0.lock().unwrap() += 1;
            Ok(crate::tool::ToolOutput::text("published"))
        }
    }

    fn mcp_gated(
        dir: &std::path::Path,
        policy: ExecPolicy,
        approver: Option<Arc<Scripted>>,
    ) -> (Arc<dyn Tool>, Arc<FromMcp>) {
        let inner = Arc::new(FromMcp(Mutex::new(0)));
        let mut ctx = GateContext::new(policy, "main", dir.to_owned());
        ctx.approvals_path = Some(dir.join("exec-approvals.json"));
        ctx.approver = approver.map(|a| a as Arc<dyn Approver>);
        let tool = gate_tools(vec![inner.clone() as Arc<dyn Tool>], &Arc::new(ctx)).remove(0);
        (tool, inner)
    }

    #[tokio::test]
    async fn mcp_calls_ask_then_an_allow_always_grant_covers_the_tool_whatever_its_arguments() {
        let dir = tempfile::tempdir().unwrap();
        let approver = scripted(vec![ApprovalOutcome::Decided(Decision::AllowAlways)]);
        let (tool, inner) = mcp_gated(dir.path(), ExecPolicy::default(), Some(approver.clone()));
        tool.execute(json!({"page": 1}), ToolCallContext::detached("a"))
            .await
            .unwrap();
        let asked = approver.asked.lock().unwrap()[0].clone();
        assert_eq!(asked.command, r#"mcp docs/publish {"page":1}"#);
        assert!(asked.allow_always);
        let doc = std::fs::read_to_string(dir.path().join("exec-approvals.json")).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let grant = &doc["agents"]["main"]["mcpTools"][0];
        assert_eq!(grant["server"], "docs");
        assert_eq!(grant["tool"], "publish");
        assert_eq!(grant["source"], "allow-always");
        // Other arguments: the grant covers the tool, nobody is asked (none could answer).
        let (lonely, lonely_inner) = mcp_gated(dir.path(), ExecPolicy::default(), None);
        lonely
            .execute(json!({"page": 2}), ToolCallContext::detached("b"))
            .await
            .unwrap();
        assert_eq!(
            *inner.0.lock().unwrap() + *lonely_inner.0.lock().unwrap(),
            2
        );

        // `deny` refuses even a granted tool; allowlist without asking refuses an ungranted one.
        let (denied, d_inner) = mcp_gated(dir.path(), super::policy("deny"), None);
        let e = denied
            .execute(json!({}), ToolCallContext::detached("c"))
            .await
            .unwrap_err();
        assert_eq!(
            e.message,
            "Exec denied (gateway, security=deny): mcp docs/publish {}"
        );
        assert_eq!(*d_inner.0.lock().unwrap(), 0);
        let fresh = tempfile::tempdir().unwrap();
        let (strict, s_inner) = mcp_gated(fresh.path(), super::policy("allowlist"), None);
        let e = strict
            .execute(json!({}), ToolCallContext::detached("d"))
            .await
            .unwrap_err();
        assert!(e.message.contains("mcp-tool-not-granted"), "{}", e.message);
        assert_eq!(*s_inner.0.lock().unwrap(), 0);
        let (full, f_inner) = mcp_gated(fresh.path(), super::policy("full"), None);
        full.execute(json!({}), ToolCallContext::detached("e"))
            .await
            .unwrap();
        assert_eq!(*f_inner.0.lock().unwrap(), 1);
    }
}
