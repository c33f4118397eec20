//! The error shape carried in `res.error`, the top-level error codes, and the `details.code`
//! values clients branch on (auth, pairing, device proof, protocol, scopes).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Top-level `error.code` values.
pub mod codes {
    /// Bad params or preconditions; also auth failures at connect and unknown methods.
    pub const INVALID_REQUEST: &str = "INVALID_REQUEST";
    /// Temporarily unavailable (handler failure, startup, busy); often retryable.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    /// v4: authorisation failures such as missing scopes.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// A device needs approval.
    pub const NOT_PAIRED: &str = "NOT_PAIRED";
    /// An approval id is stale or unknown.
    pub const APPROVAL_NOT_FOUND: &str = "APPROVAL_NOT_FOUND";
}

/// `error.details.code` values.
pub mod details {
    pub const PROTOCOL_MISMATCH: &str = "PROTOCOL_MISMATCH";
    pub const MISSING_SCOPE: &str = "MISSING_SCOPE";
    pub const UNKNOWN_AGENT_ID: &str = "UNKNOWN_AGENT_ID";
    pub const AUTH_REQUIRED: &str = "AUTH_REQUIRED";
    pub const AUTH_UNAUTHORIZED: &str = "AUTH_UNAUTHORIZED";
    pub const AUTH_TOKEN_MISSING: &str = "AUTH_TOKEN_MISSING";
    pub const AUTH_TOKEN_MISMATCH: &str = "AUTH_TOKEN_MISMATCH";
    pub const AUTH_TOKEN_NOT_CONFIGURED: &str = "AUTH_TOKEN_NOT_CONFIGURED";
    pub const AUTH_PASSWORD_MISSING: &str = "AUTH_PASSWORD_MISSING";
    pub const AUTH_PASSWORD_MISMATCH: &str = "AUTH_PASSWORD_MISMATCH";
    pub const AUTH_PASSWORD_NOT_CONFIGURED: &str = "AUTH_PASSWORD_NOT_CONFIGURED";
    pub const AUTH_RATE_LIMITED: &str = "AUTH_RATE_LIMITED";
    pub const AUTH_DEVICE_TOKEN_MISMATCH: &str = "AUTH_DEVICE_TOKEN_MISMATCH";
    pub const PAIRING_REQUIRED: &str = "PAIRING_REQUIRED";
    pub const DEVICE_IDENTITY_REQUIRED: &str = "DEVICE_IDENTITY_REQUIRED";
    pub const DEVICE_AUTH_DEVICE_ID_MISMATCH: &str = "DEVICE_AUTH_DEVICE_ID_MISMATCH";
    pub const DEVICE_AUTH_SIGNATURE_EXPIRED: &str = "DEVICE_AUTH_SIGNATURE_EXPIRED";
    pub const DEVICE_AUTH_NONCE_REQUIRED: &str = "DEVICE_AUTH_NONCE_REQUIRED";
    pub const DEVICE_AUTH_NONCE_MISMATCH: &str = "DEVICE_AUTH_NONCE_MISMATCH";
    pub const DEVICE_AUTH_SIGNATURE_INVALID: &str = "DEVICE_AUTH_SIGNATURE_INVALID";
    pub const DEVICE_AUTH_PUBLIC_KEY_INVALID: &str = "DEVICE_AUTH_PUBLIC_KEY_INVALID";
    /// A browser `Origin` not in `gateway.controlUi.allowedOrigins`.
    pub const CONTROL_UI_ORIGIN_NOT_ALLOWED: &str = "CONTROL_UI_ORIGIN_NOT_ALLOWED";
}

/// `res.error`: `{code, message, details?, retryable?, retryAfterMs?}` (closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ErrorShape {
    pub code: String,
    pub message: String,
    /// Boxed to keep `Result<_, ErrorShape>` small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorShape {
    /// An error with a code and message only.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            details: None,
            retryable: None,
            retry_after_ms: None,
        }
    }

    /// `INVALID_REQUEST` with `message`.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_REQUEST, message)
    }

    /// `UNAVAILABLE` with `message`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(codes::UNAVAILABLE, message)
    }

    /// Adds `details`.
    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// Marks the error retryable after `ms` milliseconds.
    pub fn retry_after(mut self, ms: u64) -> Self {
        self.retryable = Some(true);
        self.retry_after_ms = Some(ms);
        self
    }

    /// `INVALID_REQUEST "unknown method: <m>"`.
    pub fn unknown_method(method: &str) -> Self {
        Self::invalid_request(format!("unknown method: {method}"))
    }

    /// `INVALID_REQUEST "invalid <method> params: <why>"`.
    pub fn invalid_params(method: &str, why: impl std::fmt::Display) -> Self {
        Self::invalid_request(format!("invalid {method} params: {why}"))
    }

    /// The missing-scope error in the shape of the negotiated `protocol`: v3 is
    /// `INVALID_REQUEST "missing scope: <s>"`; v4 is `FORBIDDEN` with `MISSING_SCOPE` details.
    pub fn missing_scope(protocol: u32, missing: &str, required: &[&str]) -> Self {
        let message = format!("missing scope: {missing}");
        if protocol < 4 {
            return Self::invalid_request(message);
        }
        Self::new(codes::FORBIDDEN, message).with_details(json!({
            "code": details::MISSING_SCOPE,
            "missingScope": missing,
            "requiredScopes": required,
        }))
    }

    /// `INVALID_REQUEST "protocol mismatch"` with the version's details.
    pub fn protocol_mismatch(client_min: u32, client_max: u32) -> Self {
        Self::invalid_request("protocol mismatch").with_details(json!({
            "code": details::PROTOCOL_MISMATCH,
            "clientMinProtocol": client_min,
            "clientMaxProtocol": client_max,
            "expectedProtocol": super::PROTOCOL_VERSION,
            "minimumProbeProtocol": super::MIN_PROTOCOL_VERSION,
        }))
    }

    /// The `details.code` string, if any.
    pub fn detail_code(&self) -> Option<&str> {
        self.details.as_ref()?.get("code")?.as_str()
    }
}
