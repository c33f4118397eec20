//! The stdout writer: one thread owns stdout and writes whole records in the order they were
//! queued, flushing whenever the queue runs dry. Events and responses share the queue, so an
//! event emitted before a response is written before it.
//!
//! `message_update` carries the partial assistant message twice (in `assistantMessageEvent` and
//! as `message`); [`UpdateEncoder`] serialises it incrementally into shared pieces, and the
//! writer hands those pieces to the kernel with vectored writes, so the big bytes are never
//! copied in user space.
//!
//! The queue is bounded by records and by bytes ([`MAX_QUEUED_BYTES`]): when stdout is slower
//! than the agent, producers wait, so memory stays bounded however long the stream.

use std::io::{IoSlice, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex};

use bytes::Bytes;

use super::partial::{Pieces, UpdateEncoder};

/// The writer writes at most this many pieces with one call.
const MAX_PIECES_PER_WRITE: usize = 512;
/// The writer gathers at most about this many bytes before writing them.
const MAX_BYTES_PER_WRITE: usize = 1024 * 1024;

/// At most this many bytes of output wait in the queue (one larger record may still pass alone).
pub const MAX_QUEUED_BYTES: usize = 8 * 1024 * 1024;

/// Bytes queued but not yet written, whether the writer has stopped, and how many producers
/// wait for room (the writer wakes them only then: a wake-up is a system call).
#[derive(Default)]
struct Budget {
    state: Mutex<BudgetState>,
    freed: Condvar,
}

#[derive(Default)]
struct BudgetState {
    queued: usize,
    closed: bool,
    waiting: usize,
}

impl Budget {
    /// Wait for room for `len` bytes (never once the writer has stopped).
    fn take(&self, len: usize) {
        let mut st = openclaw_core::sync::lock(&self.state);
        while !st.closed && st.queued > 0 && st.queued + len > MAX_QUEUED_BYTES {
            st.waiting += 1;
            st = openclaw_core::sync::wait(&self.freed, st);
            st.waiting -= 1;
        }
        st.queued += len;
    }

    fn give_back(&self, len: usize) {
        let mut st = openclaw_core::sync::lock(&self.state);
        st.queued = st.queued.saturating_sub(len);
        if st.waiting > 0 {
            self.freed.notify_all();
        }
    }

    /// The writer stopped: nobody waits for room any more.
    fn close(&self) {
        let mut st = openclaw_core::sync::lock(&self.state);
        st.closed = true;
        self.freed.notify_all();
    }
}

use openclaw_core::event::AgentEvent;
use serde::Serialize;

use super::framing::encode_line;

enum Record {
    Line(Pieces),
    Flush(std::sync::mpsc::Sender<()>),
}

/// A handle for queueing output lines (cheap to clone).
#[derive(Clone)]
pub struct Output {
    tx: SyncSender<Record>,
    budget: Arc<Budget>,
    encoder: Arc<Mutex<UpdateEncoder>>,
}

impl Output {
    /// Start the writer thread over `sink`.
    pub fn spawn<W: Write + Send + 'static>(sink: W) -> Output {
        let (tx, rx) = sync_channel(8192);
        let budget = Arc::new(Budget::default());
        let writer_budget = budget.clone();
        std::thread::Builder::new()
            .name("rpc-stdout".into())
            .spawn(move || write_loop(rx, sink, &writer_budget))
            .map(drop)
            .unwrap_or_else(|e| tracing::error!("cannot start the stdout writer: {e}"));
        Output {
            tx,
            budget,
            encoder: Arc::default(),
        }
    }

    /// Queue one record.
    pub fn send<T: Serialize>(&self, value: &T) {
        match encode_line(value) {
            Ok(line) => self.send_raw(vec![Bytes::from(line)]),
            Err(e) => tracing::error!("cannot serialise an output record: {e}"),
        }
    }

    /// Queue an agent event (with the cheap path for `message_update`).
    pub fn send_event(&self, event: &AgentEvent) {
        let line = openclaw_core::sync::lock(&self.encoder).encode(event);
        match line {
            Ok(line) => self.send_raw(line),
            Err(e) => tracing::error!("cannot serialise an event: {e}"),
        }
    }

    fn send_raw(&self, line: Pieces) {
        let len = line.iter().map(Bytes::len).sum();
        self.budget.take(len);
        if self.tx.send(Record::Line(line)).is_err() {
            // The writer is gone (stdout closed): nothing will be written.
            self.budget.give_back(len);
        }
    }

    /// Wait until everything queued so far has been written and flushed.
    pub fn flush(&self) {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.tx.send(Record::Flush(tx)).is_ok() {
            let _ = rx.recv();
        }
    }
}

fn write_loop<W: Write>(rx: Receiver<Record>, sink: W, budget: &Budget) {
    write_records(rx, sink, budget);
    budget.close();
}

fn write_records<W: Write>(rx: Receiver<Record>, mut sink: W, budget: &Budget) {
    let mut batch = Batch::default();
    while let Ok(rec) = rx.recv() {
        let mut next = Some(rec);
        while let Some(rec) = next.take() {
            match rec {
                Record::Line(pieces) => {
                    batch.add(pieces);
                    if batch.is_full() && batch.write(&mut sink, budget).is_err() {
                        return;
                    }
                }
                Record::Flush(ack) => {
                    let written = batch.write(&mut sink, budget);
                    let _ = sink.flush();
                    let _ = ack.send(());
                    if written.is_err() {
                        return;
                    }
                }
            }
            next = rx.try_recv().ok();
        }
        // The queue ran dry: write what was gathered.
        if batch.write(&mut sink, budget).is_err() || sink.flush().is_err() {
            return;
        }
    }
}

/// Lines gathered for one vectored write.
#[derive(Default)]
struct Batch {
    pieces: Vec<Bytes>,
    len: usize,
}

impl Batch {
    fn add(&mut self, pieces: Pieces) {
        self.len += pieces.iter().map(Bytes::len).sum::<usize>();
        self.pieces.extend(pieces);
    }

    fn is_full(&self) -> bool {
        self.pieces.len() >= MAX_PIECES_PER_WRITE || self.len >= MAX_BYTES_PER_WRITE
    }

    /// Write everything gathered, then give its bytes back to the queue's budget.
    fn write<W: Write>(&mut self, sink: &mut W, budget: &Budget) -> std::io::Result<()> {
        let mut slices: Vec<IoSlice<'_>> = self.pieces.iter().map(|p| IoSlice::new(p)).collect();
        let written = write_all_vectored(sink, &mut slices);
        budget.give_back(self.len);
        self.pieces.clear();
        self.len = 0;
        written
    }
}

/// Write every slice, resuming after short writes.
fn write_all_vectored<W: Write>(
    sink: &mut W,
    mut slices: &mut [IoSlice<'_>],
) -> std::io::Result<()> {
    IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match sink.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Stdout as an unbuffered file (a duplicate of descriptor 1), so vectored writes reach the
/// kernel as they are; `std::io::stdout()` where that is not possible.
pub fn stdout_sink() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    Box::new(std::io::stdout())
}

/// Serialise an event as one output line (the partial message serialised once and copied
/// into both places; [`UpdateEncoder`] is the incremental form).
pub fn encode_event(event: &AgentEvent) -> Result<Vec<u8>, serde_json::Error> {
    let AgentEvent::MessageUpdate {
        assistant_message_event,
        message,
    } = event
    else {
        return encode_line(event);
    };
    // The sub-event serialises with `partial` last; splice the shared bytes in by hand.
    let partial = serde_json::to_vec(message.as_ref())?;
    let mut out = Vec::with_capacity(partial.len() * 2 + 128);
    out.extend_from_slice(br#"{"type":"message_update","assistantMessageEvent":"#);
    let sub_bytes = serde_json::to_vec(&SubEventWithoutPartial(assistant_message_event))?;
    // `sub_bytes` ends with `}`; reopen it to append `partial`.
    out.extend_from_slice(&sub_bytes[..sub_bytes.len().saturating_sub(1)]);
    out.extend_from_slice(br#","partial":"#);
    out.extend_from_slice(&partial);
    out.extend_from_slice(br#"},"message":"#);
    out.extend_from_slice(&partial);
    out.extend_from_slice(b"}\n");
    Ok(out)
}

/// The sub-event's fields in order, without `partial`.
pub(crate) struct SubEventWithoutPartial<'a>(
    pub(crate) &'a openclaw_core::event::AssistantMessageEvent,
);

impl Serialize for SubEventWithoutPartial<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use openclaw_core::event::AssistantMessageEvent as E;
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self.0 {
            E::TextStart { content_index, .. } => {
                m.serialize_entry("type", "text_start")?;
                m.serialize_entry("contentIndex", content_index)?;
            }
            E::TextDelta {
                content_index,
                delta,
                ..
            } => {
                m.serialize_entry("type", "text_delta")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry("delta", delta)?;
            }
            E::TextEnd {
                content_index,
                content,
                ..
            } => {
                m.serialize_entry("type", "text_end")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry("content", content)?;
            }
            E::ThinkingStart { content_index, .. } => {
                m.serialize_entry("type", "thinking_start")?;
                m.serialize_entry("contentIndex", content_index)?;
            }
            E::ThinkingDelta {
                content_index,
                delta,
                ..
            } => {
                m.serialize_entry("type", "thinking_delta")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry("delta", delta)?;
            }
            E::ThinkingEnd {
                content_index,
                content,
                ..
            } => {
                m.serialize_entry("type", "thinking_end")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry("content", content)?;
            }
            E::ToolCallStart { content_index, .. } => {
                m.serialize_entry("type", "toolcall_start")?;
                m.serialize_entry("contentIndex", content_index)?;
            }
            E::ToolCallDelta {
                content_index,
                delta,
                ..
            } => {
                m.serialize_entry("type", "toolcall_delta")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry("delta", delta)?;
            }
            E::ToolCallEnd {
                content_index,
                tool_call,
                ..
            } => {
                m.serialize_entry("type", "toolcall_end")?;
                m.serialize_entry("contentIndex", content_index)?;
                m.serialize_entry(
                    "toolCall",
                    &openclaw_core::message::ContentBlock::ToolCall(Box::new(tool_call.clone())),
                )?;
            }
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_update_bytes_match_plain_serialisation() {
        let line = r#"{"type":"message_update","assistantMessageEvent":{"type":"toolcall_end","contentIndex":0,"toolCall":{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}},"partial":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":10,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":15,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1,"responseId":"r"}},"message":{"role":"assistant","content":[{"type":"toolCall","id":"c","name":"read","arguments":{"path":"a.txt"}}],"api":"openai-completions","provider":"fake","model":"fake-model","usage":{"input":10,"output":5,"cacheRead":0,"cacheWrite":0,"totalTokens":15,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1,"responseId":"r"}}"#;
        let e: AgentEvent = serde_json::from_str(line).unwrap();
        let fast = encode_event(&e).unwrap();
        assert_eq!(String::from_utf8(fast).unwrap(), format!("{line}\n"));
        for sub in [
            r#"{"type":"text_delta","contentIndex":1,"delta":"a\u2028b","partial":{"role":"assistant","content":[],"api":"x","provider":"p","model":"m","usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1}}"#,
            r#"{"type":"thinking_end","contentIndex":0,"content":"hm","partial":{"role":"assistant","content":[],"api":"x","provider":"p","model":"m","usage":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"totalTokens":0,"cost":{"input":0,"output":0,"cacheRead":0,"cacheWrite":0,"total":0}},"stopReason":"stop","timestamp":1}}"#,
        ] {
            let v: serde_json::Value = serde_json::from_str(&format!(
                r#"{{"type":"message_update","assistantMessageEvent":{sub},"message":{}}}"#,
                &sub[sub.find(r#""partial":"#).unwrap() + 10..sub.len() - 1]
            ))
            .unwrap();
            let e: AgentEvent = serde_json::from_value(v).unwrap();
            assert_eq!(
                encode_event(&e).unwrap(),
                encode_line(&e).unwrap(),
                "fast path differs"
            );
        }
    }

    #[test]
    fn writer_preserves_order_and_flushes() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let out = Output::spawn(sink.clone());
        for i in 0..100 {
            out.send(&serde_json::json!({ "n": i }));
        }
        out.flush();
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let ns: Vec<i64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        assert_eq!(ns, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn short_writes_lose_nothing() {
        use openclaw_core::message::StopReason;
        use openclaw_core::model::{Model, ModelCost};
        use openclaw_core::provider::{MessageBuilder, StreamEvent};
        // Takes at most 7 bytes per call (and, by default, one slice of a vectored write).
        #[derive(Clone, Default)]
        struct Trickle(Arc<Mutex<Vec<u8>>>);
        impl Write for Trickle {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let n = b.len().min(7);
                self.0.lock().unwrap().extend_from_slice(&b[..n]);
                Ok(n)
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let model = Model {
            id: "m".into(),
            name: "m".into(),
            api: "openai-completions".into(),
            provider: "fake".into(),
            base_url: "http://x".into(),
            reasoning: false,
            input: vec!["text".into()],
            cost: ModelCost::default(),
            context_window: 1000,
            max_tokens: 100,
            headers: None,
            compat: None,
        };
        let sink = Trickle::default();
        let out = Output::spawn(sink.clone());
        let mut expected = Vec::new();
        let mut builder = MessageBuilder::new(&model);
        let mut events = vec![StreamEvent::TextStart { index: 0 }];
        for i in 0..400 {
            events.push(StreamEvent::TextDelta {
                index: 0,
                delta: format!("t{i} \"\u{2028} "),
            });
        }
        events.push(StreamEvent::Done {
            reason: StopReason::Stop,
        });
        for ev in events {
            for sub in builder.apply(ev) {
                let message = sub.partial().clone();
                let event = AgentEvent::MessageUpdate {
                    assistant_message_event: sub,
                    message,
                };
                out.send_event(&event);
                expected.extend(encode_line(&event).unwrap());
            }
        }
        let end = AgentEvent::MessageEnd {
            message: openclaw_core::message::Message::Assistant(builder.finish()).into(),
        };
        out.send_event(&end);
        expected.extend(encode_line(&end).unwrap());
        out.flush();
        assert!(*sink.0.lock().unwrap() == expected);
    }

    #[test]
    fn a_slow_stdout_holds_producers_back_at_the_byte_bound() {
        use std::sync::Condvar;
        use std::sync::atomic::{AtomicUsize, Ordering};
        // Writes block until the gate opens.
        #[derive(Clone, Default)]
        struct Gated(Arc<(Mutex<bool>, Condvar)>, Arc<Mutex<Vec<u8>>>);
        impl Write for Gated {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                let (open, cv) = &*self.0;
                let mut o = open.lock().unwrap();
                while !*o {
                    o = cv.wait(o).unwrap();
                }
                self.1.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let sink = Gated::default();
        let out = Output::spawn(sink.clone());
        let sent = Arc::new(AtomicUsize::new(0));
        let record = "x".repeat(1024 * 1024);
        let producer = {
            let (out, sent, record) = (out.clone(), sent.clone(), record.clone());
            std::thread::spawn(move || {
                for _ in 0..40 {
                    out.send(&record);
                    sent.fetch_add(1, Ordering::SeqCst);
                }
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(300));
        let held = sent.load(Ordering::SeqCst);
        assert!((1..=9).contains(&held), "{held} records of 1 MiB queued");
        *sink.0.0.lock().unwrap() = true;
        sink.0.1.notify_all();
        producer.join().unwrap();
        out.flush();
        let expected = format!("\"{record}\"\n").repeat(40);
        assert!(*sink.1.lock().unwrap() == expected.as_bytes());
    }
}
