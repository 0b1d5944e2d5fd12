//! The job store against SQLite and against a real PostgreSQL server (STOCKADE_TEST_POSTGRES_URL,
//! set by scripts/test.sh): the same checks on both.
#![allow(clippy::unwrap_used)]

mod common;

use stockade_server::auth::{self, Role};
use stockade_server::store::{status, AuditEntry, JobOutcome, JobQuery, Store};

fn outcome(status: &'static str) -> JobOutcome {
    JobOutcome {
        status,
        result: Some(r#"{"objective": 1.0}"#.into()),
        error: None,
        solver_status: Some("optimal".into()),
        objective: Some(1.0),
        event: format!(r#"{{"status":"{status}"}}"#),
    }
}

async fn keys_are_found_by_hash_and_revoked(store: &Store) {
    let (key, token) = auth::create_key(
        store,
        "acme",
        Role::Planner,
        Some("ci".into()),
        ("cli", None),
    )
    .await
    .unwrap();
    assert!(token.starts_with("stk_") && token.len() == 4 + 64);
    let found = store
        .key_by_hash(&auth::hash_token(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, key);
    assert!(store
        .key_by_hash(&auth::hash_token("stk_other"))
        .await
        .unwrap()
        .is_none());
    // Another tenant cannot revoke it; its own tenant can, once.
    assert!(!store.revoke_key(&key.id, Some("globex")).await.unwrap());
    assert!(store.revoke_key(&key.id, Some("acme")).await.unwrap());
    assert!(!store.revoke_key(&key.id, Some("acme")).await.unwrap());
    let found = store
        .key_by_hash(&auth::hash_token(&token))
        .await
        .unwrap()
        .unwrap();
    assert!(found.revoked_at.is_some());
    assert_eq!(store.list_keys("acme").await.unwrap().len(), 1);
    assert!(store.list_keys("globex").await.unwrap().is_empty());
}

async fn a_job_goes_through_its_lifecycle(store: &Store) {
    let job = store
        .insert_job("job_a", "acme", "solve", "{}", "key_1")
        .await
        .unwrap();
    assert_eq!(job.status, status::QUEUED);
    assert!(store.job("globex", "job_a").await.unwrap().is_none());
    let (running, seq) = store.claim_job("job_a").await.unwrap().unwrap();
    assert_eq!(
        (running.status.as_str(), running.attempts, seq),
        (status::RUNNING, 1, 2)
    );
    // A second claim, or a cancel of a queued job, finds it no longer queued.
    assert!(store.claim_job("job_a").await.unwrap().is_none());
    assert!(store.cancel_queued("job_a", "{}").await.unwrap().is_none());
    assert_eq!(
        store
            .finish_job("job_a", &outcome(status::SUCCEEDED))
            .await
            .unwrap(),
        Some(3)
    );
    assert_eq!(
        store
            .finish_job("job_a", &outcome(status::FAILED))
            .await
            .unwrap(),
        None
    );
    let done = store.job("acme", "job_a").await.unwrap().unwrap();
    assert_eq!(done.status, status::SUCCEEDED);
    assert_eq!(done.objective, Some(1.0));
    assert_eq!(done.result.as_deref(), Some(r#"{"objective": 1.0}"#));
    assert!(done.finished_at.unwrap() >= done.started_at.unwrap());
    let kinds: Vec<String> = store
        .events("job_a", 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["queued", "started", "finished"]);
    assert_eq!(store.events("job_a", 2).await.unwrap().len(), 1);
}

async fn a_cancel_and_a_worker_never_both_win(store: &Store) {
    store
        .insert_job("job_c", "acme", "solve", "{}", "key_1")
        .await
        .unwrap();
    assert!(store
        .cancel_queued("job_c", r#"{"status":"cancelled"}"#)
        .await
        .unwrap()
        .is_some());
    assert!(store.claim_job("job_c").await.unwrap().is_none());
    let job = store.job("acme", "job_c").await.unwrap().unwrap();
    assert_eq!(job.status, status::CANCELLED);
    assert!(job.cancel_requested);
}

async fn recovery_requeues_what_a_crash_left_running(store: &Store) {
    for id in ["job_r1", "job_r2", "job_r3", "job_r4"] {
        store
            .insert_job(id, "acme", "solve", "{}", "key_1")
            .await
            .unwrap();
    }
    store.claim_job("job_r1").await.unwrap().unwrap();
    store.claim_job("job_r2").await.unwrap().unwrap();
    assert!(store.request_cancel("job_r2").await.unwrap());
    store.claim_job("job_r3").await.unwrap().unwrap();
    store
        .finish_job("job_r3", &outcome(status::SUCCEEDED))
        .await
        .unwrap();
    // The "crash": a new process opens the store.
    let queued = store.recover().await.unwrap();
    assert_eq!(queued, ["job_r1", "job_r4"]);
    let r1 = store.job("acme", "job_r1").await.unwrap().unwrap();
    assert_eq!((r1.status.as_str(), r1.attempts), (status::QUEUED, 1));
    assert_eq!(
        store.job("acme", "job_r2").await.unwrap().unwrap().status,
        status::CANCELLED
    );
    assert_eq!(
        store.job("acme", "job_r3").await.unwrap().unwrap().status,
        status::SUCCEEDED
    );
    let kinds: Vec<String> = store
        .events("job_r1", 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["queued", "started", "queued"]);
    let (again, _) = store.claim_job("job_r1").await.unwrap().unwrap();
    assert_eq!(again.attempts, 2);
}

async fn listings_filter_and_page_per_tenant(store: &Store) {
    for i in 0..5 {
        store
            .insert_job(&format!("job_l{i}"), "initech", "solve", "{}", "key_1")
            .await
            .unwrap();
    }
    store
        .insert_job("job_lx", "umbrella", "solve", "{}", "key_2")
        .await
        .unwrap();
    store.claim_job("job_l1").await.unwrap();
    let page = |before, status: Option<&str>| JobQuery {
        status: status.map(str::to_string),
        before_seq: before,
        limit: 2,
    };
    let first = store.list_jobs("initech", &page(None, None)).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["job_l4", "job_l3"]);
    let second = store
        .list_jobs("initech", &page(Some(first[1].seq), None))
        .await
        .unwrap();
    let ids: Vec<&str> = second.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["job_l2", "job_l1"]);
    let running = store
        .list_jobs("initech", &page(None, Some(status::RUNNING)))
        .await
        .unwrap();
    assert_eq!(running.len(), 1);
    assert_eq!(running[0].id, "job_l1");
    let counts = store.job_counts().await.unwrap();
    let n = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    assert!(n(status::QUEUED) >= 5 && n(status::RUNNING) >= 1);
}

async fn the_audit_log_pages_per_tenant(store: &Store) {
    for i in 0..3 {
        store
            .audit(&AuditEntry {
                tenant: Some("hooli".into()),
                key_id: Some("key_h".into()),
                role: Some("admin".into()),
                action: if i == 1 { "job.cancel" } else { "job.read" }.into(),
                target: Some(format!("job_{i}")),
                outcome: "ok".into(),
                ..AuditEntry::default()
            })
            .await
            .unwrap();
    }
    let all = store.audit_log("hooli", None, None, 10).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].target.as_deref(), Some("job_2"));
    let cancels = store
        .audit_log("hooli", Some("job.cancel"), None, 10)
        .await
        .unwrap();
    assert_eq!(cancels.len(), 1);
    let older = store
        .audit_log("hooli", None, Some(all[0].id), 1)
        .await
        .unwrap();
    assert_eq!(older[0].id, all[1].id);
    assert!(store
        .audit_log("pied_piper", None, None, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn run_all(store: &Store) {
    keys_are_found_by_hash_and_revoked(store).await;
    a_job_goes_through_its_lifecycle(store).await;
    a_cancel_and_a_worker_never_both_win(store).await;
    recovery_requeues_what_a_crash_left_running(store).await;
    listings_filter_and_page_per_tenant(store).await;
    the_audit_log_pages_per_tenant(store).await;
    store.ping().await.unwrap();
}

#[tokio::test]
async fn sqlite_store() {
    let (url, _dir) = common::sqlite_url();
    let store = Store::connect(&url).await.unwrap();
    run_all(&store).await;
    // WAL mode, and migrations apply once: a second open of the same file works.
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.list_keys("acme").await.unwrap().len(), 1);
    assert!(_dir.path().join("stockade.db-wal").exists());
}

#[tokio::test]
async fn postgres_store() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend(), stockade_server::store::Backend::Postgres);
    run_all(&store).await;
    let again = Store::connect(&url).await.unwrap();
    assert_eq!(again.list_keys("acme").await.unwrap().len(), 1);
}

#[test]
fn urls_name_their_backend() {
    use stockade_server::store::{normalize_url, Backend};
    assert_eq!(
        normalize_url("stockade.db").unwrap(),
        ("sqlite://stockade.db?mode=rwc".to_string(), Backend::Sqlite)
    );
    assert_eq!(
        normalize_url("sqlite:///tmp/x.db").unwrap().1,
        Backend::Sqlite
    );
    assert_eq!(
        normalize_url("postgres://u:p@127.0.0.1/db").unwrap().1,
        Backend::Postgres
    );
    assert!(normalize_url("mysql://x").is_err());
}
