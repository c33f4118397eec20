//! The bot's command menu, registered when the account connects, in OpenClaw's sequence:
//! `deleteMyCommands`, `deleteMyCommands {scope: all_group_chats}`, then `setMyCommands` for
//! the default scope and for `all_group_chats`.
//!
//! The list is `channels.telegram.customCommands` first (menu entries only: they do nothing
//! the model is not asked to do), then the gateway's own commands; names normalized as
//! OpenClaw does (leading `/` dropped, lower case, `-` → `_`) and checked against Telegram's
//! rules (`a-z`, `0-9`, `_`, 1–32 characters; a description of 1–256 characters; at most 100
//! commands and a conservative 5,700 characters of text in all). A custom command that is
//! invalid, duplicated or named like a built-in one is skipped with a warning. Telegram
//! answering `BOT_COMMANDS_TOO_MUCH` is retried with 80 % of the list. A failure never stops
//! the account: it is logged and shown in the account's `warnings`.

use std::time::Duration;

use openclaw_core::channel::{ChannelError, MenuCommand};
use serde::{Deserialize, Serialize};

use super::TelegramAccount;
use super::api::BotApi;

const MAX_COMMANDS: usize = 100;
const MAX_NAME: usize = 32;
const MAX_DESCRIPTION: usize = 256;
/// OpenClaw's budget for all names and descriptions together.
const TEXT_BUDGET: usize = 5700;
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One `customCommands` entry.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CustomCommand {
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub description: String,
}

/// A command name as Telegram takes it.
fn normalize(name: &str) -> String {
    let t = name.trim();
    t.strip_prefix('/')
        .unwrap_or(t)
        .to_lowercase()
        .replace('-', "_")
}

fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// `text` cut to at most `max` characters, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The menu: custom entries, then the built-in ones, within Telegram's limits; and what was
/// skipped, for the log and the account's warnings.
pub fn build(native: &[MenuCommand], custom: &[CustomCommand]) -> (Vec<MenuCommand>, Vec<String>) {
    let mut issues = Vec::new();
    let mut out: Vec<MenuCommand> = Vec::new();
    let mut builtin: Vec<MenuCommand> = Vec::new();
    for c in native {
        let name = normalize(&c.command);
        if !valid_name(&name) || c.description.trim().is_empty() {
            issues.push(format!(
                "command \"/{name}\" is invalid for Telegram; skipped"
            ));
            continue;
        }
        builtin.push(MenuCommand {
            command: name,
            description: truncate(c.description.trim(), MAX_DESCRIPTION),
        });
    }
    for (i, c) in custom.iter().enumerate() {
        let name = normalize(&c.command);
        let problem = if name.is_empty() {
            Some(format!("customCommands[{i}] has no command name"))
        } else if !valid_name(&name) {
            Some(format!(
                "custom command \"/{name}\" is invalid (use a-z, 0-9, underscore; max 32 chars)"
            ))
        } else if builtin.iter().any(|b| b.command == name) {
            Some(format!(
                "custom command \"/{name}\" conflicts with a native command"
            ))
        } else if out.iter().any(|b| b.command == name) {
            Some(format!("custom command \"/{name}\" is duplicated"))
        } else if c.description.trim().is_empty() {
            Some(format!(
                "custom command \"/{name}\" is missing a description"
            ))
        } else {
            None
        };
        match problem {
            Some(p) => issues.push(p),
            None => out.push(MenuCommand {
                command: name,
                description: truncate(c.description.trim(), MAX_DESCRIPTION),
            }),
        }
    }
    out.extend(builtin);
    if out.len() > MAX_COMMANDS {
        issues.push(format!(
            "Telegram limits bots to {MAX_COMMANDS} commands; {} configured, the first {MAX_COMMANDS} registered",
            out.len()
        ));
        out.truncate(MAX_COMMANDS);
    }
    fit_budget(&mut out);
    (out, issues)
}

/// Shortens descriptions (then drops commands from the end) until the text fits the budget.
fn fit_budget(commands: &mut Vec<MenuCommand>) {
    let total = |c: &[MenuCommand]| -> usize {
        c.iter()
            .map(|m| m.command.chars().count() + m.description.chars().count())
            .sum()
    };
    while total(commands) > TEXT_BUDGET && !commands.is_empty() {
        let names: usize = commands.iter().map(|m| m.command.chars().count()).sum();
        let budget = TEXT_BUDGET.saturating_sub(names);
        if budget < commands.len() {
            commands.pop();
            continue;
        }
        let cap = (budget / commands.len()).clamp(1, MAX_DESCRIPTION);
        for m in commands.iter_mut() {
            m.description = truncate(&m.description, cap);
        }
    }
}

#[derive(Serialize)]
struct Scope {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct DeleteMyCommands {
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
}

#[derive(Serialize)]
struct SetMyCommands<'a> {
    commands: &'a [MenuCommand],
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<Scope>,
}

fn scopes() -> [Option<Scope>; 2] {
    [
        None,
        Some(Scope {
            kind: "all_group_chats",
        }),
    ]
}

fn too_much(e: &ChannelError) -> bool {
    matches!(e, ChannelError::Api { description, .. } if description.contains("BOT_COMMANDS_TOO_MUCH"))
}

/// Registers the account's menu; returns whether Telegram took it. Problems go to the log and
/// the account's `warnings`, never to the caller.
pub(super) async fn sync(acct: &TelegramAccount, api: &BotApi) -> bool {
    let (commands, issues) = {
        let native = openclaw_core::sync::lock(&acct.menu).clone();
        build(&native, &acct.custom_commands)
    };
    let mut warnings: Vec<String> = issues;
    for scope in scopes() {
        let r: Result<bool, _> = api
            .call(
                "deleteMyCommands",
                &DeleteMyCommands { scope },
                CALL_TIMEOUT,
            )
            .await;
        if let Err(e) = r {
            warnings.push(format!("deleteMyCommands: {e}"));
        }
    }
    let mut list = commands;
    let mut ok = true;
    if !list.is_empty() {
        'retry: loop {
            for scope in scopes() {
                let req = SetMyCommands {
                    commands: &list,
                    scope,
                };
                let r: Result<bool, _> = api.call("setMyCommands", &req, CALL_TIMEOUT).await;
                match r {
                    Ok(_) => {}
                    Err(e) if too_much(&e) && list.len() > 1 => {
                        let fewer = (list.len() * 4 / 5).min(list.len() - 1).max(1);
                        warnings.push(format!(
                            "Telegram refused {} commands (BOT_COMMANDS_TOO_MUCH); retrying with {fewer}",
                            list.len()
                        ));
                        list.truncate(fewer);
                        continue 'retry;
                    }
                    Err(e) => {
                        warnings.push(format!("setMyCommands failed: {e}"));
                        ok = false;
                        break 'retry;
                    }
                }
            }
            break;
        }
    }
    for w in &warnings {
        tracing::warn!("telegram {}: command menu: {w}", acct.account_id);
    }
    acct.status.update(|s| {
        s.warnings.retain(|w| !w.starts_with("command menu: "));
        s.warnings
            .extend(warnings.iter().map(|w| format!("command menu: {w}")));
    });
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(c: &str, d: &str) -> MenuCommand {
        MenuCommand {
            command: c.into(),
            description: d.into(),
        }
    }

    fn custom(c: &str, d: &str) -> CustomCommand {
        CustomCommand {
            command: c.into(),
            description: d.into(),
        }
    }

    #[test]
    fn custom_entries_come_first_and_break_no_rule() {
        let native = [
            cmd("help", "Show help."),
            cmd("new", "Start a new session."),
        ];
        let (menu, issues) = build(
            &native,
            &[
                custom("/Backup", " Git backup "),
                custom("gen-image", "Create an image"),
                custom("help", "mine"),
                custom("backup", "again"),
                custom("bad name", "x"),
                custom("x".repeat(33).as_str(), "too long"),
                custom("quiet", "  "),
            ],
        );
        let names: Vec<&str> = menu.iter().map(|m| m.command.as_str()).collect();
        assert_eq!(names, ["backup", "gen_image", "help", "new"]);
        assert_eq!(menu[0].description, "Git backup");
        assert_eq!(issues.len(), 5, "{issues:?}");
    }

    #[test]
    fn limits_are_kept() {
        let many: Vec<CustomCommand> = (0..150)
            .map(|i| custom(&format!("c{i}"), &"d".repeat(300)))
            .collect();
        let (menu, _) = build(&[], &many);
        assert!(menu.len() <= MAX_COMMANDS);
        assert!(
            menu.iter()
                .all(|m| (1..=MAX_DESCRIPTION).contains(&m.description.chars().count()))
        );
        let text: usize = menu
            .iter()
            .map(|m| m.command.len() + m.description.chars().count())
            .sum();
        assert!(text <= TEXT_BUDGET, "{text}");
    }
}
