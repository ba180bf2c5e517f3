//! The admin console in a real browser (headless Debian Chromium over WebDriver): an
//! administrator signs in, walks every page, performs one action per register, switches to
//! English, and signs out. A screenshot of each page goes to `target/screenshots/console/`.
//!
//! Skipped, with a notice, when `/usr/bin/chromedriver` is absent
//! (`apt-get install chromium chromium-driver`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::{Client, Locator};
use registre_app::{ConsentRequest, NewRequest, Principal, SubjectRef};
use registre_domain::Role;
use registre_testkit::browser::{Browser, click, screenshot, screenshots_dir};
use registre_testkit::{Backend, TestApp, seed_grants, spawn_app};
use serde_json::json;

const PASSWORD: &str = "a long console password";

/// Opens a console page and checks it is one (our stylesheet applied, no error page).
async fn open(client: &Client, app: &TestApp, path: &str) {
    client.goto(&format!("{}{path}", app.url)).await.unwrap();
    assert_page(client, path).await;
}

async fn assert_page(client: &Client, what: &str) {
    let url = client.current_url().await.unwrap();
    assert!(
        !url.path().ends_with("/sign-in"),
        "{what}: sent back to sign in ({url})"
    );
    let background = client
        .execute(
            "return getComputedStyle(document.querySelector('.top')).backgroundColor",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        background,
        json!("rgb(20, 27, 51)"),
        "{what}: the console stylesheet did not apply"
    );
    let problem = client
        .find_all(Locator::Css(".panel--problem"))
        .await
        .unwrap();
    if !problem.is_empty() {
        let text = problem[0].text().await.unwrap();
        panic!("{what}: an error page: {text}");
    }
}

async fn fill(client: &Client, selector: &str, value: &str) {
    let field = client.find(Locator::Css(selector)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

async fn text_of(client: &Client, selector: &str) -> String {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dpo_signs_in_walks_every_register_acts_on_each_and_signs_out() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    browser.run(|client| walk_the_console(app, client)).await;
}

async fn seed(app: &TestApp) {
    app.app
        .create_user(
            &Principal::cli(),
            "claire@exemple.fr",
            Role::Admin,
            Some(PASSWORD),
        )
        .await
        .unwrap();
    seed_grants(&app.app, "newsletter", 24).await;
    for i in 0..6 {
        let (status, body) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": format!("offers{i}@example.org")}, "purpose": "promotional_offers", "action": "grant"}),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }
    for i in 0..4 {
        app.app
            .record_consent(
                &Principal::cli(),
                ConsentRequest {
                    subject: SubjectRef {
                        email: Some(format!("bench{i}@example.org")),
                        external_id: None,
                    },
                    purpose: "newsletter".into(),
                    action: "withdraw".into(),
                    source: Some("portal".into()),
                    touchpoint: None,
                    notice_version: None,
                    occurred_at: None,
                    provenance: None,
                },
            )
            .await
            .unwrap();
    }
    for (kind, email) in [
        ("access", "jeanne@example.org"),
        ("erasure", "paul@example.org"),
    ] {
        app.app
            .create_request(
                &Principal::cli(),
                NewRequest {
                    request_type: kind.into(),
                    email: email.into(),
                    details: Some("Merci de traiter ma demande.".into()),
                    identity_verified: false,
                    identity_verification: None,
                    language: Some("fr".into()),
                    received_at: Some(app.app.now() - chrono::Duration::days(26)),
                    marketing: None,
                },
                "api",
            )
            .await
            .unwrap();
    }
    // A few forms sent, for the opt-in rates.
    for i in 0..3 {
        let (status, body) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": format!("form{i}@example.org")}, "purpose": "newsletter", "action": "grant", "source": "form", "touchpoint": "newsletter"}),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }
}

async fn walk_the_console(app: TestApp, client: Client) {
    seed(&app).await;
    let shots = screenshots_dir("console");
    let shot = |name: &str| shots.join(format!("{name}.png"));

    // Sign in.
    client.goto(&format!("{}/console", app.url)).await.unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/sign-in")
    );
    screenshot(&client, 1280, &shot("00-sign-in")).await;
    fill(&client, "#email", "claire@exemple.fr").await;
    fill(&client, "#password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    assert_page(&client, "dashboard").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/dashboard")
    );
    let charts = client.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert!(!charts.is_empty(), "the dashboard draws the consent chart");
    let bars = client
        .find_all(Locator::Css("svg.chart rect"))
        .await
        .unwrap();
    assert!(!bars.is_empty(), "the chart has bars for the seeded grants");
    screenshot(&client, 1280, &shot("01-dashboard")).await;
    screenshot(&client, 390, &shot("01-dashboard-phone")).await;

    // Requests: the queue, one request's timeline, the identity check.
    open(&client, &app, "/console/requests").await;
    screenshot(&client, 1280, &shot("02-requests")).await;
    click(&client, "table tbody tr a").await;
    assert_page(&client, "request").await;
    fill(&client, "#method", "réponse depuis l'adresse connue").await;
    click(&client, "form[action$='/verify'] button").await;
    assert_page(&client, "request verified").await;
    assert!(text_of(&client, ".flash").await.contains("vérifiée"));
    screenshot(&client, 1280, &shot("03-request")).await;

    // Consents: find a person through the blind index, record a consent.
    open(&client, &app, "/console/consents").await;
    fill(&client, "#find-email", "bench1@example.org").await;
    click(&client, "form[action='/console/consents'] button").await;
    assert_page(&client, "consents search").await;
    let purposes = client
        .find_all(Locator::Css("section.panel table tbody tr"))
        .await
        .unwrap();
    assert!(!purposes.is_empty(), "the person's purposes are listed");
    click(&client, "form[action='/console/consents/record'] button").await;
    assert_page(&client, "consent recorded").await;
    screenshot(&client, 1280, &shot("04-consents")).await;

    // Processors: the register, one processor with its chain, a questionnaire link.
    open(&client, &app, "/console/processors").await;
    screenshot(&client, 1280, &shot("05-processors")).await;
    click(&client, "table tbody tr th a").await;
    assert_page(&client, "processor").await;
    click(&client, "form[action$='/questionnaire-link'] button").await;
    assert_page(&client, "questionnaire link").await;
    assert!(
        text_of(&client, ".panel--ok code")
            .await
            .contains("/vendor/questionnaire?token=")
    );
    screenshot(&client, 1280, &shot("06-processor")).await;

    // Breaches: record one, see its 72-hour clock, log the notification.
    open(&client, &app, "/console/breaches/new").await;
    fill(
        &client,
        "#description",
        "Un ordinateur portable a été volé.",
    )
    .await;
    fill(&client, "#subjects_affected", "120").await;
    fill(&client, "#records_affected", "300").await;
    click(&client, "input[name=data_categories][value=contact]").await;
    screenshot(&client, 1280, &shot("07-breach-new")).await;
    click(
        &client,
        "form[action='/console/breaches'] button[type=submit]",
    )
    .await;
    assert_page(&client, "breach recorded").await;
    assert!(text_of(&client, ".clock").await.contains('h'));
    fill(&client, "#reference", "CNIL-2026-0042").await;
    click(&client, "form[action$='/notifications'] button").await;
    assert_page(&client, "notification logged").await;
    screenshot(&client, 1280, &shot("08-breach")).await;
    open(&client, &app, "/console/breaches").await;
    screenshot(&client, 1280, &shot("09-breaches")).await;

    // Purposes: edit a title.
    open(&client, &app, "/console/purposes").await;
    screenshot(&client, 1280, &shot("10-purposes")).await;
    open(&client, &app, "/console/purposes/newsletter").await;
    fill(&client, "#title_en", "Our newsletter").await;
    click(
        &client,
        "form[action='/console/purposes/newsletter'] button[type=submit]",
    )
    .await;
    assert_page(&client, "purpose saved").await;
    let (_, purpose) = app.get("/api/v1/purposes/newsletter").await;
    assert_eq!(purpose["title"]["en"], "Our newsletter");
    screenshot(&client, 1280, &shot("11-purpose")).await;

    // Touchpoints: edit, preview in both languages, publish, see what changed.
    open(&client, &app, "/console/touchpoints").await;
    screenshot(&client, 1280, &shot("12-touchpoints")).await;
    open(&client, &app, "/console/touchpoints/contact").await;
    screenshot(&client, 1280, &shot("13-touchpoint")).await;
    fill(&client, "#title_fr", "Écrivez-nous").await;
    click(&client, "form[action$='/preview'] button[type=submit]").await;
    assert_page(&client, "preview").await;
    let previews = client
        .find_all(Locator::Css(".preview .notice"))
        .await
        .unwrap();
    assert_eq!(previews.len(), 2, "the notice in French and in English");
    screenshot(&client, 1280, &shot("14-touchpoint-preview")).await;
    click(&client, "form[action$='/publish'] button.primary").await;
    assert_page(&client, "published").await;
    let changes = text_of(&client, ".diff").await;
    assert!(changes.contains("Écrivez-nous"), "{changes}");
    screenshot(&client, 1280, &shot("15-touchpoint-published")).await;

    // The record of processing and its print-ready page.
    open(&client, &app, "/console/ropa").await;
    screenshot(&client, 1280, &shot("16-ropa")).await;

    // The form auditor.
    open(&client, &app, "/console/form-audit").await;
    fill(
        &client,
        "#html",
        r#"<form action="http://exemple.fr/s"><input type="email" name="email"><label><input type="checkbox" name="news" checked> Recevoir la newsletter et les offres des partenaires</label><button>OK</button></form>"#,
    )
    .await;
    click(
        &client,
        "form[action='/console/form-audit'] button[type=submit]",
    )
    .await;
    assert_page(&client, "form audit").await;
    let findings = text_of(&client, ".findings").await;
    // In words, not the rule's code.
    assert!(findings.contains("cochée par défaut"), "{findings}");
    assert!(!findings.contains("prechecked-consent"), "{findings}");
    screenshot(&client, 1280, &shot("17-form-audit")).await;

    // The audit log shows what was just done, in words.
    open(&client, &app, "/console/audit-log").await;
    assert!(
        text_of(&client, "table")
            .await
            .contains("Violation déclarée")
    );
    screenshot(&client, 1280, &shot("18-audit-log")).await;

    // The ledger: verify the whole chain.
    open(&client, &app, "/console/ledger").await;
    click(&client, "form[action$='/verify'] button").await;
    assert_page(&client, "ledger verified").await;
    assert!(client.find(Locator::Css(".panel--ok")).await.is_ok());
    screenshot(&client, 1280, &shot("19-ledger")).await;

    // Webhooks: add a subscription; its secret is shown once.
    open(&client, &app, "/console/webhooks").await;
    click(&client, "main details summary").await;
    fill(&client, "#wh-url", "https://crm.example/hooks/registre").await;
    click(
        &client,
        "form[action='/console/webhooks'] button[type=submit]",
    )
    .await;
    assert_page(&client, "webhook created").await;
    assert!(
        text_of(&client, ".panel--ok code")
            .await
            .starts_with("whsec_")
    );
    screenshot(&client, 1280, &shot("20-webhooks")).await;

    // API keys: create one; it is shown once.
    open(&client, &app, "/console/api-keys").await;
    click(&client, "main details summary").await;
    fill(&client, "#key-name", "CRM").await;
    click(
        &client,
        "form[action='/console/api-keys'] button[type=submit]",
    )
    .await;
    assert_page(&client, "key created").await;
    let key = text_of(&client, ".panel--ok code").await;
    assert!(key.starts_with("rk_"));
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/purposes", None, Some(&key))
        .await;
    assert!(status.is_success(), "the new key works");
    screenshot(&client, 1280, &shot("21-api-keys")).await;

    // Users: create an agent.
    open(&client, &app, "/console/users").await;
    click(&client, "main details summary").await;
    fill(&client, "#u-email", "agent@exemple.fr").await;
    fill(&client, "#u-password", "another long password").await;
    click(&client, "form[action='/console/users'] button[type=submit]").await;
    assert_page(&client, "user created").await;
    assert!(text_of(&client, "table").await.contains("agent@exemple.fr"));
    screenshot(&client, 1280, &shot("22-users")).await;

    // English, and another time zone.
    open(&client, &app, "/console/preferences").await;
    client
        .find(Locator::Css("#language option[value=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#time_zone option[value='America/Montreal']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(
        &client,
        "form[action='/console/preferences'] button[type=submit]",
    )
    .await;
    assert_page(&client, "preferences").await;
    let html = client.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("en"));
    assert!(text_of(&client, ".foot").await.contains("Montreal time"));
    screenshot(&client, 1280, &shot("23-preferences")).await;
    open(&client, &app, "/console/dashboard").await;
    assert!(text_of(&client, "h1").await.contains("Dashboard"));
    screenshot(&client, 1280, &shot("24-dashboard-en")).await;

    // Sign out: the session is gone on the server.
    click(&client, "form[action='/console/sign-out'] button").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/sign-in")
    );
    client
        .goto(&format!("{}/console/dashboard", app.url))
        .await
        .unwrap();
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/sign-in")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM console_sessions").await,
        0,
        "signing out deleted the session"
    );
}
