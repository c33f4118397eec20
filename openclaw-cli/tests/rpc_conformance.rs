//! pi 0.73.1 RPC conformance: runs the shared suite (`shared/conformance/rpc/run_all.sh`, which
//! starts its own fake LLM on a free loopback port) against the debug `openclaw` binary with
//! `--loose-errors`, prints its table and fails when any scenario fails.
//!
//! The suite is found by `openclaw_core::testing::prereq` (`shared/` beside the repository, or
//! `$OPENCLAW_SHARED_DIR`); without it, or without python3, the test is skipped with the reason on
//! stderr, and fails under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use openclaw_core::testing::prereq;

/// The shared suite's runner (`None`: reported as missing, a failure under `CI=true`).
fn suite_script() -> Option<PathBuf> {
    prereq::shared_path("conformance/rpc/run_all.sh")
}

#[test]
fn rpc_mode_passes_the_pi_conformance_suite() {
    let Some(script) = suite_script() else {
        return;
    };
    if !prereq::command("python3") {
        return;
    }
    run_suite(&script, &["--loose-errors"]);
}

/// The retry scenarios recorded from pi 0.73.1 for this repository (`tests/rpc_retry`), compared
/// with `--strict`: the full event stream, not only its structure.
#[test]
fn rpc_mode_matches_pi_around_the_retry_wait() {
    let Some(script) = suite_script() else {
        return;
    };
    if !prereq::command("python3") {
        return;
    }
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rpc_retry");
    run_suite(
        &script,
        &["--strict", "--suite", suite.to_str().expect("UTF-8 path")],
    );
}

/// Skills and prompt templates (`tests/rpc_skills`, recorded from pi 0.73.1): `get_commands`
/// lists them as pi does, and `/skill:name` and `/template` prompts are expanded as pi expands
/// them; compared with `--strict`.
#[test]
fn rpc_mode_matches_pi_for_skills_and_prompt_templates() {
    let Some(script) = suite_script() else {
        return;
    };
    if !prereq::command("python3") {
        return;
    }
    let suite = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rpc_skills");
    run_suite(
        &script,
        &["--strict", "--suite", suite.to_str().expect("UTF-8 path")],
    );
}

/// Runs `run_all.sh` against the debug binary with `extra` options; fails unless every scenario
/// passed.
fn run_suite(script: &Path, extra: &[&str]) {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let binary = env!("CARGO_BIN_EXE_openclaw");
    let output = Command::new("bash")
        .arg(script)
        .arg(binary)
        .args(extra)
        .args(["-j", "2", "--timeout-scale", "2", "-o"])
        .arg(out_dir.path())
        .output()
        .expect("run the conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        output.status.success() && last.ends_with(" 0 failed"),
        "conformance scenarios failed (status {:?}): {last}",
        output.status.code()
    );
}
