//! The breach register through the API: the 72-hour clock, who must be told, the
//! pre-filled notification and the log of notifications.
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    a_breach_is_recorded_with_its_72_hour_deadline_and_who_must_be_told,
    impossible_breaches_are_refused_and_nothing_is_written,
    notifications_are_logged_and_a_late_notice_to_the_authority_needs_reasons,
    the_notification_text_has_what_the_cnil_form_asks_for,
    a_breach_is_updated_as_the_investigation_goes_and_keeps_its_log,
    the_demo_has_a_past_breach_notified_in_time,
);

fn contract_breach() -> Value {
    json!({"aware_at": "2026-03-02T09:00:00Z", "description": "A laptop holding an export of the newsletter list was stolen",
        "data_categories": ["contact"], "subjects_affected": 120, "records_affected": 300,
        "likely_consequences": "Phishing aimed at the people on the list", "measures": "Remote wipe; the export was revoked",
        "risk": "unlikely"})
}

fn hours_ago(app: &TestApp, hours: i64) -> String {
    (app.app.now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn record(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/breaches", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn a_breach_is_recorded_with_its_72_hour_deadline_and_who_must_be_told(app: TestApp) {
    for (risk, authority, people) in [
        ("unlikely", false, false),
        ("risk", true, false),
        ("high", true, true),
    ] {
        let mut body = contract_breach();
        body["risk"] = json!(risk);
        let created = record(&app, body).await;
        assert_eq!(
            created["notify_authority_by"], "2026-03-05T09:00:00Z",
            "{created}"
        );
        assert_eq!(created["authority_notification_required"], authority);
        assert_eq!(created["subjects_notification_required"], people);
        assert_eq!(created["risk"], risk);
        let (status, read) = app
            .get(&format!(
                "/api/v1/breaches/{}",
                created["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(read["notify_authority_by"], created["notify_authority_by"]);
    }
    // An unlikely breach is recorded all the same, and its deadline shown.
    let (_, list) = app.get("/api/v1/breaches").await;
    let items = list["items"].as_array().unwrap();
    assert!(items.iter().all(|b| b["notify_authority_by"].is_string()));
    assert!(
        items
            .iter()
            .any(|b| b["risk"] == "unlikely" && b["authority_deadline"] == "not_required")
    );

    // The clock runs: a fresh breach shows as running, then overdue.
    let mut body = contract_breach();
    body["aware_at"] = json!(hours_ago(&app, 1));
    body["risk"] = json!("risk");
    let fresh = record(&app, body).await;
    assert_eq!(fresh["authority_deadline"], "running");
    app.clock.advance(chrono::Duration::hours(72));
    let (_, later) = app
        .get(&format!(
            "/api/v1/breaches/{}",
            fresh["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(later["authority_deadline"], "overdue");

    // Awareness given with an offset is kept as the same instant in UTC.
    let mut body = contract_breach();
    body["aware_at"] = json!("2026-03-28T10:00:00+01:00");
    let offset = record(&app, body).await;
    assert_eq!(offset["aware_at"], "2026-03-28T09:00:00Z");
    assert_eq!(
        offset["notify_authority_by"], "2026-03-31T09:00:00Z",
        "72 hours across the change to summer time"
    );
}

async fn impossible_breaches_are_refused_and_nothing_is_written(app: TestApp) {
    let (_, before) = app.get("/api/v1/breaches").await;
    let count = before["items"].as_array().unwrap().len();
    let in_an_hour = (app.app.now() + chrono::Duration::hours(1)).to_rfc3339();
    let cases = [
        ("aware_at", json!(in_an_hour)),
        ("subjects_affected", json!(-1)),
        ("records_affected", json!(-300)),
        ("processor", json!("Unknown Corp")),
        ("data_categories", json!(["shoe_size"])),
        ("description", json!("")),
        ("risk", json!("catastrophic")),
        ("aware_at", json!("yesterday")),
    ];
    for (field, value) in cases {
        let mut body = contract_breach();
        body[field] = value.clone();
        let (status, error) = app.post("/api/v1/breaches", body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {error}"
        );
        assert!(
            error["error"]["message"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
    let mut body = contract_breach();
    body["occurred_at"] = json!("2026-03-03T09:00:00Z");
    let (status, error) = app.post("/api/v1/breaches", body).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a breach cannot happen after it was known: {error}"
    );
    let (_, after) = app.get("/api/v1/breaches").await;
    assert_eq!(after["items"].as_array().unwrap().len(), count);
    for path in [
        "/api/v1/breaches/nope",
        "/api/v1/breaches/0190a7a4-0000-7000-8000-000000000000",
    ] {
        let (status, _) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

async fn notifications_are_logged_and_a_late_notice_to_the_authority_needs_reasons(app: TestApp) {
    let mut body = contract_breach();
    body["aware_at"] = json!(hours_ago(&app, 96));
    body["risk"] = json!("high");
    body["processor"] = json!("Brevo");
    let breach = record(&app, body).await;
    assert_eq!(breach["authority_deadline"], "overdue");
    assert_eq!(breach["processor"], "Brevo");
    let path = format!(
        "/api/v1/breaches/{}/notifications",
        breach["id"].as_str().unwrap()
    );

    let (status, error) = app
        .post(
            &path,
            json!({"recipient": "authority", "channel": "cnil_online_form"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reason_for_delay"),
        "{error}"
    );
    let (status, error) = app
        .post(
            &path,
            json!({"recipient": "subjects", "notified_at": hours_ago(&app, 100)}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "before awareness: {error}"
    );
    let (status, _) = app.post(&path, json!({"recipient": "subjects", "notified_at": (app.app.now() + chrono::Duration::days(1)).to_rfc3339()})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "in the future");

    let (status, logged) = app
        .post(&path, json!({"recipient": "authority", "channel": "cnil_online_form", "reference": "CNIL-2026-0042",
            "reason_for_delay": "The scope was only known once the forensic report came in"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{logged}");
    assert_eq!(logged["authority_deadline"], "notified_late");
    assert!(logged["authority_notified_at"].is_string());
    let notification = &logged["notifications"][0];
    assert_eq!(notification["recipient"], "authority");
    assert_eq!(notification["reference"], "CNIL-2026-0042");
    assert!(
        notification["content"]
            .as_str()
            .unwrap()
            .contains("Notification d'une violation"),
        "without a content, the pre-filled text is what was said"
    );

    let (status, logged) = app
        .post(&path, json!({"recipient": "subjects", "channel": "email", "content": "Nous vous informons qu'une violation...", "notified_at": hours_ago(&app, 2)}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{logged}");
    assert!(logged["subjects_notified_at"].is_string());
    assert_eq!(logged["notifications"].as_array().unwrap().len(), 2);

    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let entries = log["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "breach.recorded"));
    let target = format!("breach:{}", breach["id"].as_str().unwrap());
    assert_eq!(
        entries
            .iter()
            .filter(
                |e| e["action"] == "breach.notification_logged" && e["target"] == target.as_str()
            )
            .count(),
        2
    );
}

async fn the_notification_text_has_what_the_cnil_form_asks_for(app: TestApp) {
    let mut body = contract_breach();
    body["risk"] = json!("risk");
    body["processor"] = json!("brevo");
    body["nature"] = json!(["confidentiality", "availability"]);
    let breach = record(&app, body).await;
    let fr = breach["notification_text"]["fr"].as_str().unwrap();
    for expected in [
        "Nature de la violation",
        "120",
        "300",
        "Coordonnées",
        "Claire Martin",
        "dpo@exemple.fr",
        "Phishing aimed",
        "Remote wipe",
        "Brevo",
        "perte de confidentialité",
        "2026-03-05 09:00 UTC",
    ] {
        assert!(
            fr.contains(expected),
            "{expected:?} missing from the French text:\n{fr}"
        );
    }
    let en = breach["notification_text"]["en"].as_str().unwrap();
    for expected in [
        "Nature of the breach",
        "Approximate number of people concerned: 120",
        "Contact details",
        "dpo@exemple.fr",
        "loss of availability",
    ] {
        assert!(
            en.contains(expected),
            "{expected:?} missing from the English text:\n{en}"
        );
    }
}

async fn a_breach_is_updated_as_the_investigation_goes_and_keeps_its_log(app: TestApp) {
    let mut body = contract_breach();
    body["risk"] = json!("risk");
    let breach = record(&app, body.clone()).await;
    let id = breach["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/breaches/{id}/notifications"),
            json!({"recipient": "authority", "notified_at": "2026-03-03T09:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, mut read) = app.get(&format!("/api/v1/breaches/{id}")).await;
    read["subjects_affected"] = json!(450);
    read["risk"] = json!("high");
    let (status, updated) = app.put(&format!("/api/v1/breaches/{id}"), read).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["subjects_affected"], 450);
    assert_eq!(updated["subjects_notification_required"], true);
    assert_eq!(updated["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(updated["authority_deadline"], "met");
    assert_eq!(updated["created_at"], breach["created_at"]);
}

async fn the_demo_has_a_past_breach_notified_in_time(app: TestApp) {
    let (_, list) = app.get("/api/v1/breaches").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let breach = &items[0];
    assert_eq!(breach["processor"], "Brevo");
    assert_eq!(breach["authority_deadline"], "met");
    assert_eq!(breach["notifications"][0]["channel"], "cnil_online_form");
    app.app.load_demo().await.unwrap();
    let (_, again) = app.get("/api/v1/breaches").await;
    assert_eq!(
        again["items"].as_array().unwrap().len(),
        1,
        "the demo is idempotent"
    );
}
