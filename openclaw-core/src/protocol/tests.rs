//! Round-trip tests over every frame captured between the real OpenClaw clients and gateway,
//! plus the v3 shapes the protocol reference describes.

use std::path::PathBuf;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::*;

fn frames_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openclaw-frames")
}

/// Every `ws` text frame in the captures, with its file name.
fn captured_frames() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(frames_dir())
        .expect("fixtures dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 13,
        "expected the 13 capture files, found {}",
        files.len()
    );
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&file)
            .expect("read capture")
            .lines()
        {
            let rec: Value = serde_json::from_str(line).expect("capture line is JSON");
            if rec["kind"] == "ws" && rec["op"] == "text" {
                out.push((name.clone(), rec["json"].clone()));
            }
        }
    }
    out
}

fn roundtrip<T: serde::Serialize + serde::de::DeserializeOwned>(v: &Value, what: &str) {
    let typed: T = serde_json::from_value(v.clone())
        .unwrap_or_else(|e| panic!("{what}: does not parse: {e}\n{v}"));
    let back = serde_json::to_value(&typed).expect("serialise");
    assert_eq!(&back, v, "{what} did not round-trip");
}

#[test]
fn every_captured_frame_round_trips_through_the_typed_envelope() {
    let frames = captured_frames();
    assert!(frames.len() > 100, "only {} frames", frames.len());
    let (mut hellos, mut connects, mut challenges) = (0, 0, 0);
    for (file, v) in &frames {
        let frame = Frame::from_value(v.clone())
            .unwrap_or_else(|e| panic!("{file}: frame does not parse: {e}\n{v}"));
        assert_eq!(
            &serde_json::to_value(&frame).unwrap(),
            v,
            "{file}: frame changed"
        );
        match &frame {
            Frame::Req(r) if r.method == "connect" => {
                connects += 1;
                roundtrip::<ConnectParams>(r.params.as_ref().unwrap(), "ConnectParams");
                let p: ConnectParams = serde_json::from_value(r.params.clone().unwrap()).unwrap();
                p.validate()
                    .unwrap_or_else(|e| panic!("{file}: captured connect invalid: {e}"));
            }
            Frame::Res(r) if r.payload.as_ref().is_some_and(|p| p["type"] == "hello-ok") => {
                hellos += 1;
                roundtrip::<HelloOk>(r.payload.as_ref().unwrap(), "HelloOk");
            }
            Frame::Res(r) if r.error.is_some() => {
                roundtrip::<ErrorShape>(&serde_json::to_value(&r.error).unwrap(), "ErrorShape");
            }
            Frame::Event(e) if e.event == "connect.challenge" => {
                challenges += 1;
                assert_eq!(e.seq, None, "challenge has no seq");
                roundtrip::<ConnectChallenge>(e.payload.as_ref().unwrap(), "challenge");
            }
            Frame::Event(e) if e.event == "tick" => {
                roundtrip::<TickEvent>(e.payload.as_ref().unwrap(), "tick");
            }
            _ => {}
        }
    }
    assert!(
        hellos >= 10 && connects >= 10 && challenges >= 10,
        "{hellos} {connects} {challenges}"
    );
}

#[test]
fn envelopes_are_closed() {
    let bad = [
        json!({"type":"req","id":"1","method":"health","extra":1}),
        json!({"type":"res","id":"1","ok":true,"payload":{},"bogus":true}),
        json!({"type":"event","event":"tick","payload":{"ts":1},"x":0}),
        json!({"type":"req","id":"1"}),
        json!({"type":"frob","id":"1"}),
        json!([1, 2]),
    ];
    for v in bad {
        assert!(Frame::from_value(v.clone()).is_err(), "accepted {v}");
    }
    let err = json!({"code":"X","message":"m","extra":1});
    assert!(serde_json::from_value::<ErrorShape>(err).is_err());
    let conn = json!({"minProtocol":3,"maxProtocol":3,"client":{"id":"cli","version":"1","platform":"linux","mode":"cli","nope":1}});
    assert!(serde_json::from_value::<ConnectParams>(conn).is_err());
}

#[test]
fn params_null_and_absent_are_distinct() {
    for text in [
        r#"{"type":"req","id":"1","method":"health"}"#,
        r#"{"type":"req","id":"1","method":"health","params":null}"#,
    ] {
        let f = Frame::parse(text).unwrap();
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }
}

#[test]
fn v3_shapes_from_the_reference_round_trip() {
    // The minimal hello-ok the 2026.9.6 and 2026.5.6 clients accepted, in its v3 form.
    let hello = json!({"type":"hello-ok","protocol":3,
        "server":{"version":"0.0.1-fake","connId":"c"},
        "features":{"methods":["health"],"events":["tick"]},
        "snapshot":{"presence":[],"health":{"ok":true,"ts":1},"stateVersion":{"presence":0,"health":0},"uptimeMs":1,
            "sessionDefaults":{"defaultAgentId":"main","mainKey":"main","mainSessionKey":"agent:main:main","scope":"per-sender"},
            "authMode":"token"},
        "canvasHostUrl":"http://127.0.0.1:18789/canvas",
        "auth":{"role":"operator","scopes":["operator.read"]},
        "policy":{"maxPayload":26214400,"maxBufferedBytes":52428800,"tickIntervalMs":30000}});
    roundtrip::<HelloOk>(&hello, "v3 hello-ok");
    let v3_connect = json!({"minProtocol":3,"maxProtocol":3,
        "client":{"id":"cli","version":"2026.5.6","platform":"linux","mode":"cli","instanceId":"i"},
        "scopes":["operator.read"],
        "device":{"id":"ab","publicKey":"pk","signature":"sig","signedAt":1,"nonce":"n"}});
    roundtrip::<ConnectParams>(&v3_connect, "v3 connect");
    let v3_scope = ErrorShape::missing_scope(3, "operator.admin", &["operator.admin"]);
    assert_eq!(
        serde_json::to_value(&v3_scope).unwrap(),
        json!({"code":"INVALID_REQUEST","message":"missing scope: operator.admin"})
    );
    let v4_scope = ErrorShape::missing_scope(4, "operator.read", &["operator.read"]);
    assert_eq!(
        serde_json::to_value(&v4_scope).unwrap(),
        json!({"code":"FORBIDDEN",
        "message":"missing scope: operator.read",
        "details":{"code":"MISSING_SCOPE","missingScope":"operator.read","requiredScopes":["operator.read"]}})
    );
}

#[test]
fn protocol_negotiation_prefers_4_then_3() {
    assert_eq!(negotiate_protocol(4, 4), Some(4));
    assert_eq!(negotiate_protocol(3, 4), Some(4));
    assert_eq!(negotiate_protocol(3, 3), Some(3));
    assert_eq!(negotiate_protocol(1, 3), Some(3));
    assert_eq!(negotiate_protocol(3, 9), Some(4));
    assert_eq!(negotiate_protocol(9, 9), None);
    assert_eq!(negotiate_protocol(1, 2), None);
    assert_eq!(negotiate_protocol(4, 3), None);
}

#[test]
fn scope_rules() {
    use scopes::{EventAccess, event_access, method_access};
    assert_eq!(method_access("health"), MethodAccess::Authenticated);
    assert_eq!(method_access("status"), MethodAccess::Operator(Scope::Read));
    assert_eq!(
        method_access("chat.send"),
        MethodAccess::Operator(Scope::Write)
    );
    assert_eq!(
        method_access("config.set"),
        MethodAccess::Operator(Scope::Admin)
    );
    assert_eq!(
        method_access("no.such.method"),
        MethodAccess::Operator(Scope::Admin)
    );
    assert_eq!(method_access("node.event"), MethodAccess::Node);
    assert!(Scope::Read.satisfied_by(&[Scope::Write]));
    assert!(Scope::Pairing.satisfied_by(&[Scope::Admin]));
    assert!(!Scope::Write.satisfied_by(&[Scope::Read]));
    assert!(!Scope::Approvals.satisfied_by(&[Scope::Write, Scope::Read]));
    assert_eq!(event_access("tick"), EventAccess::Everyone);
    assert_eq!(event_access("chat"), EventAccess::Operator(Scope::Read));
    assert_eq!(
        event_access("device.pair.requested"),
        EventAccess::Operator(Scope::Pairing)
    );
    assert_eq!(event_access("made.up"), EventAccess::Never);
}
