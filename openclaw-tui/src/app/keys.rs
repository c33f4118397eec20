//! Key, paste and mouse handling: composer editing, popups, send/steer/follow-up, abort, quit.

use std::time::Instant;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::{Action, App};
use crate::popup::{Completion, CompletionKind, Item, Popup};
use crate::slash;

impl App {
    /// Handles a bracketed paste.
    pub fn on_paste(&mut self, text: &str) {
        if let Some(Popup::Picker(p)) = &mut self.popup {
            p.filter.push_str(text.trim());
            return;
        }
        self.composer.paste(text);
        self.refresh_completion();
    }

    /// Handles one key press; returns what the backend should do.
    pub fn on_key(&mut self, key: KeyEvent) -> Vec<Action> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);

        if ctrl && key.code == KeyCode::Char('c') {
            return self.ctrl_c();
        }
        self.ctrl_c_at = None;
        if self.hint.as_deref().is_some_and(|h| h.contains("ctrl+c")) {
            self.hint = None;
        }

        // Pickers take all keys while open.
        if let Some(Popup::Picker(p)) = &mut self.popup {
            match key.code {
                KeyCode::Esc => self.popup = None,
                KeyCode::Up => p.up(),
                KeyCode::Down | KeyCode::Tab => p.down(),
                KeyCode::PageUp => (0..8).for_each(|_| p.up()),
                KeyCode::PageDown => (0..8).for_each(|_| p.down()),
                KeyCode::Backspace => p.backspace(),
                KeyCode::Enter => return self.choose(),
                KeyCode::Char(c) if !ctrl => p.type_char(c),
                _ => {}
            }
            return Vec::new();
        }
        if matches!(self.popup, Some(Popup::Help)) {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                self.popup = None;
            }
            return Vec::new();
        }

        // Completion list navigation.
        if let Some(Popup::Completion(c)) = &mut self.popup {
            match key.code {
                KeyCode::Up => {
                    c.selected = c.selected.saturating_sub(1);
                    return Vec::new();
                }
                KeyCode::Down => {
                    if c.selected + 1 < c.items.len() {
                        c.selected += 1;
                    }
                    return Vec::new();
                }
                KeyCode::Tab => {
                    self.accept_completion();
                    return Vec::new();
                }
                KeyCode::Esc => {
                    self.popup = None;
                    return Vec::new();
                }
                KeyCode::Enter if !alt && !shift => {
                    let kind = c.kind;
                    let exact = c
                        .items
                        .get(c.selected)
                        .is_some_and(|i| self.composer.text().trim() == i.value.trim());
                    if kind == CompletionKind::Mention || !exact {
                        self.accept_completion();
                        if kind == CompletionKind::Mention {
                            return Vec::new();
                        }
                    }
                    self.popup = None;
                    return self.submit();
                }
                _ => {}
            }
        }

        if let Some(actions) = self.approval_key(&key) {
            return actions;
        }
        let mut actions = Vec::new();
        match key.code {
            KeyCode::Esc if self.streaming => {
                actions.push(Action::Abort);
                self.hint = Some("aborting…".into());
            }
            KeyCode::Enter if alt && self.streaming && !self.composer.is_empty() => {
                let text = self.composer.take();
                self.pending_follow_up.push(text.clone());
                actions.push(Action::FollowUp(text));
            }
            KeyCode::Enter if alt || shift => self.composer.insert_char('\n'),
            KeyCode::Char('j') if ctrl => self.composer.insert_char('\n'),
            KeyCode::Enter => actions = self.submit(),
            KeyCode::PageUp => self.on_scroll(self.page as isize),
            KeyCode::PageDown => self.on_scroll(-(self.page as isize)),
            KeyCode::Up if shift => self.on_scroll(1),
            KeyCode::Down if shift => self.on_scroll(-1),
            KeyCode::Home if ctrl => self.on_scroll(self.last_rows as isize),
            KeyCode::End if ctrl => self.scroll = 0,
            KeyCode::Char('t') if ctrl => self.opts.show_thinking = !self.opts.show_thinking,
            KeyCode::Char('o') if ctrl => self.opts.expand_tools = !self.opts.expand_tools,
            KeyCode::Char('d') if ctrl => {
                if self.composer.is_empty() {
                    self.quit = true;
                    actions.push(Action::Quit);
                } else {
                    self.composer.delete();
                }
            }
            KeyCode::Char('a') if ctrl => self.composer.home(),
            KeyCode::Char('e') if ctrl => self.composer.end(),
            KeyCode::Char('u') if ctrl => self.composer.kill_to_line_start(),
            KeyCode::Char('w') if ctrl => self.composer.delete_word(),
            KeyCode::Backspace if alt || ctrl => self.composer.delete_word(),
            KeyCode::Backspace => self.composer.backspace(),
            KeyCode::Delete => self.composer.delete(),
            KeyCode::Left => self.composer.left(),
            KeyCode::Right => self.composer.right(),
            KeyCode::Home => self.composer.home(),
            KeyCode::End => self.composer.end(),
            KeyCode::Up => self.composer.up(),
            KeyCode::Down => self.composer.down(),
            KeyCode::Tab => {}
            KeyCode::Char(c) if !ctrl => self.composer.insert_char(c),
            _ => {}
        }
        self.refresh_completion();
        actions
    }

    fn ctrl_c(&mut self) -> Vec<Action> {
        if self.popup.is_some() {
            self.popup = None;
            return Vec::new();
        }
        if !self.composer.is_empty() {
            self.composer.clear();
            return Vec::new();
        }
        if self.ctrl_c_at.is_some_and(|t| t.elapsed().as_secs() < 2) {
            self.quit = true;
            return vec![Action::Quit];
        }
        self.ctrl_c_at = Some(Instant::now());
        self.hint = Some("press ctrl+c again to quit".into());
        Vec::new()
    }

    /// Sends the composer's text: a slash command, a prompt, or (while streaming) a steer.
    fn submit(&mut self) -> Vec<Action> {
        let raw = self.composer.text().trim().to_string();
        if raw.is_empty() {
            return Vec::new();
        }
        if let Some((name, args)) = slash::parse(&raw) {
            if slash::COMMANDS.iter().any(|c| c.name == name) {
                let (name, args) = (name.to_string(), args.to_string());
                self.composer.take();
                self.scroll = 0;
                return self.run_slash(&name, &args);
            }
        }
        let text = self.composer.take();
        self.scroll = 0;
        if self.streaming {
            self.pending_steer.push(text.clone());
            vec![Action::Steer(text)]
        } else {
            vec![Action::Prompt(text)]
        }
    }

    /// Recomputes the slash / `@path` completion list from the composer.
    pub(crate) fn refresh_completion(&mut self) {
        if matches!(self.popup, Some(Popup::Picker(_)) | Some(Popup::Help)) {
            return;
        }
        let text = self.composer.text();
        // The popup for `items` (none when empty), keeping the selection if the list is unchanged.
        let popup = |old: &Option<Popup>, kind: CompletionKind, items: Vec<Item>| {
            if items.is_empty() {
                return None;
            }
            let selected = match old {
                Some(Popup::Completion(c)) if c.items == items => c.selected,
                _ => 0,
            };
            Some(Popup::Completion(Completion {
                kind,
                items,
                selected,
            }))
        };
        if text.starts_with('/') && !text.contains(char::is_whitespace) {
            let prefix = &text[1..];
            let mut items: Vec<Item> = slash::completions(prefix)
                .into_iter()
                .map(|c| Item {
                    label: format!("/{} {}", c.name, c.args).trim_end().to_string(),
                    detail: c.help.to_string(),
                    value: format!("/{}", c.name),
                    preview: None,
                })
                .collect();
            // The session's prompt templates and skills, after the built-ins.
            items.extend(
                self.extra_commands
                    .iter()
                    .filter(|c| c.name.starts_with(prefix))
                    .map(|c| Item {
                        label: format!("/{}", c.name),
                        detail: crate::slash::one_line(&c.description),
                        value: format!("/{}", c.name),
                        preview: None,
                    }),
            );
            self.popup = popup(&self.popup, CompletionKind::Slash, items);
            return;
        }
        let token = self.composer.current_token().to_string();
        if let Some(query) = token.strip_prefix('@') {
            let items: Vec<Item> = self
                .files
                .search(query, 8)
                .into_iter()
                .map(|p| Item {
                    label: p.clone(),
                    detail: String::new(),
                    value: format!("@{p}"),
                    preview: None,
                })
                .collect();
            self.popup = popup(&self.popup, CompletionKind::Mention, items);
            return;
        }
        if matches!(self.popup, Some(Popup::Completion(_))) {
            self.popup = None;
        }
    }

    fn accept_completion(&mut self) {
        let Some(Popup::Completion(c)) = self.popup.take() else {
            return;
        };
        let Some(item) = c.items.get(c.selected) else {
            return;
        };
        match c.kind {
            CompletionKind::Slash => {
                let needs_arg = slash::COMMANDS
                    .iter()
                    .any(|cmd| format!("/{}", cmd.name) == item.value && !cmd.args.is_empty())
                    || self
                        .extra_commands
                        .iter()
                        .any(|cmd| format!("/{}", cmd.name) == item.value);
                let v = if needs_arg {
                    format!("{} ", item.value)
                } else {
                    item.value.clone()
                };
                self.composer.set_text(&v);
            }
            CompletionKind::Mention => {
                let v = if item.value.ends_with('/') {
                    item.value.clone()
                } else {
                    format!("{} ", item.value)
                };
                self.composer.replace_token(&v);
            }
        }
    }
}
