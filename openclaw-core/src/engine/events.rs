//! Event fan-out: listeners are called synchronously, in subscription order, on the thread that
//! emits, so an event is delivered before the engine call that caused it returns. That keeps
//! pi's ordering (e.g. `queue_update` before the `steer` response) for callers that write
//! events and responses to one stream.

use std::sync::{Arc, Mutex, Weak};

use crate::event::AgentEvent;

type Listener = Arc<dyn Fn(&AgentEvent) + Send + Sync>;

#[derive(Default)]
pub(crate) struct Listeners {
    list: Mutex<Vec<(u64, Listener)>>,
    next: std::sync::atomic::AtomicU64,
}

impl Listeners {
    pub(crate) fn add(self: &Arc<Self>, f: Listener) -> Subscription {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Ok(mut l) = self.list.lock() {
            l.push((id, f));
        }
        Subscription {
            listeners: Arc::downgrade(self),
            id,
        }
    }

    pub(crate) fn emit(&self, event: &AgentEvent) {
        // Clone the list so a listener may subscribe or unsubscribe while being called.
        let snapshot: Vec<Listener> = match self.list.lock() {
            Ok(l) => l.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return,
        };
        for f in snapshot {
            f(event);
        }
    }
}

/// Keeps a listener registered; dropping it unsubscribes.
#[must_use = "dropping the subscription unsubscribes at once"]
pub struct Subscription {
    listeners: Weak<Listeners>,
    id: u64,
}

impl Subscription {
    /// Keep the listener registered for the engine's whole life.
    pub fn detach(self) {
        std::mem::forget(self);
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(l) = self.listeners.upgrade() {
            if let Ok(mut list) = l.list.lock() {
                list.retain(|(id, _)| *id != self.id);
            }
        }
    }
}
