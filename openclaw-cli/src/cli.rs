//! The command line as clap parses it: raw, only validated; the `cmd` modules turn it into work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::agent_args::AgentArgs;

/// OpenClaw: a personal AI agent in your terminal.
///
/// With no command, opens the interactive chat (TUI) on the in-process agent.
#[derive(Debug, Parser)]
#[command(
    name = "openclaw",
    version,
    propagate_version = true,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub agent: AgentArgs,
}

/// Where a gateway is (for commands that can talk to a running one).
#[derive(Debug, Clone, Default, Args)]
pub struct GatewayTarget {
    /// Gateway WebSocket URL, e.g. ws://127.0.0.1:18789
    #[arg(long, env = "OPENCLAW_GATEWAY_URL", value_name = "URL")]
    pub url: Option<String>,
    /// Gateway auth token.
    #[arg(
        long,
        env = "OPENCLAW_GATEWAY_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

/// `--json` for scripts.
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct JsonFlag {
    /// Print machine-readable JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the interactive chat (in-process agent, or attach to a gateway with --url).
    Tui(TuiArgs),
    /// A plain line-mode chat (REPL) for dumb terminals and pipes.
    Chat(ChatArgs),
    /// List and inspect agents, and edit their configuration.
    #[command(subcommand)]
    Agents(AgentsCmd),
    /// List, show, export, archive and delete stored sessions.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// Models you can use, and whether their credentials are present.
    #[command(subcommand)]
    Models(ModelsCmd),
    /// Read, change and check openclaw.json.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Check that everything needed to run works (local, or a gateway with --url).
    Health(HealthArgs),
    /// A summary of this installation, and whether the configured gateway (or --url) is running.
    Status(HealthArgs),
    /// Open the gateway's Control UI in the browser, signed in (prints the URL too).
    Dashboard {
        /// Print the URL only.
        #[arg(long)]
        no_open: bool,
    },
    /// Run the WebSocket gateway, or query a running one.
    #[command(subcommand)]
    Gateway(GatewayCmd),
    /// Inspect the sandboxes `bash` runs in: list, explain one agent/session, recreate.
    #[command(subcommand)]
    Sandbox(SandboxCmd),
    /// An agent's skills: where they come from, whether they can be used, and why not.
    #[command(subcommand)]
    Skills(SkillsCmd),
    /// MCP servers whose tools the agents get: list, status, probe, add, remove.
    #[command(subcommand)]
    Mcp(crate::mcp_args::McpCmd),
    /// The agents' searchable memory (MEMORY.md, memory/*.md): status, index, search.
    #[command(subcommand)]
    Memory(crate::memory_args::MemoryCmd),
    /// Manage exec approval policy and pending requests.
    #[command(subcommand, alias = "exec-approvals")]
    Approvals(ApprovalsCmd),
    /// Scheduled jobs on the gateway: add, list, edit, run, history.
    #[command(subcommand, alias = "automations")]
    Cron(Box<crate::cron_args::CronCmd>),
    /// Messaging channels (Telegram): status of the gateway's accounts.
    #[command(subcommand)]
    Channels(ChannelsCmd),
    /// DM pairing requests of this machine's channels: list, approve.
    #[command(subcommand)]
    Pairing(PairingCmd),
    /// System events and heartbeats on the gateway.
    #[command(subcommand)]
    System(SystemCmd),
    /// Print the version.
    Version,
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Which sandbox (`--agent`, `--session`).
#[derive(Debug, Clone, Default, Args)]
pub struct SandboxTarget {
    /// Session key (`main`, or a full `agent:<id>:<key>`).
    #[arg(long, value_name = "KEY")]
    pub session: Option<String>,
    /// Agent id (default: the default agent).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCmd {
    /// The sandbox containers (docker/podman) and private workspaces (native).
    List {
        #[command(flatten)]
        json: JsonFlag,
    },
    /// How an agent's (or session's) commands are contained, and whether that works here.
    Explain {
        #[command(flatten)]
        target: SandboxTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove sandbox containers so their next command creates them from the current config.
    Recreate {
        #[command(flatten)]
        target: SandboxTarget,
        /// Every sandbox container.
        #[arg(long)]
        all: bool,
        /// Also running ones.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    #[command(flatten)]
    pub gateway: GatewayTarget,
    /// Session key to chat in when attached to a gateway (`main` → `agent:main:main`).
    #[arg(long, default_value = "main", value_name = "KEY")]
    pub session_key: String,
    #[command(flatten)]
    pub agent: AgentArgs,
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    #[command(flatten)]
    pub agent: AgentArgs,
}

#[derive(Debug, Subcommand)]
pub enum SkillsCmd {
    /// Every skill the agent has, with its status and source.
    List {
        /// Only the skills the agent can use.
        #[arg(long)]
        eligible: bool,
        /// Add what each skill is missing.
        #[arg(long, short)]
        verbose: bool,
        /// The agent (default: the default agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// One skill: status, file, requirements (by name or skill key).
    Info {
        name: String,
        /// The agent (default: the default agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Which skills are ready, hidden, disabled or missing requirements; files that could
    /// not be read.
    Check {
        /// The agent (default: the default agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Every configured agent.
    List(JsonFlag),
    /// One agent: model, workspace, sessions.
    Status {
        id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show an agent's configuration, or get/set one key of it.
    Config {
        id: String,
        #[command(subcommand)]
        action: Option<AgentConfigAction>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentConfigAction {
    /// Print one key (dotted, e.g. `model.primary`).
    Get { key: String },
    /// Set one key; the value is JSON5 (`true`, `3`, `"x"`, `{…}`) or else a plain string.
    Set { key: String, value: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Md,
    Html,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// Stored sessions, newest first.
    List {
        /// Only this agent's sessions.
        #[arg(long)]
        agent: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// The messages of one session (by session key, id, id prefix or file path).
    Show {
        key_or_id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Write a session as JSONL, Markdown or HTML.
    Export {
        key_or_id: String,
        #[arg(long, value_enum, default_value = "md")]
        format: ExportFormat,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Move sessions not touched for a while into `sessions/archive/`.
    Archive {
        /// Age, e.g. `7d`, `12h`, `30m`.
        #[arg(long, value_name = "AGE")]
        older_than: String,
        /// Only this agent's sessions.
        #[arg(long)]
        agent: Option<String>,
        /// Show what would move without moving it.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Delete a session file and its session-store entry.
    Delete {
        key_or_id: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelsCmd {
    /// Known models with their availability.
    List {
        /// Only this provider's models.
        #[arg(long)]
        provider: Option<String>,
        /// Only models whose credentials are present.
        #[arg(long)]
        available: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the configuration, or one dotted key of it (secrets redacted).
    Get {
        key: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Set a dotted key; the value is JSON5 or else a plain string.
    Set { key: String, value: String },
    /// Check that openclaw.json parses and its known sections are well-formed.
    Validate(JsonFlag),
    /// Print the path of the configuration file.
    Path,
}

#[derive(Debug, Subcommand)]
pub enum GatewayCmd {
    /// Serve the gateway in the foreground.
    Run(crate::cmd::gateway::serve::RunArgs),
    /// Is a gateway up? (connects and calls `health`)
    Status {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Call one gateway method and print its result as JSON.
    Call {
        /// Method name, e.g. `health`, `status`, `sessions.list`.
        method: String,
        /// Parameters as a JSON (or JSON5) object.
        #[arg(long, value_name = "JSON")]
        params: Option<String>,
        /// Wait for the final answer of a method that answers twice (`agent`: `accepted`, then
        /// the result), as OpenClaw's CLI does.
        #[arg(long)]
        expect_final: bool,
        /// How long to wait for the answer, in milliseconds (OpenClaw's default: 10000; with
        /// --expect-final no limit unless given).
        #[arg(long, value_name = "MS")]
        timeout: Option<u64>,
        /// Accepted for OpenClaw's CLI compatibility: the result is always printed as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        gateway: GatewayTarget,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelsCmd {
    /// The configured channel accounts (read from openclaw.json; no gateway needed).
    List {
        /// Also list the channels this build has that have no account yet.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Add (or update) a channel account in openclaw.json; a running gateway picks it up.
    Add(ChannelAccountArgs),
    /// Disable a channel account (`--delete`: remove its config entries).
    Remove {
        #[command(flatten)]
        target: ChannelSelect,
        /// Delete the config entries instead of disabling the account.
        #[arg(long)]
        delete: bool,
    },
    /// Link a channel account (not supported by Telegram: a bot token is added with `add`).
    Login {
        #[command(flatten)]
        target: ChannelSelect,
        /// Verbose connection logs.
        #[arg(long)]
        verbose: bool,
    },
    /// Log out of a channel account (Telegram: clears the account's botToken from openclaw.json).
    Logout {
        #[command(flatten)]
        target: ChannelSelect,
    },
    /// The gateway's channel accounts: running, connected, last inbound, last error.
    Status {
        /// Only this channel.
        #[arg(long, value_name = "NAME")]
        channel: Option<String>,
        /// Probe timeout in milliseconds.
        #[arg(long, value_name = "MS", default_value_t = 60_000)]
        timeout: u64,
        /// Check each account's credentials against the platform too.
        #[arg(long)]
        probe: bool,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
}

/// Which channel account a `channels` subcommand works on.
#[derive(Debug, Clone, Args)]
pub struct ChannelSelect {
    /// The channel (e.g. telegram); inferred when only one is configured.
    #[arg(value_name = "CHANNEL")]
    pub positional: Option<String>,
    /// The channel (e.g. telegram).
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
    /// The account id (the default account when omitted; a blank value is refused).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Agent owner for channel discovery (accepted for OpenClaw's CLI; one workspace here).
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
}

/// `openclaw channels add`: the shared envelope plus Telegram's setup flags.
#[derive(Debug, Clone, Args)]
pub struct ChannelAccountArgs {
    #[command(flatten)]
    pub target: ChannelSelect,
    /// Display name for this account.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The bot token (Telegram: from @BotFather).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// A file holding the bot token.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<String>,
    /// Use the token from the environment (TELEGRAM_BOT_TOKEN; default account only).
    #[arg(long)]
    pub use_env: bool,
    /// Webhook mode: the public HTTPS URL Telegram posts updates to.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// Webhook mode: the secret Telegram sends in X-Telegram-Bot-Api-Secret-Token.
    #[arg(long, value_name = "SECRET")]
    pub webhook_secret: Option<String>,
    /// Webhook mode: the local path the gateway serves the webhook on.
    #[arg(long, value_name = "PATH")]
    pub webhook_path: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PairingCmd {
    /// Pending pairing requests (read from this machine's state, as OpenClaw's CLI does).
    List {
        /// Only this channel (e.g. telegram).
        channel: Option<String>,
        /// Only this account.
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Approve a pairing code: its sender may DM the bot (DM access only).
    Approve {
        /// The channel (e.g. telegram).
        channel: String,
        /// The code the bot sent.
        code: String,
        /// Only a request of this account.
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// Tell the sender they were approved.
        #[arg(long)]
        notify: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCmd {
    /// List pending approvals (on the gateway).
    Pending {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Resolve a pending approval: allow-once, allow-always or deny.
    Resolve {
        id: String,
        decision: String,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Show the exec approvals document (this machine's, or the gateway's with --gateway).
    Get {
        #[command(flatten)]
        gateway: GatewayTarget,
        /// Ask the gateway instead of reading this machine's file.
        #[arg(long = "gateway")]
        remote: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Replace the exec approvals document with a JSON file.
    Set {
        /// The JSON (or JSON5) document.
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// Read the document from standard input.
        #[arg(long)]
        stdin: bool,
        #[command(flatten)]
        gateway: GatewayTarget,
        /// Write the gateway's document instead of this machine's file.
        #[arg(long = "gateway")]
        remote: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Edit an agent's allowlist.
    #[command(subcommand)]
    Allowlist(AllowlistCmd),
}

#[derive(Debug, Subcommand)]
pub enum AllowlistCmd {
    /// Add a glob pattern (on the resolved executable, or a bare command name).
    Add {
        pattern: String,
        /// Agent id (`*` for every agent).
        #[arg(long, default_value = "main")]
        agent: String,
        /// A regex the arguments (joined by spaces) must match.
        #[arg(long, value_name = "REGEX")]
        arg_pattern: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Remove a pattern.
    Remove {
        pattern: String,
        /// Agent id (`*` for every agent).
        #[arg(long, default_value = "main")]
        agent: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub gateway: GatewayTarget,
    #[command(flatten)]
    pub json: JsonFlag,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    #[test]
    fn command_line_is_consistent_and_parses() {
        Cli::command().debug_assert();
        let cli = Cli::parse_from([
            "openclaw",
            "sessions",
            "archive",
            "--older-than",
            "7d",
            "--json",
        ]);
        assert!(matches!(
            cli.command,
            Some(Command::Sessions(SessionsCmd::Archive {
                dry_run: false,
                ..
            }))
        ));
        let cli = Cli::parse_from([
            "openclaw",
            "tui",
            "--url",
            "ws://x",
            "--session-key",
            "work",
        ]);
        match cli.command {
            Some(Command::Tui(t)) => assert_eq!(t.session_key, "work"),
            other => panic!("{other:?}"),
        }
        assert!(Cli::try_parse_from(["openclaw", "models", "list", "--bogus"]).is_err());
    }
}

/// `--mode` of `system event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WakeModeArg {
    Now,
    NextHeartbeat,
}

impl WakeModeArg {
    pub fn as_str(self) -> &'static str {
        match self {
            WakeModeArg::Now => "now",
            WakeModeArg::NextHeartbeat => "next-heartbeat",
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SystemCmd {
    /// Queue a system event for the agent's main session (the `wake` method).
    Event {
        /// The event text the agent sees as `System: [time] <text>`.
        #[arg(long)]
        text: String,
        /// Run a heartbeat at once, or let the event wait for the next one.
        #[arg(long, value_enum, default_value = "next-heartbeat")]
        mode: WakeModeArg,
        /// Agent id (default: the default agent).
        #[arg(long, value_name = "ID")]
        agent: Option<String>,
        /// Session key naming the agent (`agent:<id>:…`).
        #[arg(long, value_name = "KEY")]
        session_key: Option<String>,
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Heartbeat controls.
    #[command(subcommand)]
    Heartbeat(HeartbeatCmd),
}

#[derive(Debug, Subcommand)]
pub enum HeartbeatCmd {
    /// The last heartbeat event (JSON, or null).
    Last {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Turn heartbeats on (until the gateway restarts).
    Enable {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Turn heartbeats off (until the gateway restarts).
    Disable {
        #[command(flatten)]
        gateway: GatewayTarget,
        #[command(flatten)]
        json: JsonFlag,
    },
}
