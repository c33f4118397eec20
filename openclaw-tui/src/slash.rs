//! The slash commands the composer understands, and their completion list.

/// One slash command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlashCommand {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
}

/// Every command, in the order the popup lists them.
pub const COMMANDS: &[SlashCommand] = &[
    SlashCommand {
        name: "model",
        args: "[provider/id]",
        help: "pick the model",
    },
    SlashCommand {
        name: "thinking",
        args: "[level]",
        help: "set the thinking level",
    },
    SlashCommand {
        name: "new",
        args: "",
        help: "start a new session",
    },
    SlashCommand {
        name: "resume",
        args: "",
        help: "resume a stored session",
    },
    SlashCommand {
        name: "fork",
        args: "",
        help: "fork a new session from an earlier message",
    },
    SlashCommand {
        name: "tree",
        args: "",
        help: "go back to an earlier message in this session",
    },
    SlashCommand {
        name: "branch",
        args: "",
        help: "same as /tree",
    },
    SlashCommand {
        name: "compact",
        args: "",
        help: "summarise the conversation to free context",
    },
    SlashCommand {
        name: "name",
        args: "<name>",
        help: "name this session",
    },
    SlashCommand {
        name: "export",
        args: "[path]",
        help: "export the session to HTML",
    },
    SlashCommand {
        name: "copy",
        args: "",
        help: "copy the last answer to the clipboard",
    },
    SlashCommand {
        name: "help",
        args: "",
        help: "keys and commands",
    },
    SlashCommand {
        name: "quit",
        args: "",
        help: "leave",
    },
];

/// Commands whose name starts with `prefix` (without the slash).
pub fn completions(prefix: &str) -> Vec<SlashCommand> {
    COMMANDS
        .iter()
        .filter(|c| c.name.starts_with(prefix))
        .copied()
        .collect()
}

/// A description's first line, at most 80 characters (a popup row).
pub fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 80 {
        let mut short: String = line.chars().take(79).collect();
        short.push('…');
        short
    } else {
        line.to_string()
    }
}

/// Splits `/name rest` into the command and its argument text.
pub fn parse(input: &str) -> Option<(&str, &str)> {
    let body = input.strip_prefix('/')?;
    let (name, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    Some((name, rest.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_and_parsing() {
        let names: Vec<_> = completions("n").iter().map(|c| c.name).collect();
        assert_eq!(names, vec!["new", "name"]);
        assert_eq!(parse("/name my work"), Some(("name", "my work")));
        assert_eq!(parse("hello"), None);
    }
}
