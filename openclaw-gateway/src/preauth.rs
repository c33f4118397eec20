//! The bound on sockets waiting to authenticate (between the WebSocket upgrade and an accepted
//! `connect`): at most `gateway.maxPreauthConnections` in all and
//! `gateway.maxPreauthConnectionsPerIp` from one client address (OpenClaw's per-IP pre-auth
//! budget), so one address cannot take every place. A socket beyond either bound is refused
//! with 503 and `Retry-After`; its place is freed when it authenticates, is refused or closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The default of `gateway.maxPreauthConnections`: room for many clients reconnecting at once
/// after a restart (a pre-auth socket can make the gateway hold at most its read budget, about
/// 80 KiB, until `gateway.handshakeTimeoutMs`).
pub const DEFAULT_MAX_PREAUTH_CONNECTIONS: usize = 1024;
/// The default of `gateway.maxPreauthConnectionsPerIp`: a quarter of the whole, so a flood
/// from one address leaves three quarters of the places to the others.
pub const DEFAULT_MAX_PREAUTH_PER_IP: usize = 256;

/// Places for pre-auth sockets.
#[derive(Debug)]
pub(crate) struct PreauthBudget {
    total: usize,
    per_ip: usize,
    held: Mutex<Held>,
}

#[derive(Debug, Default)]
struct Held {
    all: usize,
    by_ip: HashMap<IpAddr, usize>,
}

/// Why a socket got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// Every place is taken.
    Total,
    /// The client's address holds all the places one address may.
    Address,
}

/// One socket's place; given back when dropped.
#[derive(Debug)]
pub(crate) struct PreauthPermit {
    budget: Arc<PreauthBudget>,
    ip: IpAddr,
}

impl PreauthBudget {
    pub fn new(total: usize, per_ip: usize) -> Arc<Self> {
        Arc::new(PreauthBudget {
            total: total.max(1),
            per_ip: per_ip.max(1),
            held: Mutex::default(),
        })
    }

    /// A place for a socket from `ip`, if both bounds allow one.
    pub fn try_acquire(self: &Arc<Self>, ip: IpAddr) -> Result<PreauthPermit, Full> {
        // An IPv4 client on a dual-stack socket is the same address as over IPv4.
        let ip = ip.to_canonical();
        let mut held = openclaw_core::sync::lock(&self.held);
        if held.all >= self.total {
            return Err(Full::Total);
        }
        let mine = held.by_ip.entry(ip).or_insert(0);
        if *mine >= self.per_ip {
            return Err(Full::Address);
        }
        *mine += 1;
        held.all += 1;
        Ok(PreauthPermit {
            budget: self.clone(),
            ip,
        })
    }

    fn release(&self, ip: IpAddr) {
        let mut held = openclaw_core::sync::lock(&self.held);
        held.all = held.all.saturating_sub(1);
        if let Some(n) = held.by_ip.get_mut(&ip) {
            *n -= 1;
            if *n == 0 {
                held.by_ip.remove(&ip);
            }
        }
    }
}

impl Drop for PreauthPermit {
    fn drop(&mut self) {
        self.budget.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bounds_hold_and_places_come_back() {
        let b = PreauthBudget::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let c: IpAddr = "10.0.0.2".parse().unwrap();
        let a1 = b.try_acquire(a).unwrap();
        let _a2 = b.try_acquire(a).unwrap();
        assert_eq!(b.try_acquire(a).unwrap_err(), Full::Address);
        // The same address over a dual-stack socket counts as the same client.
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(b.try_acquire(mapped).unwrap_err(), Full::Address);
        let _c1 = b.try_acquire(c).unwrap();
        assert_eq!(b.try_acquire(c).unwrap_err(), Full::Total);
        drop(a1);
        let _c2 = b.try_acquire(c).unwrap();
        assert_eq!(openclaw_core::sync::lock(&b.held).all, 3);
    }
}
