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
