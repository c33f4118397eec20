//! The MCP client against real servers: this crate's test server (a separate process speaking
//! MCP over stdio, and over streamable HTTP on loopback) and, with Node, the registry's
//! `@modelcontextprotocol/server-everything` and `server-filesystem` (under CI=true a missing
//! Node or package fails the test).

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openclaw_core::cancel::CancellationToken;
use openclaw_core::message::ContentBlock;
use openclaw_core::testing::prereq;
use openclaw_core::tool::{Tool, ToolCallContext};
use openclaw_mcp::{McpConfig, McpManager};
use serde_json::{Value, json};

const SERVER: &str = env!("CARGO_BIN_EXE_openclaw-mcp-test-server");

fn config(v: Value) -> McpConfig {
    McpConfig::from_openclaw_json(&json!({"mcp": {"servers": v}})).unwrap()
}

fn stdio(extra: Value) -> Value {
    let mut v = json!({"command": SERVER, "args": ["stdio"]});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

async fn tools(m: &McpManager) -> Vec<Arc<dyn Tool>> {
    m.tools(&|_| true, &["read", "bash"]).await
}

fn find(tools: &[Arc<dyn Tool>], name: &str) -> Arc<dyn Tool> {
    tools
        .iter()
        .find(|t| t.name() == name)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {name}"))
}

async fn call(t: &Arc<dyn Tool>, args: Value) -> Result<openclaw_core::tool::ToolOutput, String> {
    t.execute(args, ToolCallContext::detached("c1"))
        .await
        .map_err(|e| e.message)
}

fn text(out: &openclaw_core::tool::ToolOutput) -> String {
    out.content
        .iter()
        .filter_map(ContentBlock::as_text)
        .collect::<Vec<_>>()
        .join("\n")
}

fn process_gone(pid: u32) -> bool {
    // A zombie still has an entry, so it counts as not gone.
    !std::path::Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within {secs} s");
}

#[tokio::test]
async fn stdio_tools_are_namespaced_filtered_and_called() {
    let m = McpManager::new(&config(json!({
        "test srv": stdio(json!({"toolFilter": {"exclude": ["crash", "spawn_*"]}}))
    })));
    let tools = tools(&m).await;
    let mut names: Vec<_> = tools.iter().map(|t| t.name().to_owned()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "test-srv__add",
            "test-srv__echo",
            "test-srv__image",
            "test-srv__pid",
            "test-srv__sleep"
        ]
    );
    let echo = find(&tools, "test-srv__echo");
    assert_eq!(
        echo.parameters()["required"],
        json!(["text"]),
        "schema as given"
    );
    let out = call(&echo, json!({"text": "hi"})).await.unwrap();
    assert_eq!(text(&out), "echo: hi");
    assert_eq!(out.details.unwrap()["mcpServer"], "test srv");

    let add = call(&find(&tools, "test-srv__add"), json!({"a": 2, "b": 3}))
        .await
        .unwrap();
    assert!(
        text(&add).starts_with("structuredContent:\n"),
        "{}",
        text(&add)
    );
    assert_eq!(
        add.details.unwrap()["structuredContent"],
        json!({"sum": 5.0})
    );

    let img = call(&find(&tools, "test-srv__image"), json!({}))
        .await
        .unwrap();
    assert!(matches!(&img.content[1], ContentBlock::Image(i) if i.mime_type == "image/png"));
    let origin = echo.mcp_origin().unwrap();
    assert_eq!(
        (origin.server.as_str(), origin.tool.as_str()),
        ("test srv", "echo")
    );
    m.shutdown().await;
}

#[tokio::test]
async fn streamable_http_server_on_loopback() {
    let mut child = std::process::Command::new(SERVER)
        .arg("http")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().strip_prefix("listening ").unwrap().to_owned();
    let m = McpManager::new(&config(json!({
        "remote": {"url": format!("http://127.0.0.1:{port}/mcp"), "transport": "streamable-http",
                   "headers": {"X-Test": "1"}, "toolFilter": {"include": ["echo", "add"]}}
    })));
    let tools = tools(&m).await;
    let names: Vec<_> = tools.iter().map(|t| t.name().to_owned()).collect();
    assert_eq!(names, ["remote__add", "remote__echo"]);
    let out = call(&find(&tools, "remote__echo"), json!({"text": "over http"}))
        .await
        .unwrap();
    assert_eq!(text(&out), "echo: over http");
    m.shutdown().await;
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test]
async fn a_crashed_server_is_unavailable_then_restarted() {
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let m = McpManager::with_log(
        &config(json!({"t": stdio(json!({}))})),
        Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_owned())),
    );
    let tools = tools(&m).await;
    let pid = call(&find(&tools, "t__pid"), json!({})).await.unwrap();
    let first_pid: u32 = text(&pid).parse().unwrap();
    let crash = call(&find(&tools, "t__crash"), json!({}))
        .await
        .unwrap_err();
    assert!(crash.contains("\"t\""), "{crash}");
    // Down: its tools say so (not a hang, not a spawn per call).
    let server = m.server("t").unwrap();
    wait_for("the crash being noticed", 5, async || {
        server.status().await.state != "ready"
    })
    .await;
    let down = call(&find(&tools, "t__echo"), json!({"text": "x"}))
        .await
        .unwrap_err();
    assert!(down.contains("unavailable"), "{down}");
    let st = server.status().await;
    assert_eq!(st.state, "restarting", "{st:?}");
    // Why it went down names the exit status (once the exit was reaped).
    wait_for("the exit status in the last error", 5, async || {
        server
            .status()
            .await
            .last_error
            .is_some_and(|e| e.contains("status 3"))
    })
    .await;
    assert!(process_gone(first_pid));
    // Back after the backoff, as a new process.
    wait_for("the restart", 10, async || {
        server.status().await.state == "ready"
    })
    .await;
    let again = call(&find(&tools, "t__pid"), json!({})).await.unwrap();
    assert_ne!(text(&again), text(&pid));
    assert_eq!(server.status().await.restarts, 1);
    // The server's stderr and its lifecycle are in the log.
    let log = lines.lock().unwrap().join("\n");
    assert!(log.contains("bundle-mcp:t: crashing on request"), "{log}");
    assert!(
        log.contains("MCP server t went down: exited with status 3"),
        "{log}"
    );
    m.shutdown().await;
}

#[tokio::test]
async fn a_hung_call_times_out_and_the_server_stays_usable() {
    let m = McpManager::new(&config(
        json!({"t": stdio(json!({"requestTimeoutMs": 300}))}),
    ));
    let tools = tools(&m).await;
    let e = call(&find(&tools, "t__sleep"), json!({"ms": 30000}))
        .await
        .unwrap_err();
    assert!(e.contains("timed out after 0.3 s"), "{e}");
    let ok = call(&find(&tools, "t__echo"), json!({"text": "still here"}))
        .await
        .unwrap();
    assert_eq!(text(&ok), "echo: still here");
    m.shutdown().await;
}

#[tokio::test]
async fn abort_cancels_a_call() {
    let m = McpManager::new(&config(json!({"t": stdio(json!({}))})));
    let tools = tools(&m).await;
    let cancel = CancellationToken::new();
    let mut ctx = ToolCallContext::detached("c");
    ctx.cancel = cancel.clone();
    let sleep = find(&tools, "t__sleep");
    let started = Instant::now();
    let run = tokio::spawn(async move { sleep.execute(json!({"ms": 60000}), ctx).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    cancel.cancel();
    let e = run.await.unwrap().unwrap_err();
    assert!(e.message.contains("aborted"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(20));
    m.shutdown().await;
}

#[tokio::test]
async fn dropping_the_server_kills_its_process_group() {
    let m = McpManager::new(&config(json!({"t": stdio(json!({}))})));
    let tools = tools(&m).await;
    let server_pid = m.server("t").unwrap().pid().await.unwrap();
    let child: u32 = text(
        &call(&find(&tools, "t__spawn_child"), json!({}))
            .await
            .unwrap(),
    )
    .parse()
    .unwrap();
    assert!(!process_gone(child));
    drop(tools);
    m.shutdown().await;
    wait_for("the server and its child being gone", 5, async || {
        process_gone(server_pid) && process_gone(child)
    })
    .await;
}

/// `node_modules` holding the registry's MCP servers: `$OPENCLAW_MCP_NODE_MODULES`, else the
/// peers' install (`/tmp/peers/node_modules`), else `None` (reported by the caller).
fn node_modules() -> Option<PathBuf> {
    let dir = std::env::var_os("OPENCLAW_MCP_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/peers/node_modules"));
    dir.join("@modelcontextprotocol/server-everything/dist/index.js")
        .is_file()
        .then_some(dir)
}

fn node_servers() -> Option<PathBuf> {
    if !prereq::command("node") {
        prereq::missing("node", ".ci/run installs nodejs");
        return None;
    }
    let dir = node_modules();
    if dir.is_none() {
        prereq::missing(
            "@modelcontextprotocol/server-everything and server-filesystem",
            "npm install them and set OPENCLAW_MCP_NODE_MODULES to that node_modules (.ci/run does)",
        );
    }
    dir
}

#[tokio::test]
async fn the_registrys_everything_and_filesystem_servers() {
    let Some(nm) = node_servers() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    std::fs::write(root.path().join("note.txt"), "from the filesystem server\n").unwrap();
    let everything = nm.join("@modelcontextprotocol/server-everything/dist/index.js");
    let filesystem = nm.join("@modelcontextprotocol/server-filesystem/dist/index.js");
    let m = McpManager::new(&config(json!({
        "everything": {"command": "node", "args": [everything, "stdio"]},
        "files": {"command": "node", "args": [filesystem, root.path()],
                  "toolFilter": {"include": ["read_text_file", "list_directory"]}}
    })));
    let tools = m.tools(&|_| true, &[]).await;
    let names: Vec<_> = tools.iter().map(|t| t.name().to_owned()).collect();
    assert!(names.contains(&"everything__echo".to_owned()), "{names:?}");
    assert!(
        names.contains(&"files__read_text_file".to_owned()),
        "{names:?}"
    );
    assert!(
        !names.iter().any(|n| n == "files__write_file"),
        "filtered: {names:?}"
    );
    let echo = call(
        &find(&tools, "everything__echo"),
        json!({"message": "hello"}),
    )
    .await
    .unwrap();
    assert!(text(&echo).contains("hello"), "{}", text(&echo));
    let sum = find(&tools, "everything__get-sum");
    let out = call(&sum, json!({"a": 2, "b": 40})).await.unwrap();
    assert!(text(&out).contains("42"), "{}", text(&out));
    let path = root.path().join("note.txt");
    let read = call(
        &find(&tools, "files__read_text_file"),
        json!({"path": path.to_string_lossy()}),
    )
    .await
    .unwrap();
    assert!(
        text(&read).contains("from the filesystem server"),
        "{}",
        text(&read)
    );
    m.shutdown().await;
}

#[tokio::test]
async fn progress_notifications_reach_the_update_sink() {
    let Some(nm) = node_servers() else {
        return;
    };
    let everything = nm.join("@modelcontextprotocol/server-everything/dist/index.js");
    let m = McpManager::new(&config(json!({
        "everything": {"command": "node", "args": [everything, "stdio"]}
    })));
    let tools = m.tools(&|_| true, &[]).await;
    let op = find(&tools, "everything__trigger-long-running-operation");
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = seen.clone();
    let mut ctx = ToolCallContext::detached("p");
    ctx.on_update = Arc::new(move |o| sink.lock().unwrap().push(text(&o)));
    let out = op
        .execute(json!({"duration": 1, "steps": 2}), ctx)
        .await
        .unwrap();
    assert!(text(&out).contains("completed"), "{}", text(&out));
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|l| l.starts_with("progress 1/2")),
        "{seen:?}"
    );
    m.shutdown().await;
}
