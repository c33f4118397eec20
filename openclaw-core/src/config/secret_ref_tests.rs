//! SecretRefs resolved against real files and real provider processes.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::{Value, json};

use super::{SecretRefError, SecretsConfig};

fn secrets(config: Value) -> SecretsConfig {
    SecretsConfig::from_openclaw_json(&json!({ "secrets": config })).unwrap()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn resolve(s: &SecretsConfig, value: Value) -> Result<Option<String>, SecretRefError> {
    s.resolve_input(&value, &no_env)
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn message(r: Result<Option<String>, SecretRefError>) -> String {
    match r {
        Err(e) => e.0,
        Ok(v) => panic!("resolved to {v:?}"),
    }
}

#[test]
fn literals_env_refs_and_the_shorthand() {
    let s = secrets(json!({"providers": {"locked": {"source": "env", "allowlist": ["OK_KEY"]}}}));
    let env = |k: &str| (k == "OK_KEY" || k == "OTHER").then(|| format!("v-{k}"));
    let get = |v: Value| s.resolve_input(&v, &env);
    assert_eq!(get(json!(" plain ")).unwrap().as_deref(), Some("plain"));
    assert_eq!(get(json!("")).unwrap(), None);
    let not_a_ref = message(get(json!({"source": "vault", "id": "x"})));
    assert!(not_a_ref.starts_with("not a SecretRef"), "{not_a_ref}");
    assert_eq!(
        get(json!({"source": "env", "provider": "default", "id": "OTHER"}))
            .unwrap()
            .as_deref(),
        Some("v-OTHER")
    );
    assert_eq!(get(json!("${OTHER}")).unwrap().as_deref(), Some("v-OTHER"));
    assert_eq!(get(json!("$OTHER")).unwrap().as_deref(), Some("v-OTHER"));
    assert_eq!(
        get(json!({"source": "env", "provider": "locked", "id": "OK_KEY"}))
            .unwrap()
            .as_deref(),
        Some("v-OK_KEY")
    );
    let denied = message(get(
        json!({"source": "env", "provider": "locked", "id": "OTHER"}),
    ));
    assert!(
        denied.contains("not allowlisted in secrets.providers.locked.allowlist"),
        "{denied}"
    );
    let missing = message(get(
        json!({"source": "env", "provider": "default", "id": "NOPE"}),
    ));
    assert_eq!(
        missing,
        "Environment variable \"NOPE\" is missing or empty."
    );
}

#[test]
fn unknown_mismatched_and_store_providers_are_errors() {
    let s = secrets(json!({"providers": {"vault": {"source": "exec", "command": "/bin/true"}}}));
    let unknown = message(resolve(
        &s,
        json!({"source": "file", "provider": "fm", "id": "/a"}),
    ));
    assert_eq!(
        unknown,
        "Secret provider \"fm\" is not configured (ref: file:fm:/a)."
    );
    let mismatch = message(resolve(
        &s,
        json!({"source": "file", "provider": "vault", "id": "/a"}),
    ));
    assert!(
        mismatch.contains("has source \"exec\" but ref requests \"file\""),
        "{mismatch}"
    );
    let store = message(resolve(
        &s,
        json!({"source": "store", "provider": "default", "id": "K"}),
    ));
    assert!(store.contains("not supported"), "{store}");
    let bad_id = message(resolve(
        &s,
        json!({"source": "exec", "provider": "vault", "id": "a/../b"}),
    ));
    assert!(bad_id.contains("invalid id"), "{bad_id}");
}

#[test]
fn file_provider_reads_a_private_file_and_refuses_a_shared_one() {
    let d = tempfile::tempdir().unwrap();
    let json_file = d.path().join("secrets.json");
    write(
        &json_file,
        r#"{"skills": {"lab": "sk-from-file"}, "n": 3}"#,
        0o600,
    );
    let single = d.path().join("token");
    write(&single, "tok-123\n", 0o600);
    let s = secrets(json!({"providers": {
        "fm": {"source": "file", "path": json_file},
        "one": {"source": "file", "path": single, "mode": "singleValue"}
    }}));
    let r = |provider: &str, id: &str| {
        resolve(
            &s,
            json!({"source": "file", "provider": provider, "id": id}),
        )
    };
    assert_eq!(
        r("fm", "/skills/lab").unwrap().as_deref(),
        Some("sk-from-file")
    );
    assert_eq!(r("one", "value").unwrap().as_deref(), Some("tok-123"));
    assert!(message(r("fm", "/skills/none")).contains("does not exist"));
    assert!(message(r("fm", "/n")).contains("non-string or empty value"));
    assert!(message(r("one", "/x")).contains("expects ref id \"value\""));

    std::fs::set_permissions(&json_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let open = message(r("fm", "/skills/lab"));
    assert!(open.contains("permissions are too open"), "{open}");
    assert!(!open.contains("sk-from-file"));

    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&single, &link).unwrap();
    let s = secrets(
        json!({"providers": {"l": {"source": "file", "path": link, "mode": "singleValue"}}}),
    );
    let linked = message(resolve(
        &s,
        json!({"source": "file", "provider": "l", "id": "value"}),
    ));
    assert!(linked.contains("must not be a symlink"), "{linked}");

    let hard = d.path().join("hard");
    std::fs::hard_link(&single, &hard).unwrap();
    let s = secrets(
        json!({"providers": {"h": {"source": "file", "path": hard, "mode": "singleValue"}}}),
    );
    let hardlinked = message(resolve(
        &s,
        json!({"source": "file", "provider": "h", "id": "value"}),
    ));
    assert!(
        hardlinked.contains("must not be hardlinked"),
        "{hardlinked}"
    );
}

/// An exec provider script (no shell between us and it: the script's own interpreter).
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    write(&path, &format!("#!/bin/sh\n{body}\n"), 0o700);
    path.to_string_lossy().into_owned()
}

#[test]
fn exec_provider_answers_by_protocol_and_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    // Echoes the request back inside the value, so the test sees what it was asked.
    let ok = script(
        d.path(),
        "ok",
        r#"req=$(cat); printf '{"protocolVersion":1,"values":{"skills/lab":"sk-exec %s %s"}}' "$MARK" "$(echo "$req" | tr -d '"{}' )""#,
    );
    let plain = script(d.path(), "plain", "cat >/dev/null; echo bare-value");
    let errs = script(
        d.path(),
        "errs",
        r#"cat >/dev/null; echo '{"protocolVersion":1,"values":{},"errors":{"skills/lab":{"code":"NOT_FOUND","message":"leak sk-zzz"}}}'"#,
    );
    let hang = script(d.path(), "hang", "exec sleep 30");
    let fails = script(d.path(), "fails", "exit 3");
    let loud = script(d.path(), "loud", "cat >/dev/null; yes x | head -c 100000");
    let s = secrets(json!({"providers": {
        "ok": {"source": "exec", "command": ok, "passEnv": ["MARK", "NOT_SET"], "env": {"K": "v"}},
        "plain": {"source": "exec", "command": plain, "jsonOnly": false},
        "strict": {"source": "exec", "command": plain},
        "errs": {"source": "exec", "command": errs},
        "hang": {"source": "exec", "command": hang, "timeoutMs": 300},
        "fails": {"source": "exec", "command": fails},
        "loud": {"source": "exec", "command": loud, "maxOutputBytes": 1000},
        "rel": {"source": "exec", "command": "ok"},
        "outside": {"source": "exec", "command": ok, "trustedDirs": ["/nonexistent-dir"]}
    }}));
    let env = |k: &str| (k == "MARK").then(|| "m1".to_owned());
    let r = |p: &str| {
        s.resolve_input(
            &json!({"source": "exec", "provider": p, "id": "skills/lab"}),
            &env,
        )
    };
    assert_eq!(
        r("ok").unwrap().as_deref(),
        Some("sk-exec m1 protocolVersion:1,provider:ok,ids:[skills/lab]")
    );
    assert_eq!(r("plain").unwrap().as_deref(), Some("bare-value"));
    assert!(message(r("strict")).contains("returned invalid JSON"));
    let failed = message(r("errs"));
    assert_eq!(
        failed,
        "Exec provider \"errs\" failed for id \"skills/lab\" (NOT_FOUND)."
    );
    assert_eq!(
        message(r("hang")),
        "Exec provider \"hang\" timed out after 300ms."
    );
    assert_eq!(
        message(r("fails")),
        "Exec provider \"fails\" exited with code 3."
    );
    assert!(message(r("loud")).contains("exceeded maxOutputBytes (1000)"));
    assert!(message(r("rel")).contains("must be an absolute path"));
    assert!(message(r("outside")).contains("outside trustedDirs"));

    let shared = script(d.path(), "shared", "echo x");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let s = secrets(json!({"providers": {"w": {"source": "exec", "command": shared}}}));
    let open = message(resolve(
        &s,
        json!({"source": "exec", "provider": "w", "id": "k"}),
    ));
    assert!(open.contains("permissions are too open"), "{open}");
}

#[test]
fn debug_of_an_exec_provider_shows_env_names_only() {
    let s = secrets(
        json!({"providers": {"v": {"source": "exec", "command": "/x", "env": {"VAULT_TOKEN": "hunter2"}}}}),
    );
    let shown = format!("{s:?}");
    assert!(
        shown.contains("VAULT_TOKEN") && !shown.contains("hunter2"),
        "{shown}"
    );
}
