//! The fuzz harness of an incoming WebSocket text frame, shared by the `gateway_frame` target in
//! `fuzz/` and the corpus replay test (`tests/fuzz_corpus.rs`). Not part of the public API.

use openclaw_core::protocol::Frame;
use serde_json::Value;

use super::conn::salvage_id;
use super::device;
use super::handshake::parse_connect;

/// What the gateway does with a text frame before any state is involved: the envelope parse,
/// the id salvaged for an error answer and, for `connect`, the params, protocol and role checks
/// and the device proof. Property: a parsed frame re-parses from its JSON to the same frame
/// (numbers up to the last bit: `serde_json`'s default float parsing is within one ulp).
pub fn gateway_frame(data: &[u8]) {
    // A WebSocket text frame is UTF-8 by the time it reaches the gateway.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let frame = match Frame::parse(text) {
        Ok(frame) => frame,
        Err(e) => {
            let _ = (e.to_string(), salvage_id(text));
            return;
        }
    };
    let json = frame.to_json();
    match Frame::parse(&json) {
        Ok(back) => assert!(same(&back, &frame), "frame changes through {json}"),
        Err(e) => panic!("serialised frame {json} does not parse: {e}"),
    }
    let Frame::Req(req) = frame else {
        let _ = salvage_id(text);
        return;
    };
    if req.method != "connect" {
        return;
    }
    let Ok(connect) = parse_connect(&req) else {
        return;
    };
    let params = &connect.params;
    let Some(dev) = &params.device else {
        return;
    };
    let _ = device::verify(params, dev, &dev.nonce, dev.signed_at);
    // Past the id check too: the same device with the id its key implies.
    if let Some(key) = device::decode_public_key(&dev.public_key) {
        let mut dev = dev.clone();
        dev.id = device::device_id(&key);
        let _ = device::verify(params, &dev, &dev.nonce, dev.signed_at);
    }
}

fn same(a: &Frame, b: &Frame) -> bool {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(a), Ok(b)) => same_value(&a, &b),
        _ => false,
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= x.abs().max(y.abs()) * 4.0 * f64::EPSILON
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((kx, vx), (ky, vy))| kx == ky && same_value(vx, vy))
        }
        _ => a == b,
    }
}
