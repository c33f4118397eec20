//! `usage.status` sums tokens and cost from the transcripts, and `tools.catalog` lists the
//! tools the agents' engines are built from; over a real gateway with the in-process fake model.

mod common;

use common::model::{chat, config_for, start_model};
use common::{Client, Setup};
use serde_json::{Value, json};

#[tokio::test]
async fn usage_status_reports_tokens_and_cost_from_the_transcripts() {
    let model = start_model().await;
    let mut config = config_for(&model);
    // $1 per million input tokens, $2 per million output tokens.
    config["models"]["providers"]["fake"]["models"][0]["cost"] =
        json!({"input": 1.0, "output": 2.0, "cacheRead": 0, "cacheWrite": 0});
    let tg = common::start(Setup {
        config,
        engine: true,
        ..Setup::default()
    })
    .await;
    let (mut c, _) =
        Client::connected(&tg, &["operator.read", "operator.write", "operator.admin"]).await;
    let empty = c.ok("usage.status", json!({})).await;
    assert_eq!(empty["providers"], json!([]));
    chat(&mut c, "main", "one", json!({})).await;
    chat(&mut c, "agent:helper:main", "two", json!({})).await;
    // A reset session's spending still counts.
    c.ok("sessions.reset", json!({"key": "agent:main:main"}))
        .await;
    chat(&mut c, "main", "three", json!({})).await;
    let u = c.ok("usage.status", json!({})).await;
    let fake = &u["providers"][0];
    assert_eq!(fake["provider"], "fake");
    assert_eq!(fake["totals"]["input"], 30);
    assert_eq!(fake["totals"]["output"], 15);
    assert_eq!(fake["totals"]["messages"], 3);
    let cost = fake["totals"]["cost"].as_f64().unwrap();
    assert!(
        (cost - 3.0 * (10.0 * 1.0 + 5.0 * 2.0) / 1e6).abs() < 1e-12,
        "{cost}"
    );
    assert_eq!(fake["models"][0]["model"], "m1");
}

#[tokio::test]
async fn tools_catalog_lists_the_engines_tools() {
    let tg = common::start(Setup::default()).await;
    let (mut c, _) = Client::connected(&tg, &["operator.read"]).await;
    let t = c.ok("tools.catalog", json!({})).await;
    let ids: Vec<String> = t["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["tools"].as_array().unwrap().iter())
        .map(|t: &Value| t["id"].as_str().unwrap().to_owned())
        .collect();
    for tool in [
        "read",
        "bash",
        "edit",
        "write",
        "grep",
        "find",
        "ls",
        "sessions_send",
        "memory_search",
        "memory_get",
    ] {
        assert!(
            ids.contains(&tool.to_owned()),
            "{tool} missing from {ids:?}"
        );
    }
    assert_eq!(ids.len(), 10);
}
