//! Tests of the `gateway.*` settings read from `openclaw.json`.

use super::*;
use serde_json::json;

fn no_env(_: &str) -> Option<String> {
    None
}

#[test]
fn an_invalid_sandbox_section_stops_the_start() {
    let ok = json!({"agents": {"defaults": {"sandbox": {"mode": "non-main"}},
        "entries": {"ops": {"sandbox": {"workspaceAccess": "ro"}}}}});
    assert!(GatewayConfig::from_value(&ok, None, &no_env).is_ok());
    let bad = json!({"agents": {"entries": {"ops": {"sandbox": {"mode": "sometimes"}}}}});
    let err = GatewayConfig::from_value(&bad, None, &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("agent ops: sandbox") && err.contains("sometimes"),
        "{err}"
    );
    let node = json!({"tools": {"exec": {"host": "node"}}});
    assert!(GatewayConfig::from_value(&node, None, &no_env).is_ok());
    let host = json!({"tools": {"exec": {"host": "elsewhere"}}});
    let err = GatewayConfig::from_value(&host, None, &no_env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tools.exec.host"), "{err}");
}

#[test]
fn reads_gateway_settings_and_env() {
    let v = json!({"gateway":{"port":18800,"bind":"loopback","auth":{"mode":"token","token":"t",
        "rateLimit":{"maxAttempts":3,"windowMs":1000,"lockoutMs":2000,"exemptLoopback":false}}}});
    let c = GatewayConfig::from_value(&v, None, &no_env).unwrap();
    assert_eq!(c.port, 18800);
    assert_eq!(c.auth.mode, AuthMode::Token);
    assert_eq!(c.auth.rate_limit.max_attempts, 3);
    assert!(!c.auth.rate_limit.exempt_loopback);
    let env = |k: &str| (k == "OPENCLAW_GATEWAY_PASSWORD").then(|| "pw".to_owned());
    let c = GatewayConfig::from_value(&json!({}), None, &env).unwrap();
    assert_eq!(c.auth.mode, AuthMode::Password);
    assert_eq!(c.port, DEFAULT_PORT);
    assert_eq!(c.bind, BindMode::Loopback);
    assert_eq!(
        c.lanes,
        RunLanes {
            main: 8,
            subagent: 8
        }
    );
    let v = json!({"agents":{"defaults":{"maxConcurrent":2,"subagents":{"maxConcurrent":3}}}});
    let c = GatewayConfig::from_value(&v, None, &no_env).unwrap();
    assert_eq!(
        c.lanes,
        RunLanes {
            main: 2,
            subagent: 3
        }
    );
}

#[test]
fn invalid_values_name_the_key_and_position() {
    let text = "{\n  // comment\n  gateway: {\n    port: \"abc\",\n  },\n}\n";
    let path = Path::new("/tmp/openclaw.json");
    let v = openclaw_core::config::parse_json5(path, text).unwrap();
    let err = GatewayConfig::from_value(&v, Some((path, text)), &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/tmp/openclaw.json:4:5: invalid value for `gateway.port`: expected an integer between 0 and 65535"
    );
    let err = openclaw_core::config::parse_json5(path, "{ gateway: { port: 1,, } }").unwrap_err();
    assert!(
        err.to_string().starts_with("/tmp/openclaw.json:1:"),
        "{err}"
    );
    let text = "{\n  agents: {\n    defaults: { maxConcurrent: 0 },\n  },\n}\n";
    let v = openclaw_core::config::parse_json5(path, text).unwrap();
    let err = GatewayConfig::from_value(&v, Some((path, text)), &no_env).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/tmp/openclaw.json:3:17: invalid value for `agents.defaults.maxConcurrent`: expected an integer between 1 and 100000"
    );
    let text = "{\n  gateway: {\n    reload: { mode: \"sometimes\" },\n  },\n}\n";
    let v = openclaw_core::config::parse_json5(path, text).unwrap();
    let err = GatewayConfig::from_value(&v, Some((path, text)), &no_env).unwrap_err();
    assert!(
        err.to_string().starts_with("/tmp/openclaw.json:3:")
            && err
                .to_string()
                .contains("unknown reload mode \"sometimes\""),
        "{err}"
    );
    let bad_mode = json!({"gateway":{"auth":{"mode":"token"}}});
    let err = GatewayConfig::from_value(&bad_mode, None, &no_env).unwrap_err();
    assert!(err.to_string().contains("gateway.auth.token"), "{err}");
}
