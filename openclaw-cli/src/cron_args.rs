//! `openclaw cron` (alias `automations`): the subcommands and OpenClaw's flags.

use clap::{Args, Subcommand};

use crate::cli::{GatewayTarget, JsonFlag};

#[derive(Debug, Subcommand)]
pub enum CronCmd {
    /// Add a job.
    #[command(alias = "create")]
    Add {
        #[command(flatten)]
        job: CronJobArgs,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List jobs (enabled ones unless --all).
    List {
        /// Include disabled jobs.
        #[arg(long)]
        all: bool,
        /// Only this agent's jobs.
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show one job as JSON.
    #[command(alias = "show")]
    Get {
        id: String,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Change a job (only the flags given).
    Edit {
        id: String,
        #[command(flatten)]
        job: CronJobArgs,
        /// Run on the default agent.
        #[arg(long)]
        clear_agent: bool,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a job.
    #[command(alias = "remove")]
    Rm {
        id: String,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Run a job now (or only if due, with --due).
    Run {
        id: String,
        /// Run only if the job is due.
        #[arg(long)]
        due: bool,
        /// Wait for the run to finish.
        #[arg(long)]
        wait: bool,
        /// How long --wait waits (e.g. 10m).
        #[arg(long, value_name = "DURATION", default_value = "10m")]
        wait_timeout: String,
        /// How often --wait looks (e.g. 2s).
        #[arg(long, value_name = "DURATION", default_value = "2s")]
        poll_interval: String,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// A job's run history, newest first.
    Runs {
        id: String,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long, default_value_t = 0)]
        offset: u64,
        /// ok, error or skipped.
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        delivery_status: Option<String>,
        /// Text to look for in the entries.
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        run_id: Option<String>,
        /// asc or desc.
        #[arg(long, default_value = "desc")]
        sort: String,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The scheduler's state.
    Status {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Every job's definition as OpenClaw's cron/jobs.json (to keep them in git).
    Export {
        /// Write to this file (atomically) instead of standard output.
        #[arg(long, short, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        gateway: GatewayTarget,
    },
}

/// The flags that describe a job (all optional: `add` checks what it needs).
#[derive(Debug, Clone, Default, Args)]
pub struct CronJobArgs {
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Once: an ISO time or a duration from now (20m).
    #[arg(long, group = "when")]
    pub at: Option<String>,
    /// Every duration (10m, 1h).
    #[arg(long, group = "when")]
    pub every: Option<String>,
    /// A cron expression (5 or 6 fields).
    #[arg(long = "cron", group = "when", value_name = "EXPR")]
    pub cron_expr: Option<String>,
    /// IANA time zone of --cron (and of an offset-less --at).
    #[arg(long)]
    pub tz: Option<String>,
    /// No stagger: run on the slot.
    #[arg(long)]
    pub exact: bool,
    /// Stagger window (30s, 5m).
    #[arg(long)]
    pub stagger: Option<String>,
    /// main, isolated, current or session:<key>.
    #[arg(long)]
    pub session: Option<String>,
    /// A system event on the main session.
    #[arg(long, group = "what")]
    pub system_event: Option<String>,
    /// An agent turn with this message.
    #[arg(long, group = "what")]
    pub message: Option<String>,
    /// now or next-heartbeat.
    #[arg(long)]
    pub wake: Option<String>,
    #[arg(long)]
    pub announce: bool,
    #[arg(long)]
    pub channel: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub thread_id: Option<String>,
    #[arg(long)]
    pub no_deliver: bool,
    #[arg(long, value_name = "URL")]
    pub webhook: Option<String>,
    #[arg(long)]
    pub best_effort_deliver: bool,
    #[arg(long, conflicts_with = "keep_after_run")]
    pub delete_after_run: bool,
    #[arg(long)]
    pub keep_after_run: bool,
    #[arg(long)]
    pub model: Option<String>,
    /// Comma-separated fallback models.
    #[arg(long)]
    pub fallbacks: Option<String>,
    #[arg(long)]
    pub thinking: Option<String>,
    #[arg(long)]
    pub light_context: bool,
    /// Comma-separated tool names.
    #[arg(long)]
    pub tools: Option<String>,
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    #[arg(long)]
    pub timeout_seconds: Option<u64>,
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    #[arg(long)]
    pub disable: bool,
}
