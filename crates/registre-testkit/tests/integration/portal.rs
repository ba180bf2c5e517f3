//! The privacy portal, as a person uses it: a link from their mailbox, their consents, their
//! data, their requests — and what an attacker cannot do with it.
use chrono::Duration;
use registre_testkit::{TestApp, hidden_input, link_in, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    a_person_signs_in_with_the_link_from_the_outbox_withdraws_and_files_a_request,
    the_portal_answers_the_same_whether_or_not_the_address_is_known,
    a_thousand_sign_in_requests_for_one_address_do_not_flood_the_mailbox,
    expired_reused_and_forged_links_and_forms_open_nothing,
    every_request_type_filed_in_the_portal_is_carried_out_through_the_api,
    the_portal_speaks_french_and_english_and_downloads_the_data_as_json,
    an_objection_filed_in_the_portal_stops_all_marketing_before_the_dpo_acts,
    the_portal_shows_what_concerns_the_person_and_their_requests_with_the_mails_sent,
    the_sign_in_mail_comes_from_the_organisation_in_one_language_as_text_and_html,
);

async fn page(app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = app
        .client
        .get(format!("{}{}", app.url, path))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(format!("{}{}", app.url, path))
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn ask_link(app: &TestApp, email: &str) -> (StatusCode, String) {
    let response = form(app, "/privacy/sign-in", &[("email", email), ("lang", "en")]).await;
    (response.status(), response.text().await.unwrap())
}

fn last_link(app: &TestApp, email: &str) -> String {
    let mails = app.mails_to(email);
    let mail = mails.last().expect("a sign-in mail");
    link_in(&mail.body, "/privacy/sign-in?token=").expect("a sign-in link")
}

async fn sign_in(app: &TestApp, email: &str) -> String {
    let (status, _) = ask_link(app, email).await;
    assert_eq!(status, StatusCode::OK);
    let link = last_link(app, email);
    let (status, confirm) = page(app, link.trim_start_matches(&app.url)).await;
    assert_eq!(status, StatusCode::OK, "{confirm}");
    let response = form(
        app,
        "/privacy/sign-in/confirm",
        &[("token", &hidden_input(&confirm, "token")), ("lang", "en")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http in tests");
    let (status, overview) = page(app, "/privacy?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(overview.contains(email), "signed in as the person");
    hidden_input(&overview, "csrf")
}

async fn check(app: &TestApp, email: &str, purpose: &str) -> String {
    let (_, decision) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": email, "purpose": purpose}),
        )
        .await;
    decision["state"].as_str().unwrap().to_string()
}

async fn requests_of(app: &TestApp, email: &str) -> Vec<Value> {
    let (_, list) = app.get("/api/v1/requests?limit=500").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["email"] == email)
        .cloned()
        .collect()
}

async fn a_person_signs_in_with_the_link_from_the_outbox_withdraws_and_files_a_request(
    app: TestApp,
) {
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "grant", "touchpoint": "newsletter"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, home) = page(&app, "/privacy").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("name=\"email\"") && home.contains("<label for=\"email\""));
    assert!(!home.contains("<script"), "works without JavaScript");
    let csrf = sign_in(&app, "jeanne@example.org").await;
    let (_, overview) = page(&app, "/privacy?lang=en").await;
    assert!(
        overview.contains("data-purpose=\"newsletter\">consent given"),
        "every purpose of the form with its state"
    );
    assert!(
        overview.contains("Promotional offers") && !overview.contains("Customer support"),
        "the newsletter form's purposes, not the support desk's"
    );

    let response = form(
        &app,
        "/privacy/consents",
        &[
            ("csrf", &csrf),
            ("purpose", "newsletter"),
            ("action", "withdraw"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        check(&app, "jeanne@example.org", "newsletter").await,
        "withdrawn"
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
        .unwrap()
        .clone();
    assert_eq!(
        newsletter["history"].as_array().unwrap().last().unwrap()["source"],
        "portal"
    );
    let response = form(
        &app,
        "/privacy/consents",
        &[
            ("csrf", &csrf),
            ("purpose", "promotional_offers"),
            ("action", "grant"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        check(&app, "jeanne@example.org", "promotional_offers").await,
        "granted"
    );
    let (_, overview) = page(&app, "/privacy?lang=en").await;
    assert!(overview.contains("data-purpose=\"newsletter\">consent withdrawn"));
    assert!(overview.contains("History (2)"), "the history is shown");

    // A request for someone else's address is filed for the signed-in person only.
    let response = form(
        &app,
        "/privacy/requests",
        &[
            ("csrf", &csrf),
            ("type", "access"),
            ("message", "What do you hold?"),
            ("email", "victim@example.org"),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let filed = requests_of(&app, "jeanne@example.org").await;
    assert_eq!(filed.len(), 1);
    assert_eq!(
        (filed[0]["channel"].clone(), filed[0]["status"].clone()),
        (json!("portal"), json!("verified")),
        "verified by the sign-in"
    );
    assert_eq!(filed[0]["details"], "What do you hold?");
    assert!(requests_of(&app, "victim@example.org").await.is_empty());
    assert!(app.mails_to("victim@example.org").is_empty());
    let (_, overview) = page(&app, "/privacy?lang=en&done=request").await;
    assert!(overview.contains("data-type=\"access\" data-status=\"verified\""));

    let response = form(
        &app,
        "/privacy/sign-out",
        &[("csrf", &csrf), ("lang", "en")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, home) = page(&app, "/privacy?lang=en").await;
    assert!(!home.contains("jeanne@example.org"), "signed out");
}

async fn the_portal_answers_the_same_whether_or_not_the_address_is_known(app: TestApp) {
    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "known@example.org"}, "purpose": "newsletter", "action": "grant"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let known = ask_link(&app, "known@example.org").await;
    let unknown = ask_link(&app, "unknown@example.org").await;
    assert_eq!(known, unknown);
    assert_eq!(known.0, StatusCode::OK);
    let (status, body) = ask_link(&app, "not an address").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("aria-invalid=\"true\""));
}

async fn a_thousand_sign_in_requests_for_one_address_do_not_flood_the_mailbox(app: TestApp) {
    let mut limited = 0;
    for _ in 0..1000 {
        let (status, _) = ask_link(&app, "target@example.org").await;
        assert!(
            status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS,
            "{status}"
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(limited >= 900, "the client is slowed down: {limited}");
    let mails = app.mails_to("target@example.org").len();
    assert!((1..=3).contains(&mails), "{mails} mails for one address");
    // A quarter of an hour later the person can ask again.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(ask_link(&app, "target@example.org").await.0, StatusCode::OK);
    assert_eq!(app.mails_to("target@example.org").len(), mails + 1);
}

async fn expired_reused_and_forged_links_and_forms_open_nothing(app: TestApp) {
    ask_link(&app, "eve@example.org").await;
    let link = last_link(&app, "eve@example.org");
    let path = link.trim_start_matches(&app.url).to_string();
    let token = path
        .split("token=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    // Forged: a changed payload or signature.
    let first = if token.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("/privacy/sign-in?token={first}{}", &token[1..]);
    assert_eq!(page(&app, &forged).await.0, StatusCode::BAD_REQUEST);
    let response = form(
        &app,
        "/privacy/sign-in/confirm",
        &[("token", &format!("{token}x"))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Used once, then never again.
    let response = form(&app, "/privacy/sign-in/confirm", &[("token", &token)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = form(&app, "/privacy/sign-in/confirm", &[("token", &token)]).await;
    assert_eq!(response.status(), StatusCode::GONE);
    // A POST without the session's CSRF token does nothing.
    let response = form(
        &app,
        "/privacy/requests",
        &[("csrf", "forged"), ("type", "erasure")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(requests_of(&app, "eve@example.org").await.is_empty());
    // Expired: 30 minutes.
    ask_link(&app, "eve@example.org").await;
    let link = last_link(&app, "eve@example.org");
    app.clock.advance(Duration::minutes(31));
    let (status, body) = page(&app, link.trim_start_matches(&app.url)).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("expired"));
    // The session itself expires too.
    app.clock.advance(Duration::minutes(60));
    let (_, home) = page(&app, "/privacy?lang=en").await;
    assert!(!home.contains("eve@example.org"));
    let response = app
        .client
        .get(format!("{}/privacy/data", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "no data without a session"
    );
}

async fn every_request_type_filed_in_the_portal_is_carried_out_through_the_api(app: TestApp) {
    let email = "rose@example.org";
    for purpose in ["newsletter", "promotional_offers"] {
        let (status, _) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": email}, "purpose": purpose, "action": "grant"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let csrf = sign_in(&app, email).await;
    for kind in [
        "access",
        "portability",
        "rectification",
        "restriction",
        "objection",
        "erasure",
    ] {
        let response = form(
            &app,
            "/privacy/requests",
            &[
                ("csrf", &csrf),
                ("type", kind),
                ("message", ""),
                ("lang", "fr"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{kind}");
    }
    let response = form(
        &app,
        "/privacy/requests",
        &[("csrf", &csrf), ("type", "astrology")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let filed = requests_of(&app, email).await;
    assert_eq!(filed.len(), 6);
    let id = |kind: &str| {
        filed.iter().find(|r| r["type"] == kind).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let fulfil = |id: String, body: Value| {
        let app = &app;
        async move {
            let (status, request) = app
                .post(&format!("/api/v1/requests/{id}/fulfil"), body)
                .await;
            assert_eq!(status, StatusCode::OK, "{request}");
            assert_eq!(request["status"], "completed");
            request
        }
    };
    let access = fulfil(id("access"), json!({})).await;
    let (status, _) = {
        let response = app
            .client
            .get(access["export_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        (response.status(), ())
    };
    assert_eq!(status, StatusCode::OK);
    let portability = fulfil(id("portability"), json!({})).await;
    assert!(portability["export_url"].is_string());
    fulfil(id("rectification"), json!({})).await;
    fulfil(id("restriction"), json!({})).await;
    assert_eq!(check(&app, email, "newsletter").await, "restricted");
    let restriction = id("restriction");
    let (status, _) = app
        .post(
            &format!("/api/v1/requests/{restriction}/lift-restriction"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    fulfil(id("objection"), json!({})).await;
    assert_eq!(check(&app, email, "newsletter").await, "objected");
    assert_eq!(check(&app, email, "contact_handling").await, "objected");
    let completed = app.mails_to(email);
    let answered: Vec<_> = completed
        .iter()
        .filter(|m| {
            m.body
                .contains("Votre demande au titre du droit d'opposition")
        })
        .collect();
    assert!(!answered.is_empty(), "the answer, in French");
    assert!(
        answered.iter().all(|m| !m.body.contains("Hello")),
        "in the request's language only"
    );
    let erasure = fulfil(id("erasure"), json!({})).await;
    assert!(erasure["certificate_id"].is_string());
    assert_eq!(check(&app, email, "newsletter").await, "erased");
    let (_, overview) = page(&app, "/privacy?lang=en").await;
    assert!(
        !overview.contains("data-type=\"access\""),
        "the person's requests were emptied"
    );
}

async fn the_portal_speaks_french_and_english_and_downloads_the_data_as_json(app: TestApp) {
    let (_, french) = page(&app, "/privacy?lang=fr").await;
    assert!(
        french.contains("lang=\"fr\"")
            && french.contains("Espace confidentialité")
            && french.contains("Adresse e-mail")
    );
    let (_, english) = page(&app, "/privacy?lang=en").await;
    assert!(
        english.contains("lang=\"en\"")
            && english.contains("Privacy portal")
            && english.contains("Email address")
    );
    let (_, negotiated) = {
        let response = app
            .client
            .get(format!("{}/privacy", app.url))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap();
        let headers = response.headers().clone();
        assert!(
            headers
                .get("content-security-policy")
                .unwrap()
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        assert_eq!(headers.get("referrer-policy").unwrap(), "no-referrer");
        (headers, response.text().await.unwrap())
    };
    assert!(negotiated.contains("Privacy portal"));
    let (status, _) = page(&app, "/privacy/portal.css").await;
    assert_eq!(status, StatusCode::OK);
    // Focus is visible on every page: the shared sheet the portal links says so.
    let (status, css) = page(&app, "/static/registre.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains(":focus-visible"));

    let (status, _) = app.post("/api/v1/consents", json!({"subject": {"email": "dora@example.org"}, "purpose": "newsletter", "action": "grant"})).await;
    assert_eq!(status, StatusCode::CREATED);
    sign_in(&app, "dora@example.org").await;
    let response = app
        .client
        .get(format!("{}/privacy/data", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let data: Value = response.json().await.unwrap();
    assert_eq!(data["subject"]["email"], "dora@example.org");
    assert_eq!(data["consents"][0]["purpose"], "newsletter");
    assert!(data["consent_history"].as_array().unwrap().len() == 1);
}

async fn an_objection_filed_in_the_portal_stops_all_marketing_before_the_dpo_acts(app: TestApp) {
    let email = "noemie@example.org";
    for purpose in ["newsletter", "partner_offers"] {
        let (status, _) = app
            .post(
                "/api/v1/consents",
                json!({"subject": {"email": email}, "purpose": purpose, "action": "grant"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let csrf = sign_in(&app, email).await;
    let response = form(
        &app,
        "/privacy/requests",
        &[
            ("csrf", &csrf),
            ("type", "objection"),
            ("message", "Plus de prospection"),
            ("lang", "fr"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    for purpose in ["newsletter", "promotional_offers", "partner_offers"] {
        assert_eq!(check(&app, email, purpose).await, "objected", "{purpose}");
    }
    // The white paper is sent because the person asks for it (pre-contractual): there is
    // no consent to it, and an objection to marketing does not touch it.
    assert_eq!(
        check(&app, email, "whitepaper_delivery").await,
        "not_required"
    );
    let filed = requests_of(&app, email).await;
    assert_eq!(filed.len(), 1);
    assert_eq!(filed[0]["status"], "verified", "no DPO step stood between");
    assert_eq!(filed[0]["channel"], "portal");
    // A restriction from the portal answers `restricted` from the request on.
    let response = form(
        &app,
        "/privacy/requests",
        &[("csrf", &csrf), ("type", "restriction"), ("lang", "fr")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(check(&app, email, "contact_handling").await, "restricted");
}

/// #15 item 7: the forms the person used decide what the portal shows — their consents
/// and the purposes they may opt into there, the processing on another basis with that
/// basis in words — not every purpose of the organisation; their requests carry their
/// message and the mails sent; dates are in the organisation's zone, named.
async fn the_portal_shows_what_concerns_the_person_and_their_requests_with_the_mails_sent(
    app: TestApp,
) {
    let email = "sacha@example.org";
    let (status, answer) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": email}, "purpose": "newsletter", "action": "grant", "touchpoint": "account"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let csrf = sign_in(&app, email).await;
    let response = form(
        &app,
        "/privacy/requests",
        &[
            ("csrf", &csrf),
            ("type", "access"),
            ("message", "Une copie de mon compte, s'il vous plaît."),
            ("lang", "fr"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (status, html) = page(&app, "/privacy?lang=fr").await;
    assert_eq!(status, StatusCode::OK);
    let page = scraper::Html::parse_document(&html);
    let ids = |css: &str| -> Vec<String> {
        let selector = scraper::Selector::parse(css).unwrap();
        page.select(&selector)
            .filter_map(|e| e.value().attr("id"))
            .map(|id| id.trim_start_matches("purpose-").to_string())
            .collect()
    };
    // The account form's consents, given or not, can be given or withdrawn here.
    assert_eq!(
        ids("section[aria-labelledby=consents-title] li.purpose"),
        ["newsletter", "promotional_offers"]
    );
    // The account itself rests on the contract, said in words.
    assert_eq!(
        ids("section[aria-labelledby=others-title] li.purpose"),
        ["account_management"]
    );
    let text = page.root_element().text().collect::<String>();
    assert!(text.contains("l'exécution d'un contrat"), "{text}");
    for foreign in ["partner_offers", "whitepaper_delivery", "support_handling"] {
        assert!(
            !html.contains(&format!("purpose-{foreign}")),
            "{foreign} does not concern this person"
        );
    }
    // The request with its message and the mail that acknowledged it.
    assert!(text.contains("Une copie de mon compte, s'il vous plaît."));
    let selector = scraper::Selector::parse(".request-mail summary").unwrap();
    let mails: Vec<String> = page
        .select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    // Dates are written as a French reader writes them, in the organisation's zone.
    assert!(mails[0].contains("(heure de Paris)"), "{}", mails[0]);
    assert!(!html.contains(" UTC"), "no UTC time shown to the person");
    assert!(!html.contains("sha256:"), "no hash shown to the person");
}

/// #15 item 8: every mail is one family — text and HTML from one layout, sent as the
/// organisation (its name and contact address), in the person's language only, with
/// French elisions and long links that wrap.
async fn the_sign_in_mail_comes_from_the_organisation_in_one_language_as_text_and_html(
    app: TestApp,
) {
    let email = "elise@example.org";
    let response = form(
        &app,
        "/privacy/sign-in",
        &[("email", email), ("lang", "fr")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mails = app.mails_to(email);
    assert_eq!(mails.len(), 1);
    let raw = std::fs::read_to_string(&mails[0].file).unwrap();
    let from = raw
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("from:"))
        .unwrap();
    assert!(
        from.contains("Exemple SAS") && from.contains("<contact@exemple.fr>"),
        "{from}"
    );
    assert!(raw.contains("multipart/alternative"), "text and HTML");
    let body = &mails[0].body;
    assert!(
        body.contains("l'espace confidentialité d'Exemple SAS"),
        "{body}"
    );
    assert!(!body.contains("Hello"), "in French only: {body}");
    assert!(body.contains("<html lang=\"fr\">"), "{body}");
    assert!(body.contains("word-break:break-all"), "long links wrap");
    let link = link_in(body, "/privacy/sign-in?token=").unwrap();
    assert!(
        body.contains(&format!("<a href=\"{}\"", link.replace('&', "&#38;")))
            || body.contains(&format!("<a href=\"{}\"", link.replace('&', "&amp;"))),
        "the link is a link: {body}"
    );
}
