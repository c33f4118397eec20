//! The rule for a missing test prerequisite (`openclaw_core::testing::prereq`), checked on a real
//! child test process: under `CI=true` the test fails and says what is missing; elsewhere it is
//! skipped with a `SKIP` line on stderr that the harness does not swallow.

use std::process::{Command, Output};

use openclaw_core::testing::prereq;

#[test]
#[ignore = "run by the test below, in a child process with shared/ pointed nowhere"]
fn child_needs_the_shared_folder() {
    assert!(prereq::shared_dir().is_none());
}

fn run_child(ci: &str) -> Output {
    Command::new(std::env::current_exe().expect("this test binary"))
        .args(["child_needs_the_shared_folder", "--exact", "--ignored"])
        .env("OPENCLAW_SHARED_DIR", "/nonexistent/shared")
        .env("CI", ci)
        .output()
        .expect("run the child test")
}

#[test]
fn a_missing_prerequisite_fails_under_ci_and_is_reported_elsewhere() {
    let ci = run_child("true");
    let out = String::from_utf8_lossy(&ci.stdout);
    assert!(!ci.status.success(), "must fail under CI:\n{out}");
    assert!(
        out.contains("the shared/ folder (with fake_llm.py) is missing under CI=true"),
        "{out}"
    );

    let local = run_child("");
    let err = String::from_utf8_lossy(&local.stderr);
    assert!(local.status.success(), "{err}");
    assert!(
        err.contains(
            "SKIP child_needs_the_shared_folder: the shared/ folder (with fake_llm.py) is missing"
        ),
        "{err}"
    );
}
