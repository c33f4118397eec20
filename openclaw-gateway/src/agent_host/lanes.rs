//! The global run lanes: how many runs execute at once across all sessions. A run first
//! waits for its session's turn (runs on one key are serialised, see `run`), then for a
//! permit of its lane, which it holds until it ends — model calls and tools included. Users'
//! runs (chat.send, agent, sessions.send, HTTP) share the `main` lane
//! (`agents.defaults.maxConcurrent`); agent-to-agent runs use the `subagent` lane
//! (`agents.defaults.subagents.maxConcurrent`), so a run waiting for the agent it called can
//! never starve that agent of a permit. Runs nested deeper than one hop run under their
//! caller's permit. Waiting is cut short by the run's abort or the gateway's shutdown.

use std::sync::Arc;

use openclaw_core::CancellationToken;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::RunLanes;

/// The lanes' semaphores.
pub(crate) struct Lanes {
    main: Arc<Semaphore>,
    subagent: Arc<Semaphore>,
}

/// A run's place in its lane, released when dropped.
pub(crate) enum Admission {
    /// The run may start; the permit (none for runs nested under a caller's) is held until
    /// the run ends.
    Admitted(Option<OwnedSemaphorePermit>),
    /// The run was aborted, or the gateway is stopping, while it waited.
    Cancelled,
}

impl Lanes {
    pub fn new(sizes: RunLanes) -> Self {
        Lanes {
            main: Arc::new(Semaphore::new(sizes.main.max(1) as usize)),
            subagent: Arc::new(Semaphore::new(sizes.subagent.max(1) as usize)),
        }
    }

    /// Waits for a permit for a run at agent-to-agent `depth` (0 for a user's run).
    pub async fn admit(
        &self,
        depth: u32,
        cancel: Option<&CancellationToken>,
        stop: &CancellationToken,
    ) -> Admission {
        let lane = match depth {
            0 => &self.main,
            1 => &self.subagent,
            _ => return Admission::Admitted(None),
        };
        let cancelled = async {
            match cancel {
                Some(c) => tokio::select! {
                    () = c.cancelled() => {}
                    () = stop.cancelled() => {}
                },
                None => stop.cancelled().await,
            }
        };
        tokio::select! {
            biased;
            permit = lane.clone().acquire_owned() => match permit {
                Ok(p) => Admission::Admitted(Some(p)),
                // The semaphores are never closed.
                Err(_) => Admission::Cancelled,
            },
            () = cancelled => Admission::Cancelled,
        }
    }

    /// Permits free in the main lane (for tests and status).
    #[cfg(test)]
    pub fn main_available(&self) -> usize {
        self.main.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn lanes(main: u32, subagent: u32) -> Lanes {
        Lanes::new(RunLanes { main, subagent })
    }

    #[tokio::test]
    async fn a_full_lane_admits_the_next_run_when_one_ends() {
        let l = lanes(2, 1);
        let stop = CancellationToken::new();
        let a = l.admit(0, None, &stop).await;
        let b = l.admit(0, None, &stop).await;
        assert_eq!(l.main_available(), 0);
        let third = l.admit(0, None, &stop);
        tokio::pin!(third);
        assert!(
            tokio::time::timeout(Duration::from_millis(50), &mut third)
                .await
                .is_err(),
            "a third run must wait while two hold the lane"
        );
        drop(a);
        assert!(matches!(
            tokio::time::timeout(Duration::from_secs(5), third).await,
            Ok(Admission::Admitted(Some(_)))
        ));
        drop(b);
    }

    #[tokio::test]
    async fn agent_to_agent_runs_do_not_wait_for_the_main_lane() {
        let l = lanes(1, 1);
        let stop = CancellationToken::new();
        let _user = l.admit(0, None, &stop).await;
        let called = tokio::time::timeout(Duration::from_secs(5), l.admit(1, None, &stop)).await;
        assert!(matches!(called, Ok(Admission::Admitted(Some(_)))));
        let nested = tokio::time::timeout(Duration::from_secs(5), l.admit(2, None, &stop)).await;
        assert!(matches!(nested, Ok(Admission::Admitted(None))));
    }

    #[tokio::test]
    async fn abort_or_shutdown_ends_the_wait() {
        let l = lanes(1, 1);
        let stop = CancellationToken::new();
        let _held = l.admit(0, None, &stop).await;
        let cancel = CancellationToken::new();
        let waiting = l.admit(0, Some(&cancel), &stop);
        tokio::pin!(waiting);
        assert!(
            tokio::time::timeout(Duration::from_millis(20), &mut waiting)
                .await
                .is_err()
        );
        cancel.cancel();
        assert!(matches!(waiting.await, Admission::Cancelled));
        let stopping = l.admit(0, None, &stop);
        stop.cancel();
        assert!(matches!(stopping.await, Admission::Cancelled));
    }
}
