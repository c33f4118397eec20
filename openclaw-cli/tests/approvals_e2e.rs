//! Exec approvals end to end against a real `openclaw gateway run` process with
//! `tools.exec.mode: "ask"` and the fake model scripting a `bash` call: an approval client
//! (WebSocket, `exec-approvals` cap) receives `exec.approval.requested`; `openclaw approvals
//! pending` lists it and `openclaw approvals resolve <id> deny` denies it — the command did not
//! run and the model saw the denial; then allow-once over the protocol — it ran. Killing the
//! gateway with an approval pending and starting it again expires it (`gateway-restart`).

mod support_cli;

use std::time::Duration;

use openclaw_rpc::client::gateway::{ConnectOptions, GatewayClient};
use serde_json::{Value, json};
use support_cli::{Home, stderr, stdout};

const TOKEN: &str = "approvals-e2e-token";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn configure(home: &Home) {
    let path = home.state_dir().join("openclaw.json");
    let mut cfg: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    cfg["agents"] = json!({"defaults": {"model": {"primary": "fake/fake-model"}}});
    cfg["tools"] = json!({"exec": {"mode": "ask"}});
    std::fs::write(&path, cfg.to_string()).unwrap();
}

async fn client(url: &str, scopes: &[&str], caps: &[&str]) -> GatewayClient {
    let opts = ConnectOptions::new(url)
        .token(TOKEN)
        .scopes(scopes.iter().copied())
        .caps(caps.iter().copied());
    GatewayClient::connect(opts).await.unwrap()
}

/// The next event called `name` on `rx`.
async fn event(rx: &mut tokio::sync::broadcast::Receiver<Value>, name: &str) -> Value {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let f = rx.recv().await.unwrap();
            if f["event"] == name {
                return f["payload"].clone();
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {name} event"))
}

/// Waits for the run's final chat event; returns its text.
async fn final_text(rx: &mut tokio::sync::broadcast::Receiver<Value>, run: &str) -> String {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let f = rx.recv().await.unwrap();
            if f["event"] == "chat"
                && f["payload"]["runId"] == run
                && f["payload"]["state"] == "final"
            {
                return f["payload"]["message"]["content"][0]["text"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
            }
        }
    })
    .await
    .expect("the run ended")
}

fn bash_prompt(command: &str) -> String {
    format!("call bash {}", json!({"command": command}))
}

#[test]
fn ask_mode_deny_then_allow_once_and_a_restart_expires_pending() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    configure(&home);
    let port = free_port();
    let env = [("OPENCLAW_GATEWAY_TOKEN", TOKEN)];
    let gw = home.gateway(&["--port", &port.to_string()], &env, port);
    let url = format!("ws://127.0.0.1:{port}");
    let cli = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--url", &url, "--token", TOKEN]);
        home.run(&all, "")
    };
    let marker = home.path().join("approved-marker");
    let cmd = format!("touch {}", marker.display());
    let rt = tokio::runtime::Runtime::new().unwrap();

    rt.block_on(async {
        let approver = client(&url, &["operator.approvals"], &["exec-approvals"]).await;
        let mut approvals = approver.subscribe();
        // The chat client lacks operator.approvals: the gateway raises the approval itself.
        let chat = client(&url, &["operator.read", "operator.write"], &[]).await;
        let mut chat_events = chat.subscribe();
        let send = json!({"sessionKey": "main", "message": bash_prompt(&cmd), "idempotencyKey": "e2e-deny"});
        chat.call("chat.send", Some(send)).await.unwrap();
        let req = event(&mut approvals, "exec.approval.requested").await;
        assert_eq!(req["request"]["command"], cmd);
        let id = req["id"].as_str().unwrap().to_owned();

        let out = cli(&["approvals", "pending"]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains("Pending approvals (1)") && text.contains(&id), "{text}");
        assert!(text.contains(&format!("{id}: {cmd}")), "{text}");
        let json_out = cli(&["approvals", "pending", "--json"]);
        let listed: Value = serde_json::from_slice(&json_out.stdout).unwrap();
        assert_eq!(listed["approvals"][0]["id"], id.as_str());

        let out = cli(&["approvals", "resolve", &id, "deny"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            stdout(&out).trim(),
            format!("Approval {id} resolved deny by runtime:cli.")
        );
        let resolved = event(&mut approvals, "exec.approval.resolved").await;
        assert_eq!(resolved["decision"], "deny");
        let text = final_text(&mut chat_events, "e2e-deny").await;
        assert!(text.starts_with(&format!("done: Exec denied (gateway id={id}, user-denied)")), "{text}");
        assert!(!marker.exists(), "the denied command ran");
        // A second answer with another decision is refused.
        let again = cli(&["approvals", "resolve", &id, "allow-once"]);
        assert!(!again.status.success());
        assert!(stderr(&again).contains("already resolved with deny"), "{}", stderr(&again));

        let send = json!({"sessionKey": "main", "message": bash_prompt(&cmd), "idempotencyKey": "e2e-allow"});
        chat.call("chat.send", Some(send)).await.unwrap();
        let req = event(&mut approvals, "exec.approval.requested").await;
        let id = req["id"].as_str().unwrap().to_owned();
        let ok = approver
            .call("exec.approval.resolve", Some(json!({"id": id, "decision": "allow-once"})))
            .await
            .unwrap();
        assert_eq!(ok, json!({"ok": true}));
        final_text(&mut chat_events, "e2e-allow").await;
        assert!(marker.exists(), "allow-once ran the command");

        // Left pending when the gateway dies.
        let send = json!({"sessionKey": "other", "message": bash_prompt("whoami"), "idempotencyKey": "e2e-pending"});
        chat.call("chat.send", Some(send)).await.unwrap();
        let req = event(&mut approvals, "exec.approval.requested").await;
        req["id"].as_str().unwrap().to_owned()
    });
    drop(gw);
    let gw = home.gateway(&["--port", &port.to_string()], &env, port);
    let out = cli(&["approvals", "pending"]);
    assert_eq!(
        stdout(&out).trim(),
        "No pending approvals.",
        "{}",
        stderr(&out)
    );
    let out = cli(&[
        "gateway",
        "call",
        "approval.history",
        "--params",
        "{\"limit\": 1}",
    ]);
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["items"][0]["status"], "expired", "{h}");
    assert_eq!(h["items"][0]["reason"], "gateway-restart");
    drop(gw);
}

/// `openclaw -p` has nobody to ask: a miss is refused at once with a clear text (never run,
/// never a hang); an allowlisted command and a safe bin run; `mode: full` runs everything.
#[test]
fn print_mode_follows_the_policy() {
    let home = Home::start().expect("needs python3 and shared/fake_llm.py");
    let marker = home.path().join("p-marker");
    let cmd = format!("touch {}", marker.display());
    let run = |command: &str| {
        let prompt = bash_prompt(command);
        let out = home.run(
            &[
                "-p",
                &prompt,
                "--provider",
                "fake",
                "--model",
                "fake-model",
                "--no-session",
            ],
            "",
        );
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let started = std::time::Instant::now();
    let text = run(&cmd);
    assert!(text.contains("done: Exec denied (gateway id="), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(!marker.exists());
    assert!(run("wc -c").contains("done: 0"), "a safe bin runs");

    let add = home.run(&["approvals", "allowlist", "add", "/usr/bin/touch"], "");
    assert!(add.status.success(), "{}", stderr(&add));
    let doc = std::fs::read_to_string(home.state_dir().join("exec-approvals.json")).unwrap();
    assert!(doc.contains("\"pattern\": \"/usr/bin/touch\""), "{doc}");
    run(&cmd);
    assert!(marker.exists(), "an allowlisted command runs");

    // `mode: full` lets -p run everything.
    home.set_exec_mode("full");
    let other = home.path().join("full-marker");
    run(&format!("touch {}", other.display()));
    assert!(other.exists());
}
