//! The vendor questionnaire in a real browser: headless Debian Chromium driven over
//! WebDriver opens a questionnaire link, answers in French, sends, and the DPO finds the
//! draft. A screenshot goes to `target/screenshots/` for a reviewer to look at.
//!
//! Skipped, with a notice, when `/usr/bin/chromedriver` is absent
//! (`apt-get install chromium chromium-driver`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::Locator;
use registre_testkit::browser::{Browser, click, screenshot, screenshots_dir, type_into};
use registre_testkit::{Backend, spawn_app};
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_fills_the_questionnaire_in_a_browser_and_the_dpo_finds_the_draft() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (_, created) = app
        .post("/api/v1/processors", json!({"name": "Mailjet", "service": "emailing", "country": "FR", "dpa_signed_on": "2024-01-10",
            "purposes": ["newsletter"], "data_categories": ["contact"]}))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let (_, link) = app
        .post(
            &format!("/api/v1/processors/{id}/questionnaire-link"),
            json!({"language": "fr"}),
        )
        .await;
    let url = link["url"].as_str().unwrap().to_string();

    let client = browser.client.clone();
    client.goto(&url).await.unwrap();
    let heading = client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(heading.contains("Mailjet"), "{heading}");
    // Every field a person fills has a label.
    let unlabelled = client
        .execute(
            "return Array.from(document.querySelectorAll('form input:not([type=hidden]), form textarea'))\
               .filter(e => !document.querySelector('label[for=\"' + e.id + '\"]')).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, json!(0));

    click(&client, "#dpo_appointed-yes").await;
    type_into(&client, "#dpo_name", "Sophie Bernard").await;
    type_into(&client, "#dpo_email", "dpo@mailjet.example").await;
    click(&client, "#mapping_complete-yes").await;
    click(&client, "#third_parties_shares-yes").await;
    type_into(&client, "#third_parties_recipients", "OVHcloud").await;
    type_into(
        &client,
        "#third_parties_controls",
        "Contrats de sous-traitance et audits annuels",
    )
    .await;
    click(&client, "#measures-encryption_at_rest").await;
    click(&client, "#measures-encryption_in_transit").await;
    click(&client, "#incident_procedure-yes").await;
    type_into(&client, "#breach_notification_hours", "24").await;
    click(&client, "#tests_performed-yes").await;
    click(&client, "#test_kinds-penetration_test").await;
    // Date inputs take keys in the browser's locale; the value is set as the form sends it.
    let last_test = (app.app.now() - chrono::Duration::days(40))
        .date_naive()
        .to_string();
    client
        .execute(
            "document.getElementById('tests_last_on').value = arguments[0]",
            vec![json!(last_test)],
        )
        .await
        .unwrap();
    type_into(
        &client,
        "#tests_evidence",
        "Rapport de test d'intrusion 2026",
    )
    .await;

    screenshot(
        &client,
        1024,
        &screenshots_dir("").join("vendor-questionnaire-fr.png"),
    )
    .await;

    click(&client, "form button[type=submit]").await;
    let mut thanks = String::new();
    for _ in 0..50 {
        thanks = client
            .find(Locator::Css("h1"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if thanks.contains("Merci") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(thanks.contains("Merci"), "{thanks}");
    browser.close().await;

    let (_, draft) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(draft["language"], "fr", "{draft}");
    assert_eq!(draft["assessment"]["dpo"]["email"], "dpo@mailjet.example");
    assert_eq!(
        draft["assessment"]["security_tests"]["last_on"],
        json!(last_test)
    );
    assert_eq!(
        draft["assessment"]["protection"]["measures"],
        json!(["encryption_at_rest", "encryption_in_transit"])
    );
    assert_eq!(draft["preview"]["status"], "compliant", "{draft}");
}
