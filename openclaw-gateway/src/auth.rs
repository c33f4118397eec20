//! Shared-secret authentication (token / password / none) with constant-time comparison, and
//! the per-address failed-attempt limiter with lockout (`gateway.auth.rateLimit`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use openclaw_core::protocol::{ConnectAuth, ErrorShape, details};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::config::{AuthConfig, AuthMode};

/// Constant-time string equality (length differences return early, which leaks only length).
pub fn secret_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[derive(Debug, Default)]
struct Attempts {
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

/// Checks shared secrets and remembers failures per client address.
#[derive(Debug)]
pub struct Authenticator {
    config: AuthConfig,
    attempts: Mutex<HashMap<IpAddr, Attempts>>,
}

/// Why a credential was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Mismatch,
    RateLimited { retry_after_ms: u64 },
}

impl Authenticator {
    pub fn new(config: AuthConfig) -> Self {
        Self {
            config,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    pub fn mode(&self) -> AuthMode {
        self.config.mode
    }

    /// Checks `secret` (the token or password the client offered) for `ip`. Returns the auth
    /// method name on success.
    pub fn check(&self, ip: IpAddr, secret: Option<&str>) -> Result<&'static str, AuthFailure> {
        let expected = match self.config.mode {
            AuthMode::None => return Ok("none"),
            AuthMode::Token => self.config.token.as_deref(),
            AuthMode::Password => self.config.password.as_deref(),
        };
        let limited = !(self.config.rate_limit.exempt_loopback && ip.is_loopback());
        let now = Instant::now();
        if let Some(retry) = self.locked(ip, now).filter(|_| limited) {
            return Err(AuthFailure::RateLimited {
                retry_after_ms: retry,
            });
        }
        let ok = match (expected, secret) {
            (Some(e), Some(s)) => secret_eq(e, s),
            _ => false,
        };
        if ok {
            if limited {
                if let Ok(mut map) = self.attempts.lock() {
                    map.remove(&ip);
                }
            }
            return Ok(self.config.mode.as_str());
        }
        if limited {
            self.record_failure(ip, now);
        }
        Err(if secret.is_none() {
            AuthFailure::Missing
        } else {
            AuthFailure::Mismatch
        })
    }

    fn locked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let map = self.attempts.lock().ok()?;
        let until = map.get(&ip)?.locked_until?;
        (until > now).then(|| (until - now).as_millis().max(1) as u64)
    }

    fn record_failure(&self, ip: IpAddr, now: Instant) {
        let rl = self.config.rate_limit;
        let Ok(mut map) = self.attempts.lock() else {
            return;
        };
        if map.len() > 10_000 {
            map.retain(|_, a| a.locked_until.is_some_and(|u| u > now) || !a.failures.is_empty());
        }
        let entry = map.entry(ip).or_default();
        let window = Duration::from_millis(rl.window_ms);
        entry.failures.retain(|t| now.duration_since(*t) < window);
        entry.failures.push(now);
        if entry.failures.len() as u64 >= u64::from(rl.max_attempts.max(1)) {
            entry.locked_until = Some(now + Duration::from_millis(rl.lockout_ms));
            entry.failures.clear();
        }
    }

    /// Checks the credentials of a `connect` and maps failures to OpenClaw's error shape.
    pub fn check_connect(
        &self,
        ip: IpAddr,
        auth: Option<&ConnectAuth>,
    ) -> Result<&'static str, ErrorShape> {
        // 9.6 accepts the secret in either wire field; the mode picks the configured secret.
        let offered = auth.and_then(|a| match self.config.mode {
            AuthMode::Password => a.password.as_deref().or(a.token.as_deref()),
            _ => a.token.as_deref().or(a.password.as_deref()),
        });
        self.check(ip, offered).map_err(|f| self.connect_error(f))
    }

    fn connect_error(&self, failure: AuthFailure) -> ErrorShape {
        let password = self.config.mode == AuthMode::Password;
        let (code, message, step) = match (failure, password) {
            (AuthFailure::RateLimited { .. }, _) => (
                details::AUTH_RATE_LIMITED,
                "unauthorized: too many failed authentication attempts (retry later)",
                "wait_then_retry",
            ),
            (AuthFailure::Missing, false) => (
                details::AUTH_TOKEN_MISSING,
                "unauthorized: gateway token missing (set auth.token to this gateway's gateway.auth.token)",
                "update_auth_configuration",
            ),
            (AuthFailure::Mismatch, false) => (
                details::AUTH_TOKEN_MISMATCH,
                "unauthorized: gateway token mismatch (use this gateway's gateway.auth.token or pair the device)",
                "update_auth_credentials",
            ),
            (AuthFailure::Missing, true) => (
                details::AUTH_PASSWORD_MISSING,
                "unauthorized: gateway password missing (set auth.password to this gateway's gateway.auth.password)",
                "update_auth_configuration",
            ),
            (AuthFailure::Mismatch, true) => (
                details::AUTH_PASSWORD_MISMATCH,
                "unauthorized: gateway password mismatch (use this gateway's gateway.auth.password)",
                "update_auth_credentials",
            ),
        };
        let reason = code
            .trim_start_matches("AUTH_")
            .to_ascii_lowercase()
            .replace('_', "-");
        let err = ErrorShape::invalid_request(message).with_details(json!({
            "code": code,
            "authReason": reason,
            "canRetryWithDeviceToken": false,
            "recommendedNextStep": step,
        }));
        match failure {
            AuthFailure::RateLimited { retry_after_ms } => err.retry_after(retry_after_ms),
            _ => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RateLimitConfig;

    fn auth(max: u32, exempt: bool) -> Authenticator {
        Authenticator::new(AuthConfig {
            mode: AuthMode::Token,
            token: Some("secret".into()),
            password: None,
            rate_limit: RateLimitConfig {
                max_attempts: max,
                window_ms: 60_000,
                lockout_ms: 60_000,
                exempt_loopback: exempt,
            },
        })
    }

    #[test]
    fn lockout_after_max_failures_then_even_the_right_token_waits() {
        let a = auth(2, false);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(a.check(ip, Some("nope")), Err(AuthFailure::Mismatch));
        assert_eq!(a.check(ip, Some("nope")), Err(AuthFailure::Mismatch));
        assert!(matches!(
            a.check(ip, Some("secret")),
            Err(AuthFailure::RateLimited { .. })
        ));
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(a.check(other, Some("secret")), Ok("token"));
    }

    #[test]
    fn loopback_exemption() {
        let a = auth(1, true);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(a.check(ip, Some("x")), Err(AuthFailure::Mismatch));
        }
        assert_eq!(a.check(ip, None), Err(AuthFailure::Missing));
        assert_eq!(a.check(ip, Some("secret")), Ok("token"));
        assert!(secret_eq("abc", "abc") && !secret_eq("abc", "abd") && !secret_eq("abc", "ab"));
    }
}
