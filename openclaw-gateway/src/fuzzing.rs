//! The fuzz harness of an incoming WebSocket text frame, shared by the `gateway_frame` target in
//! `fuzz/` and the corpus replay test (`tests/fuzz_corpus.rs`). Not part of the public API.

use openclaw_core::protocol::Frame;

use super::conn::salvage_id;
use super::device;
use super::handshake::parse_connect;

/// What the gateway does with a text frame before any state is involved: the envelope parse,
/// the id salvaged for an error answer and, for `connect`, the params, protocol and role checks
/// and the device proof. Property: a parsed frame re-parses from its JSON to the same frame.
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
        Ok(back) => assert_eq!(back, frame, "frame changes through {json}"),
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
