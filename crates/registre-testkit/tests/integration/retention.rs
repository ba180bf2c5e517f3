//! Retention periods applied: people who outlived every purpose are erased like an erasure
//! request erases them, old submissions go, marketing consents due for renewal are flagged.
use registre_store::{ChangeSet, SubmissionRecord};
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    a_person_whose_every_purpose_expired_is_erased_and_the_ledger_still_verifies,
    a_person_kept_for_one_purpose_loses_the_submissions_that_outlived_theirs,
    marketing_consent_without_contact_for_three_years_is_flagged_for_renewal,
);

async fn grant(app: &TestApp, email: &str, purpose: &str) {
    let (status, event) = app
        .post("/api/v1/consents", json!({"subject": {"email": email}, "purpose": purpose, "action": "grant", "source": "api"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
}

async fn state(app: &TestApp, email: &str, purpose: &str) -> String {
    let (_, decision) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": email, "purpose": purpose}),
        )
        .await;
    decision["state"].as_str().unwrap().to_string()
}

fn purpose_counts<'a>(report: &'a Value, purpose: &str) -> &'a Value {
    report["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == purpose)
        .unwrap()
}

/// A submission through `touchpoint`, written the way the form writes it.
async fn submission(app: &TestApp, email: &str, touchpoint: &str) {
    let email = registre_domain::Email::parse(email).unwrap();
    let (subject, key) = app.app.subject_with_key(&email).await.unwrap();
    let change = ChangeSet {
        submissions: vec![SubmissionRecord {
            id: uuid::Uuid::now_v7(),
            subject_id: subject.id,
            touchpoint: touchpoint.into(),
            notice_version: "sha256:test".into(),
            fields_sealed: key
                .seal("submissions.fields", br#"{"message":"bonjour"}"#)
                .unwrap(),
            received_at: app.app.now(),
        }],
        at: app.app.now(),
        ..Default::default()
    };
    let results = app.app.store().commit(vec![change]).await;
    assert!(results.into_iter().all(|r| r.is_ok()));
}

async fn a_person_whose_every_purpose_expired_is_erased_and_the_ledger_still_verifies(
    app: TestApp,
) {
    grant(&app, "old.reader@example.org", "newsletter").await;
    grant(&app, "old.reader@example.org", "promotional_offers").await;
    app.clock.advance(chrono::Duration::days(1000));
    grant(&app, "recent.reader@example.org", "newsletter").await;

    // 1000 days on, nobody has outlived the three years.
    let (status, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        (
            report["subjects_examined"].as_u64(),
            report["subjects_erased"].as_u64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(report["dry_run"], true);

    app.clock.advance(chrono::Duration::days(100));
    let (_, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(report["subjects_erased"], 1, "{report}");
    assert_eq!(purpose_counts(&report, "newsletter")["expired"], 1);
    assert_eq!(purpose_counts(&report, "newsletter")["subjects"], 2);
    assert!(
        !report.to_string().contains("old.reader"),
        "the report names nobody"
    );
    assert_eq!(
        state(&app, "old.reader@example.org", "newsletter").await,
        "granted",
        "a dry run erases nothing"
    );

    let applied = app.app.run_retention(false).await.unwrap();
    assert_eq!((applied.subjects_erased, applied.failures), (1, 0));
    assert_eq!(
        state(&app, "old.reader@example.org", "newsletter").await,
        "erased"
    );
    assert_eq!(
        state(&app, "recent.reader@example.org", "newsletter").await,
        "granted"
    );
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let entries = log["items"].as_array().unwrap();
    assert!(entries.iter().any(|e| e["action"] == "retention.applied"));
    assert!(
        entries.iter().any(|e| e["action"] == "subject.erased"
            && e["details"].as_str().unwrap().contains("retention"))
    );
    assert!(!log.to_string().contains("old.reader"));
    // Nothing left to do.
    let again = app.app.run_retention(false).await.unwrap();
    assert_eq!((again.subjects_examined, again.subjects_erased), (1, 0));
}

async fn a_person_kept_for_one_purpose_loses_the_submissions_that_outlived_theirs(app: TestApp) {
    // The support form serves support_handling (730 days); the newsletter consent is renewed.
    submission(&app, "customer@example.org", "support").await;
    app.clock.advance(chrono::Duration::days(400));
    grant(&app, "customer@example.org", "newsletter").await;
    app.clock.advance(chrono::Duration::days(400));
    let (_, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(
        (
            report["subjects_erased"].as_u64(),
            report["submissions_erased"].as_u64()
        ),
        (Some(0), Some(1)),
        "{report}"
    );
    assert_eq!(report["submissions_by_touchpoint"]["support"], 1);
    let applied = app.app.run_retention(false).await.unwrap();
    assert_eq!(applied.submissions_erased, 1);
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM submissions").await, 0);
    assert_eq!(
        state(&app, "customer@example.org", "newsletter").await,
        "granted"
    );
    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    assert!(
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "retention.submissions_deleted")
    );
}

async fn marketing_consent_without_contact_for_three_years_is_flagged_for_renewal(app: TestApp) {
    let (_, mut newsletter) = app.get("/api/v1/purposes/newsletter").await;
    newsletter["retention_days"] = json!(1500);
    let (status, _) = app.put("/api/v1/purposes/newsletter", newsletter).await;
    assert_eq!(status, StatusCode::OK);
    grant(&app, "loyal.reader@example.org", "newsletter").await;
    app.clock.advance(chrono::Duration::days(1040));
    let (_, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(
        purpose_counts(&report, "newsletter")["renewal_due"],
        1,
        "{report}"
    );
    app.clock.advance(chrono::Duration::days(60));
    let (_, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(
        purpose_counts(&report, "newsletter")["renewal_overdue"],
        1,
        "{report}"
    );
    assert_eq!(
        report["subjects_erased"], 0,
        "the purpose keeps data 1500 days"
    );
    // A new contact from the person starts the three years again.
    grant(&app, "loyal.reader@example.org", "newsletter").await;
    let (_, report) = app.get("/api/v1/retention/report").await;
    assert_eq!(purpose_counts(&report, "newsletter")["renewal_overdue"], 0);
    assert_eq!(purpose_counts(&report, "newsletter")["renewal_due"], 0);
}
