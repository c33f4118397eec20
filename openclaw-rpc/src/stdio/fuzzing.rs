//! The fuzz harness of RPC mode's input, shared by the `rpc_lines` target in `fuzz/` and the
//! corpus replay test (`tests/fuzz_corpus.rs`). Not part of the public API.

use tokio::io::BufReader;

use super::commands::{prompt_input, queue_mode, require_bool};
use super::framing::{Line, LineReader, encode_line};
use super::wire::{Command, Incoming, Response, parse_line, unknown_command};

/// Stdin bytes (all but the first byte, which picks the read size and the line limit) through
/// the line reader, the command classifier and each command's argument parsing. Properties: the
/// reader yields one record per line, and every rejection encodes as exactly one JSON line.
pub fn rpc_lines(data: &[u8]) {
    let Some((&knobs, input)) = data.split_first() else {
        return;
    };
    let capacity = usize::from(knobs & 0x3f) + 1;
    let max = 256usize << (knobs >> 6);
    let lines = futures::executor::block_on(read_all(input, capacity, max));
    let expected = input.split(|&b| b == b'\n').count() - usize::from(input.ends_with(b"\n"));
    let expected = if input.is_empty() { 0 } else { expected };
    assert_eq!(lines.len(), expected, "one record per line");
    for line in lines {
        if let Line::Text(t) = &line {
            assert!(t.len() <= max && !t.contains('\n'));
        }
        match parse_line(line) {
            Incoming::Reject(r) => check_encoding(&r),
            Incoming::Command(cmd) => {
                if let Err(e) = arguments(&cmd) {
                    check_encoding(&Response::error(cmd.id.clone(), &cmd.kind, e));
                }
                check_encoding(&unknown_command(&cmd.kind));
            }
        }
    }
}

async fn read_all(input: &[u8], capacity: usize, max: usize) -> Vec<Line> {
    let mut reader = LineReader::new(BufReader::with_capacity(capacity, input), max);
    let mut lines = Vec::new();
    while let Ok(Some(line)) = reader.next_line().await {
        lines.push(line);
    }
    lines
}

/// The argument parsing `commands::dispatch` does before it calls the engine.
fn arguments(cmd: &Command) -> Result<(), String> {
    match cmd.kind.as_str() {
        "prompt" | "steer" | "follow_up" => prompt_input(cmd).map(drop),
        "set_steering_mode" | "set_follow_up_mode" => queue_mode(cmd).map(drop),
        "set_auto_compaction" | "set_auto_retry" => require_bool(cmd, "enabled").map(drop),
        "set_model" => cmd
            .require_str("provider")
            .and(cmd.require_str("modelId"))
            .map(drop),
        "set_thinking_level" => cmd.require_str("level").map(drop),
        "switch_session" => cmd.require_str("sessionPath").map(drop),
        "fork" => cmd.require_str("entryId").map(drop),
        "set_session_name" => cmd.require_str("name").map(drop),
        _ => Ok(()),
    }
}

fn check_encoding(response: &Response) {
    let line = match encode_line(response) {
        Ok(line) => line,
        Err(e) => panic!("response does not encode: {e}"),
    };
    assert_eq!(line.iter().filter(|&&b| b == b'\n').count(), 1);
    assert!(line.ends_with(b"\n"));
    let back: Result<serde_json::Value, _> = serde_json::from_slice(&line);
    assert!(
        back.is_ok_and(|v| v.is_object()),
        "response is not a JSON object"
    );
}
