//! `exec.approvals.get` / `exec.approvals.set`: the host approvals document
//! (`<stateDir>/exec-approvals.json`) with its hash, the socket token redacted on the way out
//! and kept on the way in, and `baseHash` guarding against overwriting someone else's change.

use std::path::Path;

use openclaw_core::exec_policy::document::{self, ApprovalsFile, PolicyDefaults};
use openclaw_core::exec_policy::{Ask, Security};
use openclaw_core::protocol::ErrorShape;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The answer of both methods.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DocumentSnapshot {
    pub path: String,
    pub exists: bool,
    pub hash: String,
    pub file: ApprovalsFile,
    pub resolved_defaults: ResolvedDefaults,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResolvedDefaults {
    pub security: Security,
    pub ask: Ask,
    pub ask_fallback: Security,
    pub auto_allow_skills: bool,
}

/// `exec.approvals.set` params.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct SetParams {
    pub file: ApprovalsFile,
    pub base_hash: Option<String>,
}

fn hash_of(text: Option<&str>) -> String {
    hex::encode(Sha256::digest(text.unwrap_or("").as_bytes()))
}

fn unreadable(e: document::DocumentError) -> ErrorShape {
    ErrorShape::unavailable(e.to_string())
}

/// Reads the document (an unreadable one is an error, never an empty document).
pub(crate) fn get(state_dir: &Path) -> Result<DocumentSnapshot, ErrorShape> {
    let path = document::path_in(state_dir);
    let text = document::read_text(&path).map_err(unreadable)?;
    let file = match &text {
        Some(t) => ApprovalsFile::parse(t, &path).map_err(unreadable)?,
        None => ApprovalsFile::default(),
    };
    Ok(snapshot(&path, text.as_deref(), file))
}

fn snapshot(path: &Path, text: Option<&str>, mut file: ApprovalsFile) -> DocumentSnapshot {
    if let Some(s) = &mut file.socket {
        s.token = None;
    }
    let d = file.defaults.clone().unwrap_or_default();
    DocumentSnapshot {
        path: path.to_string_lossy().into_owned(),
        exists: text.is_some(),
        hash: hash_of(text),
        resolved_defaults: resolved(&d),
        file,
    }
}

/// The document's defaults over OpenClaw's host defaults.
fn resolved(d: &PolicyDefaults) -> ResolvedDefaults {
    ResolvedDefaults {
        security: d.security.unwrap_or(Security::Full),
        ask: d.ask.unwrap_or(Ask::Off),
        ask_fallback: d.ask_fallback.unwrap_or(Security::Deny),
        auto_allow_skills: d.auto_allow_skills.unwrap_or(false),
    }
}

/// Replaces the document; `baseHash` must match once one exists.
pub(crate) fn set(state_dir: &Path, p: SetParams) -> Result<DocumentSnapshot, ErrorShape> {
    // Under the document's write lock: the gates' allow-always and last-used writes wait.
    document::with_write_lock(|| set_locked(state_dir, p))
}

fn set_locked(state_dir: &Path, p: SetParams) -> Result<DocumentSnapshot, ErrorShape> {
    let path = document::path_in(state_dir);
    let current = document::read_text(&path).map_err(unreadable)?;
    if let Some(text) = &current {
        if p.base_hash.as_deref() != Some(hash_of(Some(text)).as_str()) {
            return Err(ErrorShape::invalid_request(
                "exec approvals changed since last load; re-run exec.approvals.get and retry",
            ));
        }
    }
    let mut file = p.file;
    if file.version != 1 {
        return Err(ErrorShape::invalid_request(format!(
            "invalid exec approvals file: version {} is not supported (only 1)",
            file.version
        )));
    }
    // The token is redacted by `get`: a file sent back without one keeps the stored one.
    let old = current
        .as_deref()
        .and_then(|t| ApprovalsFile::parse(t, &path).ok());
    if let (Some(new), Some(old)) = (
        file.socket.as_mut(),
        old.as_ref().and_then(|o| o.socket.as_ref()),
    ) {
        if new.token.is_none() {
            new.token = old.token.clone();
        }
    }
    file.save(&path).map_err(unreadable)?;
    let text = file.to_text();
    Ok(snapshot(&path, Some(&text), file))
}
