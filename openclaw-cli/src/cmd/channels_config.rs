//! `openclaw channels list | add | remove | login | logout`: channel accounts in openclaw.json,
//! as OpenClaw's CLI manages them. Every change is a merge patch applied in place (comments,
//! key order and keys this CLI does not know are kept), validated, and written atomically; a
//! running gateway reloads the file and starts, restarts or stops the account.
//!
//! Telegram's accounts: the default one lives at `channels.telegram` (or
//! `channels.telegram.accounts.default` when that exists), others under
//! `channels.telegram.accounts.<id>`.

use std::path::Path;

use openclaw_core::channel::policy::DEFAULT_ACCOUNT;
use openclaw_core::config;
use openclaw_core::fsutil::{Permissions, atomic_write};
use serde_json::{Map, Value, json};

use super::config::read_raw;
use crate::cli::{ChannelAccountArgs, ChannelSelect, ChannelsCmd};
use crate::error::{CliError, CliResult};
use crate::output::print_json;

pub fn run(cmd: ChannelsCmd) -> CliResult {
    let path = config::config_path();
    match cmd {
        ChannelsCmd::List { all, json } => list(&path, all, json.json),
        ChannelsCmd::Add(args) => add(&path, &args),
        ChannelsCmd::Remove { target, delete } => remove(&path, &target, delete),
        ChannelsCmd::Login { target, .. } => {
            let channel = resolve_channel(&path, &target)?;
            Err(CliError::failure(format!(
                "Channel login failed: Channel \"{channel}\" does not support login. Run \
                 `openclaw channels status --channel {channel}` to inspect supported actions."
            )))
        }
        ChannelsCmd::Logout { target } => logout(&path, &target),
        ChannelsCmd::Status { .. } => Err(CliError::usage("channels status needs the gateway")),
    }
}

fn label(channel: &str) -> &'static str {
    openclaw_channels::KNOWN
        .iter()
        .find(|(c, _)| *c == channel)
        .map_or("Channel", |(_, l)| l)
}

/// The account id: `--account` (blank refused) or the default account.
fn account_of(sel: &ChannelSelect) -> CliResult<String> {
    match sel.account.as_deref() {
        Some(a) if a.trim().is_empty() => Err(CliError::usage(
            "--account is blank; omit it for the default account",
        )),
        Some(a) => Ok(a.trim().to_owned()),
        None => Ok(DEFAULT_ACCOUNT.to_owned()),
    }
}

/// The channel named by `--channel` or the positional id, or the only configured one.
fn resolve_channel(path: &Path, sel: &ChannelSelect) -> CliResult<String> {
    let named = match (&sel.channel, &sel.positional) {
        (Some(a), Some(b)) if a != b => {
            return Err(CliError::usage(format!(
                "channel given twice: {b} and --channel {a}"
            )));
        }
        (Some(c), _) | (None, Some(c)) => Some(c.trim().to_ascii_lowercase()),
        (None, None) => None,
    };
    match named {
        Some(c) if c.is_empty() => Err(CliError::usage("--channel is blank")),
        Some(c) if openclaw_channels::KNOWN.iter().any(|(k, _)| *k == c) => Ok(c),
        Some(c) => Err(
            CliError::usage(format!("unknown channel: {c}")).hint(format!(
                "this build has: {}",
                openclaw_channels::KNOWN
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        ),
        None => {
            let doc = read_raw(path)?;
            let configured: Vec<&str> = openclaw_channels::KNOWN
                .iter()
                .map(|(c, _)| *c)
                .filter(|c| doc.pointer(&format!("/channels/{c}")).is_some())
                .collect();
            match configured.as_slice() {
                [one] => Ok((*one).to_owned()),
                [] => Err(CliError::usage("no channel is configured; pass --channel")),
                _ => Err(CliError::usage(
                    "several channels are configured; pass --channel",
                )),
            }
        }
    }
}

/// Applies `patch` to the file in place and validates the result before writing.
fn patch_file(path: &Path, patch: &Value) -> CliResult {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(CliError::failure(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let (text, _) = config::edit::merge_patch(path, &text, patch)
        .map_err(|e| CliError::failure(e.to_string()))?;
    config::OpenClawConfig::parse(path, &text).map_err(|e| {
        CliError::usage(format!(
            "the change would make the configuration invalid: {e}"
        ))
    })?;
    atomic_write(path, text.as_bytes(), Permissions::Private)?;
    Ok(())
}

/// Whether the account's settings live at the channel's top level.
fn at_top_level(section: &Value, account: &str) -> bool {
    account == DEFAULT_ACCOUNT
        && section
            .pointer(&format!("/accounts/{DEFAULT_ACCOUNT}"))
            .is_none()
}

/// A patch setting `fields` on `account` of `channel`.
fn account_patch(section: &Value, channel: &str, account: &str, fields: Value) -> Value {
    if at_top_level(section, account) {
        json!({"channels": {channel: fields}})
    } else {
        json!({"channels": {channel: {"accounts": {account: fields}}}})
    }
}

fn add(path: &Path, args: &ChannelAccountArgs) -> CliResult {
    let channel = resolve_channel(path, &args.target)?;
    let account = account_of(&args.target)?;
    let doc = read_raw(path)?;
    let section = doc
        .pointer(&format!("/channels/{channel}"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let given = [
        args.token.is_some(),
        args.token_file.is_some(),
        args.use_env,
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if given > 1 {
        return Err(CliError::usage(
            "pass one of --token, --token-file and --use-env",
        ));
    }
    let mut fields = Map::new();
    fields.insert("enabled".into(), json!(true));
    if let Some(t) = &args.token {
        if t.trim().is_empty() {
            return Err(CliError::usage("--token is blank"));
        }
        fields.insert("botToken".into(), json!(t.trim()));
        fields.insert("tokenFile".into(), Value::Null);
    }
    if let Some(f) = &args.token_file {
        let abs = std::path::absolute(f)
            .map_err(|e| CliError::usage(format!("--token-file {f}: {e}")))?;
        if !abs.is_file() {
            return Err(CliError::usage(format!("--token-file {f}: not a file")));
        }
        fields.insert("tokenFile".into(), json!(abs.display().to_string()));
        fields.insert("botToken".into(), Value::Null);
    }
    if args.use_env {
        if account != DEFAULT_ACCOUNT {
            return Err(CliError::usage(
                "--use-env works for the default account only (TELEGRAM_BOT_TOKEN)",
            ));
        }
        if std::env::var("TELEGRAM_BOT_TOKEN").map_or(true, |t| t.trim().is_empty()) {
            return Err(CliError::usage(
                "--use-env: TELEGRAM_BOT_TOKEN is not set in this environment",
            ));
        }
    }
    if given == 0
        && openclaw_channels::account_ids(&channel, &section)
            .iter()
            .all(|a| *a != account)
    {
        return Err(CliError::usage(format!(
            "{} account \"{account}\" needs a credential: pass --token, --token-file or --use-env",
            label(&channel)
        )));
    }
    for (key, v) in [
        ("name", &args.name),
        ("webhookUrl", &args.webhook_url),
        ("webhookSecret", &args.webhook_secret),
        ("webhookPath", &args.webhook_path),
    ] {
        if let Some(v) = v {
            fields.insert(key.into(), json!(v));
        }
    }
    let mut patch = account_patch(&section, &channel, &account, Value::Object(fields));
    if !at_top_level(&section, &account) {
        patch["channels"][&channel]["enabled"] = json!(true);
    }
    patch_file(path, &patch)?;
    crate::out!("Added {} account \"{account}\".", label(&channel));
    Ok(())
}

fn remove(path: &Path, sel: &ChannelSelect, delete: bool) -> CliResult {
    let channel = resolve_channel(path, sel)?;
    let account = account_of(sel)?;
    let doc = read_raw(path)?;
    let Some(section) = doc.pointer(&format!("/channels/{channel}")).cloned() else {
        return Err(CliError::failure(format!(
            "{} is not configured in {}",
            label(&channel),
            path.display()
        )));
    };
    if !openclaw_channels::account_ids(&channel, &section).contains(&account) {
        return Err(CliError::failure(format!(
            "{} account \"{account}\" is not configured",
            label(&channel)
        )));
    }
    let named = section
        .get("accounts")
        .and_then(Value::as_object)
        .is_some_and(|a| a.keys().any(|k| k != DEFAULT_ACCOUNT));
    let patch = match (delete, at_top_level(&section, &account)) {
        (false, _) => account_patch(&section, &channel, &account, json!({"enabled": false})),
        // The whole section is this one account.
        (true, true) if !named => json!({"channels": {&channel: null}}),
        (true, true) => {
            let own: Map<String, Value> = [
                "botToken",
                "tokenFile",
                "name",
                "webhookUrl",
                "webhookSecret",
                "webhookPath",
            ]
            .iter()
            .map(|k| ((*k).to_owned(), Value::Null))
            .collect();
            json!({"channels": {&channel: own}})
        }
        (true, false) => json!({"channels": {&channel: {"accounts": {&account: null}}}}),
    };
    patch_file(path, &patch)?;
    let verb = if delete { "Deleted" } else { "Disabled" };
    crate::out!("{verb} {} account \"{account}\".", label(&channel));
    Ok(())
}

/// Telegram's logout, as OpenClaw's: the account's `botToken` is cleared from the config (the
/// gateway reloads and the account stops); a token from the environment is reported, not
/// touched.
fn logout(path: &Path, sel: &ChannelSelect) -> CliResult {
    let channel = resolve_channel(path, sel)?;
    let account = account_of(sel)?;
    let doc = read_raw(path)?;
    let section = doc
        .pointer(&format!("/channels/{channel}"))
        .cloned()
        .unwrap_or_else(|| json!({}));
    let holder = if at_top_level(&section, &account) {
        section.clone()
    } else {
        section
            .pointer(&format!("/accounts/{account}"))
            .cloned()
            .unwrap_or_else(|| json!({}))
    };
    let cleared = holder.get("botToken").is_some();
    if cleared {
        patch_file(
            path,
            &account_patch(&section, &channel, &account, json!({"botToken": null})),
        )?;
    }
    let env_token = account == DEFAULT_ACCOUNT
        && std::env::var("TELEGRAM_BOT_TOKEN").is_ok_and(|t| !t.trim().is_empty());
    let after = read_raw(path)?;
    let rest = after
        .pointer(&format!("/channels/{channel}"))
        .map(|s| config_token_left(s, &account))
        .unwrap_or(false);
    let logged_out = !rest && !env_token;
    print_json(
        &json!({"channel": channel, "accountId": account, "cleared": cleared,
                       "envToken": env_token, "loggedOut": logged_out}),
    );
    if !logged_out {
        eprintln!(
            "warning: {} account \"{account}\" still has credentials ({}); it is not logged out",
            label(&channel),
            if env_token {
                "TELEGRAM_BOT_TOKEN"
            } else {
                "tokenFile or an inherited botToken"
            }
        );
    }
    Ok(())
}

/// Whether the account still resolves a credential from the config.
fn config_token_left(section: &Value, account: &str) -> bool {
    let v = openclaw_core::channel::policy::account_value(section, account);
    ["botToken", "tokenFile"]
        .iter()
        .any(|k| v.get(*k).is_some_and(|x| !x.is_null()))
}

/// `channels list`: OpenClaw's `{chat: {<id>: {accounts, label, docsPath, installed, origin}}}`.
fn list(path: &Path, all: bool, as_json: bool) -> CliResult {
    let doc = read_raw(path)?;
    let mut chat = Map::new();
    let mut lines = Vec::new();
    for (channel, label) in openclaw_channels::KNOWN {
        let section = doc.pointer(&format!("/channels/{channel}"));
        let Some(section) = section else {
            if all {
                chat.insert(
                    (*channel).to_owned(),
                    json!({"accounts": [], "label": label,
                    "docsPath": format!("/channels/{channel}"), "installed": true,
                    "origin": "bundled"}),
                );
                lines.push(format!("{label}: not configured"));
            }
            continue;
        };
        let ids = openclaw_channels::account_ids(channel, section);
        let channel_on = section.get("enabled").and_then(Value::as_bool) != Some(false);
        for id in &ids {
            let v = openclaw_core::channel::policy::account_value(section, id);
            let configured = config_token_left(section, id)
                || (id == DEFAULT_ACCOUNT && std::env::var("TELEGRAM_BOT_TOKEN").is_ok());
            let enabled = channel_on && v.get("enabled").and_then(Value::as_bool) != Some(false);
            let name = v
                .get("name")
                .and_then(Value::as_str)
                .map(|n| format!(" ({n})"));
            lines.push(format!(
                "{label} {id}{}: installed, {}, {}",
                name.unwrap_or_default(),
                if configured {
                    "configured"
                } else {
                    "not configured"
                },
                if enabled { "enabled" } else { "disabled" },
            ));
        }
        chat.insert(
            (*channel).to_owned(),
            json!({"accounts": ids, "label": label,
            "docsPath": format!("/channels/{channel}"), "installed": true,
            "origin": "configured"}),
        );
    }
    if as_json {
        print_json(&json!({"chat": chat}));
    } else if lines.is_empty() {
        crate::out!(
            "No channels configured. Add one with `openclaw channels add --channel telegram --token <bot-token>`."
        );
    } else {
        for l in lines {
            crate::out!("{l}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(account: Option<&str>) -> ChannelSelect {
        ChannelSelect {
            positional: None,
            channel: Some("telegram".into()),
            account: account.map(str::to_owned),
            agent: None,
        }
    }

    fn add_args(account: Option<&str>, token: &str) -> ChannelAccountArgs {
        ChannelAccountArgs {
            target: sel(account),
            name: None,
            token: Some(token.into()),
            token_file: None,
            use_env: false,
            webhook_url: None,
            webhook_secret: None,
            webhook_path: None,
        }
    }

    #[test]
    fn add_disable_delete_and_logout_keep_the_files_comments_and_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        std::fs::write(
            &path,
            "// mine\n{\n  gateway: { port: 1 }, // keep\n  future: { x: 1 },\n}\n",
        )
        .unwrap();
        add(&path, &add_args(None, "123:abc")).unwrap();
        add(&path, &add_args(Some("work"), "456:def")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("// mine\n") && text.contains("// keep"),
            "{text}"
        );
        let doc = read_raw(&path).unwrap();
        assert_eq!(doc["future"], json!({"x": 1}));
        assert_eq!(doc["channels"]["telegram"]["botToken"], "123:abc");
        assert_eq!(
            doc["channels"]["telegram"]["accounts"]["work"]["botToken"],
            "456:def"
        );

        remove(&path, &sel(Some("work")), false).unwrap();
        let doc = read_raw(&path).unwrap();
        assert_eq!(
            doc["channels"]["telegram"]["accounts"]["work"]["enabled"],
            false
        );
        remove(&path, &sel(Some("work")), true).unwrap();
        let doc = read_raw(&path).unwrap();
        assert!(
            doc["channels"]["telegram"]["accounts"]
                .get("work")
                .is_none(),
            "{doc}"
        );
        assert!(remove(&path, &sel(Some("nobody")), true).is_err());

        logout(&path, &sel(None)).unwrap();
        let doc = read_raw(&path).unwrap();
        assert!(
            doc["channels"]["telegram"].get("botToken").is_none(),
            "{doc}"
        );
        assert!(
            add(&path, &add_args(Some(" "), "x")).is_err(),
            "a blank --account is refused"
        );
        assert!(std::fs::read_to_string(&path).unwrap().contains("// keep"));
    }
}
