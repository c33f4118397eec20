//! What a command line runs: the line is tokenized by a POSIX/bash tokenizer (brush-parser),
//! split at the chain, pipeline, background and subshell operators (`&&`, `||`, `;`, `|`, `&`,
//! `(`, `)`, newlines) into segments, each segment's words unquoted (shlex) into an argv, and
//! its executable resolved on `PATH`. Anything whose argv is not known before it runs — command
//! or process substitution, reserved words and compound commands, here-documents, `eval`,
//! variable expansion in the command name, a line that does not tokenize — is marked so the
//! policy never lets it through an allowlist.

use std::path::{Path, PathBuf};

use brush_parser::Token;

/// One simple command of the line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// The unquoted words (redirections and their targets left out).
    pub argv: Vec<String>,
    /// The executable `argv[0]` names, when it exists.
    pub resolved: Option<PathBuf>,
    /// `argv[0]` was a bare name looked up on `PATH`.
    pub via_path: bool,
    /// Some word expands at run time (`$VAR`, globs, `~`): the argv shown is not exact.
    pub dynamic: bool,
    /// Runs code the analysis cannot see (substitution, compound command, `eval`, ...).
    pub nested: bool,
    /// Inline code for an interpreter (`sh -c`, `python -c`, `node -e`, ...).
    pub inline_eval: bool,
}

/// The analysis of one command line.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommandAnalysis {
    pub segments: Vec<Segment>,
    /// Nested commands (substitutions, compound commands) seen.
    pub nested_count: usize,
    /// The line did not tokenize (unbalanced quotes, ...).
    pub unparsed: bool,
}

impl CommandAnalysis {
    /// Whether every segment has an exact, literal argv with a resolved executable (so an
    /// allow-always entry can be bound to it).
    pub fn persistable(&self) -> bool {
        !self.unparsed
            && !self.segments.is_empty()
            && self
                .segments
                .iter()
                .all(|s| s.resolved.is_some() && !s.dynamic && !s.nested && !s.inline_eval)
    }
}

const SEPARATORS: &[&str] = &[
    "&&", "||", ";", "|", "|&", "&", "(", ")", "\n", ";;", ";&", ";;&",
];
const REDIRECTS: &[&str] = &[">", ">>", "<", "<>", ">|", ">&", "<&", "&>", "&>>"];
const HEREDOCS: &[&str] = &["<<", "<<-", "<<<"];
const RESERVED: &[&str] = &[
    "if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
    "function", "select", "{", "}", "!", "[[", "]]", "time", "coproc",
];
/// Builtins that run code given as text or replace the command.
const EVALUATORS: &[&str] = &["eval", "source", ".", "exec", "command", "builtin", "trap"];

/// Analyzes `command` as run in `cwd` with the search path `path_var` (`$PATH`).
pub fn analyze(command: &str, cwd: &Path, path_var: &str) -> CommandAnalysis {
    let Ok(tokens) = brush_parser::tokenize_str(command) else {
        return CommandAnalysis {
            unparsed: true,
            ..CommandAnalysis::default()
        };
    };
    let mut out = CommandAnalysis::default();
    let mut words: Vec<String> = Vec::new();
    let mut seg = Segment::default();
    let mut skip_next_word = false;
    for (i, tok) in tokens.iter().enumerate() {
        match tok {
            // A subshell's commands are segments of their own.
            Token::Operator(op, _) if SEPARATORS.contains(&op.as_str()) => {
                if std::mem::take(&mut skip_next_word) {
                    // `<(...)`, `>(...)`: a process substitution where a file was expected.
                    seg.nested = true;
                    out.nested_count += 1;
                }
                finish(&mut out, &mut seg, &mut words, cwd, path_var);
            }
            Token::Operator(op, _) if REDIRECTS.contains(&op.as_str()) => {
                // `2>file`: the io number is the word right before, touching the operator.
                if let (Some(Token::Word(w, wspan)), Some(last)) =
                    (i.checked_sub(1).map(|j| &tokens[j]), words.last())
                {
                    if w == last
                        && w.chars().all(|c| c.is_ascii_digit())
                        && wspan.end.index == tok.location().start.index
                    {
                        words.pop();
                    }
                }
                skip_next_word = true;
            }
            Token::Operator(op, _) if HEREDOCS.contains(&op.as_str()) => {
                seg.nested = true;
                skip_next_word = true;
            }
            Token::Operator(_, _) => seg.nested = true,
            Token::Word(w, _) if skip_next_word => {
                skip_next_word = false;
                if has_substitution(w) {
                    seg.nested = true;
                    out.nested_count += 1;
                }
            }
            Token::Word(w, _) => words.push(w.clone()),
        }
    }
    finish(&mut out, &mut seg, &mut words, cwd, path_var);
    out
}

/// Turns the collected raw words into the current segment and starts the next one.
fn finish(
    out: &mut CommandAnalysis,
    seg: &mut Segment,
    words: &mut Vec<String>,
    cwd: &Path,
    path_var: &str,
) {
    let raw = std::mem::take(words);
    let mut s = std::mem::take(seg);
    if raw.is_empty() {
        if s.nested {
            out.segments.push(s);
        }
        return;
    }
    // Leading `NAME=value` assignments change the command's environment.
    let start = raw.iter().take_while(|w| is_assignment(w)).count();
    if start > 0 {
        s.dynamic = true;
    }
    if start == raw.len() {
        s.nested = true;
    }
    for w in &raw[start..] {
        if has_substitution(w) {
            s.nested = true;
            out.nested_count += 1;
        }
        if is_dynamic(w) {
            s.dynamic = true;
        }
        match shlex::split(w).filter(|v| v.len() == 1) {
            Some(mut v) => s.argv.push(v.remove(0)),
            None if w.is_empty() => s.argv.push(String::new()),
            None => {
                s.nested = true;
                s.argv.push(w.clone());
            }
        }
    }
    if let Some(cmd) = s.argv.first().cloned() {
        let raw_cmd = &raw[start];
        if RESERVED.contains(&raw_cmd.as_str()) || EVALUATORS.contains(&cmd.as_str()) {
            s.nested = true;
            out.nested_count += 1;
        }
        if raw_cmd.contains('$') || raw_cmd.contains('`') {
            s.nested = true;
        }
        s.inline_eval = is_inline_eval(&s.argv);
        let (resolved, via_path) = resolve(&cmd, cwd, path_var);
        s.resolved = resolved;
        s.via_path = via_path;
    }
    out.segments.push(s);
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// `$(...)`, backticks, `<(...)`, `>(...)` outside single quotes.
fn has_substitution(w: &str) -> bool {
    let mut in_single = false;
    let mut prev = '\0';
    let mut chars = w.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' && prev != '\\' {
            in_single = !in_single;
        } else if !in_single && prev != '\\' {
            let next = chars.peek().copied();
            if c == '`' || (matches!(c, '$' | '<' | '>') && next == Some('(')) {
                return true;
            }
        }
        prev = c;
    }
    false
}

/// Expansions outside single quotes: `$`, unquoted globs, a leading `~`.
fn is_dynamic(w: &str) -> bool {
    if w.starts_with('~') {
        return true;
    }
    let mut in_single = false;
    let mut in_double = false;
    let mut prev = '\0';
    for c in w.chars() {
        let escaped = prev == '\\';
        match c {
            '\'' if !in_double && !escaped => in_single = !in_single,
            '"' if !in_single && !escaped => in_double = !in_double,
            '$' if !in_single && !escaped => return true,
            '*' | '?' | '[' | '{' if !in_single && !in_double && !escaped => return true,
            _ => {}
        }
        prev = if escaped { '\0' } else { c };
    }
    false
}

/// Interpreters and the flags that hand them inline code.
fn is_inline_eval(argv: &[String]) -> bool {
    let Some(cmd) = argv.first() else {
        return false;
    };
    let name = Path::new(cmd)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    let flags: &[&str] = match base {
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "fish" | "ash" | "mksh" => {
            // `-c`, or a cluster of short options containing `c` (`-lc`, `-ec`).
            return argv[1..]
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a[1..].contains('c'));
        }
        "python" | "pypy" => &["-c"],
        "node" | "nodejs" | "bun" | "deno" => &["-e", "--eval", "-p", "--print", "eval"],
        "perl" | "ruby" => &["-e", "-E"],
        "php" => &["-r"],
        "osascript" | "lua" | "luajit" => &["-e"],
        _ => return false,
    };
    argv[1..]
        .iter()
        .any(|a| flags.contains(&a.as_str()) || (a.starts_with("-c") && base == "python"))
}

/// The executable `cmd` names: a path (relative to `cwd`) when it has a `/`, else the first
/// executable file of that name on `path_var`. Returns it and whether `PATH` was searched.
pub fn resolve(cmd: &str, cwd: &Path, path_var: &str) -> (Option<PathBuf>, bool) {
    if cmd.is_empty() {
        return (None, false);
    }
    if cmd.contains('/') {
        let p = cwd.join(cmd);
        return (is_executable(&p).then(|| normalize(&p)), false);
    }
    let found = std::env::split_paths(path_var)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(cmd))
        .find(|p| is_executable(p));
    (found, true)
}

fn normalize(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}
