//! `openclaw memory index|status|search` against a real workspace in a temp HOME and the real
//! state database: an incremental index, a damaged note reported (and a failing exit) rather
//! than indexed as empty, OpenClaw's JSON shapes.

mod support_cli;

use serde_json::Value;
use support_cli::{Home, stderr, stdout};

fn json_of(out: &std::process::Output) -> Value {
    assert!(out.status.success(), "{}\n{}", stderr(out), stdout(out));
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn index_status_and_search_work_on_the_state_dir() {
    let Some(home) = Home::start() else { return };
    let ws = home.state_dir().join("workspace");
    std::fs::create_dir_all(ws.join("memory")).unwrap();
    std::fs::write(
        ws.join("MEMORY.md"),
        "# People\nAlice runs the sailing club.\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("memory/2026-12-01.md"),
        "# 2026-12-01\n\n## Trip\nBooked the ferry to Skye for March.\n",
    )
    .unwrap();

    let out = home.run(&["memory", "index"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("main: 2 memory file(s): 2 indexed"),
        "{}",
        stdout(&out)
    );
    let out = home.run(&["memory", "index"], "");
    assert!(
        stdout(&out).contains("0 indexed, 2 unchanged"),
        "{}",
        stdout(&out)
    );

    let r = json_of(&home.run(&["memory", "search", "ferry to Skye", "--json"], ""));
    assert_eq!(r["mode"], "fts-only");
    assert_eq!(r["results"][0]["path"], "memory/2026-12-01.md");
    assert_eq!(r["results"][0]["startLine"], 3);
    assert_eq!(r["results"][0]["endLine"], 4);
    let text = stdout(&home.run(&["memory", "search", "--query", "sailing"], ""));
    assert!(
        text.contains("MEMORY.md#L1-L2") && text.contains("Alice runs"),
        "{text}"
    );

    // A damaged note: reported by index (failing exit) and status, never indexed as empty.
    std::fs::write(ws.join("memory/2026-12-02.md"), b"Skye \xff\xfe").unwrap();
    let out = home.run(&["memory", "index"], "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("memory/2026-12-02.md: not valid UTF-8"),
        "{}",
        stderr(&out)
    );
    let s = json_of(&home.run(&["memory", "status", "--json"], ""));
    let st = &s[0]["status"];
    assert_eq!(s[0]["agentId"], "main");
    assert_eq!(st["files"], 3);
    assert_eq!(st["failedFiles"][0]["path"], "memory/2026-12-02.md");
    assert_eq!(st["provider"], "none");

    // --force rebuilds; the workspace is untouched.
    let before = std::fs::read(ws.join("MEMORY.md")).unwrap();
    let out = home.run(&["memory", "index", "--force"], "");
    assert!(stdout(&out).contains("3 indexed"), "{}", stdout(&out));
    assert_eq!(std::fs::read(ws.join("MEMORY.md")).unwrap(), before);

    let out = home.run(&["memory", "search"], "");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("a query is required"),
        "{}",
        stderr(&out)
    );
}
