//! Snapshot tests: whole screens rendered into ratatui's `TestBackend`, one per kind of cell
//! and popup. Review changes with `cargo insta review`. Each screen is also checked on its own
//! (`shows`): the text that matters is there and the layout holds (no row wider than the
//! terminal, the composer and status line at the bottom), so accepting a wrong snapshot is not
//! enough to pass.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use openclaw_core::message::{ContentBlock, StopReason, ThinkingContent, ToolCall};
use openclaw_core::{AgentEvent, ToolOutput};
use serde_json::json;

use crate::app::{Action, App, AppOptions, Reply};
use crate::backend::{BackendEvent, ModelChoice, SessionChoice};

use crate::snapshot_support::*;

const MARKDOWN: &str = "## Plan\n\nThis is **bold**, *italic* and `code`.\n\n1. First step\n2. Second step with a longer explanation that has to wrap onto the next row\n   - nested bullet\n\n```rust\nfn main() {\n    println!(\"hi\");\n}\n```\n\n| name | size |\n|------|------|\n| a.rs | 12 |\n| b.rs | 345 |\n\n> quoted text\n";

#[test]
fn markdown_answer() {
    let mut app = app();
    user(&mut app, "explain the plan");
    stream(
        &mut app,
        assistant(vec![text(MARKDOWN)], StopReason::Stop),
        true,
    );
    insta::assert_snapshot!(shows(
        screen(&mut app, 80, 36),
        80,
        &[
            "## Plan",
            "This is bold, italic and code.",
            "1. First step",
            "• nested bullet",
            "fn main() {",
            "a.rs │ 12",
            "│ quoted text",
            "fake/fake-model"
        ],
    ));
}

#[test]
fn multi_line_user_message_hangs_under_one_marker() {
    let mut app = app();
    user(
        &mut app,
        "first line\nsecond line that is long enough to wrap around\n\nlast\n",
    );
    insta::assert_snapshot!(shows(
        screen(&mut app, 40, 9),
        40,
        &[
            "  second line that is long enough to",
            "  wrap around",
            "  last"
        ],
    ));
}

#[test]
fn resize_rewraps_from_the_transcript() {
    let mut app = app();
    user(&mut app, "explain the plan");
    stream(
        &mut app,
        assistant(vec![text(MARKDOWN)], StopReason::Stop),
        true,
    );
    let _ = screen(&mut app, 80, 36);
    insta::assert_snapshot!(shows(
        screen(&mut app, 44, 40),
        44,
        &[
            "2. Second step with a longer explanation",
            "   that has to wrap onto the next row"
        ],
    ));
}

#[test]
fn streaming_with_pending_messages() {
    let mut app = app();
    app.on_backend(BackendEvent::Agent(AgentEvent::AgentStart));
    user(&mut app, "write a poem");
    stream(
        &mut app,
        assistant(vec![text("Roses are red,\nviolets")], StopReason::Stop),
        false,
    );
    type_str(&mut app, "make it rhyme");
    let a = app.on_key(key(KeyCode::Enter));
    assert_eq!(a, vec![Action::Steer("make it rhyme".into())]);
    type_str(&mut app, "then translate it");
    let a = app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    assert_eq!(a, vec![Action::FollowUp("then translate it".into())]);
    assert_eq!(app.on_key(key(KeyCode::Esc)), vec![Action::Abort]);
    insta::assert_snapshot!(shows(
        screen(&mut app, 80, 16),
        80,
        &[
            "Roses are red, violets",
            "queued steer: make it rhyme",
            "queued follow-up: then translate it",
            "aborting…"
        ],
    ));
}

#[test]
fn thinking_collapsed_and_expanded() {
    let mut app = app();
    user(&mut app, "think first");
    let thinking = ContentBlock::Thinking(ThinkingContent {
        thinking: "The user wants me to think.\nSecond thought line.".into(),
        thinking_signature: None,
        redacted: None,
    });
    stream(
        &mut app,
        assistant(vec![thinking, text("Done thinking.")], StopReason::Stop),
        true,
    );
    let collapsed = screen(&mut app, 60, 10);
    app.on_key(KeyEvent::new(KeyCode::Char('t'), KeyModifiers::CONTROL));
    let expanded = screen(&mut app, 60, 12);
    insta::assert_snapshot!(shows(
        format!("{collapsed}----\n{expanded}"),
        60,
        &[
            "▸ Thinking (2 lines)",
            "▾ Thinking",
            "Second thought line.",
            "Done thinking."
        ],
    ));
    assert!(!collapsed.contains("Second thought line."), "{collapsed}");
}

fn tool_turn(app: &mut App, name: &str, args: serde_json::Value, output: &str, is_error: bool) {
    let id = format!("call_{}", app.transcript().len());
    let call = ContentBlock::ToolCall(Box::new(ToolCall {
        id: id.clone(),
        name: name.into(),
        arguments: args.clone(),
        thought_signature: None,
    }));
    stream(app, assistant(vec![call], StopReason::ToolUse), true);
    app.on_backend(BackendEvent::Agent(AgentEvent::ToolExecutionStart {
        tool_call_id: id.clone(),
        tool_name: name.into(),
        args,
    }));
    app.on_backend(BackendEvent::Agent(AgentEvent::ToolExecutionEnd {
        tool_call_id: id,
        tool_name: name.into(),
        result: ToolOutput::text(output),
        is_error,
    }));
}

#[test]
fn tool_output_truncated_then_expanded() {
    let mut app = app();
    user(&mut app, "list files");
    let out: String = (1..=12).map(|i| format!("file{i}.txt\n")).collect();
    tool_turn(&mut app, "bash", json!({"command": "ls"}), &out, false);
    let collapsed = screen(&mut app, 60, 14);
    app.on_key(KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL));
    let expanded = screen(&mut app, 60, 20);
    insta::assert_snapshot!(shows(
        format!("{collapsed}----\n{expanded}"),
        60,
        &[
            "✓ $ ls",
            "file1.txt",
            "… 7 more lines (ctrl+o to expand)",
            "file12.txt"
        ],
    ));
    assert!(!collapsed.contains("file12.txt"), "{collapsed}");
}

#[test]
fn edit_result_as_diff_and_failed_tool() {
    let mut app = app();
    user(&mut app, "fix it");
    tool_turn(
        &mut app,
        "edit",
        json!({"path": "src/lib.rs", "oldText": "let a = 1;\nlet b = 2;\n", "newText": "let a = 1;\nlet b = 3;\n"}),
        "Successfully replaced text in src/lib.rs.",
        false,
    );
    tool_turn(
        &mut app,
        "read",
        json!({"path": "missing.txt"}),
        "File not found: missing.txt",
        true,
    );
    insta::assert_snapshot!(shows(
        screen(&mut app, 60, 16),
        60,
        &[
            "✓ edit src/lib.rs",
            "- let b = 2;",
            "+ let b = 3;",
            "✗ read missing.txt",
            "File not found: missing.txt"
        ],
    ));
}

#[test]
fn errors_retries_and_abort() {
    let mut app = app();
    user(&mut app, "hello");
    app.on_backend(BackendEvent::Agent(AgentEvent::AutoRetryStart {
        attempt: 1,
        max_attempts: 3,
        delay_ms: 2000,
        error_message: "500 internal server error".into(),
    }));
    let mut failed = assistant(vec![], StopReason::Error);
    failed.error_message = Some("401 invalid api key".into());
    stream(&mut app, failed, true);
    let mut aborted = assistant(vec![text("Partial answ")], StopReason::Aborted);
    aborted.error_message = Some("Request was aborted".into());
    stream(&mut app, aborted, true);
    insta::assert_snapshot!(shows(
        screen(&mut app, 60, 14),
        60,
        &[
            "500 internal server error — retrying (attempt 1/3)",
            "✗ 401 invalid api key",
            "Partial answ",
            "⏹ Request was aborted"
        ],
    ));
}

#[test]
fn slash_popup_filters_and_runs() {
    let mut app = app();
    type_str(&mut app, "/");
    let all = screen(&mut app, 70, 18);
    type_str(&mut app, "th");
    let filtered = screen(&mut app, 70, 8);
    insta::assert_snapshot!(shows(
        format!("{all}----\n{filtered}"),
        70,
        &["/model [provider/id]", "/compact"],
    ));
    assert!(
        filtered.contains("/thinking [level]") && !filtered.contains("/model"),
        "{filtered}"
    );
    assert_eq!(app.on_key(key(KeyCode::Enter)), vec![]);
    // /thinking opened a picker; choose "high".
    app.on_key(key(KeyCode::Down));
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::SetThinking(openclaw_core::ThinkingLevel::High)]
    );
}

#[test]
fn slash_popup_lists_skills_and_prompt_templates() {
    let mut app = app();
    let extra = |name: &str, description: &str, source: &str| crate::backend::ExtraCommand {
        name: name.into(),
        description: description.into(),
        source: source.into(),
    };
    app.on_reply(Reply::ExtraCommands(vec![
        extra("fix", "Fix the given file", "prompt"),
        extra(
            "skill:review",
            "Review a change for bugs.\nSecond line.",
            "skill",
        ),
        extra("skill:deploy", "Deploy the service", "skill"),
    ]));
    type_str(&mut app, "/f");
    let templates = screen(&mut app, 70, 9);
    app.on_key(key(KeyCode::Backspace));
    type_str(&mut app, "skill:r");
    let filtered = screen(&mut app, 70, 8);
    insta::assert_snapshot!(shows(
        format!("{templates}----\n{filtered}"),
        70,
        &[
            "/fix",
            "Fix the given file",
            "/skill:review",
            "Review a change for bugs."
        ],
    ));
    assert!(templates.contains("/fork"), "{templates}");
    assert!(
        !filtered.contains("/skill:deploy") && !filtered.contains("Second line"),
        "{filtered}"
    );
    // Accepting a skill leaves room for its arguments; Enter then sends it as a prompt, which
    // the engine expands.
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.composer_text(), "/skill:review ");
    type_str(&mut app, "main.rs");
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::Prompt("/skill:review main.rs".into())]
    );
}

#[test]
fn mention_popup_lists_fuzzy_matches() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/app")).unwrap();
    for f in ["src/app/keys.rs", "src/composer.rs", "README.md"] {
        std::fs::write(dir.path().join(f), "").unwrap();
    }
    let mut app = App::new(AppOptions {
        cwd: dir.path().into(),
        history_path: None,
        location: "local".into(),
        initial_prompt: None,
    });
    type_str(&mut app, "look at @comp");
    let shown = screen(&mut app, 60, 8);
    app.on_key(key(KeyCode::Tab));
    assert_eq!(app.composer_text(), "look at @src/composer.rs ");
    insta::assert_snapshot!(shows(shown, 60, &["› src/composer.rs", "› look at @comp"]));
}

#[test]
fn model_picker() {
    let mut app = app();
    assert_eq!(type_str(&mut app, "/model"), vec![]);
    assert_eq!(app.on_key(key(KeyCode::Enter)), vec![Action::LoadModels]);
    let m = |p: &str, id: &str, available| ModelChoice {
        provider: p.into(),
        id: id.into(),
        name: id.to_uppercase(),
        context_window: 1,
        reasoning: false,
        available,
    };
    app.on_reply(Reply::Models(vec![
        m("anthropic", "claude-sonnet", false),
        m("fake", "fake-model", true),
        m("openai", "gpt-5", true),
    ]));
    let shown = screen(&mut app, 70, 10);
    type_str(&mut app, "gpt");
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::SetModel {
            provider: "openai".into(),
            id: "gpt-5".into()
        }]
    );
    insta::assert_snapshot!(shows(
        shown,
        70,
        &[
            "anthropic/claude-sonnet",
            "no API key",
            "› fake/fake-model",
            "current",
            "openai/gpt-5"
        ],
    ));
}

#[test]
fn session_picker_with_preview() {
    let mut app = app();
    type_str(&mut app, "/resume");
    assert_eq!(app.on_key(key(KeyCode::Enter)), vec![Action::LoadSessions]);
    app.on_reply(Reply::Sessions(vec![
        SessionChoice {
            id: "/s/a.jsonl".into(),
            name: Some("refactor".into()),
            modified: "2026-11-21 18:02".into(),
            message_count: 12,
            preview: "Refactor the parser into modules\nand add tests".into(),
        },
        SessionChoice {
            id: "/s/b.jsonl".into(),
            name: None,
            modified: "2026-11-20 09:15".into(),
            message_count: 3,
            preview: "What is the capital of France?".into(),
        },
    ]));
    insta::assert_snapshot!(shows(
        screen(&mut app, 100, 10),
        100,
        &[
            "› refactor",
            "2026-11-21 18:02",
            "What is the capital of",
            "Refactor the parser into modules"
        ],
    ));
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::SwitchSession("/s/a.jsonl".into())]
    );
}

#[test]
fn help_popup() {
    let mut app = app();
    type_str(&mut app, "/help");
    app.on_key(key(KeyCode::Enter));
    insta::assert_snapshot!(shows(
        screen(&mut app, 80, 28),
        80,
        &[
            "esc                   abort the running answer",
            "/quit                 leave"
        ],
    ));
}

#[test]
fn ctrl_c_twice_quits_and_history_load() {
    let mut app = app();
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(app.on_key(ctrl_c), vec![]);
    assert!(!app.should_quit());
    assert_eq!(app.on_key(ctrl_c), vec![Action::Quit]);
    assert!(app.should_quit());
}

#[test]
fn scrolling_keeps_older_rows_reachable() {
    let mut app = app();
    for i in 0..30 {
        user(&mut app, &format!("question {i}"));
    }
    let bottom = screen(&mut app, 40, 10);
    assert!(bottom.contains("question 29"));
    app.on_key(key(KeyCode::PageUp));
    app.on_key(key(KeyCode::PageUp));
    let up = screen(&mut app, 40, 10);
    assert!(!up.contains("question 29"), "{up}");
    insta::assert_snapshot!(shows(
        up,
        40,
        &["› question 22", "more rows · pgdn to follow"]
    ));
    for _ in 0..10 {
        app.on_key(key(KeyCode::PageDown));
    }
    assert!(screen(&mut app, 40, 10).contains("question 29"));
}

#[test]
fn thinking_and_fork_pickers_and_compaction_notices() {
    let mut app = app();
    type_str(&mut app, "/thinking");
    app.on_key(key(KeyCode::Enter));
    let thinking = screen(&mut app, 60, 12);
    app.on_key(key(KeyCode::Esc));
    type_str(&mut app, "/fork");
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::LoadForkPoints { for_tree: false }]
    );
    app.on_reply(Reply::ForkPoints {
        points: vec![
            crate::backend::ForkPoint {
                entry_id: "e1".into(),
                text: "first question".into(),
            },
            crate::backend::ForkPoint {
                entry_id: "e2".into(),
                text: "second question".into(),
            },
        ],
        for_tree: false,
    });
    let fork = screen(&mut app, 60, 8);
    assert_eq!(
        app.on_key(key(KeyCode::Enter)),
        vec![Action::Fork("e2".into())]
    );
    app.on_reply(Reply::Forked("second question".into()));
    assert_eq!(app.composer_text(), "second question");
    app.on_backend(BackendEvent::Agent(AgentEvent::CompactionStart {
        reason: openclaw_core::event::CompactionReason::Threshold,
    }));
    app.on_backend(BackendEvent::Agent(AgentEvent::CompactionEnd {
        reason: openclaw_core::event::CompactionReason::Threshold,
        result: Some(openclaw_core::event::CompactionResult {
            summary: "s".into(),
            first_kept_entry_id: "e".into(),
            tokens_before: 51234,
            details: None,
        }),
        aborted: false,
        will_retry: false,
        error_message: None,
    }));
    app.on_backend(BackendEvent::Agent(AgentEvent::ModelFallback {
        from_provider: "anthropic".into(),
        from_model: "claude".into(),
        to_provider: "openai".into(),
        to_model: "gpt".into(),
        error_message: "529 overloaded".into(),
    }));
    let notices = screen(&mut app, 60, 10);
    insta::assert_snapshot!(shows(
        format!("{thinking}----\n{fork}----\n{notices}"),
        60,
        &[
            "› medium   current",
            "› second question",
            "Compacting context",
            "529 overloaded"
        ],
    ));
}
