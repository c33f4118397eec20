//! The client side of one MCP connection: rmcp's `ClientHandler` with our client info, the
//! server's progress notifications routed to the call that is waiting for them, and its
//! "tool list changed" noted so the next listing asks again; and `tools/list` itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rmcp::ClientHandler;
use rmcp::model::{ClientInfo, ProgressNotificationParam, ProgressToken};
use rmcp::service::{NotificationContext, RoleClient, RunningService};
use serde_json::Value;

use crate::server::ListedTool;

/// Where a call's progress notifications go (one line of text each).
pub type ProgressSink = Arc<dyn Fn(String) + Send + Sync>;

/// The client side of a connection: our info for initialize, progress notifications routed to
/// the call that asked for them, and the server's "tool list changed" noted for the next
/// listing.
#[derive(Clone)]
pub(crate) struct Handler {
    pub info: ClientInfo,
    pub progress: Arc<std::sync::Mutex<HashMap<ProgressToken, ProgressSink>>>,
    pub tools_changed: Arc<AtomicBool>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientInfo {
        self.info.clone()
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let sink = openclaw_core::sync::lock(&self.progress)
            .get(&params.progress_token)
            .cloned();
        if let Some(sink) = sink {
            let amount = match params.total {
                Some(t) => format!("{}/{}", params.progress, t),
                None => params.progress.to_string(),
            };
            sink(match params.message {
                Some(m) => format!("progress {amount}: {m}"),
                None => format!("progress {amount}"),
            });
        }
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tools_changed.store(true, Ordering::SeqCst);
    }
}

/// Removes a call's progress route when the call ends, however it ends.
pub(crate) struct ProgressRoute<'a> {
    pub map: &'a std::sync::Mutex<HashMap<ProgressToken, ProgressSink>>,
    pub token: ProgressToken,
}

impl Drop for ProgressRoute<'_> {
    fn drop(&mut self) {
        openclaw_core::sync::lock(self.map).remove(&self.token);
    }
}

/// `tools/list`, every page.
pub(crate) async fn list_tools(
    service: &RunningService<RoleClient, Handler>,
) -> Result<Vec<ListedTool>, String> {
    let listed = service
        .peer()
        .list_all_tools()
        .await
        .map_err(|e| format!("tools/list failed: {e}"))?;
    Ok(listed
        .into_iter()
        .map(|t| ListedTool {
            name: t.name.to_string(),
            title: t.title.clone(),
            description: t.description.as_ref().map(|d| d.to_string()),
            input_schema: Value::Object((*t.input_schema).clone()),
        })
        .collect())
}
