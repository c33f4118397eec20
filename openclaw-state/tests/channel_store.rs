//! The channel store against real database files: inbound commits with their cursor in one
//! transaction and duplicates dropped, the at-most-one replay of an interrupted run across a
//! reopen, and DM pairing's limits (three pending per account, one answer per stranger per
//! hour, approval by code granting that account only).

use openclaw_core::channel::{ChatType, InboundMessage, Sender};
use openclaw_state::{ChannelStore, IngressStatus, PairingOutcome, SqliteStore};
use serde_json::json;

fn msg(id: u32) -> InboundMessage {
    InboundMessage {
        channel: "telegram".into(),
        account_id: "default".into(),
        dedupe_key: format!("4242:{id}"),
        message_id: id.to_string(),
        chat_type: ChatType::Direct,
        chat_id: "4242".into(),
        thread_id: None,
        sender: Sender {
            id: "4242".into(),
            ..Sender::default()
        },
        text: format!("hello {id}"),
        mentioned: false,
        media: Vec::new(),
        timestamp_ms: 1,
        guild: None,
    }
}

#[test]
fn inbound_is_committed_with_its_cursor_and_deduplicated() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.channel_cursor("telegram", "default").unwrap(), None);
    let n = store
        .commit_inbound("telegram", "default", &[msg(1), msg(2)], Some("11"))
        .unwrap();
    assert_eq!(n, 2);
    // A redelivery (the platform was not acknowledged before a crash) adds nothing.
    let n = store
        .commit_inbound("telegram", "default", &[msg(2), msg(3)], Some("12"))
        .unwrap();
    assert_eq!(n, 1);
    drop(store);
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(
        store
            .channel_cursor("telegram", "default")
            .unwrap()
            .as_deref(),
        Some("12")
    );
    let open = store.open_ingress(10).unwrap();
    assert_eq!(
        open.iter()
            .map(|r| r.message.text.as_str())
            .collect::<Vec<_>>(),
        ["hello 1", "hello 2", "hello 3"]
    );
}

#[test]
fn an_interrupted_run_is_replayed_once_and_then_failed() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store
        .commit_inbound("telegram", "default", &[msg(1)], None)
        .unwrap();
    let id = store.open_ingress(1).unwrap()[0].id;
    let first = store.claim_ingress(id).unwrap().unwrap();
    assert_eq!((first.status, first.attempts), (IngressStatus::Running, 1));
    drop(store); // crash mid-run
    let store = SqliteStore::open(dir.path()).unwrap();
    let replay = store.claim_ingress(id).unwrap().unwrap();
    assert_eq!(replay.attempts, 2);
    drop(store); // crash again
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(store.claim_ingress(id).unwrap().is_none());
    let row = store.ingress(id).unwrap().unwrap();
    assert_eq!(row.status, IngressStatus::Failed);
    assert!(store.open_ingress(10).unwrap().is_empty());
}

#[test]
fn a_replied_row_keeps_its_reply_and_the_chunks_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store
        .commit_inbound("telegram", "default", &[msg(1)], None)
        .unwrap();
    let id = store.open_ingress(1).unwrap()[0].id;
    store.claim_ingress(id).unwrap();
    store.set_ingress_reply(id, "the answer").unwrap();
    store.record_ingress_sent(id, "501").unwrap();
    store.record_ingress_sent(id, "502").unwrap();
    let row = store.claim_ingress(id).unwrap().unwrap();
    assert_eq!(row.status, IngressStatus::Replied);
    assert_eq!(row.attempts, 1, "resuming delivery is not a new run");
    assert_eq!(row.reply.as_deref(), Some("the answer"));
    assert_eq!(row.sent, ["501", "502"]);
    // A streamed reply whose second message was replaced.
    store
        .set_ingress_sent(id, &["501".into(), "777".into()])
        .unwrap();
    store.record_ingress_sent(id, "778").unwrap();
    assert_eq!(
        store.ingress(id).unwrap().unwrap().sent,
        ["501", "777", "778"]
    );
}

#[test]
fn pairing_limits_and_approval() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let now = 10_000_000;
    let meta = json!({"username": "alice"});
    let PairingOutcome::Created(a) = store
        .pairing_request("telegram", "default", "1", &meta, now)
        .unwrap()
    else {
        panic!("first request is created")
    };
    assert_eq!(a.code.len(), 8);
    assert_eq!(a.expires_at, now + 3_600_000);
    // Writing again while pending: no new answer.
    assert_eq!(
        store
            .pairing_request("telegram", "default", "1", &meta, now + 5)
            .unwrap(),
        PairingOutcome::Pending
    );
    for s in ["2", "3"] {
        assert!(matches!(
            store
                .pairing_request("telegram", "default", s, &meta, now)
                .unwrap(),
            PairingOutcome::Created(_)
        ));
    }
    assert_eq!(
        store
            .pairing_request("telegram", "default", "4", &meta, now)
            .unwrap(),
        PairingOutcome::Full
    );
    // Another account has its own three.
    assert!(matches!(
        store
            .pairing_request("telegram", "work", "4", &meta, now)
            .unwrap(),
        PairingOutcome::Created(_)
    ));
    assert_eq!(
        store
            .pairing_requests(Some("telegram"), Some("default"), now)
            .unwrap()
            .len(),
        3
    );
    // Dismissed: the stranger is not answered again within the hour, but is after it.
    let d = store
        .pairing_dismiss("telegram", Some("default"), "2", now)
        .unwrap()
        .unwrap();
    assert_eq!(d.sender_id, "2");
    assert_eq!(
        store
            .pairing_request("telegram", "default", "2", &meta, now + 60_000)
            .unwrap(),
        PairingOutcome::RateLimited
    );
    // Approve by code, lower-case as typed: DM access for that account only.
    let ok = store
        .pairing_approve("telegram", None, &a.code.to_lowercase(), now)
        .unwrap()
        .unwrap();
    assert_eq!(ok.sender_id, "1");
    assert_eq!(store.pairing_allowed("telegram", "default").unwrap(), ["1"]);
    assert!(
        store
            .pairing_allowed("telegram", "work")
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .pairing_approve("telegram", None, &a.code, now)
            .unwrap()
            .is_none(),
        "a code approves once"
    );
    // Expired requests are neither listed nor approvable.
    let later = now + 3_600_001;
    assert!(
        store
            .pairing_requests(Some("telegram"), Some("default"), later)
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .pairing_request("telegram", "default", "2", &meta, later + 60_000)
            .unwrap(),
        PairingOutcome::Created(_)
    ));
}

#[test]
fn send_receipts_keep_the_first_result() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    store
        .put_send_receipt("k", "telegram", "{\"messageId\":\"1\"}")
        .unwrap();
    store
        .put_send_receipt("k", "telegram", "{\"messageId\":\"2\"}")
        .unwrap();
    assert_eq!(
        store.send_receipt("k").unwrap().as_deref(),
        Some("{\"messageId\":\"1\"}")
    );
}
