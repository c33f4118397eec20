//! `openclaw chat`: a line-mode REPL on the in-process engine (rustyline). Answers stream as
//! they arrive, tool calls show as one line each, Ctrl+C aborts the answer, Ctrl+D leaves.
//! When stdin is not a terminal, every input line is one prompt (for pipes).

use std::io::{IsTerminal, Write};

use openclaw_core::AgentEvent;
use openclaw_core::AssistantMessageEvent;
use openclaw_core::config;
use openclaw_core::message::StopReason;
use openclaw_tui::transcript::call_summary;
use openclaw_tui::{BackendEvent, ChatBackend};
use rustyline::error::ReadlineError;
use tokio::sync::mpsc::UnboundedReceiver;

use super::runtime;
use super::tui::start_engine;
use crate::agent_args::AgentArgs;
use crate::error::{CliError, CliResult};
use crate::in_process::InProcessBackend;

const HELP: &str = "commands: /model [provider/id]  /thinking <level>  /new  /resume [n]  /name <name>  /help  /quit";

struct Printer {
    color: bool,
    in_text: bool,
    in_thinking: bool,
}

impl Printer {
    fn dim(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[2m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn newline_if_needed(&mut self, out: &mut impl Write) {
        if self.in_text || self.in_thinking {
            let _ = writeln!(out);
            self.in_text = false;
            self.in_thinking = false;
        }
    }

    /// Prints one event; returns true when the run is over.
    fn event(&mut self, ev: &AgentEvent) -> bool {
        let mut out = std::io::stdout().lock();
        match ev {
            AgentEvent::MessageUpdate {
                assistant_message_event,
                ..
            } => match assistant_message_event {
                AssistantMessageEvent::TextDelta { delta, .. } => {
                    if self.in_thinking {
                        let _ = writeln!(out);
                        self.in_thinking = false;
                    }
                    self.in_text = true;
                    let _ = write!(out, "{delta}");
                }
                AssistantMessageEvent::ThinkingDelta { delta, .. } => {
                    self.in_thinking = true;
                    let _ = write!(out, "{}", self.dim(delta));
                }
                _ => {}
            },
            AgentEvent::MessageEnd { message } => {
                if let Some(a) = message.as_assistant() {
                    self.newline_if_needed(&mut out);
                    match a.stop_reason {
                        StopReason::Error => {
                            let _ = writeln!(
                                out,
                                "error: {}",
                                a.error_message
                                    .as_deref()
                                    .unwrap_or("the model returned an error")
                            );
                        }
                        StopReason::Aborted => {
                            let _ = writeln!(out, "{}", self.dim("(aborted)"));
                        }
                        _ => {}
                    }
                }
            }
            AgentEvent::ToolExecutionStart {
                tool_name, args, ..
            } => {
                self.newline_if_needed(&mut out);
                let _ = writeln!(
                    out,
                    "{}",
                    self.dim(&format!("⚙ {}", call_summary(tool_name, args)))
                );
            }
            AgentEvent::ToolExecutionEnd {
                result, is_error, ..
            } => {
                let text: String = result.content.iter().filter_map(|b| b.as_text()).collect();
                let lines = text.lines().count();
                let first = text.lines().next().unwrap_or("");
                let line = if *is_error {
                    format!("  ✗ {first}")
                } else {
                    format!("  ✓ {lines} line{}", if lines == 1 { "" } else { "s" })
                };
                let _ = writeln!(out, "{}", self.dim(&line));
            }
            AgentEvent::AutoRetryStart {
                attempt,
                max_attempts,
                error_message,
                ..
            } => {
                self.newline_if_needed(&mut out);
                let _ = writeln!(
                    out,
                    "{}",
                    self.dim(&format!(
                        "{error_message} — retrying ({attempt}/{max_attempts})"
                    ))
                );
            }
            AgentEvent::AgentEnd { .. } => {
                self.newline_if_needed(&mut out);
                return true;
            }
            _ => {}
        }
        let _ = out.flush();
        false
    }
}

async fn wait_for_end(
    events: &mut UnboundedReceiver<BackendEvent>,
    printer: &mut Printer,
    backend: &InProcessBackend,
) {
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Some(BackendEvent::Agent(e)) => {
                    if printer.event(&e) {
                        return;
                    }
                }
                Some(_) => {}
                None => return,
            },
            _ = tokio::signal::ctrl_c() => {
                let _ = backend.abort().await;
            }
        }
    }
}

async fn slash(
    backend: &InProcessBackend,
    line: &str,
    sessions: &mut Vec<String>,
) -> Result<bool, String> {
    let (cmd, arg) = line
        .split_once(' ')
        .map(|(c, a)| (c, a.trim()))
        .unwrap_or((line, ""));
    let e = |e: openclaw_tui::BackendError| e.to_string();
    match cmd {
        "/quit" | "/exit" => return Ok(true),
        "/help" => crate::out!("{HELP}"),
        "/model" if arg.is_empty() => {
            let current = backend
                .state()
                .await
                .map_err(e)?
                .model
                .map(|m| format!("{}/{}", m.provider, m.id));
            for m in backend.models().await.map_err(e)? {
                let key = format!("{}/{}", m.provider, m.id);
                let mark = if Some(&key) == current.as_ref() {
                    "*"
                } else {
                    " "
                };
                crate::out!("{mark} {key}");
            }
        }
        "/model" => {
            let (p, id) = arg.split_once('/').ok_or("usage: /model provider/id")?;
            backend.set_model(p, id).await.map_err(e)?;
            crate::out!("model: {arg}");
        }
        "/thinking" => {
            let level = arg.parse().map_err(|m: String| m)?;
            backend.set_thinking(level).await.map_err(e)?;
            crate::out!("thinking: {level}");
        }
        "/new" => {
            backend.new_session().await.map_err(e)?;
            crate::out!("new session");
        }
        "/name" => {
            backend.set_session_name(arg).await.map_err(e)?;
        }
        "/resume" if arg.is_empty() => {
            let list = backend.sessions().await.map_err(e)?;
            *sessions = list.iter().map(|s| s.id.clone()).collect();
            if list.is_empty() {
                crate::out!("no stored sessions here");
            }
            for (i, s) in list.iter().enumerate().take(20) {
                let title = s
                    .name
                    .clone()
                    .unwrap_or_else(|| crate::output::one_line(&s.preview, 60));
                crate::out!("{:>3}  {}  {title}", i + 1, s.modified);
            }
            if !list.is_empty() {
                crate::out!("resume one with /resume <n>");
            }
        }
        "/resume" => {
            let n: usize = arg
                .parse()
                .map_err(|_| "usage: /resume <n> (see /resume)")?;
            let id = sessions
                .get(n.wrapping_sub(1))
                .ok_or("no such session; list them with /resume")?;
            backend.switch_session(id).await.map_err(e)?;
            let count = backend.messages().await.map_err(e)?.len();
            crate::out!("resumed ({count} messages)");
        }
        other => return Err(format!("unknown command {other}; {HELP}")),
    }
    Ok(false)
}

/// `/skill:name …` or `/template …` of the session's skills and prompt templates: sent to the
/// engine, which expands it.
async fn is_extra_command(backend: &InProcessBackend, line: &str) -> bool {
    let word = line[1..].split_whitespace().next().unwrap_or_default();
    backend
        .extra_commands()
        .await
        .is_ok_and(|list| list.iter().any(|c| c.name == word))
}

/// One line of input: a slash command, or a message to send. True when the user asked to leave.
async fn handle_line(
    backend: &InProcessBackend,
    events: &mut UnboundedReceiver<BackendEvent>,
    printer: &mut Printer,
    sessions: &mut Vec<String>,
    line: String,
) -> bool {
    if line.starts_with('/') && !is_extra_command(backend, &line).await {
        return match slash(backend, &line, sessions).await {
            Ok(quit) => quit,
            Err(m) => {
                eprintln!("error: {m}");
                false
            }
        };
    }
    send(backend, events, printer, line).await;
    false
}

async fn send(
    backend: &InProcessBackend,
    events: &mut UnboundedReceiver<BackendEvent>,
    printer: &mut Printer,
    text: String,
) {
    match backend.prompt(text).await {
        Ok(()) => wait_for_end(events, printer, backend).await,
        Err(err) => eprintln!("error: {err}"),
    }
}

pub fn run(agent: AgentArgs) -> CliResult {
    let rt = runtime()?;
    rt.block_on(async move {
        let backend = start_engine(&agent, false).await?;
        for w in backend.warnings() {
            eprintln!("warning: {w}");
        }
        let mut events = backend.subscribe();
        let mut printer = Printer { color: std::io::stdout().is_terminal(), in_text: false, in_thinking: false };
        let mut sessions = Vec::new();
        if !std::io::stdin().is_terminal() {
            let lines = tokio::task::spawn_blocking(|| std::io::stdin().lines().map_while(Result::ok).collect::<Vec<_>>())
                .await
                .map_err(|e| CliError::failure(e.to_string()))?;
            for line in lines {
                let line = line.trim().to_string();
                if line.is_empty() {
                    continue;
                }
                if handle_line(&backend, &mut events, &mut printer, &mut sessions, line).await {
                    break;
                }
            }
            return Ok(());
        }
        let mut rl = rustyline::DefaultEditor::new().map_err(|e| CliError::failure(format!("cannot start line editing: {e}")))?;
        let history = config::state_dir().join("chat-history.txt");
        let _ = rl.load_history(&history);
        if let Ok(s) = backend.state().await {
            let model = s.model.map(|m| format!("{}/{}", m.provider, m.id)).unwrap_or_else(|| "no model".into());
            crate::out!("openclaw chat · {model} · /help for commands · ctrl+c aborts an answer · ctrl+d leaves");
        }
        loop {
            let (back, line) = tokio::task::spawn_blocking(move || {
                let r = rl.readline("› ");
                (rl, r)
            })
            .await
            .map_err(|e| CliError::failure(e.to_string()))?;
            rl = back;
            let line = match line {
                Ok(l) => l,
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(CliError::failure(format!("cannot read input: {e}"))),
            };
            let line = line.trim().to_string();
            if line.is_empty() {
                continue;
            }
            let _ = rl.add_history_entry(line.as_str());
            if handle_line(&backend, &mut events, &mut printer, &mut sessions, line).await {
                break;
            }
        }
        if let Some(dir) = history.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = rl.save_history(&history);
        Ok(())
    })
}
