//! The agent loop: turns, tool batches, steering and follow-up queues, abort and retry.
//!
//! An [`Agent`] owns the conversation state (system prompt, model, thinking level, tools and the
//! context messages), the steering and follow-up queues and an event bus. [`Agent::prompt`]
//! runs one whole *run* in pi's shape:
//!
//! ```text
//! agent_start, turn_start, prompt message(s) start/end,
//! per turn: [queue_update + injected steering/follow-up user messages]
//!           assistant message_start, message_update…, message_end
//!           tool_execution_start… (update/end in completion order), toolResult messages in call order
//!           turn_end {message, toolResults}
//! agent_end {messages added during the run}
//! ```
//!
//! followed, when the last assistant message failed with a retryable error and retries are
//! enabled, by pi's auto-retry (`auto_retry_start`, a sleep, another run without a new user
//! message, `auto_retry_end`).
//!
//! **State and who mutates it.** The run reads the model, system prompt, tools and thinking
//! level afresh for every model call; it works on its own copy of the context and appends every
//! message to [`AgentState::messages`] at its `message_end` (before listeners see the event), as
//! pi's agent does. Embedders may change settings at any time; `replace_messages` during a run
//! only affects the next run.
//!
//! **Events.** Subscribe with [`Agent::subscribe`] (a synchronous callback) or
//! [`Agent::event_stream`] (an unbounded channel). Events arrive in emission order; see
//! [`events`] for the delivery guarantees.
//!
//! **Concurrency.** `Agent` is a cheap clone over shared state and is `Send + Sync`: drive
//! `prompt` on one task and call `steer`, `follow_up` or `abort` from others. Only one run
//! exists at a time; `prompt` while busy returns [`AgentError::Busy`]. Nothing here depends on
//! a specific async runtime (timers use `futures-timer`).
//!
//! ```
//! use std::sync::Arc;
//! use futures::stream::{self, BoxStream, StreamExt};
//! use openclaw_core::agent::{Agent, AgentOptions, StaticResolver};
//! use openclaw_core::provider::{LlmContext, Provider, StreamEvent, StreamOptions};
//! use openclaw_core::{AgentEvent, Model, StopReason};
//!
//! /// A provider that always answers "Hello!".
//! struct Hello;
//! impl Provider for Hello {
//!     fn api(&self) -> &str { "hello" }
//!     fn stream(&self, _: &Model, _: &LlmContext, _: &StreamOptions)
//!         -> BoxStream<'static, StreamEvent> {
//!         stream::iter(vec![
//!             StreamEvent::TextStart { index: 0 },
//!             StreamEvent::TextDelta { index: 0, delta: "Hello!".into() },
//!             StreamEvent::TextEnd { index: 0, signature: None },
//!             StreamEvent::Done { reason: StopReason::Stop },
//!         ])
//!         .boxed()
//!     }
//! }
//!
//! let model: Model = serde_json::from_str(
//!     r#"{"id":"m","name":"m","api":"hello","provider":"p","baseUrl":"","reasoning":false,
//!         "input":["text"],"cost":{},"contextWindow":8000,"maxTokens":1000}"#,
//! ).unwrap();
//! let resolver = StaticResolver::new(Arc::new(Hello), None);
//! let agent = Agent::new(AgentOptions::new(model), Arc::new(resolver));
//! agent.subscribe(Arc::new(|e: &AgentEvent| {
//!     println!("{}", serde_json::to_string(e).unwrap()); // one pi RPC event line
//! }));
//! let added = futures::executor::block_on(agent.prompt_text("hi")).unwrap();
//! assert_eq!(added[1].as_assistant().unwrap().text(), "Hello!");
//! ```

pub mod convert;
pub mod events;
pub mod queue;
pub mod resolve;
pub mod retry;
#[path = "loop.rs"]
mod run_loop;
mod state;
pub mod system_prompt;
mod tools;

use crate::sync::lock;
use std::sync::{Arc, Mutex, MutexGuard};

pub use events::{Listener, SubscriptionId};
pub use queue::{QueueKind, QueueMode};
pub use resolve::{ProviderResolver, ResolvedProvider, StaticResolver};
pub use retry::{RetrySettings, is_context_overflow, is_retryable_error};
pub use state::{
    AgentOptions, AgentState, ArgumentValidator, ContextTransform, OverflowCheck, ToolExecution,
    accept_all_arguments,
};

use crate::cancel::CancellationToken;
use crate::event::AgentEvent;
use crate::message::{Message, UserMessage};
use crate::model::{Model, ThinkingLevel};
use crate::tool::Tool;
use events::EventBus;
use queue::Queues;
use run_loop::RunStart;

/// Why a run could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    #[error(
        "Agent is already processing a prompt. Use steer() or follow_up() to queue messages, or wait for completion."
    )]
    Busy,
    #[error("No messages to continue from")]
    NothingToContinue,
    #[error("Cannot continue from message role: {0}")]
    CannotContinueFrom(String),
}

struct Hooks {
    validator: ArgumentValidator,
    transform: Option<ContextTransform>,
    overflow: OverflowCheck,
}

#[derive(Default)]
struct RunSlot {
    busy: bool,
    streaming: bool,
    cancel: Option<CancellationToken>,
    retry_cancel: Option<CancellationToken>,
    retry_attempt: u32,
    /// `abort()` was called during this prompt (covers the gap between a run and its retry wait).
    abort_requested: bool,
    /// A prompt arrived during the retry wait: when the wait elapses, that prompt runs instead
    /// of the retry (pi queues the prompt behind the wait; it does not cancel it).
    retry_superseded: bool,
    /// The superseding prompt inherits `retry_attempt`, so its first good answer ends the
    /// retry with `auto_retry_end {success:true}`, as in pi.
    retry_carry: bool,
}

pub(crate) struct Inner {
    state: Mutex<AgentState>,
    queues: Mutex<Queues>,
    bus: EventBus,
    resolver: Arc<dyn ProviderResolver>,
    hooks: Mutex<Hooks>,
    run: Mutex<RunSlot>,
    idle: event_listener::Event,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, AgentState> {
        lock(&self.state)
    }
    fn queues(&self) -> MutexGuard<'_, Queues> {
        lock(&self.queues)
    }
    fn slot(&self) -> MutexGuard<'_, RunSlot> {
        lock(&self.run)
    }
    fn hooks(&self) -> MutexGuard<'_, Hooks> {
        lock(&self.hooks)
    }

    /// Update the state the way pi's agent does, then deliver the event.
    fn emit(&self, event: AgentEvent) {
        match &event {
            AgentEvent::MessageStart { message } if message.role() == "assistant" => {
                let mut st = self.state();
                st.stream_message = Some(Message::clone(message));
                st.stream_partial = None;
            }
            AgentEvent::MessageUpdate { message, .. } => {
                self.state().stream_partial = Some(message.clone());
            }
            AgentEvent::MessageEnd { message } => {
                let mut st = self.state();
                st.stream_message = None;
                st.stream_partial = None;
                st.messages.push(message.clone());
            }
            _ => {}
        }
        self.bus.emit(event);
    }
}

/// Marks the agent busy for as long as it lives (also when a `prompt` future is dropped).
struct BusyGuard<'a>(&'a Inner);

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        {
            let mut slot = self.0.slot();
            slot.busy = false;
            slot.streaming = false;
            slot.cancel = None;
            slot.retry_cancel = None;
            slot.retry_superseded = false;
            if !slot.retry_carry {
                slot.retry_attempt = 0;
            }
        }
        {
            let mut st = self.0.state();
            st.stream_message = None;
            st.stream_partial = None;
        }
        self.0.idle.notify(usize::MAX);
    }
}

/// The agent. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Agent {
    inner: Arc<Inner>,
}

impl Agent {
    /// A new idle agent.
    pub fn new(options: AgentOptions, resolver: Arc<dyn ProviderResolver>) -> Agent {
        let mut queues = Queues::default();
        queues.steering_mode = options.steering_mode;
        queues.follow_up_mode = options.follow_up_mode;
        let state = AgentState {
            system_prompt: options.system_prompt,
            model: options.model,
            thinking_level: options.thinking_level,
            tools: options.tools,
            messages: options.messages,
            tool_execution: options.tool_execution,
            retry: options.retry,
            session_id: options.session_id,
            block_images: options.block_images,
            stream_message: None,
            stream_partial: None,
        };
        Agent {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                queues: Mutex::new(queues),
                bus: EventBus::default(),
                resolver,
                hooks: Mutex::new(Hooks {
                    validator: Arc::new(crate::tool::validate_arguments),
                    transform: None,
                    overflow: Arc::new(retry::is_context_overflow),
                }),
                run: Mutex::new(RunSlot::default()),
                idle: event_listener::Event::new(),
            }),
        }
    }

    // ---- events -------------------------------------------------------------------------

    /// Call `listener` for every future event, in order.
    pub fn subscribe(&self, listener: Listener) -> SubscriptionId {
        self.inner.bus.subscribe(listener)
    }

    /// Stop calling a listener; `false` if it was not subscribed.
    pub fn unsubscribe(&self, id: SubscriptionId) -> bool {
        self.inner.bus.unsubscribe(id)
    }

    /// Every future event through an unbounded channel (closed when unsubscribed).
    pub fn event_stream(
        &self,
    ) -> (
        SubscriptionId,
        futures::channel::mpsc::UnboundedReceiver<AgentEvent>,
    ) {
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let id = self.subscribe(Arc::new(move |e: &AgentEvent| {
            let _ = tx.unbounded_send(e.clone());
        }));
        (id, rx)
    }

    /// Emit an event on this agent's bus (for layers above the loop, e.g. `compaction_*`,
    /// `session_info_changed`), ordered with the loop's own events.
    pub fn emit(&self, event: AgentEvent) {
        self.inner.emit(event);
    }

    // ---- state --------------------------------------------------------------------------

    /// A snapshot of the state.
    pub fn state(&self) -> AgentState {
        let mut state = self.inner.state().clone();
        if let Some(partial) = state.stream_partial.take() {
            state.stream_message = Some((*partial).clone());
        }
        state
    }
    /// The context messages (shared, not copied).
    pub fn messages(&self) -> Vec<Arc<Message>> {
        self.inner.state().messages.clone()
    }
    /// `f` over the context messages without copying them (the agent's state is locked
    /// meanwhile: `f` must not call back into the agent).
    pub fn with_messages<R>(&self, f: impl FnOnce(&[Arc<Message>]) -> R) -> R {
        f(&self.inner.state().messages)
    }
    pub fn model(&self) -> Model {
        self.inner.state().model.clone()
    }
    pub fn set_model(&self, model: Model) {
        self.inner.state().model = model;
    }
    pub fn system_prompt(&self) -> String {
        self.inner.state().system_prompt.clone()
    }
    pub fn set_system_prompt(&self, prompt: impl Into<String>) {
        self.inner.state().system_prompt = prompt.into();
    }
    pub fn thinking_level(&self) -> ThinkingLevel {
        self.inner.state().thinking_level
    }
    /// Sets the level as given (clamping to the model is the caller's policy).
    pub fn set_thinking_level(&self, level: ThinkingLevel) {
        self.inner.state().thinking_level = level;
    }
    pub fn tools(&self) -> Vec<Arc<dyn Tool>> {
        self.inner.state().tools.clone()
    }
    pub fn set_tools(&self, tools: Vec<Arc<dyn Tool>>) {
        self.inner.state().tools = tools;
    }
    /// Replace the context (session switch, compaction, branch navigation).
    pub fn replace_messages(&self, messages: Vec<Arc<Message>>) {
        self.inner.state().messages = messages;
    }
    /// Append to the context without events (e.g. a `bashExecution` record).
    pub fn append_message(&self, message: impl Into<Arc<Message>>) {
        self.inner.state().messages.push(message.into());
    }
    pub fn tool_execution(&self) -> ToolExecution {
        self.inner.state().tool_execution
    }
    pub fn set_tool_execution(&self, mode: ToolExecution) {
        self.inner.state().tool_execution = mode;
    }
    pub fn retry_settings(&self) -> RetrySettings {
        self.inner.state().retry
    }
    pub fn set_retry_settings(&self, settings: RetrySettings) {
        self.inner.state().retry = settings;
    }
    pub fn set_session_id(&self, id: Option<String>) {
        self.inner.state().session_id = id;
    }
    pub fn set_block_images(&self, block: bool) {
        self.inner.state().block_images = block;
    }

    /// Use `validator` for tool arguments (wire `tool::validate_arguments` here).
    pub fn set_argument_validator(&self, validator: ArgumentValidator) {
        self.inner.hooks().validator = validator;
    }
    /// Rewrite the context before every model call (`None` removes the hook).
    pub fn set_context_transform(&self, transform: Option<ContextTransform>) {
        self.inner.hooks().transform = transform;
    }
    /// Replace the context-overflow test used by auto-retry (default: [`is_context_overflow`]).
    pub fn set_overflow_check(&self, check: OverflowCheck) {
        self.inner.hooks().overflow = check;
    }

    // ---- queues -------------------------------------------------------------------------

    /// Queue a steering message: delivered after the current turn's tool calls, before the
    /// next model call (or right after the next prompt's message when idle). Emits
    /// `queue_update`.
    pub fn steer(&self, message: Message) {
        self.enqueue(QueueKind::Steering, message);
    }
    /// [`Agent::steer`] with a plain text user message.
    pub fn steer_text(&self, text: &str) {
        self.steer(Message::User(UserMessage::new(text, vec![])));
    }
    /// Queue a follow-up: delivered when the agent would otherwise stop. Emits `queue_update`.
    pub fn follow_up(&self, message: Message) {
        self.enqueue(QueueKind::FollowUp, message);
    }
    /// [`Agent::follow_up`] with a plain text user message.
    pub fn follow_up_text(&self, text: &str) {
        self.follow_up(Message::User(UserMessage::new(text, vec![])));
    }

    fn enqueue(&self, kind: QueueKind, message: Message) {
        let event = {
            let mut q = self.inner.queues();
            q.push(kind, message);
            q.update_event()
        };
        self.inner.emit(event);
    }

    pub fn steering_mode(&self) -> QueueMode {
        self.inner.queues().steering_mode
    }
    pub fn set_steering_mode(&self, mode: QueueMode) {
        self.inner.queues().steering_mode = mode;
    }
    pub fn follow_up_mode(&self) -> QueueMode {
        self.inner.queues().follow_up_mode
    }
    pub fn set_follow_up_mode(&self, mode: QueueMode) {
        self.inner.queues().follow_up_mode = mode;
    }
    /// The texts `queue_update` currently shows: (steering, follow-up).
    pub fn queued(&self) -> (Vec<String>, Vec<String>) {
        self.inner.queues().shown()
    }
    /// Number of queued messages (steering + follow-up).
    pub fn pending_message_count(&self) -> usize {
        let q = self.inner.queues();
        q.steering.len() + q.follow_up.len()
    }
    /// Empty both queues, returning what was queued; emits `queue_update` if anything was.
    pub fn clear_queues(&self) -> (Vec<Message>, Vec<Message>) {
        let (cleared, event) = {
            let mut q = self.inner.queues();
            let cleared = q.clear();
            (cleared, q.update_event())
        };
        if !cleared.0.is_empty() || !cleared.1.is_empty() {
            self.inner.emit(event);
        }
        cleared
    }

    // ---- runs ---------------------------------------------------------------------------

    /// Whether a run (or an auto-retry wait) is in progress.
    pub fn is_busy(&self) -> bool {
        self.inner.slot().busy
    }
    /// Whether a run is in progress (false during an auto-retry wait).
    pub fn is_streaming(&self) -> bool {
        self.inner.slot().streaming
    }
    /// Whether an auto-retry wait is in progress.
    pub fn is_retrying(&self) -> bool {
        self.inner.slot().retry_cancel.is_some()
    }

    /// Run the agent on `messages` (usually one user message) and auto-retry as configured.
    /// Resolves when the agent is idle again; returns every message added by the run(s).
    pub async fn prompt(&self, messages: Vec<Message>) -> Result<Vec<Arc<Message>>, AgentError> {
        let _guard = self.begin()?;
        let start = RunStart {
            prompts: messages.into_iter().map(|m| (m, None)).collect(),
            skip_initial_steering: false,
        };
        Ok(self.drive(start).await)
    }

    /// [`Agent::prompt`] with one text user message.
    pub async fn prompt_text(&self, text: &str) -> Result<Vec<Arc<Message>>, AgentError> {
        self.prompt(vec![Message::User(UserMessage::new(text, vec![]))])
            .await
    }

    /// Run again from the current context without a new user message (pi's `continue()`).
    /// When the context ends with an assistant message, queued steering (else follow-up)
    /// messages start the run; with none, this fails.
    pub async fn continue_run(&self) -> Result<Vec<Arc<Message>>, AgentError> {
        let _guard = self.begin()?;
        let last_role = self.inner.state().messages.last().map(|m| m.role());
        let start = match last_role {
            None => return Err(AgentError::NothingToContinue),
            Some("assistant") => {
                let steering = self.inner.queues().poll(QueueKind::Steering);
                if !steering.is_empty() {
                    RunStart::queued(steering, QueueKind::Steering, true)
                } else {
                    let follow = self.inner.queues().poll(QueueKind::FollowUp);
                    if follow.is_empty() {
                        return Err(AgentError::CannotContinueFrom("assistant".into()));
                    }
                    RunStart::queued(follow, QueueKind::FollowUp, false)
                }
            }
            Some(_) => RunStart::default(),
        };
        Ok(self.drive(start).await)
    }

    fn begin(&self) -> Result<BusyGuard<'_>, AgentError> {
        let mut slot = self.inner.slot();
        if slot.busy {
            return Err(AgentError::Busy);
        }
        slot.busy = true;
        if !std::mem::take(&mut slot.retry_carry) {
            slot.retry_attempt = 0;
        }
        slot.abort_requested = false;
        Ok(BusyGuard(&self.inner))
    }

    /// Abort: cancel an auto-retry wait, the model stream and running tools, then wait until
    /// the agent is idle. A no-op when idle.
    pub async fn abort(&self) {
        drop(self.abort_retry());
        let token = {
            let mut slot = self.inner.slot();
            if slot.busy {
                slot.abort_requested = true;
            }
            slot.cancel.clone()
        };
        if let Some(t) = token {
            t.cancel();
        }
        self.wait_for_idle().await;
    }

    /// Cancel an auto-retry wait: emits `auto_retry_end {success:false, finalError:"Retry
    /// cancelled"}` before returning (pi emits it before answering `abort_retry`). The waiting
    /// driver is released, and ends the prompt without retrying, when the returned
    /// [`RetryCancel`] is dropped, so a front end can answer first.
    pub fn abort_retry(&self) -> RetryCancel {
        let (token, attempt) = {
            let mut slot = self.inner.slot();
            let Some(token) = slot.retry_cancel.take() else {
                return RetryCancel(None);
            };
            slot.retry_superseded = false;
            slot.retry_carry = false;
            (token, std::mem::take(&mut slot.retry_attempt))
        };
        self.inner.emit(retry_cancelled(attempt));
        RetryCancel(Some(token))
    }

    /// A new prompt arrived during an auto-retry wait: when the wait elapses, the driver stops
    /// instead of retrying, and the next prompt inherits the attempt count (its first good
    /// answer emits `auto_retry_end {success:true}`). `false` when no wait is in progress.
    pub fn supersede_retry(&self) -> bool {
        let mut slot = self.inner.slot();
        slot.retry_superseded = slot.retry_cancel.is_some();
        slot.retry_superseded
    }

    /// Resolves once no run is in progress.
    pub async fn wait_for_idle(&self) {
        loop {
            if !self.is_busy() {
                return;
            }
            let listener = self.inner.idle.listen();
            if !self.is_busy() {
                return;
            }
            listener.await;
        }
    }
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("state", &*self.inner.state())
            .field("busy", &self.is_busy())
            .finish()
    }
}

/// `auto_retry_end` for a cancelled retry wait.
fn retry_cancelled(attempt: u32) -> AgentEvent {
    AgentEvent::AutoRetryEnd {
        success: false,
        attempt,
        final_error: Some("Retry cancelled".into()),
    }
}

/// A cancelled auto-retry wait ([`Agent::abort_retry`]): `auto_retry_end` has been emitted; the
/// waiting driver goes on when this is dropped.
#[must_use = "the waiting driver goes on when this is dropped"]
pub struct RetryCancel(Option<CancellationToken>);

impl RetryCancel {
    /// Whether a retry wait was in progress (and is now cancelled).
    pub fn was_pending(&self) -> bool {
        self.0.is_some()
    }
}

impl Drop for RetryCancel {
    fn drop(&mut self) {
        if let Some(token) = self.0.take() {
            token.cancel();
        }
    }
}
