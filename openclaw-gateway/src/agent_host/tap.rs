//! The bounded stream of a run's reply text to an HTTP caller (`/v1/chat/completions` and
//! `/v1/responses` with `stream: true`).
//!
//! Policy: the channel holds at most [`TAP_CAPACITY`] chunks and the run never waits on it.
//! When a slow client lets it fill up, the run goes on; the text not yet delivered (the run
//! holds it anyway) goes out coalesced with the next delta that fits, so nothing is buffered
//! for the client beyond the channel. The unsent tail of an assistant message that a later one
//! replaces (a message before a tool call) is dropped from the stream; the caller completes the
//! final message's text from the run's outcome.

use tokio::sync::mpsc;

/// How many chunks a run's tap holds.
pub(crate) const TAP_CAPACITY: usize = 256;

/// What a run streams to an HTTP caller.
pub(crate) enum Tap {
    /// More text of the current assistant message.
    Delta(String),
    /// A new assistant message begins; the next deltas are its text.
    NewMessage,
}

/// The run's end of a tap: remembers how much of the current message went out.
pub(crate) struct TapSender {
    tx: mpsc::Sender<Tap>,
    sent: usize,
    break_pending: bool,
}

impl TapSender {
    pub fn new(tx: mpsc::Sender<Tap>) -> TapSender {
        TapSender {
            tx,
            sent: 0,
            break_pending: false,
        }
    }

    /// The current message's text is now `text`: sends what the caller has not got, if it fits.
    pub fn grew(&mut self, text: &str) {
        if self.break_pending {
            if self.tx.try_send(Tap::NewMessage).is_err() {
                return;
            }
            self.break_pending = false;
        }
        let Some(rest) = text.get(self.sent..).filter(|r| !r.is_empty()) else {
            return;
        };
        if self.tx.try_send(Tap::Delta(rest.to_owned())).is_ok() {
            self.sent = text.len();
        }
    }

    /// A new assistant message replaces the current one.
    pub fn new_message(&mut self) {
        self.sent = 0;
        self.break_pending = true;
    }
}

/// The caller's end: the text of the current message as received.
#[derive(Default)]
pub(crate) struct Received {
    current: String,
}

impl Received {
    /// Takes one tap item; returns the text to forward.
    pub fn take(&mut self, tap: Tap) -> Option<String> {
        match tap {
            Tap::Delta(d) => {
                self.current.push_str(&d);
                Some(d)
            }
            Tap::NewMessage => {
                self.current.clear();
                None
            }
        }
    }

    /// What the stream lacks of the run's final text (dropped while the client lagged).
    pub fn missing<'a>(&self, final_text: &'a str) -> Option<&'a str> {
        final_text
            .strip_prefix(self.current.as_str())
            .filter(|rest| !rest.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(rx: &mut mpsc::Receiver<Tap>, got: &mut Received) -> String {
        let mut out = String::new();
        while let Ok(t) = rx.try_recv() {
            out.extend(got.take(t));
        }
        out
    }

    #[test]
    fn a_client_that_does_not_read_holds_the_run_to_the_channel_and_loses_no_final_text() {
        let (tx, mut rx) = mpsc::channel(TAP_CAPACITY);
        let mut tap = TapSender::new(tx);
        let mut text = String::new();
        // Ten times the capacity in deltas, nobody reading: no call waits, the channel stays full.
        for i in 0..TAP_CAPACITY * 10 {
            text.push_str(&format!("{i} "));
            tap.grew(&text);
        }
        assert_eq!(rx.len(), TAP_CAPACITY);
        let mut got = Received::default();
        let streamed = drain(&mut rx, &mut got);
        assert!(text.starts_with(&streamed) && streamed.len() < text.len());
        // The next delta that fits carries everything held back, coalesced.
        text.push_str("end");
        tap.grew(&text);
        assert_eq!(streamed + &drain(&mut rx, &mut got), text);
        assert_eq!(got.missing(&text), None);
    }

    #[test]
    fn the_final_message_is_completed_from_the_outcome() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut tap = TapSender::new(tx);
        tap.grew("let me look");
        tap.new_message();
        // Full: the boundary and the new text wait.
        tap.grew("x");
        tap.grew("xy");
        let mut got = Received::default();
        assert_eq!(drain(&mut rx, &mut got), "let me look");
        tap.grew("xyz");
        assert_eq!(drain(&mut rx, &mut got), "xyz");
        assert_eq!(got.missing("xyz is 42"), Some(" is 42"));
    }
}
