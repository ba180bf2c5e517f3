//! Rights requests through the API: deadlines, every type carried out end to end, erasure
//! that leaves nothing behind.
use chrono::{DateTime, Duration, Utc};
use registre_store::{ChangeSet, SubmissionRecord};
use registre_testkit::{Backend, TestApp, contains, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::io::Read;

store_tests!(
    an_access_request_is_due_in_a_month_and_answered_with_a_signed_download,
    requests_due_within_a_week_are_flagged_then_overdue_and_a_reminder_fires_once,
    an_extension_is_granted_once_with_a_reason_told_to_the_person,
    a_refusal_needs_a_reason_and_tells_the_person_they_may_complain,
    a_rectification_reseals_the_corrected_fields_under_the_new_address,
    an_erasure_request_leaves_nothing_of_the_person_and_the_ledger_still_verifies,
    data_kept_for_a_legal_obligation_is_kept_and_the_answer_says_so,
    a_restriction_stops_processing_until_it_is_lifted,
    an_objection_to_marketing_withdraws_every_marketing_consent_for_good,
    a_verified_objection_stops_every_marketing_purpose_when_asked_and_cannot_be_refused,
    a_verified_restriction_holds_from_the_request_on_and_a_refusal_lifts_it,
    an_erasure_tells_the_person_in_their_language_and_leaves_other_peoples_mail,
    portability_gives_json_and_csv_of_what_the_person_provided,
    the_export_of_a_person_with_many_events_is_streamed_whole,
    bad_requests_are_refused_with_the_json_error_shape,
    the_register_pages_by_due_date_and_filters_by_status,
);

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

async fn grant(app: &TestApp, email: &str, purpose: &str) {
    let (status, event) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": email}, "purpose": purpose, "action": "grant"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
}

async fn check(app: &TestApp, email: &str, purpose: &str) -> String {
    let (status, decision) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": email, "purpose": purpose}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision["state"].as_str().unwrap().to_string()
}

async fn file(app: &TestApp, request_type: &str, email: &str, details: &str) -> Value {
    let (status, request) = app
        .post("/api/v1/requests", json!({"type": request_type, "email": email, "details": details, "identity_verified": true}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    request
}

async fn fulfil(app: &TestApp, id: &str, body: Option<Value>) -> Value {
    let (status, request) = app
        .request(
            reqwest::Method::POST,
            &format!("/api/v1/requests/{id}/fulfil"),
            body,
            Some(&app.admin_key),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{request}");
    assert_eq!(request["status"], "completed");
    request
}

/// What a form would have stored: the fields sealed under the person's key.
async fn submit(app: &TestApp, email: &str, touchpoint: &str, fields: Value) {
    let email = registre_domain::Email::parse(email).unwrap();
    let (subject, key) = app.app.subject_with_key(&email).await.unwrap();
    let touchpoint = app.app.touchpoint(touchpoint).await.unwrap();
    let notice = app.app.current_notice(&touchpoint).await.unwrap();
    let submission = SubmissionRecord {
        id: uuid::Uuid::now_v7(),
        subject_id: subject.id,
        touchpoint: touchpoint.key.to_string(),
        notice_version: notice.version,
        fields_sealed: key
            .seal(
                registre_app::subjects::SUBMISSION_CONTEXT,
                fields.to_string().as_bytes(),
            )
            .unwrap(),
        received_at: app.app.now(),
    };
    let change = ChangeSet {
        submissions: vec![submission],
        at: app.app.now(),
        ..Default::default()
    };
    app.app
        .store()
        .commit(vec![change])
        .await
        .pop()
        .unwrap()
        .unwrap();
}

async fn export(app: &TestApp, email: &str) -> Value {
    let (status, export) = app
        .post("/api/v1/subjects/export", json!({"email": email}))
        .await;
    assert_eq!(status, StatusCode::OK, "{export}");
    export
}

async fn download(app: &TestApp, url: &str) -> (StatusCode, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.bytes().await.unwrap().to_vec())
}

fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let mut text = String::new();
        file.read_to_string(&mut text).unwrap();
        files.insert(file.name().to_string(), text);
    }
    files
}

async fn an_access_request_is_due_in_a_month_and_answered_with_a_signed_download(app: TestApp) {
    app.clock.set(at("2026-01-31T10:00:00Z"));
    grant(&app, "jeanne@example.org", "newsletter").await;
    submit(
        &app,
        "jeanne@example.org",
        "contact",
        json!({"email": "jeanne@example.org", "name": "Jeanne", "message": "Bonjour"}),
    )
    .await;
    let request = file(
        &app,
        "access",
        "Jeanne@Example.org",
        "Je veux savoir ce que vous savez de moi",
    )
    .await;
    assert_eq!(request["type"], "access");
    assert_eq!(request["status"], "verified");
    assert_eq!(request["received_at"], "2026-01-31T10:00:00Z");
    assert_eq!(request["due_at"], "2026-02-28T10:00:00Z");
    assert_eq!(
        (request["due_soon"].clone(), request["overdue"].clone()),
        (json!(false), json!(false))
    );
    let id = request["id"].as_str().unwrap();
    let received = app.mails_to("jeanne@example.org");
    assert_eq!(
        received.len(),
        1,
        "the person is told the request was received"
    );
    assert!(
        received[0].body.contains("28 février 2026") && !received[0].body.contains("February"),
        "{}",
        received[0].body
    );

    let (status, fetched) = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["email"], "jeanne@example.org");
    let done = fulfil(&app, id, None).await;
    let url = done["export_url"]
        .as_str()
        .expect("an export_url")
        .to_string();
    assert!(
        url.contains("/privacy/export/") && !url.contains("jeanne"),
        "{url}"
    );
    let completed = app.mails_to("jeanne@example.org");
    assert_eq!(completed.len(), 2);
    assert!(
        completed[1].body.contains("/privacy/export/"),
        "the completion mail carries the link"
    );

    // The link works without an API key, and holds the JSON and a readable page.
    let (status, bytes) = download(&app, &url).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let json: Value = serde_json::from_str(&files["registre-export.json"]).unwrap();
    assert_eq!(json["subject"]["email"], "jeanne@example.org");
    assert_eq!(json["submissions"][0]["fields"]["message"], "Bonjour");
    assert!(
        json["consent_history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["purpose"] == "newsletter" && e["action"] == "grant")
    );
    assert!(
        json["notices"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["version"].as_str().unwrap().starts_with("sha256:"))
    );
    assert_eq!(json["requests"][0]["type"], "access");
    assert!(
        json["recipients"]
            .as_array()
            .unwrap()
            .contains(&json!("Brevo"))
    );
    assert!(
        json["retention"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["purpose"] == "newsletter")
    );
    assert!(files["registre-export.html"].contains("jeanne@example.org"));

    // Forged and expired links open nothing.
    let forged = format!("{}x", url);
    assert!(download(&app, &forged).await.0.is_client_error());
    let (body, _) = url.rsplit_once('.').unwrap();
    assert!(
        download(&app, &format!("{body}.AAAA"))
            .await
            .0
            .is_client_error()
    );
    app.clock.advance(Duration::days(8));
    assert!(
        download(&app, &url).await.0.is_client_error(),
        "an expired link"
    );
    let (_, fresh) = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(
        download(&app, fresh["export_url"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK,
        "the agent can get a fresh link"
    );
}

async fn requests_due_within_a_week_are_flagged_then_overdue_and_a_reminder_fires_once(
    app: TestApp,
) {
    app.clock.set(at("2026-03-02T09:00:00Z"));
    let request = file(&app, "portability", "paul@example.org", "").await;
    let id = request["id"].as_str().unwrap().to_string();
    assert_eq!(request["due_at"], "2026-04-02T09:00:00Z");
    assert_eq!(app.app.send_due_soon_reminders().await.unwrap(), 0);
    app.clock.set(at("2026-03-27T09:00:00Z"));
    assert_eq!(
        app.app.send_due_soon_reminders().await.unwrap(),
        1,
        "request.due_soon fires"
    );
    assert_eq!(app.app.send_due_soon_reminders().await.unwrap(), 0, "once");
    let (_, list) = app.get("/api/v1/requests").await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (item["due_soon"].clone(), item["overdue"].clone()),
        (json!(true), json!(false))
    );
    app.clock.set(at("2026-04-02T09:00:01Z"));
    let (_, item) = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(
        (item["due_soon"].clone(), item["overdue"].clone()),
        (json!(false), json!(true))
    );
    fulfil(&app, &id, None).await;
    let (_, item) = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(
        item["overdue"], false,
        "an answered request is no longer overdue"
    );
}

async fn an_extension_is_granted_once_with_a_reason_told_to_the_person(app: TestApp) {
    app.clock.set(at("2026-11-30T12:00:00Z"));
    let request = file(&app, "access", "claire@example.org", "").await;
    let id = request["id"].as_str().unwrap();
    let (status, error) = app
        .post(
            &format!("/api/v1/requests/{id}/extend"),
            json!({"reason": "  "}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    app.clock.advance(Duration::days(10));
    let (status, extended) = app
        .post(
            &format!("/api/v1/requests/{id}/extend"),
            json!({"reason": "Vos données sont réparties dans trois systèmes"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{extended}");
    assert_eq!(extended["id"], id);
    assert_eq!(extended["due_at"], "2027-02-28T12:00:00Z");
    assert_eq!(extended["extended"], true);
    let (status, error) = app
        .post(
            &format!("/api/v1/requests/{id}/extend"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "only once: {error}"
    );
    assert_eq!(error["error"]["code"], "rule_violated");
    let mails = app.mails_to("claire@example.org");
    assert!(
        mails.last().unwrap().body.contains("trois systèmes"),
        "the person is told why"
    );
}

async fn a_refusal_needs_a_reason_and_tells_the_person_they_may_complain(app: TestApp) {
    let request = file(&app, "erasure", "marc@example.org", "Effacez tout").await;
    let id = request["id"].as_str().unwrap();
    let (status, _) = app
        .post(&format!("/api/v1/requests/{id}/refuse"), json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, refused) = app
        .post(
            &format!("/api/v1/requests/{id}/refuse"),
            json!({"reason": "Manifestly unfounded: a duplicate of a request answered last week"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(refused["status"], "refused");
    let mails = app.mails_to("marc@example.org");
    let body = &mails.last().unwrap().body;
    assert!(
        body.contains("CNIL") && body.contains("https://www.cnil.fr") && body.contains("duplicate"),
        "{body}"
    );
    let (status, _) = app
        .post(&format!("/api/v1/requests/{id}/fulfil"), json!({}))
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a refused request stays refused"
    );
}

async fn a_rectification_reseals_the_corrected_fields_under_the_new_address(app: TestApp) {
    grant(&app, "jeane@example.org", "newsletter").await;
    submit(
        &app,
        "jeane@example.org",
        "whitepaper",
        json!({"email": "jeane@example.org", "name": "Jeane Dupond", "company": "ACME"}),
    )
    .await;
    let request = file(
        &app,
        "rectification",
        "jeane@example.org",
        "My name is Jeanne Dupont, and so is my email",
    )
    .await;
    let id = request["id"].as_str().unwrap();
    let (status, error) = app
        .post(
            &format!("/api/v1/requests/{id}/fulfil"),
            json!({"corrections": {"fields": {"shoe_size": "38"}}}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a field the person never gave: {error}"
    );
    let done = fulfil(&app, id, Some(json!({"corrections": {"email": "jeanne.dupont@example.org", "fields": {"name": "Jeanne Dupont"}}}))).await;
    assert_eq!(done["outcome"]["corrected"], json!(["email", "name"]));
    assert_eq!(
        check(&app, "jeanne.dupont@example.org", "newsletter").await,
        "granted",
        "the consents follow the person"
    );
    assert_eq!(check(&app, "jeane@example.org", "newsletter").await, "none");
    let export = export(&app, "jeanne.dupont@example.org").await;
    assert_eq!(export["submissions"][0]["fields"]["name"], "Jeanne Dupont");
    assert_eq!(
        export["submissions"][0]["fields"]["email"],
        "jeanne.dupont@example.org"
    );
    assert_eq!(export["submissions"][0]["fields"]["company"], "ACME");
    assert_eq!(
        export["requests"][0]["type"], "rectification",
        "the request follows the new address"
    );
    if app.backend == Backend::Sqlite {
        assert!(
            !contains(&app.data_dir_bytes(), b"Jeanne Dupont"),
            "re-sealed, never in clear"
        );
    }
}

async fn an_erasure_request_leaves_nothing_of_the_person_and_the_ledger_still_verifies(
    app: TestApp,
) {
    let email = "zoe.distinctive@example.org";
    let message = "my-distinctive-message-4521";
    grant(&app, email, "newsletter").await;
    grant(&app, "paul@example.org", "newsletter").await;
    submit(
        &app,
        email,
        "contact",
        json!({"email": email, "name": "Zoé", "message": message}),
    )
    .await;
    let request = file(
        &app,
        "erasure",
        email,
        &format!("Please erase me: {message}"),
    )
    .await;
    let id = request["id"].as_str().unwrap();
    assert!(!app.mails_to(email).is_empty(), "the person was mailed");
    let done = fulfil(&app, id, None).await;
    let certificate_id = done["certificate_id"]
        .as_str()
        .expect("a certificate")
        .to_string();
    assert_eq!(done["personal_data_erased"], true);
    assert_eq!(done["email"], Value::Null);
    assert_eq!(check(&app, email, "newsletter").await, "erased");
    assert_eq!(
        check(&app, "paul@example.org", "newsletter").await,
        "granted"
    );
    let (status, certificate) = app
        .get(&format!("/api/v1/erasure-certificates/{certificate_id}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(certificate["complete"], true);
    assert_eq!(certificate["erased"]["submissions"], 1);
    assert_eq!(certificate["request_id"], id);
    assert!(
        !certificate.to_string().contains("zoe"),
        "a certificate says what and when, not who"
    );
    let (_, register) = app.get(&format!("/api/v1/requests/{id}")).await;
    assert_eq!(
        (register["type"].clone(), register["status"].clone()),
        (json!("erasure"), json!("completed")),
        "the register keeps the request, without the person"
    );

    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true);
    // Every earlier mail to the person is gone from the outbox; the one left is the
    // confirmation of the erasure, sent before their address was destroyed.
    let left = app.mails_to(email);
    assert_eq!(left.len(), 1, "only the confirmation is left");
    assert!(
        left[0].body.contains("erasure") || left[0].body.contains("effac"),
        "{}",
        left[0].body
    );
    // That mail is the person's own, sent (a relay takes it from the file outbox): the rest
    // of the data dir must hold nothing of them.
    std::fs::remove_file(&left[0].file).unwrap();
    let needles: [&[u8]; 3] = [email.as_bytes(), message.as_bytes(), b"zoe.distinctive"];
    match app.backend {
        Backend::Sqlite => {
            let bytes = app.data_dir_bytes();
            for needle in needles {
                assert!(
                    !contains(&bytes, needle),
                    "{} is still in the data dir",
                    String::from_utf8_lossy(needle)
                );
            }
        }
        Backend::Postgres => {
            let dump = std::process::Command::new("pg_dump")
                .arg(app.database_url.as_deref().unwrap())
                .output()
                .expect("pg_dump");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            assert!(dump.stdout.len() > 1000);
            for needle in needles {
                assert!(
                    !contains(&dump.stdout, needle),
                    "{} is in the database dump",
                    String::from_utf8_lossy(needle)
                );
            }
            assert!(!contains(&app.data_dir_bytes(), email.as_bytes()));
        }
    }
    // Erasing again finds no one.
    let (status, _) = app
        .post("/api/v1/subjects/erase", json!({"email": email}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn data_kept_for_a_legal_obligation_is_kept_and_the_answer_says_so(app: TestApp) {
    let (status, purpose) = app
        .post("/api/v1/purposes", json!({"key": "invoicing", "legal_basis": "legal_obligation", "retention_days": 3650,
            "data_categories": ["identity", "financial"], "title": {"fr": "Facturation", "en": "Invoicing"},
            "description": "Keeping invoices as the commercial code requires"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{purpose}");
    let (status, touchpoint) = app
        .post("/api/v1/touchpoints", json!({"key": "order", "title": "Order", "purposes": ["invoicing", "newsletter"],
            "fields": [{"name": "email", "type": "email", "required": true, "data_category": "contact", "label": "Email"},
                       {"name": "name", "type": "text", "required": true, "data_category": "identity", "label": "Name"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{touchpoint}");
    grant(&app, "client@example.org", "newsletter").await;
    submit(
        &app,
        "client@example.org",
        "order",
        json!({"email": "client@example.org", "name": "Client"}),
    )
    .await;
    submit(
        &app,
        "client@example.org",
        "contact",
        json!({"email": "client@example.org", "name": "Client", "message": "hello"}),
    )
    .await;
    let (status, answer) = app
        .delete("/api/v1/subjects?email=client%40example.org")
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["complete"], false);
    assert_eq!(answer["kept"][0]["purpose"], "invoicing");
    assert_eq!(answer["kept"][0]["legal_basis"], "legal_obligation");
    assert!(answer["kept"][0]["until"].as_str().is_some());
    assert_eq!(answer["action"], "restrict");
    assert_eq!(
        check(&app, "client@example.org", "newsletter").await,
        "restricted",
        "nothing else is processed"
    );
    let export = export(&app, "client@example.org").await;
    let submissions = export["submissions"].as_array().unwrap();
    assert_eq!(submissions.len(), 1, "only the invoice data is kept");
    assert_eq!(submissions[0]["touchpoint"], "order");
}

async fn a_restriction_stops_processing_until_it_is_lifted(app: TestApp) {
    grant(&app, "rita@example.org", "newsletter").await;
    let request = file(
        &app,
        "restriction",
        "rita@example.org",
        "I contest the accuracy of my data",
    )
    .await;
    let id = request["id"].as_str().unwrap();
    fulfil(&app, id, None).await;
    assert_eq!(
        check(&app, "rita@example.org", "newsletter").await,
        "restricted"
    );
    assert_eq!(
        check(&app, "rita@example.org", "support_handling").await,
        "restricted"
    );
    assert_eq!(
        export(&app, "rita@example.org").await["submissions"],
        json!([]),
        "data is kept, just not processed"
    );
    let (status, lifted) = app
        .post(
            &format!("/api/v1/requests/{id}/lift-restriction"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{lifted}");
    assert!(lifted["restriction_lifted_at"].is_string());
    assert_eq!(
        check(&app, "rita@example.org", "newsletter").await,
        "granted"
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/requests/{id}/lift-restriction"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn an_objection_to_marketing_withdraws_every_marketing_consent_for_good(app: TestApp) {
    grant(&app, "olga@example.org", "newsletter").await;
    grant(&app, "olga@example.org", "promotional_offers").await;
    let request = file(&app, "objection", "olga@example.org", "Stop the marketing").await;
    let done = fulfil(&app, request["id"].as_str().unwrap(), None).await;
    let mut withdrawn: Vec<String> =
        serde_json::from_value(done["outcome"]["withdrawn"].clone()).unwrap();
    withdrawn.sort();
    assert_eq!(withdrawn, ["newsletter", "promotional_offers"]);
    assert_eq!(
        check(&app, "olga@example.org", "newsletter").await,
        "objected"
    );
    assert_eq!(
        check(&app, "olga@example.org", "partner_offers").await,
        "objected"
    );
    assert_eq!(
        check(&app, "olga@example.org", "contact_handling").await,
        "objected",
        "legitimate interest too"
    );
    assert_eq!(
        check(&app, "olga@example.org", "whitepaper_delivery").await,
        "not_required",
        "a document the person asked for is sent on that request, not objected to"
    );
    assert_eq!(
        check(&app, "olga@example.org", "support_handling").await,
        "not_required",
        "a contract is not objected to"
    );
    grant(&app, "olga@example.org", "newsletter").await;
    assert_eq!(
        check(&app, "olga@example.org", "newsletter").await,
        "objected",
        "for good"
    );
    // An objection to a contract purpose makes no sense.
    let request = file(&app, "objection", "olga@example.org", "").await;
    let (status, _) = app
        .post(
            &format!(
                "/api/v1/requests/{}/fulfil",
                request["id"].as_str().unwrap()
            ),
            json!({"purposes": ["support_handling"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A stranger's objection holds for good too.
    let request = file(&app, "objection", "stranger@example.org", "").await;
    fulfil(
        &app,
        request["id"].as_str().unwrap(),
        Some(json!({"marketing": true, "purposes": []})),
    )
    .await;
    grant(&app, "stranger@example.org", "newsletter").await;
    assert_eq!(
        check(&app, "stranger@example.org", "newsletter").await,
        "objected"
    );
}

async fn portability_gives_json_and_csv_of_what_the_person_provided(app: TestApp) {
    grant(&app, "pia@example.org", "newsletter").await;
    submit(&app, "pia@example.org", "account", json!({"email": "pia@example.org", "first_name": "Pia", "last_name": "Nilsson", "phone": "=1+2"})).await;
    let request = file(&app, "portability", "pia@example.org", "").await;
    let done = fulfil(&app, request["id"].as_str().unwrap(), None).await;
    let (status, bytes) = download(&app, done["export_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let json: Value = serde_json::from_str(&files["registre-portability.json"]).unwrap();
    assert_eq!(json["submissions"][0]["fields"]["last_name"], "Nilsson");
    let csv = &files["registre-portability.csv"];
    assert!(csv.starts_with("source,received_at,field,value"));
    assert!(csv.contains("\"last_name\",\"Nilsson\""));
    assert!(csv.contains("\"'=1+2\""), "formulas are defused");
    assert!(csv.contains("\"consent.newsletter\",\"granted\""));
}

async fn the_export_of_a_person_with_many_events_is_streamed_whole(app: TestApp) {
    let email = registre_domain::Email::parse("busy@example.org").unwrap();
    let (subject, _) = app.app.subject_with_key(&email).await.unwrap();
    let count = 20_000;
    for batch in 0..4 {
        let events = (0..count / 4)
            .map(|i| registre_domain::ledger::NewConsentEvent {
                event_id: uuid::Uuid::now_v7(),
                subject_id: subject.id,
                purpose: Some("newsletter".into()),
                action: if (batch * count / 4 + i) % 2 == 0 {
                    registre_domain::ledger::ConsentAction::Grant
                } else {
                    registre_domain::ledger::ConsentAction::Withdraw
                },
                source: registre_domain::ledger::ConsentSource::Import,
                touchpoint: None,
                notice_version: None,
                provenance: Some("bulk".into()),
                occurred_at: None,
            })
            .collect();
        app.app
            .store()
            .commit(vec![ChangeSet {
                events,
                at: app.app.now(),
                ..Default::default()
            }])
            .await
            .pop()
            .unwrap()
            .unwrap();
    }
    let response = app
        .client
        .post(format!("{}/api/v1/subjects/export", app.url))
        .bearer_auth(&app.admin_key)
        .json(&json!({"email": "busy@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let mut response = response;
    let mut body = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = response.chunk().await.unwrap() {
        chunks += 1;
        body.extend_from_slice(&chunk);
    }
    assert!(chunks > 1);
    let export: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(export["consent_history"].as_array().unwrap().len(), count);
    assert_eq!(export["consents"][0]["state"], "withdrawn");
}

async fn bad_requests_are_refused_with_the_json_error_shape(app: TestApp) {
    let (status, error) = app
        .post(
            "/api/v1/requests",
            json!({"type": "deletion", "email": "a@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["error"]["code"], "invalid_field");
    let (status, _) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": "not-an-email"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post("/api/v1/requests", json!({"type": "access"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.post("/api/v1/requests", json!({"type": "access", "email": "a@example.org", "received_at": "2099-01-01T00:00:00Z"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a request from the future"
    );
    let auditor = app.key(registre_domain::Role::Auditor).await;
    let (status, _) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/requests",
            Some(json!({"type": "access", "email": "a@example.org"})),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/requests", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, error) = app
        .get(&format!("/api/v1/requests/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(
        (status, error["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
    let (status, _) = app.get("/api/v1/requests/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/api/v1/requests?status=done").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.get("/api/v1/requests?cursor=garbage").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let request = file(&app, "access", "a@example.org", "").await;
    let response = app
        .client
        .post(format!(
            "{}/api/v1/requests/{}/fulfil",
            app.url,
            request["id"].as_str().unwrap()
        ))
        .bearer_auth(&app.admin_key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = app.get("/api/v1/subjects/export?email=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Someone unknown has an export too: nothing held but their request.
    let unknown = export(&app, "a@example.org").await;
    assert_eq!(
        (
            unknown["subject"]["known"].clone(),
            unknown["requests"].as_array().unwrap().len()
        ),
        (json!(false), 1)
    );
    let (status, _) = app
        .get(&format!(
            "/api/v1/erasure-certificates/{}",
            uuid::Uuid::now_v7()
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_register_pages_by_due_date_and_filters_by_status(app: TestApp) {
    app.clock.set(at("2026-05-10T08:00:00Z"));
    let late = file(&app, "access", "one@example.org", "").await;
    app.clock.set(at("2026-05-01T08:00:00Z"));
    let early = file(&app, "access", "two@example.org", "").await;
    let (status, unverified) = app
        .post(
            "/api/v1/requests",
            json!({"type": "erasure", "email": "three@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(unverified["status"], "received");
    let (status, verified) = app
        .post(
            &format!(
                "/api/v1/requests/{}/verify",
                unverified["id"].as_str().unwrap()
            ),
            json!({"method": "answered a question only they could"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(
        (
            verified["status"].clone(),
            verified["identity_verification"].clone()
        ),
        (
            json!("verified"),
            json!("answered a question only they could")
        )
    );
    let (status, started) = app
        .post(
            &format!("/api/v1/requests/{}/start", late["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(
        (status, started["status"].clone()),
        (StatusCode::OK, json!("in_progress"))
    );
    let (_, page) = app.get("/api/v1/requests?limit=2").await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], early["id"], "by due date");
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, next) = app
        .get(&format!("/api/v1/requests?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(next["items"][0]["id"], late["id"]);
    assert_eq!(next["next_cursor"], Value::Null);
    let (_, in_progress) = app.get("/api/v1/requests?status=in_progress").await;
    assert_eq!(in_progress["items"].as_array().unwrap().len(), 1);
    assert_eq!(in_progress["items"][0]["id"], late["id"]);
}

async fn subscribe_all(app: &TestApp) {
    let (status, hook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/hook", "secret": "s3cret-for-tests",
                   "events": ["consent.withdrawn", "subject.objected", "subject.restricted"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
}

async fn queued(app: &TestApp, topic: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM outbox WHERE topic = '{topic}'"
    ))
    .await
}

async fn a_verified_objection_stops_every_marketing_purpose_when_asked_and_cannot_be_refused(
    app: TestApp,
) {
    subscribe_all(&app).await;
    grant(&app, "oscar@example.org", "newsletter").await;
    grant(&app, "oscar@example.org", "promotional_offers").await;
    let request = file(&app, "objection", "oscar@example.org", "No more marketing").await;
    let id = request["id"].as_str().unwrap().to_string();
    assert_eq!(request["status"], "verified", "no DPO step was taken");
    for purpose in [
        "newsletter",
        "promotional_offers",
        "partner_offers",
        "whitepaper_follow_up",
    ] {
        let (_, decision) = app
            .post(
                "/api/v1/consents/check",
                json!({"email": "oscar@example.org", "purpose": purpose}),
            )
            .await;
        assert_eq!(
            (decision["allowed"].clone(), decision["state"].clone()),
            (json!(false), json!("objected")),
            "{purpose} right when asked"
        );
    }
    assert_eq!(
        check(&app, "oscar@example.org", "whitepaper_delivery").await,
        "not_required",
        "the document the person asked for is not direct marketing"
    );
    assert_eq!(
        check(&app, "oscar@example.org", "contact_handling").await,
        "not_required",
        "legitimate interest waits for the DPO (Art. 21(1))"
    );
    assert_eq!(queued(&app, "subject.objected").await, 1);
    assert_eq!(queued(&app, "consent.withdrawn").await, 2);
    let mut early: Vec<String> =
        serde_json::from_value(request["effect_on_receipt"]["withdrawn"].clone()).unwrap();
    early.sort();
    assert_eq!(early, ["newsletter", "promotional_offers"]);

    let (status, error) = app
        .post(
            &format!("/api/v1/requests/{id}/refuse"),
            json!({"reason": "We have a legitimate interest"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("cannot be refused")
            || error.to_string().contains("cannot be refused"),
        "{error}"
    );
    let done = fulfil(&app, &id, None).await;
    let mut withdrawn: Vec<String> =
        serde_json::from_value(done["outcome"]["withdrawn"].clone()).unwrap();
    withdrawn.sort();
    assert_eq!(withdrawn, ["newsletter", "promotional_offers"], "{done}");
    assert!(done["outcome"]["took_effect_at"].is_string(), "{done}");
    assert_eq!(
        check(&app, "oscar@example.org", "contact_handling").await,
        "objected",
        "fulfilling adds the legitimate-interest purposes"
    );
    assert_eq!(queued(&app, "subject.objected").await, 1, "once");

    // Identity not verified: nothing yet; verified later: at once.
    grant(&app, "unsure@example.org", "newsletter").await;
    let (status, pending) = app
        .post(
            "/api/v1/requests",
            json!({"type": "objection", "email": "unsure@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{pending}");
    assert_eq!(
        check(&app, "unsure@example.org", "newsletter").await,
        "granted"
    );
    let (status, verified) = app
        .post(
            &format!(
                "/api/v1/requests/{}/verify",
                pending["id"].as_str().unwrap()
            ),
            json!({"method": "replied from the address"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(
        check(&app, "unsure@example.org", "newsletter").await,
        "objected"
    );
}

async fn a_verified_restriction_holds_from_the_request_on_and_a_refusal_lifts_it(app: TestApp) {
    subscribe_all(&app).await;
    grant(&app, "rosa@example.org", "newsletter").await;
    let request = file(&app, "restriction", "rosa@example.org", "My data is wrong").await;
    assert_eq!(request["status"], "verified");
    assert_eq!(
        check(&app, "rosa@example.org", "newsletter").await,
        "restricted"
    );
    assert_eq!(
        check(&app, "rosa@example.org", "contact_handling").await,
        "restricted"
    );
    assert_eq!(queued(&app, "subject.restricted").await, 1);
    let id = request["id"].as_str().unwrap();
    let (status, refused) = app
        .post(
            &format!("/api/v1/requests/{id}/refuse"),
            json!({"reason": "The data was checked and is accurate"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{refused}");
    assert_eq!(
        check(&app, "rosa@example.org", "newsletter").await,
        "granted"
    );

    // Fulfilled, the restriction records when it took effect.
    let request = file(&app, "restriction", "rosa@example.org", "Again").await;
    assert_eq!(
        check(&app, "rosa@example.org", "newsletter").await,
        "restricted"
    );
    let done = fulfil(&app, request["id"].as_str().unwrap(), None).await;
    assert_eq!(done["outcome"]["restricted"], true);
    assert!(done["outcome"]["took_effect_at"].is_string(), "{done}");
}

async fn an_erasure_tells_the_person_in_their_language_and_leaves_other_peoples_mail(app: TestApp) {
    let exactly = |to: &str| {
        app.decoded_mails()
            .into_iter()
            .filter(|m| m.to.trim() == to)
            .collect::<Vec<_>>()
    };
    grant(&app, "a@subst.example", "newsletter").await;
    let other = file(&app, "access", "ba@subst.example", "What do you hold?").await;
    assert_eq!(other["status"], "verified");
    let theirs = exactly("ba@subst.example").len();
    assert_eq!(theirs, 1, "ba was told of their request");
    let (status, request) = app
        .post(
            "/api/v1/requests",
            json!({"type": "erasure", "email": "a@subst.example", "identity_verified": true, "language": "en"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");
    assert_eq!(exactly("a@subst.example").len(), 1, "received");
    let done = fulfil(&app, request["id"].as_str().unwrap(), None).await;

    assert_eq!(
        exactly("ba@subst.example").len(),
        theirs,
        "another person's mail is never touched"
    );
    let left = exactly("a@subst.example");
    assert_eq!(left.len(), 1, "only the confirmation is left");
    assert!(
        left[0].subject.contains("carried out"),
        "in English: {}",
        left[0].subject
    );
    assert!(left[0].body.contains("last message"), "{}", left[0].body);
    let (status, certificate) = app
        .get(&format!(
            "/api/v1/erasure-certificates/{}",
            done["certificate_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        certificate["person_told"],
        json!({"by": "mail", "sent": true, "language": "en", "before_erasure": true})
    );
    assert!(
        certificate["statement"]["en"]
            .as_str()
            .unwrap()
            .contains("told of the erasure"),
        "{certificate}"
    );
    assert!(
        certificate["statement"]["fr"]
            .as_str()
            .unwrap()
            .contains("informée de l'effacement"),
        "{certificate}"
    );
    assert!(!certificate.to_string().contains("subst.example"));
    assert_eq!(check(&app, "a@subst.example", "newsletter").await, "erased");
}
