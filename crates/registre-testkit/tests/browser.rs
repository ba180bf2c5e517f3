//! The demo forms in a real browser: headless Debian Chromium driven over WebDriver. Each
//! form, in French and English, opens with no box ticked, takes one tick, is sent, and the
//! ledger holds exactly that consent. A screenshot of each form goes to
//! `target/screenshots/` (under the workspace root) for a reviewer to look at.
//!
//! Skipped, with a notice, when `/usr/bin/chromedriver` is absent
//! (`apt-get install chromium chromium-driver`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::{Client, Locator};
use registre_testkit::browser::{Browser, mail_link, screenshot, screenshots_dir};
use registre_testkit::{Backend, TestApp, spawn_app};
use serde_json::json;

const TOUCHPOINTS: [&str; 5] = ["newsletter", "account", "whitepaper", "contact", "support"];

async fn fill_required_fields(client: &Client, email: &str) {
    for input in client
        .find_all(Locator::Css(
            "form.form input[required], form.form textarea[required]",
        ))
        .await
        .unwrap()
    {
        let kind = input
            .attr("type")
            .await
            .unwrap()
            .unwrap_or_else(|| "textarea".into());
        let name = input.attr("name").await.unwrap().unwrap_or_default();
        let value = match (kind.as_str(), name.as_str()) {
            ("email", _) => email.to_string(),
            ("textarea", _) => "Bonjour, ma commande n'est pas arrivée.".to_string(),
            (_, "first_name") => "Jeanne".to_string(),
            (_, "last_name") => "Dupont".to_string(),
            _ => "Jeanne Dupont".to_string(),
        };
        input.send_keys(&value).await.unwrap();
    }
}

async fn consents_of(app: &TestApp, email: &str) -> serde_json::Value {
    let (status, consents) = app
        .post("/api/v1/subjects/consents", json!({"email": email}))
        .await;
    assert!(status.is_success(), "{consents}");
    consents
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_ticks_one_box_in_each_demo_form_and_the_ledger_holds_exactly_that() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    browser.run(|client| visit_every_form(app, client)).await;
}

async fn visit_every_form(app: TestApp, client: Client) {
    let shots = screenshots_dir("");
    let (_, purposes) = app.get("/api/v1/purposes").await;
    let purposes = purposes["items"].as_array().unwrap().clone();
    {
        for key in TOUCHPOINTS {
            for lang in ["fr", "en"] {
                client
                    .goto(&format!("{}/f/{key}?lang={lang}", app.url))
                    .await
                    .unwrap();
                let html = client.find(Locator::Css("html")).await.unwrap();
                assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some(lang));
                // The stylesheet applied: the card has its white background (so the CSP let it in).
                let background = client
                    .execute(
                        "return getComputedStyle(document.querySelector('.card')).backgroundColor",
                        vec![],
                    )
                    .await
                    .unwrap();
                assert_eq!(
                    background,
                    json!("rgb(255, 255, 255)"),
                    "{key} {lang}: the stylesheet did not apply"
                );
                let boxes = client
                    .find_all(Locator::Css("input[type=checkbox]"))
                    .await
                    .unwrap();
                for checkbox in &boxes {
                    assert!(
                        !checkbox.is_selected().await.unwrap(),
                        "{key} {lang}: a box is ticked in advance"
                    );
                }
                screenshot(&client, 1280, &shots.join(format!("{key}-{lang}.png"))).await;
                if key == "contact" {
                    screenshot(
                        &client,
                        390,
                        &shots.join(format!("{key}-{lang}-mobile.png")),
                    )
                    .await;
                    client.set_window_size(1280, 1600).await.unwrap();
                }
                let email = format!("{key}.{lang}@example.org");
                fill_required_fields(&client, &email).await;
                // Tick the first box, if the form has any, by its label, as a person would.
                let ticked = match boxes.first() {
                    Some(checkbox) => {
                        let id = checkbox.attr("id").await.unwrap().unwrap();
                        client
                            .find(Locator::Css(&format!("label[for='{id}']")))
                            .await
                            .unwrap()
                            .click()
                            .await
                            .unwrap();
                        assert!(checkbox.is_selected().await.unwrap());
                        Some(
                            checkbox
                                .attr("name")
                                .await
                                .unwrap()
                                .unwrap()
                                .trim_start_matches("consent.")
                                .to_string(),
                        )
                    }
                    None => None,
                };
                client
                    .find(Locator::Css("form.form button[type=submit]"))
                    .await
                    .unwrap()
                    .click()
                    .await
                    .unwrap();
                client
                    .wait()
                    .for_element(Locator::Css(".success-mark"))
                    .await
                    .unwrap();
                assert!(
                    client
                        .current_url()
                        .await
                        .unwrap()
                        .path()
                        .ends_with("/thanks")
                );
                if lang == "fr" {
                    screenshot(
                        &client,
                        1280,
                        &shots.join(format!("{key}-thanks-{lang}.png")),
                    )
                    .await;
                }
                // The ledger holds exactly the ticked consent (pending for double opt-in).
                let consents = consents_of(&app, &email).await;
                for purpose in consents["purposes"].as_array().unwrap() {
                    let name = purpose["purpose"].as_str().unwrap();
                    let basis_is_consent = purposes
                        .iter()
                        .any(|p| p["key"] == name && p["legal_basis"] == "consent");
                    let expected = match (&ticked, basis_is_consent) {
                        (Some(t), true) if t == name => {
                            if key == "newsletter" {
                                "pending"
                            } else {
                                "granted"
                            }
                        }
                        (_, true) => "none",
                        (_, false) => "not_required",
                    };
                    assert_eq!(purpose["state"], expected, "{key} {lang} {name}");
                }
            }
        }
        // The double opt-in email's link: a page with a button, which confirms.
        app.wait_for_mails_to("newsletter.fr@example.org", 1).await;
        let mail = app
            .outbox_mails()
            .into_iter()
            .find(|m| m.contains("To: newsletter.fr@example.org"))
            .expect("the confirmation email");
        client
            .goto(&format!("{}{}", app.url, mail_link(&mail, "/f/confirm")))
            .await
            .unwrap();
        screenshot(&client, 1280, &shots.join("newsletter-confirm-fr.png")).await;
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("[role=status]"))
            .await
            .unwrap();
        let consents = consents_of(&app, "newsletter.fr@example.org").await;
        let newsletter = consents["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purpose"] == "newsletter")
            .unwrap()
            .clone();
        assert_eq!(newsletter["state"], "granted");
        // And its withdrawal link.
        client
            .goto(&format!("{}{}", app.url, mail_link(&mail, "/u")))
            .await
            .unwrap();
        screenshot(&client, 1280, &shots.join("newsletter-unsubscribe-fr.png")).await;
        client
            .find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("[role=status]"))
            .await
            .unwrap();
        let consents = consents_of(&app, "newsletter.fr@example.org").await;
        let newsletter = consents["purposes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purpose"] == "newsletter")
            .unwrap()
            .clone();
        assert_eq!(newsletter["state"], "withdrawn");
        // The full notice, as its own page.
        client
            .goto(&format!("{}/f/contact/notice?lang=fr", app.url))
            .await
            .unwrap();
        screenshot(&client, 1280, &shots.join("contact-notice-fr.png")).await;
        // A form with errors, as the person sees it.
        client
            .goto(&format!("{}/f/account?lang=en", app.url))
            .await
            .unwrap();
        client
            .find(Locator::Css("#field-email"))
            .await
            .unwrap()
            .send_keys("not-an-email")
            .await
            .unwrap();
        client
            .find(Locator::Css("form.form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(Locator::Css("#error-summary"))
            .await
            .unwrap();
        let invalid = client.find(Locator::Css("#field-email")).await.unwrap();
        assert_eq!(
            invalid.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true")
        );
        assert_eq!(
            invalid.prop("value").await.unwrap().as_deref(),
            Some("not-an-email")
        );
        screenshot(&client, 1280, &shots.join("account-errors-en.png")).await;
    }
}
