//! The exec policy: whether a `bash` command (or a `write`/`edit` outside the workspace) runs,
//! asks a human, or is refused — OpenClaw's `tools.exec.mode` / `security` / `ask` /
//! `askFallback` knobs ([`config`]), the host approvals document
//! `<stateDir>/exec-approvals.json` that can only tighten them ([`document`]), the analysis of a
//! command line into the executables it runs ([`analysis`]), the verdict ([`evaluate`]) and the
//! gate that puts all of it in front of a tool and asks an [`Approver`] ([`gate`]).
//!
//! Runtime-agnostic: nothing here needs tokio.

pub mod analysis;
pub mod config;
pub mod document;
pub mod evaluate;
pub mod gate;

#[cfg(test)]
mod tests;

pub use analysis::{CommandAnalysis, Segment, analyze};
pub use config::{ExecMode, ExecPolicy, ExecPolicyConfig};
pub use document::{AllowlistEntry, ApprovalsFile, DocumentError};
pub use evaluate::{Verdict, evaluate};
pub use gate::{
    ApprovalOutcome, ApprovalRequest, ApprovalWait, Approver, GateContext, GatedTool, gate_tools,
};

use serde::{Deserialize, Serialize};

/// `security`: which commands may run at all. Ordered from strictest to loosest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Deny,
    Allowlist,
    Full,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Deny => "deny",
            Security::Allowlist => "allowlist",
            Security::Full => "full",
        }
    }
}

/// `ask`: when a human is asked. Ordered from loosest to strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ask {
    #[serde(rename = "off")]
    Off,
    #[serde(rename = "on-miss")]
    OnMiss,
    #[serde(rename = "always")]
    Always,
}

impl Ask {
    pub fn as_str(self) -> &'static str {
        match self {
            Ask::Off => "off",
            Ask::OnMiss => "on-miss",
            Ask::Always => "always",
        }
    }
}

/// A human's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    #[serde(rename = "allow-once")]
    AllowOnce,
    #[serde(rename = "allow-always")]
    AllowAlways,
    #[serde(rename = "deny")]
    Deny,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::AllowOnce => "allow-once",
            Decision::AllowAlways => "allow-always",
            Decision::Deny => "deny",
        }
    }

    /// Parses a wire decision (`allow-once`, `allow-always`, `deny`).
    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "allow-once" => Some(Decision::AllowOnce),
            "allow-always" => Some(Decision::AllowAlways),
            "deny" => Some(Decision::Deny),
            _ => None,
        }
    }
}

/// OpenClaw's default approval timeout: 30 minutes.
pub const DEFAULT_APPROVAL_TIMEOUT_MS: u64 = 1_800_000;
