//! The terminal loop: raw mode and the alternate screen, input on a reader thread, backend
//! events and command replies on channels, a redraw after anything changes.

use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    KeyboardEnhancementFlags, MouseEventKind, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::{Action, App, AppOptions, Reply};
use crate::backend::{BackendError, ChatBackend};
use crate::ui::draw;

/// Why the TUI could not run.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error(
        "terminal error: {0} (is this an interactive terminal? try `openclaw chat` for a line-mode REPL)"
    )]
    Terminal(#[from] io::Error),
    /// The backend could not be started; the payload is the caller's error.
    #[error("{0}")]
    Backend(String),
}

/// A backend still being started (the first frame is drawn before it is awaited).
pub type PendingBackend = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Arc<dyn ChatBackend>, String>> + Send>,
>;

fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        PopKeyboardEnhancementFlags,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen
    );
    let _ = disable_raw_mode();
}

/// Runs the chat screen against `backend` until the user quits.
pub async fn run(backend: Arc<dyn ChatBackend>, options: AppOptions) -> Result<(), TuiError> {
    run_connecting(Box::pin(async move { Ok(backend) }), options).await
}

/// Like [`run`], but draws the first frame before awaiting `backend`, so startup work (engine
/// start, gateway handshake) does not delay the screen. A backend error ends the TUI with
/// [`TuiError::Backend`].
pub async fn run_connecting(backend: PendingBackend, options: AppOptions) -> Result<(), TuiError> {
    enable_raw_mode()?;
    let mut out = io::stdout();
    if let Err(e) = execute!(
        out,
        EnterAlternateScreen,
        EnableBracketedPaste,
        EnableMouseCapture,
        PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
    ) {
        restore();
        return Err(e.into());
    }
    let prev_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev_hook(info);
    }));
    let result = event_loop(backend, options).await;
    restore();
    result
}

async fn event_loop(backend: PendingBackend, options: AppOptions) -> Result<(), TuiError> {
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let initial_prompt = options.initial_prompt.clone();
    let mut app = App::new(options);
    terminal.draw(|f| draw(f, &mut app))?;
    let backend = backend.await.map_err(TuiError::Backend)?;

    let (input_tx, mut input_rx) = mpsc::unbounded_channel::<Event>();
    std::thread::spawn(move || {
        while let Ok(ev) = crossterm::event::read() {
            if input_tx.send(ev).is_err() {
                break;
            }
        }
    });
    let mut events = backend.subscribe();
    let (reply_tx, mut reply_rx) = mpsc::unbounded_channel::<Reply>();
    {
        let b = backend.clone();
        let tx = reply_tx.clone();
        tokio::spawn(async move {
            match b.state().await {
                Ok(s) => {
                    let _ = tx.send(Reply::State(s));
                }
                Err(e) => {
                    let _ = tx.send(Reply::Failed(e.to_string()));
                }
            }
            if let Ok(m) = b.messages().await {
                if !m.is_empty() {
                    let _ = tx.send(Reply::Reset(m));
                }
            }
            if let Ok(c) = b.extra_commands().await {
                if !c.is_empty() {
                    let _ = tx.send(Reply::ExtraCommands(c));
                }
            }
        });
    }
    if let Some(text) = initial_prompt {
        perform(&backend, Action::Prompt(text), &reply_tx);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            ev = input_rx.recv() => {
                let Some(ev) = ev else { break };
                let actions = match ev {
                    Event::Key(k) => app.on_key(k),
                    Event::Paste(s) => { app.on_paste(&s); Vec::new() }
                    Event::Mouse(m) => {
                        match m.kind {
                            MouseEventKind::ScrollUp => app.on_scroll(3),
                            MouseEventKind::ScrollDown => app.on_scroll(-3),
                            _ => continue,
                        }
                        Vec::new()
                    }
                    Event::Resize(_, _) => Vec::new(),
                    _ => continue,
                };
                for a in actions {
                    if a == Action::Quit {
                        return Ok(());
                    }
                    perform(&backend, a, &reply_tx);
                }
            }
            ev = events.recv() => {
                let Some(ev) = ev else {
                    app.on_reply(Reply::Failed("the engine stopped".into()));
                    events = mpsc::unbounded_channel().1;
                    continue;
                };
                app.on_backend(ev);
                // Drain what is already queued so fast streams cost one frame.
                while let Ok(ev) = events.try_recv() {
                    app.on_backend(ev);
                }
            }
            r = reply_rx.recv() => {
                if let Some(r) = r { app.on_reply(r); }
            }
            _ = tick.tick() => {
                app.on_tick();
                if !app.is_streaming() { continue; }
            }
        }
        if app.should_quit() {
            return Ok(());
        }
        terminal.draw(|f| draw(f, &mut app))?;
    }
    Ok(())
}

fn osc52(text: &str) {
    use base64::Engine;
    let mut out = io::stdout();
    let _ = write!(
        out,
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    );
    let _ = out.flush();
}

fn perform(backend: &Arc<dyn ChatBackend>, action: Action, tx: &mpsc::UnboundedSender<Reply>) {
    if let Action::Copy(text) = &action {
        osc52(text);
        return;
    }
    let b = backend.clone();
    let tx = tx.clone();
    tokio::spawn(async move {
        let prompt_text = match &action {
            Action::Prompt(t) => Some(t.clone()),
            _ => None,
        };
        match execute_action(&*b, action).await {
            Ok(replies) => {
                for r in replies {
                    let _ = tx.send(r);
                }
            }
            Err(e) => {
                let _ = tx.send(Reply::Failed(e.to_string()));
                if let Some(t) = prompt_text {
                    let _ = tx.send(Reply::Restore(t));
                }
            }
        }
    });
}

async fn reset_replies(b: &dyn ChatBackend) -> Result<Vec<Reply>, BackendError> {
    Ok(vec![
        Reply::Reset(b.messages().await?),
        Reply::State(b.state().await?),
    ])
}

/// Carries out one action against the backend (public for tests and other front ends).
pub async fn execute_action(
    b: &dyn ChatBackend,
    action: Action,
) -> Result<Vec<Reply>, BackendError> {
    Ok(match action {
        Action::Prompt(t) => {
            b.prompt(t).await?;
            vec![]
        }
        Action::Steer(t) => {
            b.steer(t).await?;
            vec![]
        }
        Action::FollowUp(t) => {
            b.follow_up(t).await?;
            vec![]
        }
        Action::Abort => {
            b.abort().await?;
            vec![]
        }
        Action::ResolveApproval { id, decision } => {
            b.resolve_approval(&id, decision).await?;
            vec![]
        }
        Action::LoadModels => vec![Reply::Models(b.models().await?)],
        Action::SetModel { provider, id } => {
            b.set_model(&provider, &id).await?;
            vec![
                Reply::State(b.state().await?),
                Reply::Done(Some(format!("Model: {provider}/{id}"))),
            ]
        }
        Action::SetThinking(level) => {
            b.set_thinking(level).await?;
            vec![
                Reply::State(b.state().await?),
                Reply::Done(Some(format!("Thinking level: {level}"))),
            ]
        }
        Action::NewSession => {
            b.new_session().await?;
            let mut r = reset_replies(b).await?;
            r.push(Reply::Done(Some("New session.".into())));
            r
        }
        Action::LoadSessions => vec![Reply::Sessions(b.sessions().await?)],
        Action::SwitchSession(id) => {
            b.switch_session(&id).await?;
            reset_replies(b).await?
        }
        Action::LoadForkPoints { for_tree } => vec![Reply::ForkPoints {
            points: b.fork_points().await?,
            for_tree,
        }],
        Action::Fork(id) => {
            let text = b.fork(&id).await?;
            let mut r = reset_replies(b).await?;
            r.push(Reply::Forked(text));
            r
        }
        Action::Branch(id) => {
            b.branch(&id).await?;
            reset_replies(b).await?
        }
        Action::Compact => {
            b.compact().await?;
            reset_replies(b).await?
        }
        Action::SetName(name) => {
            b.set_session_name(&name).await?;
            vec![
                Reply::State(b.state().await?),
                Reply::Done(Some(format!("Session named “{name}”."))),
            ]
        }
        Action::Export(path) => vec![Reply::Exported(b.export_html(path.as_deref()).await?)],
        Action::RefreshState => vec![Reply::State(b.state().await?)],
        Action::Copy(_) | Action::Quit => vec![],
    })
}
