//! Proving consents: signed checkpoints, tamper detection, offline exports, receipts, bulk
//! recording and CSV imports.
use registre_app::Principal;
use registre_crypto::{VerifyingKey, verify_jws};
use registre_domain::proof::keys_from_jwks;
use registre_testkit::{TestApp, contains, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    a_signed_checkpoint_verifies_with_the_published_key_alone,
    the_merkle_checkpoint_and_its_proofs_verify_with_the_published_note_key_alone,
    a_byte_changed_in_an_event_row_is_named_by_verify,
    a_chain_rewritten_after_a_checkpoint_is_caught_by_the_checkpoint,
    an_export_verifies_offline_with_only_the_published_key,
    a_consent_receipt_is_signed_and_names_the_person_only_by_pseudonym,
    bulk_consents_are_answered_item_by_item_and_need_a_provenance,
    a_csv_import_reports_rejected_rows_by_line_without_emails,
    the_periodic_signer_follows_the_head,
    chain_links_are_the_stored_events_hashed,
);

async fn grant(app: &TestApp, email: &str, purpose: &str) -> Value {
    let (status, event) = app
        .post("/api/v1/consents", json!({"subject": {"email": email}, "purpose": purpose, "action": "grant", "touchpoint": "newsletter"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

/// The published key, fetched the way an outside auditor would: without an API key.
async fn published_keys(app: &TestApp) -> Vec<VerifyingKey> {
    let (status, jwks) = app
        .request(
            reqwest::Method::GET,
            "/.well-known/registre/ledger-key",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    keys_from_jwks(&jwks).unwrap()
}

async fn a_signed_checkpoint_verifies_with_the_published_key_alone(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    let second = grant(&app, "paul@example.org", "newsletter").await;
    let (status, checkpoint) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{checkpoint}");
    assert_eq!(checkpoint["seq"], 2);
    assert_eq!(checkpoint["head"], second["hash"]);

    let keys = published_keys(&app).await;
    let key = keys
        .iter()
        .find(|k| k.kid() == checkpoint["key_id"].as_str().unwrap())
        .expect("the signing key is published");
    let payload = verify_jws(key, checkpoint["jws"].as_str().unwrap())
        .expect("the checkpoint's signature verifies");
    assert_eq!(payload["seq"], 2);
    assert_eq!(payload["head"], second["hash"]);
    assert_eq!(payload["typ"], "registre.ledger.checkpoint");

    let (status, list) = app.get("/api/v1/ledger/checkpoints").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"][0]["id"], checkpoint["id"]);
    assert!(list["next_cursor"].is_null());

    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(
        (
            verify["ok"].clone(),
            verify["length"].clone(),
            verify["head"].clone()
        ),
        (json!(true), json!(2), second["hash"].clone())
    );
    assert_eq!(verify["checkpoints_verified"], 1);
    assert_eq!(verify["last_checkpoint"]["seq"], 2);

    // The periodic signer signs only when the head moved.
    assert!(app.app.checkpoint_if_moved().await.unwrap().is_none());
    grant(&app, "lea@example.org", "newsletter").await;
    assert_eq!(app.app.checkpoint_if_moved().await.unwrap().unwrap().seq, 3);

    // Signing needs more than reading; the published key needs nothing.
    let auditor = app.key(registre_domain::Role::Auditor).await;
    let (status, _) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/ledger/checkpoints",
            Some(json!({})),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            reqwest::Method::GET,
            "/api/v1/ledger/checkpoints",
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn a_byte_changed_in_an_event_row_is_named_by_verify(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    grant(&app, "paul@example.org", "newsletter").await;
    grant(&app, "lea@example.org", "newsletter").await;
    let (status, _) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    grant(&app, "max@example.org", "newsletter").await;
    // One byte: "newsletter" becomes "newsletteR" in event 2, straight in the database.
    app.sql("UPDATE consent_events SET purpose = 'newsletteR' WHERE seq = 2")
        .await;
    let (status, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(verify["first_broken_seq"], 2, "{verify}");
    assert_eq!(verify["length"], 4);
    // Events after the last checkpoint are checked before the head is signed: a broken
    // stretch is never signed.
    app.sql("UPDATE consent_events SET purpose = 'newsletteR' WHERE seq = 4")
        .await;
    let (status, error) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("seq 4"),
        "{error}"
    );
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["first_broken_seq"], 2, "{verify}");
}

async fn a_chain_rewritten_after_a_checkpoint_is_caught_by_the_checkpoint(app: TestApp) {
    for email in ["a@example.org", "b@example.org", "c@example.org"] {
        grant(&app, email, "newsletter").await;
    }
    let (status, _) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    // Someone with database access rewrites event 2 and recomputes every hash after it, and
    // the recorded head: the chain alone verifies again, the signed checkpoint does not.
    let mut events = app.app.store().events(0, 10).await.unwrap();
    events[1].purpose = Some("partner_offers".into());
    for i in 1..events.len() {
        events[i].prev_hash = events[i - 1].hash.clone();
        events[i].hash = events[i].compute_hash();
        let e = &events[i];
        app.sql(&format!("UPDATE consent_events SET purpose = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}", e.purpose.as_deref().unwrap(), e.prev_hash, e.hash, e.seq)).await;
    }
    let last = events.last().unwrap();
    app.sql(&format!(
        "UPDATE chain_heads SET hash = '{}' WHERE chain = 'ledger'",
        last.hash
    ))
    .await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], false, "{verify}");
    assert_eq!(
        verify["first_broken_seq"], 3,
        "the checkpoint at seq 3 no longer matches: {verify}"
    );

    // Cutting the ledger short is caught too.
    app.sql("DELETE FROM consent_events WHERE seq = 3").await;
    app.sql(&format!(
        "UPDATE chain_heads SET seq = 2, hash = '{}' WHERE chain = 'ledger'",
        events[1].hash
    ))
    .await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(
        (verify["ok"].clone(), verify["first_broken_seq"].clone()),
        (json!(false), json!(3)),
        "{verify}"
    );
}

async fn an_export_verifies_offline_with_only_the_published_key(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "withdraw"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app.post("/api/v1/ledger/checkpoints", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    grant(&app, "paul@example.org", "promotional_offers").await;

    let mut export = Vec::new();
    let summary = registre_app::ledger::export_store(
        app.app.store(),
        &app.app.ledger_keys(),
        app.app.now(),
        &mut export,
    )
    .await
    .unwrap();
    assert_eq!((summary.length, summary.checkpoints), (3, 1));
    assert!(
        !contains(&export, b"jeanne"),
        "no personal data in an export"
    );

    let keys = published_keys(&app).await;
    let checked = registre_app::ledger::verify_export(
        export.as_slice(),
        Some(keys.clone()),
        &Default::default(),
    )
    .unwrap();
    assert!(checked.report.ok, "{:?}", checked.report);
    assert_eq!(
        (checked.report.length, checked.report.checkpoints_verified),
        (3, 1)
    );

    // One changed byte in the file is named by its sequence number.
    let text = String::from_utf8(export.clone()).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let line = lines
        .iter()
        .position(|l| l.contains("\"type\":\"event\"") && l.contains("\"seq\":2,"))
        .unwrap();
    lines[line] = lines[line].replace("\"action\":\"withdraw\"", "\"action\":\"grant\"");
    let tampered = lines.join("\n");
    let checked =
        registre_app::ledger::verify_export(tampered.as_bytes(), Some(keys), &Default::default())
            .unwrap();
    assert_eq!(
        (checked.report.ok, checked.report.first_broken_seq),
        (false, Some(2))
    );

    // Checkpoints signed by another key than the published one are not trusted.
    let stranger = registre_crypto::SigningKey::generate().verifying_key();
    let checked = registre_app::ledger::verify_export(
        export.as_slice(),
        Some(vec![stranger]),
        &Default::default(),
    )
    .unwrap();
    assert!(!checked.report.ok);
}

async fn a_consent_receipt_is_signed_and_names_the_person_only_by_pseudonym(app: TestApp) {
    let event = grant(&app, "jeanne.receipt@example.org", "newsletter").await;
    let event_id = event["event_id"].as_str().unwrap();
    let response = app
        .client
        .get(format!("{}/api/v1/consents/{event_id}/receipt", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("jeanne.receipt"),
        "the receipt names the person by pseudonym only"
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let receipt = &body["receipt"];
    assert_eq!(receipt["version"], "KI-CR-v1.1.0");
    assert_eq!(receipt["consentReceiptID"], event_id);
    assert_eq!(receipt["piiPrincipalId"], event["subject_id"]);
    assert_eq!(receipt["jurisdiction"], "FR");
    assert_eq!(receipt["language"], "fr");
    assert!(receipt["consentTimestamp"].is_i64());
    assert_eq!(receipt["piiControllers"][0]["piiController"], "Exemple SAS");
    assert!(receipt["policyUrl"].as_str().unwrap().starts_with("http"));
    let purpose = &receipt["services"][0]["purposes"][0];
    assert_eq!(purpose["consentType"], "EXPLICIT");
    assert_eq!(purpose["purposeCategory"][0], "newsletter");
    assert!(purpose["piiCategory"].is_array());
    assert!(purpose["thirdPartyDisclosure"].is_boolean());
    assert_eq!(receipt["sensitive"], false);
    assert_eq!(
        (receipt["seq"].clone(), receipt["hash"].clone()),
        (event["seq"].clone(), event["hash"].clone())
    );
    assert_eq!(receipt["notice_version"], event["notice_version"]);

    let keys = published_keys(&app).await;
    let signed = keys
        .iter()
        .find_map(|k| verify_jws(k, body["jws"].as_str().unwrap()).ok())
        .expect("the receipt verifies with the published key");
    assert_eq!(&signed, receipt);

    let (status, _) = app
        .get(&format!(
            "/api/v1/consents/{}/receipt",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/api/v1/consents/not-an-id/receipt").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn bulk_consents_are_answered_item_by_item_and_need_a_provenance(app: TestApp) {
    let (status, answer) = app
        .post(
            "/api/v1/consents/bulk",
            json!({"provenance": "crm-sync-2026-03", "items": [
                {"subject": {"email": "a@example.org"}, "purpose": "newsletter", "action": "grant", "occurred_at": "2025-06-01T10:00:00Z"},
                {"subject": {"email": "not an email"}, "purpose": "newsletter", "action": "grant"},
                {"subject": {"email": "b@example.org"}, "purpose": "astrology", "action": "grant"},
                {"subject": {"email": "a@example.org"}, "purpose": "newsletter", "action": "withdraw", "provenance": "crm-unsubscribes"},
                {"what": "is this"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(
        (answer["accepted"].clone(), answer["rejected"].clone()),
        (json!(2), json!(3))
    );
    let items = answer["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|i| i["status"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        vec![201, 422, 404, 201, 422]
    );
    assert_eq!(items[0]["event"]["source"], "import");
    assert_eq!(items[0]["event"]["provenance"], "crm-sync-2026-03");
    assert_eq!(items[0]["event"]["occurred_at"], "2025-06-01T10:00:00Z");
    assert_eq!(items[3]["event"]["provenance"], "crm-unsubscribes");
    assert_eq!(items[1]["error"]["code"], "invalid_field");
    let (_, decision) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "a@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(decision["state"], "withdrawn");

    // Without a provenance nothing is recorded.
    let (status, answer) = app.post("/api/v1/consents/bulk", json!([{"subject": {"email": "c@example.org"}, "purpose": "newsletter", "action": "grant"}])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["accepted"], 0);
    assert!(
        answer["items"][0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("provenance")
    );

    // An erased person cannot be brought back by a bulk import.
    grant(&app, "erased@example.org", "newsletter").await;
    let (status, _) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "erased@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, answer) = app.post("/api/v1/consents/bulk", json!({"provenance": "old-crm", "items": [{"subject": {"email": "erased@example.org"}, "purpose": "newsletter", "action": "grant"}]})).await;
    assert_eq!(answer["items"][0]["status"], 422);
    let (status, _) = app
        .post(
            "/api/v1/consents/bulk",
            json!({"provenance": "x", "items": []}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn a_csv_import_reports_rejected_rows_by_line_without_emails(app: TestApp) {
    grant(&app, "gone@example.org", "newsletter").await;
    let (status, _) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "gone@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = "email,purpose,action,occurred_at,source,touchpoint,crm_id\n\
               jeanne@example.org,newsletter,grant,2024-01-31T09:30:00Z,form,newsletter,17\n\
               no-at-sign.example.org,newsletter,grant,2024-01-31,,,18\n\
               paul@example.org,astrology,grant,2024-01-31,,,19\n\
               \"paul@example.org\",newsletter,withdraw,2024-02-01,,,20\n\
               lea@example.org,newsletter,grant,31/01/2024,,,21\n\
               gone@example.org,newsletter,grant,2023-05-01,,,22\n\
               lea@example.org,newsletter,maybe,2024-01-31,,,23\n";
    let report = app
        .app
        .import_consents_csv(&Principal::cli(), "/home/dpo/legacy-crm.csv", csv)
        .await
        .unwrap();
    assert_eq!(report.imported, 2, "{report:?}");
    assert_eq!(report.ignored_columns, vec!["crm_id".to_string()]);
    assert_eq!(
        report.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![3, 4, 6, 7, 8]
    );
    for row in &report.rejected {
        assert!(
            !row.reason.contains("@example.org") && !row.reason.contains("no-at-sign"),
            "{row:?}"
        );
    }
    assert!(
        report.rejected[3].reason.contains("erased"),
        "{:?}",
        report.rejected[3]
    );

    let (_, consents) = app
        .post(
            "/api/v1/subjects/consents",
            json!({"email": "jeanne@example.org"}),
        )
        .await;
    let newsletter = consents["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "newsletter")
        .unwrap();
    assert_eq!(newsletter["state"], "granted");
    let event = &newsletter["history"][0];
    assert_eq!(event["source"], "import");
    assert_eq!(event["occurred_at"], "2024-01-31T09:30:00Z");
    let provenance = event["provenance"].as_str().unwrap();
    assert!(
        provenance.contains("legacy-crm.csv") && provenance.contains(&report.import_id.to_string()),
        "{provenance}"
    );
    assert!(
        !provenance.contains("/home/dpo"),
        "only the file's name: {provenance}"
    );
    let (_, gone) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "gone@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(gone["state"], "erased");
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true);
}

async fn the_periodic_signer_follows_the_head(app: TestApp) {
    tokio::spawn(
        app.app
            .clone()
            .checkpoint_loop(std::time::Duration::from_millis(50)),
    );
    let latest = |app: &TestApp| {
        let app = app.app.clone();
        async move {
            app.checkpoints(&Principal::cli(), None, 1)
                .await
                .unwrap()
                .first()
                .map(|c| c.seq)
        }
    };
    registre_testkit::eventually(
        std::time::Duration::from_secs(10),
        "a checkpoint of the empty ledger",
        || async { (latest(&app).await == Some(0)).then_some(()) },
    )
    .await;
    grant(&app, "jeanne@example.org", "newsletter").await;
    grant(&app, "paul@example.org", "newsletter").await;
    registre_testkit::eventually(
        std::time::Duration::from_secs(10),
        "a checkpoint at seq 2",
        || async { (latest(&app).await == Some(2)).then_some(()) },
    )
    .await;
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
}

async fn chain_links_are_the_stored_events_hashed(app: TestApp) {
    grant(&app, "jeanne.links@example.org", "newsletter").await;
    let (status, _) = app
        .post("/api/v1/consents", json!({"subject": {"email": "paul.links@example.org"}, "purpose": "newsletter", "action": "withdraw", "provenance": "crm export"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    registre_testkit::seed_events(&app.app, "newsletter", 1_200).await;
    let store = app.app.store();
    let (head, _) = store.ledger_head().await.unwrap();
    let events = store.events(0, head).await.unwrap();
    assert_eq!(events.len() as i64, head);
    let expected: Vec<_> = events
        .iter()
        .map(registre_domain::proof::ChainLink::of)
        .collect();
    assert!(expected.iter().all(|link| link.content_matches));
    assert_eq!(store.chain_links(0, head).await.unwrap(), expected);
    // A range holds exactly its own events, however it falls.
    let middle = store.chain_links(1, 1_001).await.unwrap();
    assert_eq!(middle, expected[1..1_001]);
    assert!(store.chain_links(head, head + 10).await.unwrap().is_empty());

    // An instant cut short (no fraction, no offset) no longer reads as one: an altered row.
    if app.backend == registre_testkit::Backend::Sqlite {
        app.sql("UPDATE consent_events SET recorded_at = substr(recorded_at, 1, 19) WHERE seq = 3")
            .await;
        let links = store.chain_links(0, 5).await.unwrap();
        let altered: Vec<i64> = links
            .iter()
            .filter(|l| !l.content_matches)
            .map(|l| l.seq)
            .collect();
        assert_eq!(altered, vec![3]);
        let (_, verify) = app.get("/api/v1/ledger/verify").await;
        assert_eq!(verify["first_broken_seq"], 3, "{verify}");
    }
}

async fn text_of(app: &TestApp, path: &str, key: Option<&str>) -> (StatusCode, String, String) {
    let mut request = app.client.get(format!("{}{path}", app.url));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

fn hash_of(b64: &Value) -> registre_domain::merkle::Hash {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(b64.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// #18 item 1: the ledger as an RFC 9162 tree. The checkpoint is a C2SP signed note that
/// opens with the key published for note tools; an event's inclusion proof leads to the
/// checkpoint's root; a later tree is proved to extend an earlier one; nonsense sizes and
/// unknown events are clear errors.
async fn the_merkle_checkpoint_and_its_proofs_verify_with_the_published_note_key_alone(
    app: TestApp,
) {
    use registre_domain::{merkle, note};
    let mut events = Vec::new();
    for i in 0..5 {
        let (status, event) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": format!("tree{i}@example.org")}, "purpose": "newsletter", "action": "grant"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{event}");
        events.push(event);
    }
    // The verifier key, published without authentication.
    let (status, _, vkey) = text_of(&app, "/.well-known/registre/ledger-note-key", None).await;
    assert_eq!(status, StatusCode::OK);
    // The key's base64 may hold '+' itself: the name and the hash come first, then all the rest.
    let mut parts = vkey.trim().splitn(3, '+');
    let name = parts.next().unwrap().to_string();
    let _hash = parts.next().unwrap();
    let key_bytes = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(parts.next().unwrap())
            .unwrap()
    };
    assert_eq!(key_bytes.len(), 33);
    assert_eq!(key_bytes[0], 1, "Ed25519");
    let hex: String = key_bytes[1..].iter().map(|b| format!("{b:02x}")).collect();
    let key = VerifyingKey::from_hex(&hex).unwrap();

    let (status, content_type, checkpoint) =
        text_of(&app, "/api/v1/ledger/checkpoint", Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let opened = note::open_checkpoint(&checkpoint, &name, &key).unwrap();
    let (_, verified) = app.get("/api/v1/ledger/verify").await;
    let length = verified["length"].as_u64().unwrap();
    assert_eq!(opened.size, length);
    assert_eq!(opened.origin, name);

    // Every event is proved in the checkpoint's tree.
    let (_, since) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(since["length"].as_u64().unwrap(), length);
    for event in &events {
        let id = event["event_id"].as_str().unwrap();
        let (status, proof) = app
            .get(&format!("/api/v1/ledger/proofs/inclusion?event_id={id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{proof}");
        let path: Vec<merkle::Hash> = proof["hashes"]
            .as_array()
            .unwrap()
            .iter()
            .map(hash_of)
            .collect();
        let leaf = merkle::leaf_hash(&{
            let h = event["hash"].as_str().unwrap();
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        });
        assert_eq!(
            hash_of(&proof["leaf_hash"]),
            leaf,
            "the leaf is the event's hash"
        );
        assert_eq!(
            proof["leaf_index"].as_u64().unwrap(),
            event["seq"].as_u64().unwrap() - 1
        );
        assert!(merkle::verify_inclusion(
            proof["leaf_index"].as_u64().unwrap(),
            proof["tree_size"].as_u64().unwrap(),
            &leaf,
            &path,
            &opened.root
        ));
        // The proof carries its own checkpoint, which opens too.
        let carried =
            note::open_checkpoint(proof["checkpoint"].as_str().unwrap(), &name, &key).unwrap();
        assert_eq!(carried.root, opened.root);
    }

    // More events later: the new tree extends the old one.
    for i in 5..8 {
        app.post(
            "/api/v1/consents",
            json!({"subject": {"email": format!("tree{i}@example.org")}, "purpose": "newsletter", "action": "grant"}),
        )
        .await;
    }
    let (_, _, later) = text_of(&app, "/api/v1/ledger/checkpoint", Some(&app.admin_key)).await;
    let later = note::open_checkpoint(&later, &name, &key).unwrap();
    assert_eq!(later.size, opened.size + 3);
    let (status, proof) = app
        .get(&format!(
            "/api/v1/ledger/proofs/consistency?from={}&to={}",
            opened.size, later.size
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{proof}");
    let path: Vec<merkle::Hash> = proof["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(hash_of)
        .collect();
    assert!(merkle::verify_consistency(
        opened.size,
        later.size,
        &opened.root,
        &later.root,
        &path
    ));
    assert!(!merkle::verify_consistency(
        opened.size,
        later.size,
        &merkle::leaf_hash(b"forged"),
        &later.root,
        &path
    ));

    for bad in [
        "from=0&to=3",
        "from=4&to=3",
        &format!("from=1&to={}", later.size + 1),
    ] {
        let (status, answer) = app
            .get(&format!("/api/v1/ledger/proofs/consistency?{bad}"))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("from"),
            "{answer}"
        );
    }
    let (status, answer) = app
        .get(&format!(
            "/api/v1/ledger/proofs/inclusion?event_id={}",
            uuid::Uuid::nil()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    let (status, _, _) = text_of(&app, "/api/v1/ledger/checkpoint", None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the checkpoint needs a key, like the ledger"
    );
}
