//! The SQLite state store against real database files: rows, paging, counts, migrations from an
//! older schema, refusal of damaged or newer databases, and the one-time import of OpenClaw's
//! `sessions.json`.

use std::path::Path;

use openclaw_state::{
    KindFilter, SessionOrder, SessionQuery, SessionRow, SqliteStore, StateError, StateStore,
    TurnRecord, paths, schema,
};
use serde_json::json;

fn row(key: &str, at: u64) -> SessionRow {
    let agent = key.split(':').nth(1).unwrap_or("main");
    let mut r = SessionRow::new(key, agent, at);
    r.session_id = Some(format!("id-{at}"));
    r.transcript = Some(format!("agents/{agent}/sessions/id-{at}.jsonl"));
    r
}

#[test]
fn rows_are_written_through_and_seen_by_a_second_connection() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path()).unwrap();
    let b = SqliteStore::open(dir.path()).unwrap();
    let mut r = row("agent:main:x", 10);
    r.meta.model_override = Some("m1".into());
    r.meta
        .extra
        .insert("origin".into(), json!({"channel": "cli"}));
    a.put_session(&r).unwrap();
    assert_eq!(b.session("agent:main:x").unwrap().unwrap(), r);
    b.update_session("agent:main:x", &mut |r| r.label = Some("L".into()))
        .unwrap();
    assert_eq!(
        a.session("agent:main:x").unwrap().unwrap().label.as_deref(),
        Some("L")
    );
    a.record_turn(
        "agent:main:x",
        &TurnRecord {
            at: 20,
            run_id: "r1".into(),
            model: Some("gpt".into()),
            input_tokens: 3,
            output_tokens: 4,
            total_tokens: 7,
            ..TurnRecord::default()
        },
    )
    .unwrap();
    a.record_turn(
        "agent:main:x",
        &TurnRecord {
            at: 30,
            run_id: "r2".into(),
            input_tokens: 1,
            ..TurnRecord::default()
        },
    )
    .unwrap();
    let got = b.session("agent:main:x").unwrap().unwrap();
    assert_eq!(got.updated_at, 30);
    assert_eq!(got.meta.input_tokens, Some(4));
    assert_eq!(got.meta.total_tokens, Some(7));
    assert_eq!(got.meta.model.as_deref(), Some("gpt"));
    assert_eq!(got.meta.last_run_id.as_deref(), Some("r2"));
    assert_eq!(got.meta.extra["origin"], json!({"channel": "cli"}));
    assert!(b.delete_session("agent:main:x").unwrap().is_some());
    assert!(a.session("agent:main:x").unwrap().is_none());
    assert!(
        a.update_session("agent:main:x", &mut |_| {})
            .unwrap()
            .is_none()
    );
}

#[test]
fn pages_are_newest_first_and_counts_follow_inserts_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    for i in 0..30 {
        s.put_session(&row(&format!("agent:main:k{i}"), 100 + i))
            .unwrap();
    }
    s.put_session(&row("agent:ops:k", 1)).unwrap();
    // Replacing a row does not count it twice.
    s.put_session(&row("agent:main:k0", 100)).unwrap();
    assert_eq!(s.count_sessions(None).unwrap(), 31);
    assert_eq!(s.count_sessions(Some("main")).unwrap(), 30);
    let page = s
        .list_sessions(&SessionQuery {
            limit: Some(5),
            offset: 2,
            ..SessionQuery::default()
        })
        .unwrap();
    assert_eq!(page.total, 31);
    let keys: Vec<&str> = page.rows.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "agent:main:k27",
            "agent:main:k26",
            "agent:main:k25",
            "agent:main:k24",
            "agent:main:k23"
        ]
    );
    let filtered = s
        .list_sessions(&SessionQuery {
            agent_ids: Some(vec!["main".into()]),
            updated_since: Some(125),
            search: Some("K2".into()),
            ..SessionQuery::default()
        })
        .unwrap();
    assert_eq!(filtered.total, 5, "k25..k29");
    s.delete_session("agent:main:k3").unwrap();
    assert_eq!(s.count_sessions(Some("main")).unwrap(), 29);
}

fn keys_of(s: &SqliteStore, q: &SessionQuery) -> (Vec<String>, u64) {
    let page = s.list_sessions(q).unwrap();
    (page.rows.into_iter().map(|r| r.key).collect(), page.total)
}

#[test]
fn sessions_list_filters_run_in_sql() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    for (i, k) in [
        "agent:main:main",
        "agent:main:cron:job1",
        "agent:main:subagent:x",
        "agent:main:hook:gmail",
        "agent:main:heartbeat",
        "agent:main:spawned",
        "agent:main:old",
    ]
    .iter()
    .enumerate()
    {
        let mut r = row(k, 100 + i as u64);
        if *k == "agent:main:spawned" {
            r.spawned_by = Some("agent:main:main".into());
        }
        if *k == "agent:main:old" {
            r.meta.archived = Some(true);
        }
        if *k == "agent:main:cron:job1" {
            r.meta.last_interaction_at = Some(1_000);
        }
        s.put_session(&r).unwrap();
    }
    let q = |f: &dyn Fn(&mut SessionQuery)| {
        let mut q = SessionQuery::default();
        f(&mut q);
        keys_of(&s, &q)
    };
    let (keys, total) = q(&|q| {
        q.exclude = KindFilter {
            subagents: true,
            cron: true,
            system: true,
        }
    });
    assert_eq!(
        (keys, total),
        (vec!["agent:main:old".into(), "agent:main:main".into()], 2)
    );
    assert_eq!(q(&|q| q.archived = Some(true)).0, ["agent:main:old"]);
    assert_eq!(q(&|q| q.archived = Some(false)).1, 6);
    let (keys, total) = q(&|q| q.keys = Some(vec!["agent:main:cron:job1".into()]));
    assert_eq!((keys, total), (vec!["agent:main:cron:job1".into()], 1));
    // Rows of the first keys come first, then newest first.
    let (keys, _) = q(&|q| {
        q.first_keys = vec!["agent:main:main".into()];
        q.limit = Some(2);
    });
    assert_eq!(keys, ["agent:main:main", "agent:main:old"]);
    let (keys, _) = q(&|q| {
        q.order = SessionOrder::LastInteractionAt;
        q.limit = Some(1);
    });
    assert_eq!(keys, ["agent:main:cron:job1"]);
    let (keys, _) = q(&|q| q.offset = 1);
    assert_eq!(keys[0], "agent:main:spawned");
}

#[test]
fn an_older_schema_is_migrated_with_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = paths::database(dir.path());
    {
        let mut conn = SqliteStore::connect(&path).unwrap();
        schema::migrate_to(&mut conn, 1).unwrap();
        assert_eq!(schema::version(&conn).unwrap(), 1);
        for (k, a) in [
            ("agent:main:a", "main"),
            ("agent:main:b", "main"),
            ("agent:ops:c", "ops"),
        ] {
            conn.execute(
                "INSERT INTO sessions (key, agent_id, updated_at) VALUES (?1, ?2, 5)",
                [k, a],
            )
            .unwrap();
        }
    }
    let s = SqliteStore::open(dir.path()).unwrap();
    let conn = SqliteStore::connect(&path).unwrap();
    assert_eq!(schema::version(&conn).unwrap(), schema::CURRENT);
    assert_eq!(s.count_sessions(Some("main")).unwrap(), 2);
    assert_eq!(s.count_sessions(None).unwrap(), 3);
    assert_eq!(
        s.session("agent:ops:c").unwrap().unwrap().agent_id,
        "ops",
        "a v1 row reads with an empty meta"
    );
}

#[test]
fn a_newer_or_damaged_database_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = paths::database(dir.path());
    {
        let conn = SqliteStore::connect(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(dir.path()).err().unwrap();
    assert!(matches!(err, StateError::TooNew { found: 99, .. }), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let path = paths::database(dir.path());
    let junk = b"this is not a database, but it is someone's file\n".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let err = SqliteStore::open(dir.path()).err().unwrap();
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

fn write_index(dir: &Path, agent: &str, text: &str) -> std::path::PathBuf {
    let sessions = paths::sessions_dir(dir, agent);
    std::fs::create_dir_all(&sessions).unwrap();
    let file = sessions.join("sessions.json");
    std::fs::write(&file, text).unwrap();
    file
}

#[test]
fn openclaw_sessions_json_is_imported_once_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let old_home = "/home/someone/.openclaw/agents/main/sessions";
    let text = json!({
        "agent:main:main": {"sessionId": "s1", "sessionFile": format!("{old_home}/s1.jsonl"),
            "updatedAt": 1700, "label": "first", "modelOverride": "gpt-5",
            "origin": {"provider": "webchat"}, "deliveryContext": {"channel": "x"}},
        "agent:main:two": {"sessionId": "s2", "updatedAt": 1800, "pinned": "yes"},
    })
    .to_string();
    let file = write_index(dir.path(), "main", &text);
    let s = SqliteStore::open(dir.path()).unwrap();
    let main = s.session("agent:main:main").unwrap().unwrap();
    assert_eq!(
        main.transcript.as_deref(),
        Some("agents/main/sessions/s1.jsonl")
    );
    assert_eq!(
        s.transcript_path(&main).unwrap(),
        dir.path().join("agents/main/sessions/s1.jsonl")
    );
    assert_eq!(main.agent_id, "main");
    assert_eq!(main.label.as_deref(), Some("first"));
    assert_eq!(main.meta.model_override.as_deref(), Some("gpt-5"));
    assert_eq!(main.meta.extra["origin"], json!({"provider": "webchat"}));
    let two = s.session("agent:main:two").unwrap().unwrap();
    assert_eq!(
        two.transcript.as_deref(),
        Some("agents/main/sessions/s2.jsonl")
    );
    assert_eq!(two.meta.pinned, None);
    assert_eq!(two.meta.extra["importedInvalid"], json!({"pinned": "yes"}));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // Deleted rows stay deleted: the file is not imported again.
    s.delete_session("agent:main:two").unwrap();
    drop(s);
    let s = SqliteStore::open(dir.path()).unwrap();
    assert!(s.session("agent:main:two").unwrap().is_none());
    assert_eq!(s.count_sessions(None).unwrap(), 1);
}

#[test]
fn an_unreadable_sessions_json_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = "{\"agent:main:main\": {\"sessionId\": \"s1\"\u{1}";
    let file = write_index(dir.path(), "main", text);
    let err = SqliteStore::open(dir.path()).err().unwrap().to_string();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    // Fixed, it imports.
    std::fs::write(&file, "{\"agent:main:main\": {\"sessionId\": \"s1\"}}").unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(s.count_sessions(None).unwrap(), 1);
}

#[test]
fn a_page_is_read_through_an_index_not_by_sorting_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    for i in 0..200 {
        s.put_session(&row(&format!("agent:main:k{i}"), i)).unwrap();
    }
    for agents in [None, Some(vec!["main".to_owned()])] {
        let plan = s
            .list_plan(&SessionQuery {
                agent_ids: agents.clone(),
                limit: Some(50),
                ..SessionQuery::default()
            })
            .unwrap()
            .join("; ");
        assert!(plan.contains("USING INDEX"), "{agents:?}: {plan}");
        assert!(
            !plan.contains("TEMP B-TREE"),
            "{agents:?}: sorts the table: {plan}"
        );
    }
}

#[test]
fn a_cached_page_query_runs_again_without_being_prepared_again() {
    // SQLite re-prepares a statement whose plan looked at a bound value (a `LIMIT ?`) each
    // time that value is bound, unless the planner's stability guarantee is on: then the
    // statement cache is worth nothing for page queries.
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path()).unwrap();
    for i in 0..20 {
        s.put_session(&row(&format!("agent:main:k{i}"), i)).unwrap();
    }
    let conn = SqliteStore::connect(&paths::database(dir.path())).unwrap();
    let sql = "SELECT key FROM sessions WHERE agent_id IN (?1) ORDER BY updated_at DESC \
               LIMIT ?2 OFFSET ?3";
    for (limit, offset) in [(5, 0), (50, 0), (5, 5), (5, 0)] {
        let mut stmt = conn.prepare_cached(sql).unwrap();
        let keys: Vec<String> = stmt
            .query_map(rusqlite::params!["main", limit, offset], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(keys.len(), (limit as usize).min(20 - offset as usize));
        assert_eq!(keys[0], format!("agent:main:k{}", 19 - offset));
        assert_eq!(
            stmt.get_status(rusqlite::StatementStatus::RePrepare),
            0,
            "limit {limit} offset {offset}"
        );
    }
}
