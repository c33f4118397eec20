//! The harness of the snapshot tests (`snapshot_tests`): an `App` over a fixed state, whole
//! screens rendered into ratatui's `TestBackend`, the independent check of each screen
//! (`shows`), and builders for the messages and events a test feeds the app.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use openclaw_core::message::{
    AssistantMessage, ContentBlock, Message, StopReason, Usage, UserMessage,
};
use openclaw_core::{AgentEvent, AssistantMessageEvent};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::app::{Action, App, AppOptions};
use crate::backend::{BackendEvent, BackendState, ModelChoice};

pub(crate) fn app() -> App {
    let mut app = App::new(AppOptions {
        cwd: std::path::PathBuf::from("/nonexistent"),
        history_path: None,
        location: "local".into(),
        initial_prompt: None,
    });
    app.on_backend(BackendEvent::State(BackendState {
        model: Some(ModelChoice {
            provider: "fake".into(),
            id: "fake-model".into(),
            name: "Fake".into(),
            context_window: 128_000,
            reasoning: true,
            available: true,
        }),
        thinking: openclaw_core::ThinkingLevel::Medium,
        session_name: Some("demo".into()),
        session_id: Some("s1".into()),
        streaming: false,
    }));
    app
}

pub(crate) fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| crate::ui::draw(f, app)).unwrap();
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The independent check of a screen made by [`screen`] at width `w`: no row is wider than the
/// terminal, the composer rule is the third row from the bottom with the prompt marker under it,
/// and every one of `needles` appears. Returns the screen for the snapshot.
pub(crate) fn shows(screen: String, w: u16, needles: &[&str]) -> String {
    for part in screen.split("----\n") {
        let rows: Vec<&str> = part.lines().collect();
        for row in &rows {
            let width = unicode_width::UnicodeWidthStr::width(*row);
            assert!(width <= usize::from(w), "row wider than {w}: {row:?}");
        }
        if let [.., rule, composer, _status] = rows.as_slice() {
            if !rule.is_empty() {
                assert!(rule.starts_with('─'), "composer rule missing:\n{part}");
                assert!(composer.starts_with('›'), "composer missing:\n{part}");
            }
        }
    }
    for needle in needles {
        assert!(
            screen.contains(needle),
            "{needle:?} not on screen:\n{screen}"
        );
    }
    screen
}

pub(crate) fn assistant(blocks: Vec<ContentBlock>, stop: StopReason) -> AssistantMessage {
    AssistantMessage {
        content: blocks,
        api: "openai-completions".into(),
        provider: "fake".into(),
        model: "fake-model".into(),
        usage: Usage {
            input: 1200,
            output: 340,
            cache_read: 0,
            cache_write: 0,
            total_tokens: 1540,
            cost: Default::default(),
        },
        stop_reason: stop,
        timestamp: 1,
        response_id: None,
        error_message: None,
    }
}

pub(crate) fn text(t: &str) -> ContentBlock {
    ContentBlock::text(t)
}

pub(crate) fn user(app: &mut App, t: &str) {
    app.on_backend(BackendEvent::Agent(AgentEvent::MessageStart {
        message: Arc::new(Message::User(UserMessage {
            content: openclaw_core::message::UserContent::Text(t.into()),
            timestamp: 1,
        })),
    }));
}

pub(crate) fn stream(app: &mut App, msg: AssistantMessage, finish: bool) {
    app.on_backend(BackendEvent::Agent(AgentEvent::MessageStart {
        message: Arc::new(Message::Assistant(assistant(vec![], StopReason::Stop))),
    }));
    let partial = Arc::new(Message::Assistant(msg.clone()));
    app.on_backend(BackendEvent::Agent(AgentEvent::MessageUpdate {
        assistant_message_event: AssistantMessageEvent::TextDelta {
            content_index: 0,
            delta: String::new(),
            partial: partial.clone(),
        },
        message: partial,
    }));
    if finish {
        app.on_backend(BackendEvent::Agent(AgentEvent::MessageEnd {
            message: Arc::new(Message::Assistant(msg)),
        }));
    }
}

pub(crate) fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub(crate) fn type_str(app: &mut App, s: &str) -> Vec<Action> {
    let mut actions = Vec::new();
    for c in s.chars() {
        actions.extend(app.on_key(key(KeyCode::Char(c))));
    }
    actions
}
