//! The cron (automations) wire shapes of OpenClaw 2026.9.6: the job record (`CronJob`: schedule,
//! session target, wake mode, payload, delivery, failure alert, runtime state), the run-log
//! entry `cron.runs` lists and the `cron` event carries, and the params of the `cron.*` methods
//! (closed key lists, checked by [`super::params::parse`]). What the gateway does with them is
//! `openclaw-gateway`'s `cron` module; the store is `openclaw-state`'s.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::params::{Bounded, Change, NonEmpty};

/// `schedule`: when a job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CronSchedule {
    /// Once, at an ISO 8601 time (the CLI also turns `20m` into a time).
    At { at: String },
    /// Every `everyMs`, counted from `anchorMs` (the creation time by default).
    Every {
        #[serde(rename = "everyMs")]
        every_ms: u64,
        #[serde(rename = "anchorMs", default, skip_serializing_if = "Option::is_none")]
        anchor_ms: Option<u64>,
    },
    /// A cron expression of 5 or 6 fields in `tz` (the host's zone when absent), each slot
    /// shifted by the job's stagger offset.
    Cron {
        expr: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tz: Option<String>,
        #[serde(rename = "staggerMs", default, skip_serializing_if = "Option::is_none")]
        stagger_ms: Option<u64>,
    },
}

impl CronSchedule {
    pub fn kind(&self) -> &'static str {
        match self {
            CronSchedule::At { .. } => "at",
            CronSchedule::Every { .. } => "every",
            CronSchedule::Cron { .. } => "cron",
        }
    }
}

/// `sessionTarget`: `main | isolated | current | session:<key>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SessionTarget {
    Main,
    Isolated,
    Current,
    Session(String),
}

impl TryFrom<String> for SessionTarget {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "main" => Ok(SessionTarget::Main),
            "isolated" => Ok(SessionTarget::Isolated),
            "current" => Ok(SessionTarget::Current),
            other => match other.strip_prefix("session:") {
                Some(k) if !k.trim().is_empty() => Ok(SessionTarget::Session(k.to_owned())),
                _ => Err(format!(
                    "must be \"main\", \"isolated\", \"current\" or \"session:<key>\", not {other:?}"
                )),
            },
        }
    }
}

impl From<SessionTarget> for String {
    fn from(t: SessionTarget) -> String {
        t.to_string()
    }
}

impl fmt::Display for SessionTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionTarget::Main => f.write_str("main"),
            SessionTarget::Isolated => f.write_str("isolated"),
            SessionTarget::Current => f.write_str("current"),
            SessionTarget::Session(k) => write!(f, "session:{k}"),
        }
    }
}

/// `wakeMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum WakeMode {
    #[default]
    Now,
    NextHeartbeat,
}

/// `payload`: what a run does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum CronPayload {
    /// A system event on the agent's main session.
    SystemEvent { text: String },
    /// An agent turn with `message`.
    AgentTurn(AgentTurnPayload),
}

/// `payload` of kind `agentTurn`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentTurnPayload {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallbacks: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thinking: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub light_context: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_allow: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_unsafe_external_content: Option<bool>,
}

/// `delivery.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    #[default]
    None,
    Announce,
    Webhook,
}

/// A thread id: Telegram topics are numbers, other channels strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ThreadId {
    Number(i64),
    Text(String),
}

/// Where a failure (or completion) notice goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDestination {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<DeliveryMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// `delivery`: where a run's reply goes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronDelivery {
    pub mode: DeliveryMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_effort: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_destination: Option<DeliveryDestination>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_destination: Option<DeliveryDestination>,
}

/// `failureAlert`: `false`, or when and where to alert about repeated failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FailureAlert {
    Off(bool),
    Alert(FailureAlertConfig),
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureAlertConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_skipped: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

/// A run's status: `ok | error | skipped`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Ok,
    Error,
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => "ok",
            RunStatus::Error => "error",
            RunStatus::Skipped => "skipped",
        }
    }
}

/// Why a job was switched off by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoDisabled {
    /// `consecutive-failures` or `schedule-errors`.
    pub reason: String,
    pub at_ms: u64,
}

/// `state`: the runtime fields the scheduler keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJobState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<RunStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<u64>,
    #[serde(default)]
    pub consecutive_errors: u32,
    #[serde(default)]
    pub consecutive_skipped: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_delivery_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_disabled: Option<AutoDisabled>,
    /// When the last `failureAlert` was sent (its cooldown counts from here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure_alert_at_ms: Option<u64>,
}

/// A job, as `cron.get` answers and the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronJob {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    /// The session that created the job (`sessionTarget: "current"` runs there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_run: Option<bool>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    pub schedule: CronSchedule,
    pub session_target: SessionTarget,
    pub wake_mode: WakeMode,
    pub payload: CronPayload,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<CronDelivery>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_alert: Option<FailureAlert>,
    #[serde(default)]
    pub state: CronJobState,
    /// `sha256:<base64>` of the definition (optimistic concurrency for `cron.update`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_revision: Option<String>,
    /// Who created the job (OpenClaw 9.6's `owner`): set for jobs an agent made with its
    /// `automations` tool, whose restricted turns see only the jobs their session owns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<CronOwner>,
}

/// `owner`: the agent, session and channel account that created a job.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronOwner {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
}

impl CronJob {
    /// Whether a successful run removes the job (`deleteAfterRun`, default true for `at`).
    pub fn deletes_after_run(&self) -> bool {
        self.delete_after_run
            .unwrap_or(matches!(self.schedule, CronSchedule::At { .. }))
    }
}

/// Token usage of a run, as the run log reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RunUsage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub total_tokens: u64,
}

/// One entry of a job's run history (`cron.runs`), written for every run, skip and error.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronRunLogEntry {
    pub ts: u64,
    pub job_id: String,
    /// Always `finished` for a stored entry.
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RunStatus>,
    /// `succeeded`, `failed`, `skipped` or `interrupted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<RunUsage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// Where the run's result was meant to go and what happened (absent when not requested).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<RunDelivery>,
    /// Why it was not delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_error: Option<String>,
}

/// `delivery` of a run-log entry: `{intended, resolved, delivered}` as OpenClaw records it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDelivery {
    pub intended: DeliveryIntent,
    pub resolved: DeliveryResolved,
    pub delivered: bool,
}

/// Where a run's result was meant to go.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryIntent {
    pub mode: DeliveryMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// What the target answered.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryResolved {
    pub ok: bool,
    /// The webhook's HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `{id}` or `{jobId}` (`cron.get`, `cron.remove`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronIdParams {
    #[serde(default)]
    pub id: Option<NonEmpty>,
    #[serde(default)]
    pub job_id: Option<NonEmpty>,
}

/// `cron.add`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronAddParams {
    pub name: NonEmpty,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub agent_id: Option<NonEmpty>,
    #[serde(default)]
    pub session_key: Option<NonEmpty>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub delete_after_run: Option<bool>,
    pub schedule: CronSchedule,
    pub session_target: SessionTarget,
    pub wake_mode: WakeMode,
    pub payload: CronPayload,
    #[serde(default)]
    pub delivery: Option<CronDelivery>,
    #[serde(default)]
    pub failure_alert: Option<FailureAlert>,
    #[serde(default)]
    pub owner: Option<CronOwner>,
}

/// `cron.update`'s `patch`: absent keeps, `null` clears (where a field may be absent).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CronJobPatch {
    #[serde(default)]
    pub name: Option<NonEmpty>,
    #[serde(default)]
    pub display_name: Change<String>,
    #[serde(default)]
    pub description: Change<String>,
    #[serde(default)]
    pub agent_id: Change<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub delete_after_run: Change<bool>,
    #[serde(default)]
    pub schedule: Option<CronSchedule>,
    #[serde(default)]
    pub session_target: Option<SessionTarget>,
    #[serde(default)]
    pub wake_mode: Option<WakeMode>,
    #[serde(default)]
    pub payload: Option<CronPayload>,
    #[serde(default)]
    pub delivery: Change<CronDelivery>,
    #[serde(default)]
    pub failure_alert: Change<FailureAlert>,
}

/// `cron.update`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronUpdateParams {
    #[serde(default)]
    pub id: Option<NonEmpty>,
    #[serde(default)]
    pub job_id: Option<NonEmpty>,
    pub patch: CronJobPatch,
    #[serde(default)]
    pub expected_config_revision: Option<String>,
}

/// `cron.run`'s `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CronRunMode {
    #[default]
    Force,
    Due,
    IfEnabled,
}

/// `cron.run`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronRunParams {
    #[serde(default)]
    pub id: Option<NonEmpty>,
    #[serde(default)]
    pub job_id: Option<NonEmpty>,
    #[serde(default)]
    pub mode: CronRunMode,
    #[serde(default)]
    pub expected_process_instance_id: Option<String>,
}

/// `asc | desc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortDir {
    #[default]
    Asc,
    Desc,
}

/// `cron.list`'s `enabled` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnabledFilter {
    All,
    Enabled,
    Disabled,
}

/// `cron.list`'s `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CronSortBy {
    #[default]
    NextRunAtMs,
    UpdatedAtMs,
    Name,
}

/// `cron.list`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronListParams {
    #[serde(default)]
    pub include_disabled: Option<bool>,
    #[serde(default)]
    pub limit: Option<Bounded<1, 200>>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub enabled: Option<EnabledFilter>,
    #[serde(default)]
    pub schedule_kind: Option<String>,
    #[serde(default)]
    pub last_run_status: Option<RunStatus>,
    #[serde(default)]
    pub sort_by: Option<CronSortBy>,
    #[serde(default)]
    pub sort_dir: Option<SortDir>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub compact: Option<bool>,
    #[serde(default)]
    pub include_delivery_previews: Option<bool>,
}

/// `cron.runs`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CronRunsParams {
    /// `job` (default when an id is given) or `all`.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub id: Option<NonEmpty>,
    #[serde(default)]
    pub job_id: Option<NonEmpty>,
    #[serde(default)]
    pub run_id: Option<String>,
    #[serde(default)]
    pub limit: Option<Bounded<1, 200>>,
    #[serde(default)]
    pub offset: Option<u64>,
    #[serde(default)]
    pub status: Option<RunStatus>,
    #[serde(default)]
    pub statuses: Option<Vec<RunStatus>>,
    #[serde(default)]
    pub delivery_status: Option<String>,
    #[serde(default)]
    pub delivery_statuses: Option<Vec<String>>,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub sort_dir: Option<SortDir>,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `wake` (and the body of `POST <hooks.path>/wake`): a system event for the agent's main
/// session, run at once or at its next heartbeat.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WakeParams {
    pub mode: WakeMode,
    pub text: String,
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
}

/// `set-heartbeats`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetHeartbeatsParams {
    pub enabled: bool,
}
