//! The scheduler's clock: wall time in milliseconds and a sleep until an instant. The system
//! clock sleeps at most [`MAX_SLEEP_MS`] at a time so that a wall-clock jump (suspend, NTP) is
//! noticed within a minute; the fake clock moves only when a test advances it.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

/// The longest single sleep of [`SystemClock`].
pub const MAX_SLEEP_MS: u64 = 60_000;

#[async_trait]
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;
    /// Returns at `at_ms` or a little later (the system clock may return earlier, after at
    /// most [`MAX_SLEEP_MS`]; the caller looks again).
    async fn sleep_until(&self, at_ms: u64);
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[async_trait]
impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        crate::state::now_ms()
    }

    async fn sleep_until(&self, at_ms: u64) {
        let wait = at_ms.saturating_sub(self.now_ms()).min(MAX_SLEEP_MS);
        tokio::time::sleep(Duration::from_millis(wait)).await;
    }
}

/// A clock that stands still until [`FakeClock::advance`] or [`FakeClock::set`].
#[derive(Debug)]
pub struct FakeClock {
    now: Mutex<u64>,
    moved: watch::Sender<u64>,
}

impl FakeClock {
    pub fn new(now_ms: u64) -> Self {
        Self {
            now: Mutex::new(now_ms),
            moved: watch::channel(now_ms).0,
        }
    }

    pub fn set(&self, now_ms: u64) {
        *openclaw_core::sync::lock(&self.now) = now_ms;
        self.moved.send_replace(now_ms);
    }

    pub fn advance(&self, ms: u64) {
        let now = self.now_ms() + ms;
        self.set(now);
    }
}

#[async_trait]
impl Clock for FakeClock {
    fn now_ms(&self) -> u64 {
        *openclaw_core::sync::lock(&self.now)
    }

    async fn sleep_until(&self, at_ms: u64) {
        let mut rx = self.moved.subscribe();
        let _ = rx.wait_for(|now| *now >= at_ms).await;
    }
}
