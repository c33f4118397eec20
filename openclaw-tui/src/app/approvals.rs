//! Exec approval cards in the chat: a card per request the backend reports, answered with `y`
//! (allow once), `a` (allow always, when offered) or `n` (deny) while the composer is empty —
//! the oldest unanswered card first — and closed with the outcome when the request ends,
//! whoever answered it.

use crossterm::event::{KeyCode, KeyEvent};
use openclaw_core::exec_policy::Decision;

use super::{Action, App};
use crate::backend::ApprovalPrompt;
use crate::transcript::CellKind;

/// The text a closed card shows.
fn outcome_text(decision: Option<Decision>) -> &'static str {
    match decision {
        Some(Decision::AllowOnce) => "✓ allowed once",
        Some(Decision::AllowAlways) => "✓ allowed always",
        Some(Decision::Deny) => "✗ denied",
        None => "expired or withdrawn: the command did not run",
    }
}

impl App {
    /// A new approval request: a card in the transcript.
    pub(crate) fn on_approval(&mut self, prompt: ApprovalPrompt) {
        if self.approvals.iter().any(|(id, _)| *id == prompt.id) {
            return;
        }
        let id = prompt.id.clone();
        let at = self.transcript.push(CellKind::Approval {
            prompt,
            outcome: None,
        });
        self.approvals.push((id, at));
        self.scroll = 0;
        self.hint = Some("approval needed: y allow once · a allow always · n deny".into());
    }

    /// A request ended: its card shows the outcome.
    pub(crate) fn on_approval_resolved(&mut self, id: &str, decision: Option<Decision>) {
        let Some(pos) = self.approvals.iter().position(|(i, _)| i == id) else {
            return;
        };
        let (_, at) = self.approvals.remove(pos);
        if let Some(CellKind::Approval { outcome, .. }) = self.transcript.get_mut(at) {
            *outcome = Some(outcome_text(decision).into());
        }
        if self.approvals.is_empty()
            && self
                .hint
                .as_deref()
                .is_some_and(|h| h.starts_with("approval"))
        {
            self.hint = None;
        }
    }

    /// Closes the cards whose request has expired by `now_ms` (the gateway announces no expiry).
    pub(crate) fn expire_approvals(&mut self, now_ms: u64) {
        let expired: Vec<String> = self
            .approvals
            .iter()
            .filter(|(_, at)| {
                matches!(
                    self.transcript.cells().get(*at).map(|c| c.kind()),
                    Some(CellKind::Approval { prompt, .. })
                        if prompt.expires_at_ms > 0 && prompt.expires_at_ms <= now_ms
                )
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.on_approval_resolved(&id, None);
        }
    }

    /// The answer keys of the oldest open card (only with an empty composer and no popup).
    pub(crate) fn approval_key(&mut self, key: &KeyEvent) -> Option<Vec<Action>> {
        if self.popup.is_some() || !self.composer.is_empty() {
            return None;
        }
        let (id, at) = self.approvals.first().cloned()?;
        let allow_always = matches!(
            self.transcript.cells().get(at).map(|c| c.kind()),
            Some(CellKind::Approval { prompt, .. }) if prompt.allow_always
        );
        let decision = match key.code {
            KeyCode::Char('y' | 'Y') => Decision::AllowOnce,
            KeyCode::Char('a' | 'A') if allow_always => Decision::AllowAlways,
            KeyCode::Char('n' | 'N') => Decision::Deny,
            _ => return None,
        };
        Some(vec![Action::ResolveApproval { id, decision }])
    }
}

#[cfg(test)]
mod tests {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::app::AppOptions;

    fn card(id: &str, allow_always: bool, expires_at_ms: u64) -> ApprovalPrompt {
        ApprovalPrompt {
            id: id.into(),
            command: "touch x".into(),
            cwd: Some("/w".into()),
            agent: Some("main".into()),
            expires_at_ms,
            allow_always,
        }
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    fn outcome(app: &App, i: usize) -> Option<String> {
        match app.transcript.cells()[i].kind() {
            CellKind::Approval { outcome, .. } => outcome.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_answer_the_oldest_card_and_outcomes_close_it() {
        let mut app = App::new(AppOptions::default());
        app.on_approval(card("a1", false, u64::MAX));
        app.on_approval(card("a2", true, u64::MAX));
        // Allow-always is not offered on the first card: `a` types into the composer.
        assert!(app.on_key(key('a')).is_empty());
        assert_eq!(app.composer_text(), "a");
        // With text in the composer the keys type.
        assert!(app.on_key(key('y')).is_empty());
        app.composer.take();
        assert_eq!(
            app.on_key(key('n')),
            vec![Action::ResolveApproval {
                id: "a1".into(),
                decision: Decision::Deny
            }]
        );
        app.on_approval_resolved("a1", Some(Decision::Deny));
        assert_eq!(outcome(&app, 0).as_deref(), Some("✗ denied"));
        assert_eq!(
            app.on_key(key('a')),
            vec![Action::ResolveApproval {
                id: "a2".into(),
                decision: Decision::AllowAlways
            }]
        );
        app.on_approval_resolved("a2", Some(Decision::AllowAlways));
        assert_eq!(outcome(&app, 1).as_deref(), Some("✓ allowed always"));
        assert!(app.on_key(key('y')).is_empty(), "no card left: keys type");
    }

    #[test]
    fn an_expired_card_closes_itself() {
        let mut app = App::new(AppOptions::default());
        app.on_approval(card("old", true, 1_000));
        app.on_approval(card("new", true, u64::MAX));
        app.expire_approvals(2_000);
        assert!(outcome(&app, 0).unwrap().starts_with("expired"));
        assert_eq!(outcome(&app, 1), None);
        assert_eq!(app.approvals.len(), 1);
    }
}
