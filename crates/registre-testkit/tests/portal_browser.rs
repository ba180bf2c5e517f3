//! The privacy portal in a real browser (headless Debian Chromium): a person asks for a
//! sign-in link, opens it from the mail in the outbox, withdraws a consent with one click,
//! gives another, files a request and signs out. Screenshots of each step go to
//! `target/screenshots/portal/`. Skipped, with a notice, when Chromium is absent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::{Client, Locator};
use registre_testkit::browser::{Browser, click, screenshot, screenshots_dir, text_of, type_into};
use registre_testkit::{Backend, TestApp, link_in, spawn_app};
use serde_json::{Value, json};

const EMAIL: &str = "jeanne.dupont@example.org";

async fn check(app: &TestApp, purpose: &str) -> Value {
    let (status, answer) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": EMAIL, "purpose": purpose}),
        )
        .await;
    assert!(status.is_success(), "{answer}");
    answer
}

async fn state_shown(client: &Client, purpose: &str) -> String {
    client
        .find(Locator::Css(&format!("#purpose-{purpose} dd.state")))
        .await
        .unwrap()
        .attr("class")
        .await
        .unwrap()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_from_the_mailed_link_withdraws_with_one_click_and_files_a_request() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": EMAIL}, "purpose": "newsletter", "action": "grant", "source": "api", "touchpoint": "newsletter"}),
        )
        .await;
    assert!(status.is_success());
    browser.run(|client| walk_the_portal(app, client)).await;
}

async fn walk_the_portal(app: TestApp, client: Client) {
    let shots = screenshots_dir("portal");

    // Sign-in: one field, labelled, no script needed.
    client
        .goto(&format!("{}/privacy?lang=fr", app.url))
        .await
        .unwrap();
    let html = client.find(Locator::Css("html")).await.unwrap();
    assert_eq!(html.attr("lang").await.unwrap().as_deref(), Some("fr"));
    assert!(client.find(Locator::Css("label[for=email]")).await.is_ok());
    screenshot(&client, 1280, &shots.join("sign-in-fr.png")).await;
    type_into(&client, "#email", EMAIL).await;
    click(&client, "form button[type=submit]").await;
    let sent = text_of(&client, "main h1").await;
    screenshot(&client, 1280, &shots.join("link-sent-fr.png")).await;
    assert!(!sent.is_empty());

    // The link from the mail, opened in the browser: a page with a button that signs in.
    let mails = app.mails_to(EMAIL);
    let mail = mails.last().expect("a sign-in mail in the outbox");
    let link = link_in(&mail.body, "/privacy/sign-in?token=").expect("a sign-in link");
    client.goto(&link).await.unwrap();
    click(&client, "form[action='/privacy/sign-in/confirm'] button").await;
    text_of(&client, "#consents-title").await;
    let signed_in_as = text_of(&client, "main").await;
    assert!(signed_in_as.contains(EMAIL), "signed in as the person");
    assert!(
        state_shown(&client, "newsletter")
            .await
            .contains("state-granted")
    );
    screenshot(&client, 1280, &shots.join("overview-fr.png")).await;
    screenshot(&client, 390, &shots.join("overview-fr-mobile.png")).await;
    client.set_window_size(1280, 1600).await.unwrap();

    // Withdrawing is one click, and the check answers it at once.
    click(&client, "#purpose-newsletter form button[type=submit]").await;
    text_of(&client, "p.notice[role=status]").await;
    assert!(
        state_shown(&client, "newsletter")
            .await
            .contains("state-withdrawn")
    );
    let answer = check(&app, "newsletter").await;
    assert_eq!(
        (answer["allowed"].clone(), answer["state"].clone()),
        (json!(false), json!("withdrawn"))
    );
    // Giving a consent is as easy, and only for the purpose clicked.
    click(
        &client,
        "#purpose-promotional_offers form button[type=submit]",
    )
    .await;
    text_of(&client, "p.notice[role=status]").await;
    assert_eq!(check(&app, "promotional_offers").await["state"], "granted");
    assert_eq!(check(&app, "partner_offers").await["state"], "none");
    let (_, consents) = app
        .post("/api/v1/subjects/consents", json!({"email": EMAIL}))
        .await;
    let newsletter = consents["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == "newsletter")
        .unwrap()
        .clone();
    assert_eq!(
        newsletter["history"].as_array().unwrap().last().unwrap()["source"],
        "portal"
    );

    // A request, with a message, verified by the sign-in.
    click(&client, "label[for=type-erasure]").await;
    type_into(
        &client,
        "#message",
        "Merci de supprimer mon compte et mes messages.",
    )
    .await;
    click(
        &client,
        "form[action='/privacy/requests'] button[type=submit]",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Css("tr.request[data-type=erasure]"))
        .await
        .unwrap();
    screenshot(&client, 1280, &shots.join("request-filed-fr.png")).await;
    let (_, list) = app.get("/api/v1/requests").await;
    let filed: Vec<Value> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["email"] == EMAIL)
        .cloned()
        .collect();
    assert_eq!(filed.len(), 1, "{list}");
    assert_eq!(filed[0]["type"], "erasure");
    assert_eq!(filed[0]["channel"], "portal");
    assert_eq!(filed[0]["status"], "verified");
    assert_eq!(
        filed[0]["details"],
        "Merci de supprimer mon compte et mes messages."
    );

    // Signing out leaves nothing of the person on the page.
    click(&client, "form[action='/privacy/sign-out'] button").await;
    client
        .wait()
        .for_element(Locator::Css("#email"))
        .await
        .unwrap();
    let page = text_of(&client, "main").await;
    assert!(!page.contains(EMAIL), "signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_objection_filed_in_the_portal_stops_every_marketing_purpose_at_once() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    for purpose in ["newsletter", "partner_offers"] {
        let (status, answer) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": EMAIL}, "purpose": purpose, "action": "grant", "source": "api", "touchpoint": "newsletter"}),
            )
            .await;
        assert!(status.is_success(), "{answer}");
    }
    browser
        .run(|client| object_in_the_portal(app, client))
        .await;
}

/// Art. 21(3): the person objects to direct marketing in the portal; every marketing
/// purpose answers `objected` as soon as the page comes back, with no DPO step between.
async fn object_in_the_portal(app: TestApp, client: Client) {
    let shots = screenshots_dir("portal");
    client
        .goto(&format!("{}/privacy?lang=fr", app.url))
        .await
        .unwrap();
    type_into(&client, "#email", EMAIL).await;
    click(&client, "form button[type=submit]").await;
    text_of(&client, "main h1").await;
    let mails = app.mails_to(EMAIL);
    let mail = mails.last().expect("a sign-in mail in the outbox");
    let link = link_in(&mail.body, "/privacy/sign-in?token=").expect("a sign-in link");
    client.goto(&link).await.unwrap();
    click(&client, "form[action='/privacy/sign-in/confirm'] button").await;
    text_of(&client, "#consents-title").await;
    assert_eq!(check(&app, "newsletter").await["state"], "granted");

    click(&client, "label[for=type-objection]").await;
    type_into(
        &client,
        "#message",
        "Je ne veux plus recevoir de prospection.",
    )
    .await;
    click(
        &client,
        "form[action='/privacy/requests'] button[type=submit]",
    )
    .await;
    client
        .wait()
        .for_element(Locator::Css("tr.request[data-type=objection]"))
        .await
        .unwrap();
    screenshot(&client, 1280, &shots.join("objection-filed-fr.png")).await;
    for purpose in ["newsletter", "promotional_offers", "partner_offers"] {
        let answer = check(&app, purpose).await;
        assert_eq!(
            (answer["allowed"].clone(), answer["state"].clone()),
            (json!(false), json!("objected")),
            "{purpose}: {answer}"
        );
    }
    // The page says so too: the newsletter the person had granted now shows the objection.
    assert!(
        !state_shown(&client, "newsletter")
            .await
            .contains("state-granted"),
        "the portal no longer shows the newsletter as granted"
    );
}
