//! The public face: the privacy hub, the privacy policy drawn from the registers, and the
//! person's own receipts — as a visitor, a subscriber and an outside checker see them.
use registre_crypto::verify_jws;
use registre_domain::proof::keys_from_jwks;
use registre_testkit::{TestApp, hidden_input, link_in, store_tests};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use serde_json::{Value, json};

store_tests!(
    the_hub_lists_the_forms_with_their_purposes_the_portal_and_the_policy_in_both_languages,
    the_hub_offers_the_console_to_a_signed_in_console_user_only,
    an_unknown_page_is_a_friendly_localised_404_that_leads_back_to_the_hub,
    the_policy_is_drawn_from_the_registers_in_both_languages,
    a_changed_purpose_makes_a_new_policy_version_and_the_old_one_stays_readable,
    the_thanks_page_links_a_receipt_readable_in_both_languages_whose_json_verifies,
    an_unknown_or_forged_receipt_token_is_a_404,
    the_double_opt_in_mail_and_its_confirmation_page_link_the_receipts,
    the_portal_lists_a_receipt_for_each_consent_event,
    a_newsletter_form_cannot_be_sent_without_a_ticked_box_and_then_stores_nothing,
    the_white_paper_is_sent_on_request_and_being_recontacted_is_its_own_consent,
    every_demo_form_passes_registres_own_form_auditor,
);

const TOUCHPOINTS: [&str; 5] = ["newsletter", "account", "whitepaper", "contact", "support"];

struct Page {
    status: StatusCode,
    text: String,
    html: Html,
}

impl Page {
    fn all(&self, css: &str) -> Vec<scraper::ElementRef<'_>> {
        let selector = Selector::parse(css).unwrap();
        self.html.select(&selector).collect()
    }

    fn text_of(&self, css: &str) -> String {
        self.all(css)
            .iter()
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn hrefs(&self, css: &str) -> Vec<String> {
        self.all(css)
            .iter()
            .filter_map(|e| e.value().attr("href").map(str::to_string))
            .collect()
    }
}

async fn open_with(client: &reqwest::Client, app: &TestApp, path: &str) -> Page {
    let response = client
        .get(format!("{}{path}", app.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    Page {
        status,
        html: Html::parse_document(&text),
        text,
    }
}

async fn open(app: &TestApp, path: &str) -> Page {
    open_with(&app.client, app, path).await
}

/// Sends a form as a person would (hidden fields, every field filled, `ticked` boxes).
async fn send(app: &TestApp, key: &str, email: &str, ticked: &[&str]) -> reqwest::Response {
    let form = open(app, &format!("/f/{key}?lang=en")).await;
    let mut body: Vec<(String, String)> = Vec::new();
    for input in form.all("form.form input, form.form textarea") {
        let element = input.value();
        let Some(name) = element.attr("name") else {
            continue;
        };
        let value = match (element.attr("type").unwrap_or("textarea"), name) {
            ("hidden", _) => element.attr("value").unwrap_or_default().to_string(),
            ("checkbox", _) => continue,
            (_, "website") => String::new(),
            ("email", _) => email.to_string(),
            ("tel", _) => "+33 1 23 45 67 89".into(),
            ("textarea", _) => "Bonjour".into(),
            _ => "Jeanne Dupont".into(),
        };
        body.push((name.to_string(), value));
    }
    for key in ticked {
        body.push((format!("consent.{key}"), "yes".into()));
    }
    app.client
        .post(format!("{}/f/{key}", app.url))
        .form(&body)
        .send()
        .await
        .unwrap()
}

async fn thanks(app: &TestApp, key: &str, email: &str, ticked: &[&str]) -> Page {
    let response = send(app, key, email, ticked).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    open(app, &location).await
}

async fn published_keys(app: &TestApp) -> Vec<registre_crypto::VerifyingKey> {
    let (_, jwks) = app
        .request(
            reqwest::Method::GET,
            "/.well-known/registre/ledger-key",
            None,
            None,
        )
        .await;
    keys_from_jwks(&jwks).unwrap()
}

async fn the_hub_lists_the_forms_with_their_purposes_the_portal_and_the_policy_in_both_languages(
    app: TestApp,
) {
    let hub = open(&app, "/?lang=fr").await;
    assert_eq!(hub.status, StatusCode::OK);
    assert!(hub.text.contains("<html lang=\"fr\""));
    assert!(hub.text_of("h1").contains("Vie privée"));
    let forms = hub.hrefs(".hub-form h3 a");
    for key in TOUCHPOINTS {
        assert!(
            forms.contains(&format!("/f/{key}?lang=fr")),
            "{key} in {forms:?}"
        );
    }
    let contact = hub.text_of("[data-touchpoint=contact]");
    assert!(contact.contains("Nous contacter"), "{contact}");
    assert!(
        contact.contains("Traitement de votre demande de contact"),
        "what the form is for: {contact}"
    );
    let links = hub.hrefs("main a");
    assert!(links.contains(&"/privacy?lang=fr".to_string()), "{links:?}");
    assert!(links.contains(&"/policy?lang=fr".to_string()), "{links:?}");
    assert!(hub.all("script").is_empty(), "no JavaScript");
    let english = open(&app, "/?lang=en").await;
    assert!(english.text_of("h1").contains("Privacy"));
    assert!(
        english
            .text_of("[data-touchpoint=contact]")
            .contains("Contact us")
    );
    // The browser's language when none is asked.
    let response = app
        .client
        .get(format!("{}/", app.url))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .unwrap();
    assert!(response.text().await.unwrap().contains("<html lang=\"en\""));
    // Every link of the hub answers.
    for href in hub.hrefs("a") {
        if href.starts_with('/') {
            assert_eq!(open(&app, &href).await.status, StatusCode::OK, "{href}");
        }
    }
}

async fn the_hub_offers_the_console_to_a_signed_in_console_user_only(app: TestApp) {
    let hub = open(&app, "/?lang=en").await;
    assert!(hub.hrefs("a").iter().all(|h| !h.starts_with("/console")));
    app.app
        .create_user(
            &registre_app::Principal::cli(),
            "dpo@exemple.fr",
            registre_domain::Role::Dpo,
            Some("correct horse battery staple"),
        )
        .await
        .unwrap();
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = open_with(&browser, &app, "/console/sign-in").await;
    let token = hidden_input(&sign_in.text, "csrf_token");
    let response = browser
        .post(format!("{}/console/sign-in", app.url))
        .form(&[
            ("email", "dpo@exemple.fr"),
            ("password", "correct horse battery staple"),
            ("csrf_token", token.as_str()),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let hub = open_with(&browser, &app, "/?lang=en").await;
    assert!(
        hub.hrefs(".hub-console a")
            .contains(&"/console".to_string()),
        "{}",
        hub.text
    );
}

async fn an_unknown_page_is_a_friendly_localised_404_that_leads_back_to_the_hub(app: TestApp) {
    let page = open(&app, "/no-such-page?lang=en").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let response = app
        .client
        .get(format!("{}/no-such-page", app.url))
        .header("accept", "text/html")
        .header("accept-language", "fr-FR")
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    assert!(text.contains("<html lang=\"fr\""));
    let page = Page {
        status: StatusCode::NOT_FOUND,
        html: Html::parse_document(&text),
        text: text.clone(),
    };
    assert!(page.text_of("h1").contains("Page introuvable"));
    assert!(page.hrefs("main a").contains(&"/?lang=fr".to_string()));
    assert!(!page.all(".site-header").is_empty(), "the same frame");
    // The API keeps its JSON.
    let (status, body) = app.get("/api/v1/nothing-here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]["code"].is_string(), "{body}");
}

async fn the_policy_is_drawn_from_the_registers_in_both_languages(app: TestApp) {
    let policy = open(&app, "/policy?lang=fr").await;
    assert_eq!(policy.status, StatusCode::OK);
    let body = policy.text_of("main");
    for expected in [
        "Exemple SAS",
        "dpo@exemple.fr",
        "Claire Martin",
        "Lettre d'information",
        "Gestion de votre compte",
        "l'exécution d'un contrat",
        "notre intérêt légitime",
        "Répondre aux personnes qui nous écrivent.",
        "3 ans",
        "2 ans",
        "Brevo",
        "HubSpot",
        "États-Unis",
        "clauses contractuelles types",
        "CNIL",
        "Cookies et traceurs",
        "Vos droits",
    ] {
        assert!(
            body.contains(expected),
            "{expected} missing from the policy"
        );
    }
    assert!(!body.contains("1095"), "retention in words, not days");
    assert!(
        policy
            .hrefs("main a")
            .contains(&"/privacy?lang=fr".to_string())
    );
    let version = policy.text_of(".policy__version");
    assert!(version.contains("Version"), "{version}");
    assert_eq!(policy.all(".policy-version").len(), 1, "one version so far");
    let english = open(&app, "/policy?lang=en").await;
    let body = english.text_of("main");
    for expected in ["Newsletter", "3 years", "United States", "Your rights"] {
        assert!(
            body.contains(expected),
            "{expected} missing from the English policy"
        );
    }
    assert_eq!(
        english.all(".policy-version").len(),
        1,
        "the language does not make a version"
    );
    // The forms' full notice and the hub lead to it.
    let form = open(&app, "/f/contact?lang=fr").await;
    assert!(
        form.hrefs("#notice a")
            .contains(&"/policy?lang=fr".to_string())
    );
    let hub = open(&app, "/?lang=fr").await;
    assert!(hub.hrefs("a").contains(&"/policy?lang=fr".to_string()));
}

async fn a_changed_purpose_makes_a_new_policy_version_and_the_old_one_stays_readable(app: TestApp) {
    let first = open(&app, "/policy?lang=en").await;
    let first_version = first.all(".policy-version")[0]
        .value()
        .attr("data-version")
        .unwrap()
        .to_string();
    assert!(first_version.starts_with("sha256:"));
    // Reading again changes nothing.
    let again = open(&app, "/policy?lang=en").await;
    assert_eq!(again.all(".policy-version").len(), 1);
    let (_, mut newsletter) = app.get("/api/v1/purposes/newsletter").await;
    newsletter["retention_days"] = json!(730);
    let (status, body) = app.put("/api/v1/purposes/newsletter", newsletter).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.advance(chrono::Duration::days(3));
    let second = open(&app, "/policy?lang=en").await;
    let versions: Vec<String> = second
        .all(".policy-version")
        .iter()
        .map(|row| row.value().attr("data-version").unwrap().to_string())
        .collect();
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert_eq!(versions[1], first_version, "newest first");
    assert_ne!(versions[0], first_version);
    let newsletter_text = second.text_of(".purpose");
    assert!(newsletter_text.contains("2 years"));
    // The first version is still readable as it was.
    let old = open(&app, &format!("/policy?lang=en&version={first_version}")).await;
    assert_eq!(old.status, StatusCode::OK);
    assert!(old.text_of(".alert").contains("past version"));
    assert!(old.text_of(".purpose").contains("3 years"));
    let unknown = open(&app, "/policy?lang=en&version=sha256:00").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    // A new version is an entry of the audit log.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'privacy_policy.version'")
            .await,
        2
    );
}

async fn the_thanks_page_links_a_receipt_readable_in_both_languages_whose_json_verifies(
    app: TestApp,
) {
    let page = thanks(&app, "contact", "jeanne@example.org", &["newsletter"]).await;
    let links = page.hrefs(".receipts a");
    assert_eq!(links.len(), 1, "{}", page.text);
    let href = &links[0];
    assert!(
        href.starts_with("/r/") && href.ends_with("?lang=en"),
        "{href}"
    );
    assert!(!href.contains("jeanne"), "no personal data in the link");
    let token = href
        .trim_start_matches("/r/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let english = open(&app, href).await;
    assert_eq!(english.status, StatusCode::OK);
    let text = english.text_of("main");
    assert!(
        text.contains("Consent receipt") && text.contains("Newsletter"),
        "{text}"
    );
    assert!(text.contains("consent given"), "{text}");
    assert!(text.contains("“Contact us”"), "{text}");
    assert!(!text.contains("jeanne"));
    let french = open(&app, &format!("/r/{token}?lang=fr")).await;
    let text = french.text_of("main");
    assert!(
        text.contains("Reçu de consentement") && text.contains("Lettre d'information"),
        "{text}"
    );
    assert!(text.contains("consentement donné"));
    // The signed JSON, in the language it declares.
    let json_href = french.hrefs("a[download]")[0].clone();
    let response = app
        .client
        .get(format!("{}{json_href}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let body: Value = response.json().await.unwrap();
    let receipt = &body["receipt"];
    assert_eq!(receipt["language"], "fr");
    assert_eq!(
        receipt["collectionMethod"],
        "formulaire web (Nous contacter)"
    );
    assert!(
        receipt["services"][0]["purposes"][0]["termination"]
            .as_str()
            .unwrap()
            .contains("3 ans")
    );
    let signed = published_keys(&app)
        .await
        .iter()
        .find_map(|k| verify_jws(k, body["jws"].as_str().unwrap()).ok())
        .expect("the downloaded receipt verifies with the published key");
    assert_eq!(&signed, receipt);
    // The same receipt as the API's.
    let event_id = receipt["consentReceiptID"].as_str().unwrap();
    let (status, api) = app
        .get(&format!("/api/v1/consents/{event_id}/receipt"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api["receipt"]["seq"], receipt["seq"]);
    assert_eq!(api["receipt"]["hash"], receipt["hash"]);
    assert_eq!(
        api["receipt"]["collectionMethod"], "formulaire web (Nous contacter)",
        "the API's receipt speaks its declared French too"
    );
    let english_json: Value = app
        .client
        .get(format!("{}/r/{token}/receipt.json?lang=en", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(english_json["receipt"]["language"], "en");
    assert_eq!(
        english_json["receipt"]["collectionMethod"],
        "web form (Contact us)"
    );
}

async fn an_unknown_or_forged_receipt_token_is_a_404(app: TestApp) {
    let page = thanks(&app, "contact", "jeanne@example.org", &["newsletter"]).await;
    let href = page.hrefs(".receipts a")[0].clone();
    let token = href.trim_start_matches("/r/").split('?').next().unwrap();
    assert_eq!(token.len(), 44);
    // Another event id with this token's MAC.
    let other = uuid::Uuid::now_v7();
    use base64::Engine;
    let forged = format!(
        "{}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(other.as_bytes()),
        &token[22..]
    );
    for bad in [forged.as_str(), "nothing", &token[..43]] {
        let page = open(&app, &format!("/r/{bad}?lang=en")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{bad}");
        let response = app
            .client
            .get(format!("{}/r/{bad}/receipt.json", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{bad}");
    }
}

async fn the_double_opt_in_mail_and_its_confirmation_page_link_the_receipts(app: TestApp) {
    let page = thanks(&app, "newsletter", "jeanne@example.org", &["newsletter"]).await;
    assert_eq!(page.hrefs(".receipts a").len(), 1, "the request's receipt");
    let mails = app.wait_for_mails_to("jeanne@example.org", 1).await;
    assert_eq!(mails.len(), 1);
    let receipt = link_in(&mails[0].body, "/r/").expect("the mail links the receipt");
    let path = receipt.trim_start_matches(&app.url).to_string();
    let pending = open(&app, &path).await;
    assert_eq!(pending.status, StatusCode::OK);
    assert!(
        pending
            .text_of(".receipt__action")
            .contains("consent to confirm"),
        "{receipt}: {}",
        pending.text_of("main")
    );
    let confirm = link_in(&mails[0].body, "/f/confirm").unwrap();
    let confirm_page = open(&app, confirm.trim_start_matches(&app.url)).await;
    let token = hidden_input(&confirm_page.text, "token");
    let response = app
        .client
        .post(format!("{}/f/confirm", app.url))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let done = Page {
        status: response.status(),
        text: String::new(),
        html: Html::parse_document(&response.text().await.unwrap()),
    };
    assert_eq!(done.status, StatusCode::OK);
    let links = done.hrefs(".receipts a");
    assert_eq!(links.len(), 1);
    let granted = open(&app, &links[0]).await;
    assert!(
        granted
            .text_of(".receipt__action")
            .contains("consent given")
    );
    assert!(granted.text_of("main").contains("a link in an email"));
}

async fn the_portal_lists_a_receipt_for_each_consent_event(app: TestApp) {
    thanks(
        &app,
        "account",
        "paul@example.org",
        &["newsletter", "promotional_offers"],
    )
    .await;
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": "paul@example.org"}, "purpose": "newsletter", "action": "withdraw"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Sign in to the portal with the mailed link.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = browser
        .post(format!("{}/privacy/sign-in", app.url))
        .form(&[("email", "paul@example.org"), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mail = app.mails_to("paul@example.org").into_iter().last().unwrap();
    let link = link_in(&mail.body, "/privacy/sign-in").unwrap();
    let confirm = open_with(&browser, &app, link.trim_start_matches(&app.url)).await;
    let token = hidden_input(&confirm.text, "token");
    let response = browser
        .post(format!("{}/privacy/sign-in/confirm", app.url))
        .form(&[("token", token.as_str()), ("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let portal = open_with(&browser, &app, "/privacy?lang=en").await;
    let receipts = portal.hrefs(".receipts a");
    assert_eq!(
        receipts.len(),
        3,
        "two grants and a withdrawal: {}",
        portal.text
    );
    for href in &receipts {
        let page = open(&app, href).await;
        assert_eq!(page.status, StatusCode::OK, "{href}");
    }
    assert!(portal.text_of(".receipts").contains("consent withdrawn"));
}

async fn a_newsletter_form_cannot_be_sent_without_a_ticked_box_and_then_stores_nothing(
    app: TestApp,
) {
    let response = send(&app, "newsletter", "nobody@example.org", &[]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(text.contains("tick at least one box"), "{text}");
    assert_eq!(app.count("SELECT COUNT(*) FROM submissions").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM subjects").await, 0);
    assert!(app.mails_to("nobody@example.org").is_empty());
    let (_, consents) = app
        .post(
            "/api/v1/subjects/consents",
            json!({"email": "nobody@example.org"}),
        )
        .await;
    assert!(consents["subject_id"].is_null(), "{consents}");
    // With a box ticked it goes through.
    let response = send(&app, "newsletter", "somebody@example.org", &["newsletter"]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn the_white_paper_is_sent_on_request_and_being_recontacted_is_its_own_consent(app: TestApp) {
    let form = open(&app, "/f/whitepaper?lang=en").await;
    let boxes: Vec<String> = form
        .all("input[type=checkbox]")
        .iter()
        .filter_map(|e| e.value().attr("name").map(str::to_string))
        .collect();
    assert!(
        !boxes.contains(&"consent.whitepaper_delivery".to_string()),
        "no box for what the person asks for: {boxes:?}"
    );
    assert!(boxes.contains(&"consent.whitepaper_follow_up".to_string()));
    let (_, purpose) = app.get("/api/v1/purposes/whitepaper_delivery").await;
    assert_eq!(purpose["legal_basis"], "contract");
    // Sent with no box: the document, and no consent recorded.
    let page = thanks(&app, "whitepaper", "jeanne@example.org", &[]).await;
    assert!(!page.all(".download a").is_empty());
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "jeanne@example.org", "purpose": "whitepaper_follow_up"}),
        )
        .await;
    assert_eq!(check["allowed"], false, "{check}");
    let page = thanks(
        &app,
        "whitepaper",
        "paul@example.org",
        &["whitepaper_follow_up"],
    )
    .await;
    assert_eq!(page.hrefs(".receipts a").len(), 1);
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "paul@example.org", "purpose": "whitepaper_follow_up"}),
        )
        .await;
    assert_eq!(check["allowed"], true, "{check}");
}

async fn every_demo_form_passes_registres_own_form_auditor(app: TestApp) {
    for key in TOUCHPOINTS {
        for lang in ["fr", "en"] {
            let page = open(&app, &format!("/f/{key}?lang={lang}")).await;
            let response = app
                .client
                .post(format!("{}/api/v1/audit/form", app.url))
                .bearer_auth(&app.admin_key)
                .header("content-type", "text/html")
                .body(page.text.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let report: Value = response.json().await.unwrap();
            let forms = report["forms"].as_array().unwrap();
            assert_eq!(forms.len(), 1, "{key} {lang}: {report}");
            assert_eq!(
                forms[0]["findings"],
                json!([]),
                "{key} {lang}: the auditor finds nothing"
            );
        }
    }
}
