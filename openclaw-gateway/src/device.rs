//! Device identity proof: the Ed25519 signature over the v3 (or legacy v2) connect payload,
//! the device id (SHA-256 of the raw public key), the ±120 s freshness window and the nonce.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use openclaw_core::protocol::{
    ConnectParams, DEVICE_SIGNATURE_SKEW_MS, DeviceIdentity, ErrorShape, details,
};
use serde_json::json;
use sha2::{Digest, Sha256};

fn decode_b64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    [URL_SAFE_NO_PAD, URL_SAFE, STANDARD_NO_PAD, STANDARD]
        .iter()
        .find_map(|e| e.decode(t).ok())
}

/// Decodes a public key given as raw base64url/base64 bytes or an SPKI PEM block.
pub fn decode_public_key(text: &str) -> Option<[u8; 32]> {
    let bytes = if text.contains("-----BEGIN") {
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = decode_b64(&body)?;
        // SPKI for Ed25519 is a 12-byte prefix followed by the 32-byte key.
        der.get(der.len().checked_sub(32)?..)?.to_vec()
    } else {
        decode_b64(text)?
    };
    bytes.try_into().ok()
}

/// Lowercase hex SHA-256 of the raw public key: the device id.
pub fn device_id(public_key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public_key))
}

fn normalise(v: Option<&str>) -> String {
    v.map(|s| s.trim().to_ascii_lowercase()).unwrap_or_default()
}

/// The signed payload: `v3|deviceId|clientId|mode|role|scopes|signedAt|token|nonce|platform|deviceFamily`
/// (v2 drops the last two fields).
pub fn signature_payload(version: u8, params: &ConnectParams, device: &DeviceIdentity) -> String {
    let auth = params.auth.as_ref();
    let token = auth
        .and_then(|a| {
            a.token
                .as_deref()
                .or(a.device_token.as_deref())
                .or(a.bootstrap_token.as_deref())
        })
        .unwrap_or("");
    let scopes = params.scopes.as_deref().unwrap_or(&[]).join(",");
    let role = params.role.as_deref().unwrap_or("operator");
    let mut fields = vec![
        format!("v{version}"),
        device.id.clone(),
        params.client.id.clone(),
        params.client.mode.clone(),
        role.to_owned(),
        scopes,
        device.signed_at.to_string(),
        token.to_owned(),
        device.nonce.clone(),
    ];
    if version >= 3 {
        fields.push(normalise(Some(&params.client.platform)));
        fields.push(normalise(params.client.device_family.as_deref()));
    }
    fields.join("|")
}

fn fail(message: &str, code: &str, reason: &str) -> ErrorShape {
    ErrorShape::invalid_request(message).with_details(json!({"code": code, "reason": reason}))
}

/// Verifies the device block of a connect against the challenge nonce and the server clock.
pub fn verify(
    params: &ConnectParams,
    device: &DeviceIdentity,
    nonce: &str,
    now_ms: u64,
) -> Result<(), ErrorShape> {
    let key_bytes = decode_public_key(&device.public_key).ok_or_else(|| {
        fail(
            "device public key invalid",
            details::DEVICE_AUTH_PUBLIC_KEY_INVALID,
            "device-public-key",
        )
    })?;
    if device_id(&key_bytes) != device.id.to_ascii_lowercase() {
        return Err(fail(
            "device identity mismatch",
            details::DEVICE_AUTH_DEVICE_ID_MISMATCH,
            "device-id-mismatch",
        ));
    }
    if now_ms.abs_diff(device.signed_at) > DEVICE_SIGNATURE_SKEW_MS {
        return Err(fail(
            "device signature expired",
            details::DEVICE_AUTH_SIGNATURE_EXPIRED,
            "device-signature-stale",
        ));
    }
    if device.nonce.is_empty() {
        return Err(fail(
            "device nonce required",
            details::DEVICE_AUTH_NONCE_REQUIRED,
            "device-nonce-missing",
        ));
    }
    if device.nonce != nonce {
        return Err(fail(
            "device nonce mismatch",
            details::DEVICE_AUTH_NONCE_MISMATCH,
            "device-nonce-mismatch",
        ));
    }
    let key = VerifyingKey::from_bytes(&key_bytes).map_err(|_| {
        fail(
            "device public key invalid",
            details::DEVICE_AUTH_PUBLIC_KEY_INVALID,
            "device-public-key",
        )
    })?;
    let invalid = || {
        fail(
            "device signature invalid",
            details::DEVICE_AUTH_SIGNATURE_INVALID,
            "device-signature",
        )
    };
    let sig_bytes: [u8; 64] = decode_b64(&device.signature)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(invalid)?;
    let sig = Signature::from_bytes(&sig_bytes);
    let verified = [3u8, 2].iter().any(|v| {
        key.verify(signature_payload(*v, params, device).as_bytes(), &sig)
            .is_ok()
    });
    if verified { Ok(()) } else { Err(invalid()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The real 2026.9.6 TUI's signed connect (capture 07), with the redacted shared token
    /// restored: our payload and verification accept it byte for byte.
    #[test]
    fn accepts_the_real_tui_signature() {
        let nonce = "28851996-7781-4be2-91a9-b81d76c30583";
        let params: ConnectParams = serde_json::from_value(json!({
            "minProtocol": 4, "maxProtocol": 4,
            "client": {"id": "openclaw-tui", "displayName": "openclaw-tui", "version": "2026.9.6", "platform": "linux",
                       "deviceFamily": "Linux", "mode": "ui", "instanceId": "051f223a-c85f-474a-b9d5-96d8d090b91b"},
            "caps": ["agent-kind", "plugin-approvals", "task-suggestions", "tool-events"],
            "auth": {"token": "peer-test-token-0123456789"}, "role": "operator",
            "scopes": ["operator.admin", "operator.read", "operator.write", "operator.approvals"],
            "device": {"id": "974a90aac990340317271ba2e350ea016e0ad1a0a4892c2a30d7b851a8dfaa93",
                       "publicKey": "A10OMJd87jYzotpL5HyUR7RYFxRDUGxB0aw1v9LfBfk",
                       "signature": "Za9cZBZBLChjQ-6r28DWhztCxs9aLlTjCas8oUJniMlQd9tDvTyExdydFln3ISXRYhseEEzSr1weacgDy1ElAw",
                       "signedAt": 1795306620189u64, "nonce": nonce}}))
        .unwrap();
        let dev = params.device.clone().unwrap();
        assert_eq!(verify(&params, &dev, nonce, dev.signed_at + 5_000), Ok(()));
        // Any change to a signed field breaks it.
        let mut other = params.clone();
        other.scopes = Some(vec!["operator.read".into()]);
        let err = verify(&other, &dev, nonce, dev.signed_at).unwrap_err();
        assert_eq!(
            err.detail_code(),
            Some(details::DEVICE_AUTH_SIGNATURE_INVALID)
        );
        let err = verify(&params, &dev, nonce, dev.signed_at + 121_000).unwrap_err();
        assert_eq!(
            err.detail_code(),
            Some(details::DEVICE_AUTH_SIGNATURE_EXPIRED)
        );
    }
}
