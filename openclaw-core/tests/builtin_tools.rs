//! The built-in tools through the public API, as the agent loop drives them: prepare the raw
//! arguments, validate them against the tool's schema, execute.

#![cfg(feature = "tokio")]

use std::sync::{Arc, Mutex};

use openclaw_core::tool::{
    ToolEnv, ToolOutput, all_tools, builtin_tool, default_tools, validate_arguments,
};
use openclaw_core::{Tool, ToolCallContext};
use serde_json::{Value, json};

async fn call(tool: &Arc<dyn Tool>, raw: Value) -> Result<ToolOutput, String> {
    let prepared = tool.prepare_arguments(raw);
    let args = validate_arguments(tool.name(), &tool.parameters(), &prepared)?;
    tool.execute(args, ToolCallContext::detached("call_1"))
        .await
        .map_err(|e| e.message)
}

#[tokio::test]
async fn loop_style_calls() {
    let dir = tempfile::tempdir().unwrap();
    let env = Arc::new(ToolEnv::new(dir.path()));
    assert_eq!(
        default_tools(&env)
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>(),
        ["read", "bash", "edit", "write"]
    );
    assert_eq!(all_tools(&env).len(), 7);

    let read = builtin_tool("read", &env).unwrap();
    let err = call(&read, json!({"file": "a.txt"})).await.unwrap_err();
    assert_eq!(
        err,
        "Validation failed for tool \"read\":\n  - path: must have required properties path\n\nReceived arguments:\n{\n  \"file\": \"a.txt\"\n}"
    );

    let write = builtin_tool("write", &env).unwrap();
    let out = call(
        &write,
        json!({"path": "code.py", "content": "x = 1\ny = 2\n"}),
    )
    .await
    .unwrap();
    assert_eq!(
        out.content[0].as_text(),
        Some("Successfully wrote 12 bytes to code.py")
    );

    // A numeric string is coerced for `offset`, as AJV does.
    let out = call(&read, json!({"path": "code.py", "offset": "2"}))
        .await
        .unwrap();
    assert_eq!(out.content[0].as_text(), Some("y = 2\n"));

    // The legacy edit form passes validation once prepared.
    let edit = builtin_tool("edit", &env).unwrap();
    let out = call(
        &edit,
        json!({"path": "code.py", "oldText": "y = 2", "newText": "y = 3"}),
    )
    .await
    .unwrap();
    assert_eq!(out.details.unwrap()["firstChangedLine"], 2);

    let bash = builtin_tool("bash", &env).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let mut ctx = ToolCallContext::detached("call_2");
    ctx.on_update = Arc::new(move |o| s2.lock().unwrap().push(serde_json::to_string(&o).unwrap()));
    let out = bash
        .execute(json!({"command": "cat code.py"}), ctx)
        .await
        .unwrap();
    assert_eq!(out.content[0].as_text(), Some("x = 1\ny = 3\n"));
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0], r#"{"content":[]}"#);
    assert_eq!(
        seen.last().unwrap(),
        r#"{"content":[{"type":"text","text":"x = 1\ny = 3\n"}],"details":{}}"#
    );
}
