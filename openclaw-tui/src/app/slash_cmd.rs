//! Carrying out slash commands and picker choices.

use openclaw_core::ThinkingLevel;

use super::{Action, App};
use crate::popup::{Item, Picker, PickerKind, Popup};
use crate::transcript::{CellKind, NoticeLevel};

impl App {
    /// Runs `/name args`.
    pub(crate) fn run_slash(&mut self, name: &str, args: &str) -> Vec<Action> {
        match name {
            "model" if !args.is_empty() => match args.split_once('/') {
                Some((provider, id)) => vec![Action::SetModel {
                    provider: provider.into(),
                    id: id.into(),
                }],
                None => {
                    self.notice(
                        NoticeLevel::Error,
                        "Usage: /model <provider>/<model-id>, or /model to pick",
                    );
                    Vec::new()
                }
            },
            "model" => vec![Action::LoadModels],
            "thinking" if !args.is_empty() => match args.parse::<ThinkingLevel>() {
                Ok(level) => vec![Action::SetThinking(level)],
                Err(e) => {
                    self.notice(NoticeLevel::Error, e);
                    Vec::new()
                }
            },
            "thinking" => {
                let items = ThinkingLevel::ALL
                    .iter()
                    .map(|l| Item {
                        label: l.as_str().into(),
                        detail: if *l == self.state.thinking {
                            "current".into()
                        } else {
                            String::new()
                        },
                        value: l.as_str().into(),
                        preview: None,
                    })
                    .collect();
                let mut p = Picker::new(PickerKind::Thinking, "thinking level", items);
                p.selected = ThinkingLevel::ALL
                    .iter()
                    .position(|l| *l == self.state.thinking)
                    .unwrap_or(0);
                self.popup = Some(Popup::Picker(p));
                Vec::new()
            }
            "new" => vec![Action::NewSession],
            "resume" => vec![Action::LoadSessions],
            "fork" => vec![Action::LoadForkPoints { for_tree: false }],
            "tree" | "branch" => vec![Action::LoadForkPoints { for_tree: true }],
            "compact" => {
                if self.streaming {
                    self.notice(
                        NoticeLevel::Warning,
                        "Wait for the answer to finish (or press esc) before /compact.",
                    );
                    return Vec::new();
                }
                vec![Action::Compact]
            }
            "name" if args.is_empty() => {
                let current = self
                    .state
                    .session_name
                    .clone()
                    .unwrap_or_else(|| "(none)".into());
                self.notice(
                    NoticeLevel::Info,
                    format!("Session name: {current}. Use /name <name> to set it."),
                );
                Vec::new()
            }
            "name" => vec![Action::SetName(args.to_string())],
            "export" => vec![Action::Export((!args.is_empty()).then(|| args.to_string()))],
            "copy" => {
                let last = self
                    .transcript
                    .cells()
                    .iter()
                    .rev()
                    .find(|c| matches!(c.kind(), CellKind::Assistant { .. }))
                    .map(|c| c.plain_text());
                match last {
                    Some(text) if !text.is_empty() => {
                        self.hint = Some("copied the last answer".into());
                        vec![Action::Copy(text)]
                    }
                    _ => {
                        self.notice(NoticeLevel::Warning, "Nothing to copy yet.");
                        Vec::new()
                    }
                }
            }
            "help" => {
                self.popup = Some(Popup::Help);
                Vec::new()
            }
            "quit" => {
                self.quit = true;
                vec![Action::Quit]
            }
            other => {
                self.notice(
                    NoticeLevel::Error,
                    format!("Unknown command /{other}. Type /help for the list."),
                );
                Vec::new()
            }
        }
    }

    /// Carries out the choice in the open picker.
    pub(crate) fn choose(&mut self) -> Vec<Action> {
        let Some(Popup::Picker(p)) = self.popup.take() else {
            return Vec::new();
        };
        let Some(item) = p.current().cloned() else {
            self.popup = Some(Popup::Picker(p));
            return Vec::new();
        };
        match p.kind {
            PickerKind::Model => match item.value.split_once('/') {
                Some((provider, id)) => vec![Action::SetModel {
                    provider: provider.into(),
                    id: id.into(),
                }],
                None => Vec::new(),
            },
            PickerKind::Thinking => match item.value.parse::<ThinkingLevel>() {
                Ok(level) => vec![Action::SetThinking(level)],
                Err(_) => Vec::new(),
            },
            PickerKind::Session => vec![Action::SwitchSession(item.value)],
            PickerKind::Fork => vec![Action::Fork(item.value)],
            PickerKind::Tree => vec![Action::Branch(item.value)],
        }
    }
}
