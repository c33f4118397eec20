//! Ordered delivery of [`AgentEvent`]s to subscribers.
//!
//! Listeners are plain synchronous callbacks. Every event is delivered to every listener, in
//! emission order, exactly once. Emission from several threads is serialised: a caller returns
//! only after its event has been delivered (so an RPC layer that writes a response after
//! `steer()` returns always writes it after the `queue_update`). A listener may call back into
//! the agent (for example `steer` from an `agent_end` handler): the nested event is queued and
//! delivered right after the current one, without deadlocking.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

use crate::event::AgentEvent;

/// A subscriber callback. Keep it quick: it runs on the agent's task.
pub type Listener = Arc<dyn Fn(&AgentEvent) + Send + Sync>;

/// Identifies a subscription, for [`crate::agent::Agent::unsubscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionId(u64);

#[derive(Default)]
struct BusState {
    listeners: Vec<(u64, Listener)>,
    next_listener: u64,
    queue: VecDeque<(u64, AgentEvent)>,
    next_seq: u64,
    delivered: u64,
    drainer: Option<ThreadId>,
}

/// The event bus owned by an agent.
#[derive(Default)]
pub(crate) struct EventBus {
    state: Mutex<BusState>,
    delivered: Condvar,
}

impl EventBus {
    fn lock(&self) -> MutexGuard<'_, BusState> {
        crate::sync::lock(&self.state)
    }

    pub(crate) fn subscribe(&self, listener: Listener) -> SubscriptionId {
        let mut st = self.lock();
        st.next_listener += 1;
        let id = st.next_listener;
        st.listeners.push((id, listener));
        SubscriptionId(id)
    }

    pub(crate) fn unsubscribe(&self, id: SubscriptionId) -> bool {
        let mut st = self.lock();
        let before = st.listeners.len();
        st.listeners.retain(|(i, _)| *i != id.0);
        st.listeners.len() != before
    }

    /// Deliver `event` to every listener, after every event emitted before it.
    pub(crate) fn emit(&self, event: AgentEvent) {
        let me = std::thread::current().id();
        let mut st = self.lock();
        st.next_seq += 1;
        let seq = st.next_seq;
        st.queue.push_back((seq, event));
        match st.drainer {
            // Re-entrant emission from a listener: the outer loop delivers it next.
            Some(t) if t == me => return,
            Some(_) => {
                while st.delivered < seq {
                    st = crate::sync::wait(&self.delivered, st);
                    if st.drainer.is_none() && st.delivered < seq {
                        // The drainer left before reaching our event: take over.
                        break;
                    }
                }
                if st.delivered >= seq {
                    return;
                }
            }
            None => {}
        }
        st.drainer = Some(me);
        while let Some((s, ev)) = st.queue.pop_front() {
            let listeners: Vec<Listener> = st.listeners.iter().map(|(_, l)| l.clone()).collect();
            drop(st);
            for l in &listeners {
                // A panicking listener must not wedge the bus for everyone else.
                let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l(&ev)));
                if delivered.is_err() {
                    tracing::warn!("an agent event listener panicked; event dropped for it");
                }
            }
            st = self.lock();
            st.delivered = s;
            self.delivered.notify_all();
        }
        st.drainer = None;
        self.delivered.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_emission_is_delivered_after_the_current_event() {
        let bus = Arc::new(EventBus::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (b2, s2) = (bus.clone(), seen.clone());
        bus.subscribe(Arc::new(move |e: &AgentEvent| {
            s2.lock().unwrap().push(e.clone());
            if matches!(e, AgentEvent::AgentStart) {
                b2.emit(AgentEvent::TurnStart);
            }
        }));
        bus.emit(AgentEvent::AgentStart);
        bus.emit(AgentEvent::AgentEnd { messages: vec![] });
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen,
            vec![
                AgentEvent::AgentStart,
                AgentEvent::TurnStart,
                AgentEvent::AgentEnd { messages: vec![] }
            ]
        );
    }

    #[test]
    fn a_panicking_listener_does_not_block_others() {
        let bus = EventBus::default();
        let seen = Arc::new(Mutex::new(0));
        bus.subscribe(Arc::new(|_e: &AgentEvent| panic!("listener bug")));
        let s2 = seen.clone();
        bus.subscribe(Arc::new(move |_e: &AgentEvent| *s2.lock().unwrap() += 1));
        bus.emit(AgentEvent::TurnStart);
        bus.emit(AgentEvent::TurnStart);
        assert_eq!(*seen.lock().unwrap(), 2);
    }

    #[test]
    fn emitters_on_other_threads_wait_for_delivery() {
        let bus = Arc::new(EventBus::default());
        let count = Arc::new(Mutex::new(0u32));
        let c2 = count.clone();
        bus.subscribe(Arc::new(move |_e: &AgentEvent| {
            std::thread::sleep(std::time::Duration::from_millis(1));
            *c2.lock().unwrap() += 1;
        }));
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let b = bus.clone();
                let c = count.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        let before = *c.lock().unwrap();
                        b.emit(AgentEvent::TurnStart);
                        assert!(*c.lock().unwrap() > before);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(*count.lock().unwrap(), 40);
    }
}
