//! The blind-index lookup with people pending and merged: found either way, never twice,
//! across a restart, another process's writes, erasures, rectifications and the migration
//! of a database made before it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::SqliteStore;
use chrono::Utc;
use registre_domain::audit::AuditRecord;
use registre_domain::ledger::{ConsentAction, ConsentSource, NewConsentEvent};
use registre_store::{
    ChangeSet, Erasure, LedgerStore, Rectification, SUBJECT_INDEX_CONSTRAINT, StoreError,
    StoreResult, SubjectRecord, SubjectStore,
};
use sqlx::Row;
use uuid::Uuid;

fn blind(n: u32) -> Vec<u8> {
    // Spread over the key space, as keyed hashes are.
    let mut index = n.wrapping_mul(2_654_435_761).to_be_bytes().to_vec();
    index.extend_from_slice(&n.to_be_bytes());
    index.resize(32, 7);
    index
}

fn person(n: u32) -> SubjectRecord {
    SubjectRecord {
        id: Uuid::now_v7(),
        blind_index: blind(n),
        wrapped_key: vec![1; 8],
        email_sealed: vec![2; 8],
        external_id_index: None,
        external_id_sealed: None,
        restricted: false,
        objected_to_marketing: false,
        created_at: Utc::now(),
    }
}

fn grant(subject: &SubjectRecord) -> ChangeSet {
    ChangeSet {
        events: vec![NewConsentEvent {
            event_id: Uuid::now_v7(),
            subject_id: subject.id,
            purpose: Some("newsletter".into()),
            action: ConsentAction::Grant,
            source: ConsentSource::Api,
            touchpoint: None,
            notice_version: None,
            provenance: None,
            occurred_at: None,
        }],
        new_subjects: vec![subject.clone()],
        at: Utc::now(),
        ..Default::default()
    }
}

fn audit() -> AuditRecord {
    AuditRecord {
        at: Utc::now(),
        actor: "system".into(),
        action: "subject.rectified".into(),
        target: "subject:test".into(),
        details: serde_json::json!({}),
    }
}

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("registre.db"))
        .await
        .unwrap()
}

/// Creates people through the group committer; one result each.
async fn create(store: &SqliteStore, people: &[SubjectRecord]) -> Vec<StoreResult<()>> {
    store
        .commit(people.iter().map(grant).collect())
        .await
        .into_iter()
        .map(|r| r.map(|_| ()))
        .collect()
}

/// Who holds `n`'s blind index, read through SQL as a cache miss would.
async fn holder(store: &SqliteStore, n: u32) -> Option<Uuid> {
    store
        .row_by_index("SELECT s.id FROM subjects s", &blind(n), None)
        .await
        .unwrap()
        .map(|row| row.get(0))
}

fn refused(result: &StoreResult<()>) -> bool {
    matches!(result, Err(StoreError::Conflict { constraint }) if constraint == SUBJECT_INDEX_CONSTRAINT)
}

async fn merged_through(store: &SqliteStore) -> i64 {
    sqlx::query_scalar("SELECT through_seq FROM subject_index_merged")
        .fetch_one(&store.reader)
        .await
        .unwrap()
}

#[tokio::test]
async fn people_are_found_and_never_created_twice_before_and_after_a_merge() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let first: Vec<_> = (0..600).map(person).collect();
    assert!(create(&store, &first).await.iter().all(Result::is_ok));
    assert_eq!(store.index.merge(&store.writer).await.unwrap(), 600);
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM subject_index")
            .fetch_one(&store.reader)
            .await
            .unwrap(),
        600
    );
    assert_eq!(merged_through(&store).await, 600);
    let second: Vec<_> = (600..700).map(person).collect();
    assert!(create(&store, &second).await.iter().all(Result::is_ok));

    for (n, subject) in first.iter().chain(&second).enumerate() {
        assert_eq!(
            holder(&store, n as u32).await,
            Some(subject.id),
            "person {n}"
        );
    }
    assert_eq!(holder(&store, 5_000).await, None);

    // A second record for a merged person, a pending one, and twice in one batch: refused,
    // on the batched path and row by row (a change set with an audit record).
    let again = create(&store, &[person(3), person(650), person(800), person(800)]).await;
    assert!(refused(&again[0]) && refused(&again[1]), "{again:?}");
    assert!(again[2].is_ok() && refused(&again[3]), "{again:?}");
    let mut audited = grant(&person(5));
    audited.audit = Some(audit());
    let mut fresh = grant(&person(900));
    fresh.audit = Some(audit());
    let results = store.commit(vec![audited, fresh]).await;
    assert!(
        matches!(&results[0], Err(StoreError::Conflict { constraint }) if constraint == SUBJECT_INDEX_CONSTRAINT)
    );
    assert!(results[1].is_ok());
    assert!(holder(&store, 900).await.is_some());
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(count, 702);
}

#[tokio::test]
async fn a_reopened_store_still_knows_who_is_pending() {
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<_> = (0..50).map(person).collect();
    {
        let store = open(&dir).await;
        assert!(create(&store, &people).await.iter().all(Result::is_ok));
    }
    let store = open(&dir).await;
    assert!(!store.index.is_stale());
    assert_eq!(store.index.pending(&blind(7)), Some(people[7].id));
    assert_eq!(holder(&store, 7).await, Some(people[7].id));
    assert!(refused(&create(&store, &[person(7)]).await[0]));
    let existing = store.get_or_create_subject(&person(9)).await.unwrap();
    assert_eq!(existing.id, people[9].id);
}

#[tokio::test]
async fn a_person_another_process_created_is_never_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let server = open(&dir).await;
    let cli = open(&dir).await;
    assert!(create(&cli, &[person(1)]).await[0].is_ok());
    // The server has not polled yet: its writer reads the other process's commit itself.
    assert!(refused(&create(&server, &[person(1)]).await[0]));
    server.index.observe(-1);
    assert!(server.index.is_stale());
    // A stale memory sends readers to the pending rows.
    assert!(holder(&server, 1).await.is_some());

    // And after the other process merged, through the merged index.
    assert!(create(&cli, &[person(2)]).await[0].is_ok());
    cli.index.merge(&cli.writer).await.unwrap();
    assert!(refused(&create(&server, &[person(2)]).await[0]));
    assert!(holder(&server, 2).await.is_some());
    assert!(create(&server, &[person(3)]).await[0].is_ok());
    assert!(refused(&create(&cli, &[person(3)]).await[0]));
}

/// A store holding person 1, merged, and person 2, pending.
async fn one_merged_one_pending() -> (tempfile::TempDir, SqliteStore, SubjectRecord, SubjectRecord)
{
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let merged = person(1);
    assert!(create(&store, std::slice::from_ref(&merged)).await[0].is_ok());
    store.index.merge(&store.writer).await.unwrap();
    let pending = person(2);
    assert!(create(&store, std::slice::from_ref(&pending)).await[0].is_ok());
    (dir, store, merged, pending)
}

#[tokio::test]
async fn an_erased_person_frees_their_blind_index_pending_or_merged() {
    let (_dir, store, merged, pending) = one_merged_one_pending().await;

    for subject in [&merged, &pending] {
        let erase = ChangeSet {
            erasures: vec![Erasure {
                subject_id: subject.id,
                blind_index: subject.blind_index.clone(),
                at: Utc::now(),
            }],
            at: Utc::now(),
            ..Default::default()
        };
        assert!(store.commit(vec![erase]).await[0].is_ok());
    }
    assert_eq!(holder(&store, 1).await, None);
    assert_eq!(holder(&store, 2).await, None);
    // The erased pending person is not merged afterwards.
    store.index.merge(&store.writer).await.unwrap();
    let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subject_index")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(indexed, 0);
    // A fresh consent starts a new record for either.
    let back = create(&store, &[person(1), person(2)]).await;
    assert!(back.iter().all(Result::is_ok), "{back:?}");
}

#[tokio::test]
async fn a_rectified_email_moves_the_blind_index_pending_or_merged() {
    let (dir, store, merged, pending) = one_merged_one_pending().await;

    for (subject, to) in [(&merged, 11), (&pending, 12)] {
        let rectification = Rectification {
            subject_id: subject.id,
            new_email: Some((blind(to), vec![3; 8])),
            submissions: Vec::new(),
            outbox: Vec::new(),
        };
        store.rectify(&rectification, &audit()).await.unwrap();
        assert_eq!(holder(&store, to).await, Some(subject.id));
    }
    assert_eq!(holder(&store, 1).await, None);
    assert_eq!(holder(&store, 2).await, None);
    // Nobody may take an email someone else holds.
    let clash = Rectification {
        subject_id: merged.id,
        new_email: Some((blind(12), vec![3; 8])),
        submissions: Vec::new(),
        outbox: Vec::new(),
    };
    assert!(matches!(
        store.rectify(&clash, &audit()).await,
        Err(StoreError::Conflict { .. })
    ));
    // A merge and a restart keep it so.
    store.index.merge(&store.writer).await.unwrap();
    drop(store);
    let store = open(&dir).await;
    assert_eq!(holder(&store, 11).await, Some(merged.id));
    assert_eq!(holder(&store, 12).await, Some(pending.id));
    let again = create(&store, &[person(1), person(2), person(11), person(12)]).await;
    assert!(again[0].is_ok() && again[1].is_ok(), "{again:?}");
    assert!(refused(&again[2]) && refused(&again[3]), "{again:?}");
}

#[tokio::test]
async fn a_database_made_before_the_merged_index_keeps_its_people() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registre.db");
    // The schema as it was at migration 0006.
    let earlier = dir.path().join("migrations");
    std::fs::create_dir(&earlier).unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.as_str() < "0007" {
            std::fs::copy(entry.path(), earlier.join(name)).unwrap();
        }
    }
    let old = people_in_an_old_database(&path, &earlier).await;

    let store = SqliteStore::open(&path).await.unwrap();
    for (n, id) in old.iter().enumerate() {
        assert_eq!(holder(&store, n as u32).await, Some(*id));
    }
    assert!(refused(&create(&store, &[person(1)]).await[0]));
    assert!(create(&store, &[person(40)]).await[0].is_ok());
    // Their consent states (which reference them) came through the rebuild.
    let states: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM consent_states")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(states, 4);
    let violations: Vec<sqlx::sqlite::SqliteRow> = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(&store.reader)
        .await
        .unwrap();
    assert!(violations.is_empty());
}

/// Three people with a consent state each, written as the schema of `migrations` wants.
async fn people_in_an_old_database(
    path: &std::path::Path,
    migrations: &std::path::Path,
) -> Vec<Uuid> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(migrations)
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..3u32 {
        let subject = person(n);
        sqlx::query("INSERT INTO subjects (id, blind_index, wrapped_key, email_sealed, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(subject.id)
            .bind(&subject.blind_index)
            .bind(&subject.wrapped_key)
            .bind(&subject.email_sealed)
            .bind(subject.created_at)
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO consent_states (subject_id, purpose, state, since, last_seq) VALUES ($1, 'newsletter', 'granted', $2, $3)")
            .bind(subject.id)
            .bind(subject.created_at)
            .bind(i64::from(n) + 1)
            .execute(&pool)
            .await
            .unwrap();
        ids.push(subject.id);
    }
    pool.close().await;
    ids
}

#[tokio::test]
async fn a_merge_cut_short_by_a_crash_is_finished_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let people: Vec<_> = (0..40).map(person).collect();
    {
        let store = open(&dir).await;
        assert!(create(&store, &people).await.iter().all(Result::is_ok));
        // What a kill between two steps of a cycle leaves: some ranges merged, the mark
        // where it was.
        sqlx::query("INSERT INTO subject_index (blind_index, subject_id) SELECT blind_index, id FROM subjects WHERE seq % 2 = 0")
            .execute(&store.writer)
            .await
            .unwrap();
        assert_eq!(merged_through(&store).await, 0);
    }
    let store = open(&dir).await;
    for (n, subject) in people.iter().enumerate() {
        assert_eq!(
            holder(&store, n as u32).await,
            Some(subject.id),
            "person {n}"
        );
    }
    assert!(refused(&create(&store, &[person(4)]).await[0]));
    assert!(refused(&create(&store, &[person(5)]).await[0]));
    assert_eq!(store.index.merge(&store.writer).await.unwrap(), 40);
    assert_eq!(merged_through(&store).await, 40);
    assert_eq!(store.index.pending(&blind(4)), None);
    let indexed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subject_index")
        .fetch_one(&store.reader)
        .await
        .unwrap();
    assert_eq!(indexed, 40);
    assert_eq!(holder(&store, 5).await, Some(people[5].id));
}

#[tokio::test]
async fn an_erasure_rolled_back_within_a_batch_keeps_the_person_it_meant_to_erase() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let message = registre_store::OutboxRecord {
        id: Uuid::now_v7(),
        channel: "webhook".into(),
        topic: "consent.granted".into(),
        subject_id: None,
        payload: b"{}".to_vec(),
        created_at: Utc::now(),
    };
    let subject = person(1);
    // Row by row (an erasure is not for the batched path), in one transaction: the person
    // is created, then an erasure of them fails (its message's id is taken) and is rolled
    // back to its savepoint, then someone tries to create them again.
    let mut created = grant(&subject);
    created.outbox = vec![message.clone()];
    let failed_erasure = ChangeSet {
        erasures: vec![Erasure {
            subject_id: subject.id,
            blind_index: subject.blind_index.clone(),
            at: Utc::now(),
        }],
        outbox: vec![message],
        at: Utc::now(),
        ..Default::default()
    };
    let results = store
        .commit(vec![created, failed_erasure, grant(&person(1))])
        .await;
    assert!(results[0].is_ok(), "{:?}", results[0]);
    assert!(results[1].is_err());
    assert!(
        matches!(&results[2], Err(StoreError::Conflict { constraint }) if constraint == SUBJECT_INDEX_CONSTRAINT),
        "{:?}",
        results[2]
    );
    assert_eq!(store.index.pending(&blind(1)), Some(subject.id));
    assert!(refused(&create(&store, &[person(1)]).await[0]));
}
