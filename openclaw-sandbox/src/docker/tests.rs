//! The engine arguments the backend builds from a config (the engine itself is exercised by
//! `tests/docker.rs`).

use super::*;
use openclaw_core::sandbox::{SandboxConfig, SandboxMode};
use serde_json::json;

fn settings(docker: serde_json::Value, access: &str) -> SandboxSettings {
    let section: SandboxConfig = serde_json::from_value(json!({
        "mode": "all", "backend": "docker", "workspaceAccess": access, "docker": docker
    }))
    .unwrap();
    SandboxSettings::layered(Path::new("/state"), [&section], [])
}

fn backend(s: SandboxSettings) -> ContainerBackend {
    let avail = Availability {
        backend: "docker".into(),
        layers: Vec::new(),
    };
    ContainerBackend::new("docker", s, "/ws".into(), "agent:main", avail)
}

#[test]
fn create_command_has_openclaws_labels_name_and_sleep_infinity() {
    let mut s = SandboxSettings::off(Path::new("/state"));
    s.mode = SandboxMode::All;
    s.workspace_access = WorkspaceAccess::Rw;
    let b = backend(s);
    let name = b.container().to_owned();
    assert!(name.starts_with("openclaw-sbx-agent-main-"), "{name}");
    assert_eq!(name.len(), "openclaw-sbx-agent-main-".len() + 8);
    let a = b.spec().create_args(1700000000000, None).unwrap().join(" ");
    for part in [
        "create --init --pull never --name openclaw-sbx-agent-main-",
        "--label openclaw.sandbox=1",
        "--label openclaw.sessionKey=agent:main",
        "--label openclaw.createdAtMs=1700000000000",
        "--label openclaw.mountFormatVersion=4",
        "--label openclaw.configHash=",
        "--read-only --network none --cap-drop ALL --security-opt no-new-privileges",
        "--pids-limit 256 --memory 1024m",
        "--tmpfs /tmp --tmpfs /var/tmp --tmpfs /run -v /ws:/workspace",
        "-w /workspace openclaw-sandbox:bookworm-slim sleep infinity",
    ] {
        assert!(a.contains(part), "missing `{part}` in: {a}");
    }
}

#[test]
fn openclaws_docker_keys_become_engine_options() {
    let s = settings(
        json!({
            "image": "my/img:1", "user": "1000:1000", "cpus": 1.5, "memory": "2g",
            "memorySwap": "3g", "readOnlyRoot": false, "capDrop": ["NET_RAW"],
            "tmpfs": ["/scratch"], "dns": ["9.9.9.9"], "extraHosts": ["db:10.0.0.2"],
            "ulimits": {"nofile": {"soft": 1024, "hard": 2048}, "core": 0},
            "seccompProfile": "/etc/sb.json", "apparmorProfile": "sb",
            "binds": ["/srv/src:/source:ro"], "env": {"LANG": "C.UTF-8"},
            "setupCommand": "apk add git", "pidsLimit": 64, "workdir": "/work"
        }),
        "none",
    );
    let b = backend(s);
    let a = b
        .spec()
        .create_args(1, Some(Path::new("/tmp/envf")))
        .unwrap()
        .join(" ");
    for part in [
        "--network none --cap-drop NET_RAW --security-opt no-new-privileges",
        "--security-opt seccomp=/etc/sb.json --security-opt apparmor=sb",
        "--pids-limit 64 --memory 2g --memory-swap 3g --cpus 1.5",
        "--ulimit core=0:0 --ulimit nofile=1024:2048 --tmpfs",
        "--tmpfs /scratch -v /state/sandboxes/agent-main-",
        ":/work -v /srv/src:/source:ro --dns 9.9.9.9 --add-host db:10.0.0.2 --user 1000:1000",
        "-w /work --env-file /tmp/envf my/img:1 sleep infinity",
    ] {
        assert!(a.contains(part), "missing `{part}` in: {a}");
    }
    assert!(!a.contains("--read-only"), "{a}");
}

#[test]
fn a_changed_setting_changes_the_config_hash() {
    let base = backend(settings(json!({"env": {"A": "1"}}), "rw"));
    let same = backend(settings(json!({"env": {"A": "1"}}), "rw"));
    let h = base.spec().config_hash().unwrap();
    assert_eq!(h, same.spec().config_hash().unwrap());
    for other in [
        settings(json!({"env": {"A": "2"}}), "rw"),
        settings(json!({"env": {"A": "1"}, "setupCommand": "true"}), "rw"),
        settings(json!({"env": {"A": "1"}, "cpus": 2}), "rw"),
        settings(json!({"env": {"A": "1"}}), "ro"),
    ] {
        assert_ne!(h, backend(other).spec().config_hash().unwrap());
    }
}

#[test]
fn host_network_and_dangerous_binds_are_refused() {
    let mut s = settings(json!({"network": "host"}), "rw");
    assert!(s.network);
    let err = backend(s.clone()).spec().options().unwrap_err();
    assert!(err.contains("\"host\" is refused"), "{err}");
    s.docker.network = Some("container:abc".into());
    assert!(backend(s).spec().options().is_err());
    let named = settings(json!({"network": "sbx-net"}), "rw");
    let a = backend(named).spec().options().unwrap().join(" ");
    assert!(a.contains("--network sbx-net"), "{a}");
    for bad in [
        json!({"image": "--privileged"}),
        json!({"user": "--privileged"}),
        json!({"capDrop": ["--privileged"]}),
        json!({"dns": ["--net=host"]}),
    ] {
        let err = backend(settings(bad.clone(), "rw"))
            .spec()
            .options()
            .unwrap_err();
        assert!(err.contains("would be read as an option"), "{bad}: {err}");
    }
    for bind in [
        "/var/run/docker.sock:/var/run/docker.sock",
        "/:/host:ro",
        "/state:/s",
        "relative:/x",
        "/srv:/workspace",
    ] {
        let s = settings(json!({ "binds": [bind] }), "rw");
        let err = backend(s).spec().options().unwrap_err();
        assert!(err.contains(bind), "{bind}: {err}");
    }
}

#[test]
fn env_file_and_path_prefix_follow_openclaw() {
    let env = vec![
        ("OPENCLAW_TOOL_RUN".to_string(), "m1".to_string()),
        ("PATH".to_string(), "/opt/tools/bin".to_string()),
    ];
    let (vars, script) = spec::exec_env_and_script(&env, "mytool --v");
    assert_eq!(
        script,
        "export PATH=\"${OPENCLAW_PREPEND_PATH}:$PATH\"; unset OPENCLAW_PREPEND_PATH; mytool --v"
    );
    let f = spec::env_file(&vars).unwrap();
    let text = std::fs::read_to_string(f.path()).unwrap();
    assert_eq!(
        text,
        "OPENCLAW_TOOL_RUN=m1\nOPENCLAW_PREPEND_PATH=/opt/tools/bin\n"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(&f.path().metadata().unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the env file is private");
    let path = f.path().to_path_buf();
    drop(f);
    assert!(!path.exists(), "the env file is deleted");
    let bad = vec![("K".to_string(), "two\nlines".to_string())];
    assert!(spec::env_file(&bad).is_err());
}

#[test]
fn the_working_directory_maps_into_the_container() {
    let b = backend(settings(json!({}), "rw"));
    let spec = b.spec();
    assert_eq!(
        spec.container_cwd(Path::new("/ws/src/lib")),
        "/workspace/src/lib"
    );
    assert_eq!(spec.container_cwd(Path::new("/ws")), "/workspace");
    assert_eq!(spec.container_cwd(Path::new("/elsewhere")), "/workspace");
}
