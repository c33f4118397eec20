//! The `agent` `item` event of a tool call that waits for a human: while a gated `bash` /
//! `write` / `edit` call's approval is pending, the item is updated (`phase: "update"`,
//! `status: "approval-pending"`, the approval id and the text that says how to answer) between
//! OpenClaw's `start` and `end`. OpenClaw sends no such update (its clients ignore unknown
//! phases); ours lets every surface show "waiting for approval" instead of a hung tool. A tool
//! that reports progress (an MCP server's `notifications/progress`, `details.status:
//! "progress"`) gets the same kind of update with `status: "running"` and the progress line.

use openclaw_core::exec_policy::ApprovalWait;
use openclaw_core::tool::ToolOutput;
use serde::Serialize;

/// `data` of the update.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ApprovalWaitItem {
    item_id: String,
    tool_call_id: String,
    name: String,
    kind: &'static str,
    phase: &'static str,
    title: String,
    status: &'static str,
    approval_id: String,
    /// What the tool said: waiting, for which command, how to approve, when it expires.
    progress_text: String,
    command_bearing: bool,
    started_at: u64,
}

/// The update for a partial result, when it is an approval wait.
pub(crate) fn approval_wait_item(
    tool_call_id: &str,
    tool_name: &str,
    partial: &ToolOutput,
    (started_at, title): (u64, &str),
) -> Option<ApprovalWaitItem> {
    let wait: ApprovalWait = serde_json::from_value(partial.details.clone()?).ok()?;
    if wait.status != ApprovalWait::PENDING {
        return None;
    }
    Some(ApprovalWaitItem {
        item_id: format!("tool:{tool_call_id}"),
        tool_call_id: tool_call_id.to_owned(),
        name: tool_name.to_owned(),
        kind: "tool",
        phase: "update",
        title: title.to_owned(),
        status: ApprovalWait::PENDING,
        approval_id: wait.approval_id,
        progress_text: partial
            .content
            .iter()
            .filter_map(|b| b.as_text())
            .collect::<Vec<_>>()
            .join("\n"),
        command_bearing: tool_name == "bash",
        started_at,
    })
}

/// `data` of a progress update.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProgressItem {
    item_id: String,
    tool_call_id: String,
    name: String,
    kind: &'static str,
    phase: &'static str,
    title: String,
    status: &'static str,
    progress_text: String,
    command_bearing: bool,
    started_at: u64,
}

/// `details` of a progress partial.
#[derive(serde::Deserialize)]
struct ProgressDetails {
    status: String,
}

/// The update for a partial result, when it reports progress.
pub(crate) fn progress_item(
    tool_call_id: &str,
    tool_name: &str,
    partial: &ToolOutput,
    (started_at, title): (u64, &str),
) -> Option<ProgressItem> {
    let d: ProgressDetails = serde_json::from_value(partial.details.clone()?).ok()?;
    if d.status != "progress" {
        return None;
    }
    Some(ProgressItem {
        item_id: format!("tool:{tool_call_id}"),
        tool_call_id: tool_call_id.to_owned(),
        name: tool_name.to_owned(),
        kind: "tool",
        phase: "update",
        title: title.to_owned(),
        status: "running",
        progress_text: partial
            .content
            .iter()
            .filter_map(|b| b.as_text())
            .collect::<Vec<_>>()
            .join("\n"),
        command_bearing: false,
        started_at,
    })
}
