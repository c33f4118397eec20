//! The handshake: the `connect.challenge` event, the client's [`ConnectParams`], and the
//! server's [`HelloOk`] answer with its snapshot, auth grant and policy; also the small `tick`
//! and `shutdown` event payloads.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::frames::StateVersion;

/// `client.id` values accepted in v3 and v4.
pub const CLIENT_IDS: &[&str] = &[
    "webchat-ui",
    "openclaw-control-ui",
    "openclaw-tui",
    "webchat",
    "cli",
    "gateway-client",
    "openclaw-macos",
    "openclaw-ios",
    "openclaw-android",
    "node-host",
    "test",
    "fingerprint",
    "openclaw-probe",
    "openclaw-browser-copilot",
    "openclaw-linux",
    "openclaw-watchos",
    "openclaw-worker",
];

/// `client.mode` values accepted in v3 and v4.
pub const CLIENT_MODES: &[&str] = &[
    "webchat", "cli", "ui", "backend", "node", "probe", "test", "worker",
];

/// Payload of the `connect.challenge` event sent as soon as a socket opens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectChallenge {
    pub nonce: String,
    /// Server time in epoch milliseconds.
    pub ts: u64,
    /// v4: server capabilities relevant before connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

/// `connect.params.client` (closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientInfo {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// `connect.params.auth` (closed): the shared secret or tokens the client offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectAuth {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_runtime_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_runtime_identity_token: Option<String>,
}

/// `connect.params.device` (closed): a signed Ed25519 device identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeviceIdentity {
    /// Lowercase hex SHA-256 of the raw 32-byte public key.
    pub id: String,
    /// Raw public key, base64url (PEM and padded base64 are accepted too).
    pub public_key: String,
    /// Ed25519 signature over the v3 (or v2) payload, base64url.
    pub signature: String,
    /// The challenge `ts` the client signed, epoch milliseconds.
    pub signed_at: u64,
    /// The challenge nonce.
    pub nonce: String,
}

/// `connect.params` (closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectParams {
    pub min_protocol: u32,
    pub max_protocol: u32,
    pub client: ClientInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<ConnectAuth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computer_use: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker_runs: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_catalog: Option<Value>,
}

impl ConnectParams {
    /// Checks what serde cannot: the closed enums and the non-empty strings. Returns a short
    /// description of the first problem, used in `invalid connect params: <why>`.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_protocol < 1 || self.max_protocol < 1 {
            return Err("minProtocol and maxProtocol must be >= 1".into());
        }
        if !CLIENT_IDS.contains(&self.client.id.as_str()) {
            return Err(format!(
                "client.id must be one of the known client ids (got {:?})",
                self.client.id
            ));
        }
        if !CLIENT_MODES.contains(&self.client.mode.as_str()) {
            return Err(format!(
                "client.mode must be one of {CLIENT_MODES:?} (got {:?})",
                self.client.mode
            ));
        }
        let non_empty = [
            ("client.version", Some(&self.client.version)),
            ("client.platform", Some(&self.client.platform)),
            ("client.displayName", self.client.display_name.as_ref()),
            ("client.deviceFamily", self.client.device_family.as_ref()),
            ("client.instanceId", self.client.instance_id.as_ref()),
            ("role", self.role.as_ref()),
        ];
        for (name, value) in non_empty {
            if value.is_some_and(|v| v.is_empty()) {
                return Err(format!("{name} must not be empty"));
            }
        }
        if let Some(d) = &self.device {
            for (name, v) in [
                ("device.id", &d.id),
                ("device.publicKey", &d.public_key),
                ("device.signature", &d.signature),
                ("device.nonce", &d.nonce),
            ] {
                if v.is_empty() {
                    return Err(format!("{name} must not be empty"));
                }
            }
        }
        Ok(())
    }
}

/// `hello-ok.server`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerInfo {
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_ui_build_source: Option<String>,
    pub conn_id: String,
}

/// `hello-ok.features`: the methods and events this server offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    pub methods: Vec<String>,
    pub events: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

/// One connected client or host in the presence list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresenceEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_family: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub ts: u64,
    /// Fields added by newer servers, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `hello-ok.snapshot.sessionDefaults`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDefaults {
    pub default_agent_id: String,
    pub main_key: String,
    pub main_session_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `hello-ok.snapshot`: the state a client needs right after connecting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub presence: Vec<PresenceEntry>,
    /// The health summary (any value in v3, the typed summary in v4).
    pub health: Value,
    pub state_version: StateVersion,
    pub uptime_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_defaults: Option<SessionDefaults>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `hello-ok.auth`: what the connection was granted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloAuth {
    pub role: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at_ms: Option<u64>,
    /// v4: how the connection authenticated (`none`, `token`, `password`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `hello-ok.policy`: limits the client must respect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    pub max_payload: u64,
    pub max_buffered_bytes: u64,
    pub tick_interval_ms: u64,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The literal `"hello-ok"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloOkTag {
    #[default]
    #[serde(rename = "hello-ok")]
    Tag,
}

/// The payload of a successful `connect` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelloOk {
    #[serde(rename = "type")]
    pub kind: HelloOkTag,
    pub protocol: u32,
    pub server: ServerInfo,
    pub features: Features,
    pub snapshot: Snapshot,
    /// v3 only; never sent together with `pluginSurfaceUrls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canvas_host_url: Option<String>,
    /// v4 only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin_surface_urls: Option<Map<String, Value>>,
    pub auth: HelloAuth,
    pub policy: Policy,
    /// Optional v4 extras (Control UI fields and the like), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Payload of the `tick` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickEvent {
    pub ts: u64,
}

/// Payload of the `shutdown` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShutdownEvent {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_expected_ms: Option<u64>,
}
