//! A runtime-agnostic cancellation token: abort a run, its model stream and its tools.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use event_listener::{Event, Listener};

#[derive(Debug, Default)]
struct Inner {
    cancelled: AtomicBool,
    event: Event,
    parent: Option<CancellationToken>,
}

/// A cloneable flag that, once cancelled, stays cancelled and wakes every waiter.
///
/// Child tokens ([`CancellationToken::child`]) are cancelled with their parent but can also be
/// cancelled alone.
#[derive(Debug, Clone, Default)]
pub struct CancellationToken {
    inner: Arc<Inner>,
}

impl CancellationToken {
    /// A fresh, uncancelled token.
    pub fn new() -> Self {
        Self::default()
    }

    /// A token cancelled when either it or `self` is cancelled.
    pub fn child(&self) -> CancellationToken {
        CancellationToken {
            inner: Arc::new(Inner {
                cancelled: AtomicBool::new(false),
                event: Event::new(),
                parent: Some(self.clone()),
            }),
        }
    }

    /// Cancel: every current and future waiter sees it.
    pub fn cancel(&self) {
        self.inner.cancelled.store(true, Ordering::SeqCst);
        self.inner.event.notify(usize::MAX);
    }

    /// Whether this token (or an ancestor) was cancelled.
    pub fn is_cancelled(&self) -> bool {
        if self.inner.cancelled.load(Ordering::SeqCst) {
            return true;
        }
        match &self.inner.parent {
            Some(p) => p.is_cancelled(),
            None => false,
        }
    }

    /// Resolves once the token is cancelled.
    pub async fn cancelled(&self) {
        match &self.inner.parent {
            None => loop {
                if self.is_cancelled() {
                    return;
                }
                let listener = self.inner.event.listen();
                if self.is_cancelled() {
                    return;
                }
                listener.await;
            },
            Some(parent) => {
                let own = Box::pin(self.own_cancelled());
                let up = Box::pin(parent.cancelled());
                futures::future::select(own, up).await;
            }
        }
    }

    async fn own_cancelled(&self) {
        loop {
            if self.inner.cancelled.load(Ordering::SeqCst) {
                return;
            }
            let listener = self.inner.event.listen();
            if self.inner.cancelled.load(Ordering::SeqCst) {
                return;
            }
            listener.await;
        }
    }

    /// Block the current thread until cancelled (for synchronous embedders and tests).
    pub fn wait_blocking(&self) {
        while !self.is_cancelled() {
            let listener = self.inner.event.listen();
            if self.is_cancelled() {
                return;
            }
            listener.wait_timeout(std::time::Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_follows_parent() {
        let parent = CancellationToken::new();
        let child = parent.child();
        assert!(!child.is_cancelled());
        parent.cancel();
        assert!(child.is_cancelled());
        futures::executor::block_on(child.cancelled());
    }

    #[test]
    fn cancelling_child_leaves_parent() {
        let parent = CancellationToken::new();
        let child = parent.child();
        child.cancel();
        assert!(child.is_cancelled());
        assert!(!parent.is_cancelled());
    }

    #[test]
    fn waiter_wakes_on_cancel_from_another_thread() {
        let t = CancellationToken::new();
        let t2 = t.clone();
        let h = std::thread::spawn(move || futures::executor::block_on(t2.cancelled()));
        std::thread::sleep(std::time::Duration::from_millis(20));
        t.cancel();
        h.join().unwrap();
    }
}
