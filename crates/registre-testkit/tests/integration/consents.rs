//! The consent ledger through the API.
use registre_testkit::{TestApp, contains, store_tests};
use reqwest::StatusCode;
use serde_json::json;

store_tests!(
    a_grant_is_a_chained_ledger_event_and_the_check_says_granted,
    a_visitor_who_granted_only_the_newsletter_is_not_sent_offers,
    a_withdrawal_is_as_easy_as_the_grant,
    an_unknown_person_is_none_and_an_unknown_purpose_is_404,
    no_email_is_stored_in_clear,
    an_erased_person_is_unrecoverable_and_the_ledger_still_verifies,
    look_alike_addresses_of_an_erased_person_do_not_pass_the_suppression_list,
);

async fn grant(app: &TestApp, email: &str, purpose: &str) -> serde_json::Value {
    let (status, event) = app.post("/api/v1/consents", json!({"subject": {"email": email}, "purpose": purpose, "action": "grant", "source": "api"})).await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    event
}

async fn check(app: &TestApp, email: &str, purpose: &str) -> serde_json::Value {
    let (status, decision) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": email, "purpose": purpose}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision
}

async fn a_grant_is_a_chained_ledger_event_and_the_check_says_granted(app: TestApp) {
    let first = grant(&app, "Jeanne@Example.org ", "newsletter").await;
    assert_eq!(first["prev_hash"], "0".repeat(64));
    assert_eq!(first["seq"], 1);
    assert!(
        first["notice_version"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(first["hash"].as_str().unwrap().len(), 64);
    let second = grant(&app, "paul@example.org", "newsletter").await;
    assert_eq!(second["prev_hash"], first["hash"]);
    let decision = check(&app, "jeanne@example.org", "newsletter").await;
    assert_eq!(decision["allowed"], true);
    assert_eq!(decision["state"], "granted");
    assert_eq!(decision["basis"], "consent");
    let (status, by_query) = app
        .get("/api/v1/consents/check?email=jeanne%40example.org&purpose=newsletter")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_query["state"], "granted");
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(
        (
            verify["ok"].clone(),
            verify["length"].clone(),
            verify["head"].clone()
        ),
        (json!(true), json!(2), second["hash"].clone())
    );
}

async fn a_visitor_who_granted_only_the_newsletter_is_not_sent_offers(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    let offers = check(&app, "jeanne@example.org", "promotional_offers").await;
    assert_eq!(
        (offers["allowed"].clone(), offers["state"].clone()),
        (json!(false), json!("none"))
    );
    let partners = check(&app, "jeanne@example.org", "partner_offers").await;
    assert_eq!(partners["allowed"], false);
}

async fn a_withdrawal_is_as_easy_as_the_grant(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "withdraw", "source": "api"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let decision = check(&app, "jeanne@example.org", "newsletter").await;
    assert_eq!(
        (decision["allowed"].clone(), decision["state"].clone()),
        (json!(false), json!("withdrawn"))
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
    assert_eq!(newsletter["state"], "withdrawn");
    assert_eq!(newsletter["history"].as_array().unwrap().len(), 2);
}

async fn an_unknown_person_is_none_and_an_unknown_purpose_is_404(app: TestApp) {
    let decision = check(&app, "nobody@example.org", "newsletter").await;
    assert_eq!(
        (decision["allowed"].clone(), decision["state"].clone()),
        (json!(false), json!("none"))
    );
    let (status, error) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "nobody@example.org", "purpose": "astrology"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["error"]["code"], "not_found");
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "not an email"}, "purpose": "newsletter", "action": "grant"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "a@example.org"}, "purpose": "support_handling", "action": "grant"})).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a contract purpose has no consent to grant"
    );
}

async fn no_email_is_stored_in_clear(app: TestApp) {
    grant(&app, "distinctive.person@example.org", "newsletter").await;
    if app.backend == registre_testkit::Backend::Sqlite {
        let bytes = app.data_dir_bytes();
        assert!(!bytes.is_empty());
        assert!(
            !contains(&bytes, b"distinctive.person"),
            "the email is in the data dir in clear"
        );
    }
}

async fn an_erased_person_is_unrecoverable_and_the_ledger_still_verifies(app: TestApp) {
    grant(&app, "jeanne@example.org", "newsletter").await;
    grant(&app, "paul@example.org", "newsletter").await;
    let (status, marker) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "jeanne@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{marker}");
    assert_eq!(marker["action"], "erase");
    let decision = check(&app, "jeanne@example.org", "newsletter").await;
    assert_eq!(
        (decision["allowed"].clone(), decision["state"].clone()),
        (json!(false), json!("erased"))
    );
    assert_eq!(
        check(&app, "paul@example.org", "newsletter").await["state"],
        "granted"
    );
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["length"], 3);
    // An import cannot bring the person back; a fresh explicit consent starts a new subject.
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "grant", "source": "import"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Nor can a withdrawal (it would have created a new, "withdrawn" subject).
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "withdraw"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        check(&app, "jeanne@example.org", "newsletter").await["state"],
        "erased"
    );
    grant(&app, "jeanne@example.org", "newsletter").await;
    assert_eq!(
        check(&app, "jeanne@example.org", "newsletter").await["state"],
        "granted"
    );
    let (status, _) = app
        .delete("/api/v1/subjects?email=nobody%40example.org")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn look_alike_addresses_of_an_erased_person_do_not_pass_the_suppression_list(app: TestApp) {
    grant(&app, "hg-victim@example.org", "newsletter").await;
    let (status, marker) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "hg-victim@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{marker}");
    let fullwidth_e = "hg-victim@\u{ff45}xample.org";
    let fullwidth_h = "\u{ff48}g-victim@example.org";
    let upper_idn = "HG-VICTIM@EXAMPLE\u{3002}ORG";
    let cyrillic_i = "hg-v\u{0456}ctim@example.org";
    let csv = format!(
        "email,purpose,action,occurred_at\n{fullwidth_e},newsletter,grant,2024-01-10\n{fullwidth_h},newsletter,grant,2024-01-10\n{upper_idn},newsletter,grant,2024-01-10\n{cyrillic_i},newsletter,grant,2024-01-10\n"
    );
    let report = app
        .app
        .import_consents_csv(&registre_app::Principal::cli(), "legacy.csv", &csv)
        .await
        .unwrap();
    assert_eq!(report.imported, 0, "{report:?}");
    assert_eq!(report.rejected.len(), 4, "{report:?}");
    for row in &report.rejected[..3] {
        assert!(row.reason.contains("erased"), "{row:?}");
    }
    assert!(
        !report.rejected[3].reason.contains("victim"),
        "{:?}",
        report.rejected[3]
    );
    for look_alike in [fullwidth_e, fullwidth_h, upper_idn] {
        assert_eq!(
            check(&app, look_alike, "newsletter").await["state"],
            "erased",
            "{look_alike:?}"
        );
    }
    // A mixed-script address is refused everywhere it could come in.
    let (status, _) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": cyrillic_i, "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": cyrillic_i}, "purpose": "newsletter", "action": "grant"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": cyrillic_i}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // A person who comes back with a fresh consent is one subject however they type it.
    let before = app.sql_i64("SELECT COUNT(*) FROM subjects").await;
    grant(&app, fullwidth_h, "newsletter").await;
    grant(&app, fullwidth_e, "promotional_offers").await;
    assert_eq!(
        check(&app, "hg-victim@example.org", "promotional_offers").await["state"],
        "granted"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM subjects").await,
        before + 1
    );
}
