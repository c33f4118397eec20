//! The cron store against real database files: migration from the previous schema with its
//! rows kept, the start/finish receipts that make runs exactly-once, two writers (two
//! connections, as the gateway and a CLI command), reopening, and history pruning.

use openclaw_core::protocol::cron::{
    CronJob, CronJobState, CronPayload, CronRunLogEntry, CronSchedule, RunStatus, SessionTarget,
    WakeMode,
};
use openclaw_state::{CronStore, RunLogLimits, RunQuery, SqliteStore, StateStore, paths, schema};

fn job(id: &str) -> CronJob {
    CronJob {
        id: id.into(),
        name: format!("job {id}"),
        display_name: None,
        description: None,
        agent_id: Some("main".into()),
        session_key: None,
        enabled: true,
        delete_after_run: None,
        created_at_ms: 1_000,
        updated_at_ms: 1_000,
        schedule: CronSchedule::Every {
            every_ms: 60_000,
            anchor_ms: Some(1_000),
        },
        session_target: SessionTarget::Isolated,
        wake_mode: WakeMode::Now,
        payload: CronPayload::SystemEvent { text: "hi".into() },
        delivery: None,
        failure_alert: None,
        state: CronJobState {
            next_run_at_ms: Some(61_000),
            ..CronJobState::default()
        },
        config_revision: None,
        owner: None,
    }
}

fn entry(job_id: &str, run_id: &str, status: RunStatus, ts: u64) -> CronRunLogEntry {
    CronRunLogEntry {
        ts,
        job_id: job_id.into(),
        action: "finished".into(),
        status: Some(status),
        run_id: Some(run_id.into()),
        run_at_ms: Some(ts - 10),
        summary: Some(format!("summary of {run_id}")),
        ..CronRunLogEntry::default()
    }
}

fn all_runs(store: &SqliteStore, job_id: &str) -> Vec<String> {
    store
        .cron_runs(&RunQuery {
            job_id: Some(job_id.into()),
            limit: 10_000,
            ..RunQuery::default()
        })
        .unwrap()
        .entries
        .into_iter()
        .filter_map(|e| e.run_id)
        .collect()
}

#[test]
fn a_v3_database_gains_the_cron_tables_and_keeps_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = paths::database(dir.path());
    {
        let mut conn = SqliteStore::connect(&path).unwrap();
        schema::migrate_to(&mut conn, 3).unwrap();
        conn.execute(
            "INSERT INTO sessions (key, agent_id, updated_at) VALUES ('agent:main:main', 'main', 5)",
            [],
        )
        .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        schema::version(&SqliteStore::connect(&path).unwrap()).unwrap(),
        schema::CURRENT
    );
    assert_eq!(store.count_sessions(None).unwrap(), 1);
    assert!(store.cron_jobs().unwrap().is_empty());
    store.put_cron_job(&job("a")).unwrap();
    assert_eq!(store.cron_job("a").unwrap().unwrap(), job("a"));
}

#[test]
fn a_started_run_survives_a_crash_as_a_receipt_and_is_settled_once() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let mut j = job("a");
        store.put_cron_job(&j).unwrap();
        j.state.running_at_ms = Some(61_000);
        j.state.next_run_at_ms = Some(121_000);
        store.begin_cron_run(&j, "cron:a:61000", 61_000).unwrap();
        // The same run id cannot start twice.
        assert!(store.begin_cron_run(&j, "cron:a:61000", 61_000).is_err());
        // The process dies here: no finish.
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    let running = store.running_cron_runs().unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(
        (
            running[0].job_id.as_str(),
            running[0].run_id.as_str(),
            running[0].started_at_ms
        ),
        ("a", "cron:a:61000", 61_000)
    );
    // The advanced next run was committed with the receipt.
    let j = store.cron_job("a").unwrap().unwrap();
    assert_eq!(j.state.next_run_at_ms, Some(121_000));
    assert_eq!(j.state.running_at_ms, Some(61_000));
    // A running receipt is not history yet.
    assert!(all_runs(&store, "a").is_empty());
    let mut settled = j.clone();
    settled.state.running_at_ms = None;
    let mut e = entry("a", "cron:a:61000", RunStatus::Error, 70_000);
    e.completion_status = Some("interrupted".into());
    store
        .finish_cron_run("a", Some(&settled), &e, RunLogLimits::default())
        .unwrap();
    assert!(store.running_cron_runs().unwrap().is_empty());
    assert_eq!(all_runs(&store, "a"), ["cron:a:61000"]);
    let page = store
        .cron_runs(&RunQuery {
            limit: 10,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(
        page.entries[0].completion_status.as_deref(),
        Some("interrupted")
    );
    assert_eq!(page.entries[0].run_at_ms, Some(69_990));
    // Finishing with no job removes it (a one-shot after success); its history stays.
    store
        .finish_cron_run(
            "a",
            None,
            &entry("a", "manual:a:1", RunStatus::Ok, 80_000),
            RunLogLimits::default(),
        )
        .unwrap();
    assert!(store.cron_job("a").unwrap().is_none());
    assert_eq!(all_runs(&store, "a"), ["cron:a:61000", "manual:a:1"]);
}

#[test]
fn two_writers_on_one_file_see_each_others_changes() {
    let dir = tempfile::tempdir().unwrap();
    let gateway = SqliteStore::open(dir.path()).unwrap();
    let cli = SqliteStore::open(dir.path()).unwrap();
    gateway.put_cron_job(&job("a")).unwrap();
    cli.put_cron_job(&job("b")).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..50u64 {
                let e = entry("a", &format!("g{i}"), RunStatus::Ok, 1_000 + i);
                gateway
                    .finish_cron_run("a", Some(&job("a")), &e, RunLogLimits::default())
                    .unwrap();
            }
        });
        s.spawn(|| {
            for i in 0..50u64 {
                let e = entry("b", &format!("c{i}"), RunStatus::Skipped, 1_000 + i);
                cli.finish_cron_run("b", Some(&job("b")), &e, RunLogLimits::default())
                    .unwrap();
            }
        });
    });
    assert_eq!(gateway.cron_jobs().unwrap().len(), 2);
    assert!(cli.delete_cron_job("a").unwrap());
    assert!(
        gateway.cron_job("a").unwrap().is_none(),
        "deleted by the other writer"
    );
    assert!(!gateway.delete_cron_job("a").unwrap());
    drop((gateway, cli));
    let reopened = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(all_runs(&reopened, "a").len(), 50);
    let skipped = reopened
        .cron_runs(&RunQuery {
            statuses: vec!["skipped".into()],
            newest_first: true,
            limit: 3,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(skipped.total, 50);
    let ids: Vec<_> = skipped
        .entries
        .iter()
        .filter_map(|e| e.run_id.clone())
        .collect();
    assert_eq!(ids, ["c49", "c48", "c47"]);
    let found = reopened
        .cron_runs(&RunQuery {
            text: Some("SUMMARY OF G7".into()),
            limit: 10,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(found.total, 1, "g7 only, case-insensitive");
}

#[test]
fn history_is_pruned_by_count_and_by_bytes_per_job() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let by_count = RunLogLimits {
        max_entries: 5,
        max_bytes: 1_000_000,
    };
    for i in 0..12u64 {
        let e = entry("a", &format!("r{i}"), RunStatus::Ok, 1_000 + i);
        store
            .finish_cron_run("a", Some(&job("a")), &e, by_count)
            .unwrap();
        let e = entry("b", &format!("s{i}"), RunStatus::Ok, 1_000 + i);
        store
            .finish_cron_run("b", Some(&job("b")), &e, RunLogLimits::default())
            .unwrap();
    }
    assert_eq!(all_runs(&store, "a"), ["r7", "r8", "r9", "r10", "r11"]);
    assert_eq!(
        all_runs(&store, "b").len(),
        12,
        "another job's history is its own"
    );
    // By bytes: each entry is a bit over 100 bytes, so 350 bytes keep the newest three.
    let one = serde_json::to_string(&entry("b", "s10", RunStatus::Ok, 1_010))
        .unwrap()
        .len() as u64;
    let by_bytes = RunLogLimits {
        max_entries: 1_000,
        max_bytes: one * 3 + one / 2,
    };
    let e = entry("b", "s12", RunStatus::Ok, 1_012);
    store
        .finish_cron_run("b", Some(&job("b")), &e, by_bytes)
        .unwrap();
    assert_eq!(all_runs(&store, "b"), ["s10", "s11", "s12"]);
}
