//! Embedding the agent: a custom tool, a model from your OpenClaw configuration, and the
//! streamed events printed as they happen.
//!
//! ```sh
//! # with a provider configured in ~/.openclaw/openclaw.json or an API key in the environment:
//! cargo run --example embed_agent -- openai/gpt-5-mini "What time is it in Tokyo?"
//! # offline, against the fake model in ../shared (answers "call clock {}" with a tool call):
//! python3 ../shared/fake_llm.py 18123 &
//! cargo run --example embed_agent -- --base-url http://127.0.0.1:18123/v1 "call clock {}"
//! ```

use std::sync::Arc;

use openclaw_core::agent::{Agent, AgentOptions, ResolvedProvider};
use openclaw_core::config::OpenClawConfig;
use openclaw_core::provider::{ModelRegistry, provider_for_api};
use openclaw_core::tool::{ToolOutput, typed_tool};
use openclaw_core::{AgentEvent, AssistantMessageEvent, Model};

/// Arguments of the `clock` tool.
#[derive(serde::Deserialize, schemars::JsonSchema)]
struct ClockArgs {
    /// An IANA time zone name; UTC when absent.
    zone: Option<String>,
}

fn model_from_args(args: &[String]) -> Result<(Model, Option<String>), String> {
    if let Some(pos) = args.iter().position(|a| a == "--base-url") {
        let base_url = args.get(pos + 1).ok_or("--base-url needs a URL")?;
        let model: Model = serde_json::from_value(serde_json::json!({
            "id": "fake-model", "name": "fake-model", "api": "openai-completions",
            "provider": "local", "baseUrl": base_url, "reasoning": false, "input": ["text"],
            "cost": {}, "contextWindow": 128000, "maxTokens": 4096,
            "compat": {"supportsDeveloperRole": false, "supportsReasoningEffort": false}
        }))
        .map_err(|e| e.to_string())?;
        return Ok((model, Some("none".into())));
    }
    let config = OpenClawConfig::load().map_err(|e| e.to_string())?;
    let registry = ModelRegistry::from_config(&config, None);
    let spec = args
        .first()
        .ok_or("usage: embed_agent <provider/model | --base-url URL> <prompt>")?;
    let resolved = registry.resolve(None, spec).map_err(|e| e.to_string())?;
    let key = registry.api_key(&resolved.model.provider);
    Ok((resolved.model, key))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (model, api_key) = model_from_args(&args)?;
    let prompt = args.last().cloned().unwrap_or_else(|| "Hello!".into());

    // A custom tool: a typed argument struct (its JSON schema is generated) and an async fn.
    let clock = typed_tool(
        "clock",
        "Tell the current time (UTC)",
        |a: ClockArgs, _ctx| async move {
            let now = time::OffsetDateTime::now_utc();
            let zone = a.zone.unwrap_or_else(|| "UTC".into());
            Ok(ToolOutput::text(format!(
                "It is {now} (asked for {zone}; this clock only knows UTC)."
            )))
        },
    );

    let mut options = AgentOptions::new(model);
    options.system_prompt = "You are a helpful assistant. Use the clock tool for the time.".into();
    options.tools = vec![Arc::new(clock)];
    // The resolver is asked before every model call, so keys can rotate while the agent lives.
    let resolver = move |m: &Model| -> Result<ResolvedProvider, String> {
        let provider =
            provider_for_api(&m.api).ok_or_else(|| format!("no provider speaks {}", m.api))?;
        Ok(ResolvedProvider {
            provider,
            api_key: api_key.clone(),
        })
    };
    let agent = Agent::new(options, Arc::new(resolver));

    agent.subscribe(Arc::new(|event: &AgentEvent| match event {
        AgentEvent::MessageUpdate {
            assistant_message_event: AssistantMessageEvent::TextDelta { delta, .. },
            ..
        } => {
            print!("{delta}");
        }
        AgentEvent::ToolExecutionStart {
            tool_name, args, ..
        } => println!("\n[tool {tool_name} {args}]"),
        AgentEvent::ToolExecutionEnd {
            result, is_error, ..
        } => {
            let text: Vec<&str> = result.content.iter().filter_map(|b| b.as_text()).collect();
            println!(
                "[{}: {}]",
                if *is_error { "error" } else { "result" },
                text.join(" ")
            );
        }
        AgentEvent::MessageEnd { message } => {
            if let Some(err) = message
                .as_assistant()
                .and_then(|m| m.error_message.as_deref())
            {
                eprintln!("\nerror: {err}");
            }
        }
        AgentEvent::AgentEnd { .. } => println!(),
        _ => {}
    }));

    agent.prompt_text(&prompt).await?;
    Ok(())
}
