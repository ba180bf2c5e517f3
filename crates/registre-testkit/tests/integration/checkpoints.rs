//! Checkpoints outside the database (#18 item 3): the checkpoint log, the audit log, notes an
//! auditor kept and the `ledger.checkpoint` webhook catch what someone with write access to
//! the database does to the ledger and its checkpoints table, and the server refuses to sign
//! a head that does not extend the last checkpoint it knows of.
use axum::body::Bytes;
use axum::extract::State;
use registre_domain::ledger::ConsentEvent;
use registre_testkit::{TestApp, eventually, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

store_tests!(
    deleted_checkpoints_and_a_rewritten_chain_are_caught_by_the_log_and_the_audit_log,
    an_event_written_after_the_recorded_head_is_reported_by_its_seq,
    a_ledger_cut_below_a_logged_checkpoint_is_reported_and_never_signed,
    a_note_an_auditor_kept_catches_a_rewrite_by_itself,
    every_checkpoint_is_logged_with_its_note_and_sent_to_witnesses,
);

async fn grant(app: &TestApp, email: &str) -> Value {
    let (status, event) = app
        .post("/api/v1/consents", json!({"subject": {"email": email}, "purpose": "newsletter", "action": "grant", "touchpoint": "newsletter"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

async fn grants(app: &TestApp, from: usize, to: usize) {
    for n in from..=to {
        grant(app, &format!("person{n}@example.org")).await;
    }
}

async fn sign(app: &TestApp) -> Value {
    let (status, checkpoint) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{checkpoint}");
    checkpoint
}

/// The problems of a verify report, as one text.
fn problems(report: &Value) -> String {
    report["problems"]
        .as_array()
        .map(|p| {
            p.iter()
                .map(|p| format!("seq {}: {}", p["seq"], p["message"].as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Rewrites event `from` (its purpose) and every hash after it, and the recorded head, as
/// someone with write access to the database would: the chain alone verifies again.
async fn rewrite_from(app: &TestApp, from: usize) -> Vec<ConsentEvent> {
    let mut events = app.app.store().events(0, 1_000).await.unwrap();
    events[from - 1].purpose = Some("partner_offers".into());
    for i in from - 1..events.len() {
        if i > 0 {
            events[i].prev_hash = events[i - 1].hash.clone();
        }
        events[i].hash = events[i].compute_hash();
        let e = &events[i];
        app.sql(&format!(
            "UPDATE consent_events SET purpose = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
            e.purpose.as_deref().unwrap(),
            e.prev_hash,
            e.hash,
            e.seq
        ))
        .await;
    }
    let last = events.last().unwrap();
    app.sql(&format!(
        "UPDATE chain_heads SET hash = '{}' WHERE chain = 'ledger'",
        last.hash
    ))
    .await;
    events
}

async fn deleted_checkpoints_and_a_rewritten_chain_are_caught_by_the_log_and_the_audit_log(
    app: TestApp,
) {
    grants(&app, 1, 3).await;
    sign(&app).await;
    grants(&app, 4, 5).await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    assert!(
        verify["known_checkpoints_verified"].as_i64().unwrap() >= 2,
        "the log's line and the audit log's record match: {verify}"
    );

    // The checkpoints table emptied, event 2 rewritten and every hash after it recomputed.
    app.sql("DELETE FROM ledger_checkpoints").await;
    rewrite_from(&app, 2).await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    let text = problems(&verify);
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(verify["first_broken_seq"], 3, "{text}");
    assert!(text.contains("checkpoint log"), "{text}");
    assert!(text.contains("rewritten at or before seq 3"), "{text}");
    assert!(
        text.contains("audit log") && text.contains("missing from the checkpoints table"),
        "{text}"
    );

    // Without the log, the audit log alone still names the rewrite and the deletion.
    std::fs::remove_file(app.app.checkpoint_log()).unwrap();
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    let text = problems(&verify);
    assert_eq!(
        (verify["ok"].clone(), verify["first_broken_seq"].clone()),
        (json!(false), json!(3)),
        "{text}"
    );
    assert!(text.contains("the audit log (entry"), "{text}");

    // The server does not sign the rewritten ledger: it knows it signed another one.
    let (status, error) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("rewritten at or before seq 3"),
        "{message}"
    );
}

async fn an_event_written_after_the_recorded_head_is_reported_by_its_seq(app: TestApp) {
    grants(&app, 1, 3).await;
    sign(&app).await;
    grants(&app, 4, 4).await;
    // A validly hashed event 4 exists, but the head recorded with the last append says 3:
    // what an event inserted behind Registre's back looks like.
    let events = app.app.store().events(0, 10).await.unwrap();
    app.sql(&format!(
        "UPDATE chain_heads SET seq = 3, hash = '{}' WHERE chain = 'ledger'",
        events[2].hash
    ))
    .await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    let text = problems(&verify);
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(verify["first_broken_seq"], 4, "{text}");
    assert!(text.contains("after the recorded head (seq 3)"), "{text}");
}

async fn a_ledger_cut_below_a_logged_checkpoint_is_reported_and_never_signed(app: TestApp) {
    grants(&app, 1, 5).await;
    sign(&app).await;
    // The checkpoint row hidden, events 4 and 5 cut, the head moved back: the table and the
    // chain agree with each other again.
    let events = app.app.store().events(0, 10).await.unwrap();
    app.sql("DELETE FROM ledger_checkpoints").await;
    app.sql("DELETE FROM consent_events WHERE seq > 3").await;
    app.sql(&format!(
        "UPDATE chain_heads SET seq = 3, hash = '{}' WHERE chain = 'ledger'",
        events[2].hash
    ))
    .await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    let text = problems(&verify);
    assert_eq!(
        (verify["ok"].clone(), verify["first_broken_seq"].clone()),
        (json!(false), json!(4)),
        "{text}"
    );
    assert!(
        text.contains("checkpoint of 5 events") && text.contains("events 4..5 were cut"),
        "{text}"
    );

    let (status, error) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the checkpoint log") && message.contains("events were cut"),
        "{message}"
    );
    // Nor does the periodic signer.
    assert!(app.app.checkpoint_if_moved().await.is_err());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM ledger_checkpoints").await,
        0
    );
}

async fn a_note_an_auditor_kept_catches_a_rewrite_by_itself(app: TestApp) {
    grants(&app, 1, 4).await;
    // The auditor keeps the published checkpoint (a C2SP note), nothing else.
    let note = app
        .client
        .get(format!("{}/api/v1/ledger/checkpoint", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let kept = app.data_dir.path().join("kept-note.txt");
    std::fs::write(&kept, &note).unwrap();
    let keys = app.app.ledger_keys();
    let check = |given: Vec<std::path::PathBuf>| {
        let app = &app;
        let keys = keys.clone();
        async move {
            let known =
                registre_app::checkpoints::gather_known(app.app.store(), &keys, None, &given)
                    .await
                    .unwrap();
            registre_app::ledger::verify_store(app.app.store(), &keys, &known)
                .await
                .unwrap()
        }
    };
    let report = check(vec![kept.clone()]).await;
    assert!(report.ok, "{report:?}");
    assert_eq!(report.known_checkpoints_verified, 1);

    // No checkpoint was ever signed in the database: only the note can tell.
    rewrite_from(&app, 3).await;
    assert!(check(Vec::new()).await.ok, "the chain alone verifies again");
    let report = check(vec![kept.clone()]).await;
    assert!(!report.ok);
    assert_eq!(report.first_broken_seq, Some(4), "{report:?}");
    assert!(report.problems[0].message.contains("kept-note.txt"));

    // A note signed by another key is not taken for a checkpoint.
    let stranger = registre_crypto::SigningKey::generate();
    let root = registre_domain::merkle::leaf_hash(b"forged");
    let forged = app.data_dir.path().join("forged-note.txt");
    std::fs::write(
        &forged,
        registre_domain::note::sign_checkpoint(&app.app.ledger_origin(), 4, &root, &stranger),
    )
    .unwrap();
    let report = check(vec![forged]).await;
    assert!(!report.ok);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("forged-note.txt")),
        "{report:?}"
    );
}

type Received = Arc<Mutex<Vec<Bytes>>>;

/// A witness: keeps every body it is sent.
async fn witness() -> (String, Received) {
    let received: Received = Arc::default();
    async fn hook(State(received): State<Received>, body: Bytes) -> axum::http::StatusCode {
        received.lock().unwrap().push(body);
        axum::http::StatusCode::NO_CONTENT
    }
    let router = axum::Router::new()
        .route("/witness", axum::routing::post(hook))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/witness", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, received)
}

async fn every_checkpoint_is_logged_with_its_note_and_sent_to_witnesses(app: TestApp) {
    let (url, received) = witness().await;
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": ["ledger.checkpoint"], "secret": "witness-secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    tokio::spawn(app.app.clone().webhook_worker(Duration::from_millis(100)));
    grants(&app, 1, 3).await;
    let first = sign(&app).await;
    grants(&app, 4, 7).await;
    let second = sign(&app).await;

    // The log holds both, each with its note; the notes' roots are the tree's.
    let log = std::fs::read_to_string(app.app.checkpoint_log()).unwrap();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert_eq!(lines[0]["checkpoint"]["id"], first["id"]);
    assert_eq!(lines[1]["checkpoint"]["id"], second["id"]);
    let keys = app.app.ledger_keys();
    for (line, size) in lines.iter().zip([3u64, 7]) {
        let note =
            registre_domain::note::open_checkpoint_by_any(line["note"].as_str().unwrap(), &keys)
                .unwrap();
        assert_eq!(note.size, size);
        let (status, proof) = app
            .get(&format!(
                "/api/v1/ledger/proofs/consistency?from={size}&to=7"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{proof}");
        assert_eq!(
            proof["from_root"].as_str().unwrap(),
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, note.root),
            "the logged root of {size} events is the tree's"
        );
    }

    // The witness got both as `ledger.checkpoint`, with the note it would cosign.
    let bodies = eventually(Duration::from_secs(10), "two checkpoint webhooks", || {
        let received = received.clone();
        async move {
            let all = received.lock().unwrap();
            (all.len() >= 2).then(|| all.clone())
        }
    })
    .await;
    let bodies: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_slice(b).unwrap())
        .collect();
    for (body, line) in bodies.iter().zip(&lines) {
        assert_eq!(body["type"], "ledger.checkpoint", "{body}");
        assert_eq!(body["data"]["note"], line["note"], "{body}");
        assert_eq!(body["data"]["checkpoint_id"], line["checkpoint"]["id"]);
        assert_eq!(body["data"]["origin"], app.app.ledger_origin());
    }
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_witness_cosigns_each_checkpoint_that_extends_the_last() {
    witnessed(registre_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_witness_cosigns_each_checkpoint_that_extends_the_last() {
    witnessed(registre_testkit::Backend::Postgres).await;
}

/// The note of the log's line `index` in `app`'s checkpoint log.
fn logged_notes(app: &TestApp) -> Vec<String> {
    std::fs::read_to_string(app.app.checkpoint_log())
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let line: Value = serde_json::from_str(l).unwrap();
            line["note"].as_str().unwrap().to_string()
        })
        .collect()
}

/// One Registre (the log) asks another (the witness) to cosign each checkpoint.
async fn witnessed(backend: registre_testkit::Backend) {
    use registre_domain::witness::WitnessKey;
    let log_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let witness_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let log_key = registre_crypto::SigningKey::generate();
    let witness_signing = registre_crypto::SigningKey::generate();
    let log_origin = format!("{}/ledger", log_listener.local_addr().unwrap());
    let witness_url = format!("http://{}", witness_listener.local_addr().unwrap());
    let witness_key = WitnessKey {
        name: format!("{}/witness", witness_listener.local_addr().unwrap()),
        key: witness_signing.verifying_key(),
    };
    let log_note_key = registre_domain::note::verifier_key(&log_origin, &log_key.verifying_key());
    let Some(witness) = registre_testkit::spawn_app_on(
        backend,
        false,
        None,
        witness_listener,
        witness_signing,
        |config| {
            config.witnessed_logs =
                registre_app::witnesses::parse_witnessed_logs(&log_note_key).unwrap();
        },
    )
    .await
    else {
        return;
    };
    // The witness publishes the key the log is configured with.
    let published = reqwest::get(format!("{witness_url}/.well-known/registre/witness-key"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(published.trim(), witness_key.vkey());
    let entry = format!("{witness_url}/api/v1/witness {}", witness_key.vkey());
    let Some(log) = registre_testkit::spawn_app_on(
        backend,
        true,
        None,
        log_listener,
        registre_crypto::SigningKey::from_hex(&log_key.to_hex()).unwrap(),
        |config| {
            config.witnesses = registre_app::witnesses::parse_witnesses(&entry).unwrap();
        },
    )
    .await
    else {
        return;
    };

    // The first checkpoint (from size 0), then one that extends it (a consistency proof
    // from the frontier of 3 events and the 4 after).
    for (from, to) in [(1, 3), (4, 7)] {
        grants(&log, from, to).await;
        sign(&log).await;
        let cosigned = eventually(Duration::from_secs(10), "a cosigned line", || async {
            logged_notes(&log)
                .into_iter()
                .find(|n| n.contains(&format!("\n{to}\n")) && witness_key.cosigned_at(n).is_some())
        })
        .await;
        registre_domain::note::open_checkpoint(&cosigned, &log_origin, &log_key.verifying_key())
            .unwrap();
    }
    let (_, verify) = log.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "cosigned lines verify: {verify}");
    // Counted once the answer is kept: the line is written just before.
    eventually(
        Duration::from_secs(10),
        "two cosignatures counted",
        || async {
            let metrics = log.app.render_metrics().await;
            metrics
                .lines()
                .any(|l| l == "registre_witness_requests_total{outcome=\"cosigned\"} 2")
                .then_some(())
        },
    )
    .await;
    let state: Value = serde_json::from_slice(
        &std::fs::read(witness.data_dir.path().join("witness-state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state[&log_origin][0], 7, "{state}");

    // What the witness refuses, as the protocol says.
    let post = |body: String| {
        let url = format!("{witness_url}/api/v1/witness/add-checkpoint");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .body(body)
                .send()
                .await
                .unwrap();
            let kind = response
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (
                response.status().as_u16(),
                kind,
                response.text().await.unwrap(),
            )
        }
    };
    let forged_root = registre_domain::merkle::leaf_hash(b"another history");
    let forked = registre_domain::note::sign_checkpoint(&log_origin, 8, &forged_root, &log_key);
    let stale = registre_domain::witness::add_checkpoint_request(3, &[], &forked);
    let (status, kind, body) = post(stale).await;
    assert_eq!(
        (status, kind.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "7\n")
    );
    let fork = registre_domain::witness::add_checkpoint_request(7, &[forged_root], &forked);
    assert_eq!(
        post(fork).await.0,
        422,
        "another history than the one cosigned"
    );
    let stranger = registre_crypto::SigningKey::generate();
    let unsigned = registre_domain::note::sign_checkpoint(&log_origin, 8, &forged_root, &stranger);
    assert_eq!(
        post(registre_domain::witness::add_checkpoint_request(
            7,
            &[],
            &unsigned
        ))
        .await
        .0,
        403
    );
    let elsewhere =
        registre_domain::note::sign_checkpoint("other.example/ledger", 1, &forged_root, &log_key);
    assert_eq!(
        post(registre_domain::witness::add_checkpoint_request(
            0,
            &[],
            &elsewhere
        ))
        .await
        .0,
        404
    );
}
