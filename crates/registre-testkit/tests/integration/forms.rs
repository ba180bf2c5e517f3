//! The public touchpoint forms, as a visitor's browser and a forger see them.
use registre_testkit::{Backend, TestApp, contains, store_tests};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use scraper::{ElementRef, Html, Selector};
use serde_json::{Value, json};

store_tests!(
    every_demo_form_shows_in_french_and_english_with_no_box_ticked,
    the_language_comes_from_the_link_then_the_browser_then_the_organisation,
    ticking_one_box_records_exactly_that_consent_with_the_notice_version_served,
    a_form_sent_with_no_box_ticked_records_the_message_and_no_consent,
    form_consents_fire_the_same_webhooks_as_api_ones,
    invalid_input_comes_back_with_422_the_values_kept_and_each_error_next_to_its_field,
    html_typed_in_a_field_is_shown_back_as_text,
    forged_posts_are_refused_and_record_nothing,
    a_form_token_works_once,
    a_form_from_another_browser_or_without_cookie_is_refused,
    a_body_over_64_kib_gets_413_and_records_nothing,
    thirty_forms_a_minute_from_one_address_pass_and_a_flood_gets_a_429_page,
    double_opt_in_waits_for_the_emailed_link_which_works_once,
    the_double_opt_in_mail_is_committed_with_the_form_and_still_sent_after_a_restart,
    unconfirmed_grants_expire_after_seven_days,
    the_one_click_link_of_an_email_withdraws_without_signing_in,
    the_full_notice_is_one_click_away_and_past_versions_stay_readable,
    the_white_paper_is_delivered_once_the_form_is_sent,
    a_form_can_be_embedded_by_the_origins_its_touchpoint_allows,
    an_unknown_touchpoint_is_a_real_404_page,
    nothing_a_visitor_types_is_stored_in_clear,
);

const TOUCHPOINTS: [&str; 5] = ["newsletter", "account", "whitepaper", "contact", "support"];

struct Page {
    status: StatusCode,
    headers: HeaderMap,
    html: Html,
}

impl Page {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Self {
            status,
            headers,
            html: Html::parse_document(&text),
        }
    }

    fn all(&self, css: &str) -> Vec<ElementRef<'_>> {
        let selector = Selector::parse(css).expect("selector");
        self.html.select(&selector).collect()
    }

    fn one(&self, css: &str) -> ElementRef<'_> {
        let found = self.all(css);
        assert_eq!(found.len(), 1, "expected one {css}, found {}", found.len());
        found[0]
    }

    fn attr(&self, css: &str, name: &str) -> String {
        self.one(css)
            .value()
            .attr(name)
            .unwrap_or_default()
            .to_string()
    }

    fn text(&self, css: &str) -> String {
        self.all(css)
            .iter()
            .map(|e| e.text().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn body_text(&self) -> String {
        self.text("body")
    }

    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

async fn open(app: &TestApp, client: &reqwest::Client, path: &str) -> Page {
    Page::from(
        client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("get"),
    )
    .await
}

/// The body a person would send: the form's hidden fields, every field filled with a
/// plausible value, `email` as given, and the boxes in `ticked`.
fn filled(form: &Page, email: &str, ticked: &[&str]) -> Vec<(String, String)> {
    let mut body = Vec::new();
    for input in form.all("form.form input, form.form textarea") {
        let element = input.value();
        let (Some(name), kind) = (
            element.attr("name"),
            element.attr("type").unwrap_or("textarea"),
        ) else {
            continue;
        };
        let value = match (kind, name) {
            ("hidden", _) => element.attr("value").unwrap_or_default().to_string(),
            ("checkbox", _) => continue,
            (_, "website") => String::new(),
            ("email", _) => email.to_string(),
            ("tel", _) => "+33 1 23 45 67 89".into(),
            ("date", _) => "1990-04-12".into(),
            ("textarea", _) => "Bonjour,\r\nma commande n'est pas arrivée.".into(),
            _ => "Jeanne Dupont".into(),
        };
        body.push((name.to_string(), value));
    }
    for key in ticked {
        body.push((format!("consent.{key}"), "yes".into()));
    }
    body
}

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: &[(String, String)],
) -> reqwest::Response {
    client
        .post(format!("{}{path}", app.url))
        .form(body)
        .send()
        .await
        .expect("post")
}

async fn ledger_length(app: &TestApp) -> i64 {
    let (_, verify) = app.get("/api/v1/ledger/verify").await;
    assert_eq!(verify["ok"], true, "{verify}");
    verify["length"].as_i64().unwrap()
}

async fn consents_of(app: &TestApp, email: &str) -> Value {
    let (status, consents) = app
        .post("/api/v1/subjects/consents", json!({"email": email}))
        .await;
    assert_eq!(status, StatusCode::OK, "{consents}");
    consents
}

fn purpose<'a>(consents: &'a Value, key: &str) -> &'a Value {
    consents["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purpose"] == key)
        .unwrap()
}

async fn submissions(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM submissions").await
}

/// A form sent as a person would; returns the confirmation page it leads to.
async fn send_form(app: &TestApp, key: &str, email: &str, ticked: &[&str]) -> Page {
    let form = open(app, &app.client, &format!("/f/{key}?lang=en")).await;
    let response = post(
        app,
        &app.client,
        &format!("/f/{key}"),
        &filled(&form, email, ticked),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("/f/{key}/thanks?r=")),
        "{location}"
    );
    assert!(!location.contains('@'), "no email in URLs");
    open(app, &app.client, &location).await
}

async fn every_demo_form_shows_in_french_and_english_with_no_box_ticked(app: TestApp) {
    let (_, purposes) = app.get("/api/v1/purposes").await;
    let purposes = purposes["items"].as_array().unwrap().clone();
    for key in TOUCHPOINTS {
        let (_, touchpoint) = app.get(&format!("/api/v1/touchpoints/{key}")).await;
        for lang in ["fr", "en"] {
            let page = open(&app, &app.client, &format!("/f/{key}?lang={lang}")).await;
            assert_eq!(page.status, StatusCode::OK, "{key} {lang}");
            assert_eq!(page.attr("html", "lang"), lang);
            assert_eq!(
                page.text("h1").trim(),
                touchpoint["title"][lang].as_str().unwrap()
            );
            // Only our stylesheet: no script, nothing inline.
            let csp = page.header("content-security-policy");
            assert!(
                csp.contains("default-src 'none'")
                    && csp.contains("style-src 'self'")
                    && !csp.contains("unsafe-inline"),
                "{csp}"
            );
            assert!(
                page.all("script").is_empty()
                    && page.all("[style]").is_empty()
                    && page.all("style").is_empty()
            );
            // One design system: the tokens, the organisation's brand, the forms' sheet.
            let sheets: Vec<&str> = page
                .all("link[rel=stylesheet]")
                .iter()
                .filter_map(|l| l.value().attr("href"))
                .collect();
            assert_eq!(
                sheets,
                [
                    "/static/registre.css",
                    "/static/brand.css",
                    "/static/forms.css"
                ]
            );
            // The protocol fields.
            assert_eq!(
                page.attr("input[name=notice_version]", "value"),
                touchpoint["notice_version"].as_str().unwrap()
            );
            assert!(!page.attr("input[name=csrf_token]", "value").is_empty());
            assert_eq!(page.attr("input[name=website]", "tabindex"), "-1");
            assert_eq!(page.attr("input[name=website]", "autocomplete"), "off");
            // Every field, labelled, typed, with its autocomplete hint and required mark.
            for field in touchpoint["fields"].as_array().unwrap() {
                let name = field["name"].as_str().unwrap();
                let id = format!("field-{name}");
                let control = page.one(&format!("[name={name}]"));
                assert_eq!(control.value().attr("id"), Some(id.as_str()));
                let label = page.text(&format!("label[for={id}]"));
                assert!(
                    label.contains(field["label"][lang].as_str().unwrap()),
                    "{label}"
                );
                assert_eq!(
                    control.value().attr("required").is_some(),
                    field["required"] == true,
                    "{key} {name}"
                );
                assert!(control.value().attr("autocomplete").is_some());
                if field["type"] == "textarea" {
                    assert_eq!(control.value().name(), "textarea");
                } else {
                    assert_eq!(control.value().attr("type"), field["type"].as_str());
                }
            }
            assert_eq!(page.attr("input[name=email]", "autocomplete"), "email");
            // One unticked, optional box per consent purpose, and none for the others.
            let boxes = page.all("input[type=checkbox]");
            for purpose_key in touchpoint["purposes"].as_array().unwrap() {
                let purpose = purposes.iter().find(|p| &p["key"] == purpose_key).unwrap();
                let selector = format!(
                    "input[type=checkbox][name='consent.{}']",
                    purpose_key.as_str().unwrap()
                );
                if purpose["legal_basis"] == "consent" {
                    let checkbox = page.one(&selector);
                    assert!(
                        checkbox.value().attr("checked").is_none(),
                        "{key}: {purpose_key} is ticked in advance"
                    );
                    assert!(checkbox.value().attr("required").is_none());
                    let id = checkbox.value().attr("id").unwrap();
                    assert_eq!(
                        page.text(&format!("label[for={id}]")).trim(),
                        purpose["title"][lang].as_str().unwrap()
                    );
                    assert!(
                        page.text(&format!("#{id}-description"))
                            .contains(purpose["description"][lang].as_str().unwrap())
                    );
                } else {
                    assert!(
                        page.all(&selector).is_empty(),
                        "{key}: {purpose_key} rests on {} and has no box",
                        purpose["legal_basis"]
                    );
                }
            }
            assert!(boxes.iter().all(|b| b.value().attr("checked").is_none()));
            // The first layer next to the button, the full notice one click away.
            let first_layer = page.text(".first-layer");
            assert!(
                first_layer.contains("dpo@exemple.fr") && first_layer.contains("Exemple SAS"),
                "{first_layer}"
            );
            assert!(!page.all(".first-layer a[href^='/privacy']").is_empty());
            assert!(page.all(".first-layer a[href^='/f/']").iter().any(|a| {
                a.value()
                    .attr("href")
                    .unwrap()
                    .contains("/notice?version=sha256:")
            }));
            let full = page.text("details.notice-details");
            assert!(
                full.contains("CNIL") && full.contains("https://www.cnil.fr"),
                "{key} {lang}"
            );
            // Another language is one link away.
            assert!(
                page.attr(".language-switch a", "href")
                    .contains(if lang == "fr" { "lang=en" } else { "lang=fr" })
            );
        }
    }
}

async fn the_language_comes_from_the_link_then_the_browser_then_the_organisation(app: TestApp) {
    let page = open(&app, &app.client, "/f/contact").await;
    assert_eq!(
        page.attr("html", "lang"),
        "fr",
        "the organisation's language"
    );
    let english = Page::from(
        app.client
            .get(format!("{}/f/contact", app.url))
            .header("accept-language", "en-GB,en;q=0.9")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(english.attr("html", "lang"), "en");
    assert!(english.text("button").contains("Send"));
    let asked = Page::from(
        app.client
            .get(format!("{}/f/contact?lang=fr", app.url))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(asked.attr("html", "lang"), "fr");
}

async fn ticking_one_box_records_exactly_that_consent_with_the_notice_version_served(app: TestApp) {
    let (_, touchpoint) = app.get("/api/v1/touchpoints/contact").await;
    let thanks = send_form(
        &app,
        "contact",
        "jeanne@example.org",
        &["promotional_offers"],
    )
    .await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.text(".purpose-list").contains("Promotional offers"));
    assert!(!thanks.body_text().contains("Newsletter"));
    assert!(
        thanks.body_text().contains("withdraw"),
        "the page says how to withdraw"
    );
    let consents = consents_of(&app, "jeanne@example.org").await;
    let offers = purpose(&consents, "promotional_offers");
    assert_eq!(
        (offers["state"].clone(), offers["allowed"].clone()),
        (json!("granted"), json!(true))
    );
    let event = &offers["history"][0];
    assert_eq!(event["notice_version"], touchpoint["notice_version"]);
    assert_eq!(
        (
            event["source"].clone(),
            event["touchpoint"].clone(),
            event["action"].clone()
        ),
        (json!("form"), json!("contact"), json!("grant"))
    );
    assert_eq!(purpose(&consents, "newsletter")["state"], "none");
    assert_eq!(
        purpose(&consents, "contact_handling")["state"],
        "not_required"
    );
    assert_eq!(ledger_length(&app).await, 1, "exactly one event");
    assert_eq!(submissions(&app).await, 1);
}

async fn a_form_sent_with_no_box_ticked_records_the_message_and_no_consent(app: TestApp) {
    let thanks = send_form(&app, "contact", "paul@example.org", &[]).await;
    assert!(thanks.body_text().contains("You did not tick any box"));
    assert_eq!(ledger_length(&app).await, 0);
    assert_eq!(submissions(&app).await, 1);
    let consents = consents_of(&app, "paul@example.org").await;
    assert!(
        consents["subject_id"].is_string(),
        "the person is known by their submission"
    );
    assert_eq!(purpose(&consents, "newsletter")["state"], "none");
    // A touchpoint without consent purposes says nothing about boxes.
    let support = send_form(&app, "support", "paul@example.org", &[]).await;
    assert!(!support.body_text().contains("tick"));
}

async fn form_consents_fire_the_same_webhooks_as_api_ones(app: TestApp) {
    subscribe_to_consents(&app).await;
    send_form(
        &app,
        "account",
        "jeanne@example.org",
        &["newsletter", "promotional_offers"],
    )
    .await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE topic = 'consent.granted'")
            .await,
        2
    );
}

async fn invalid_input_comes_back_with_422_the_values_kept_and_each_error_next_to_its_field(
    app: TestApp,
) {
    let form = open(&app, &app.client, "/f/account?lang=fr").await;
    let mut body = filled(&form, "pas-une-adresse", &["newsletter"]);
    for (name, value) in body.iter_mut() {
        match name.as_str() {
            "first_name" => *value = "Jea\u{0}nne".into(),
            "last_name" => *value = "   ".into(),
            "phone" => *value = "appelez-moi".into(),
            _ => {}
        }
    }
    let page = Page::from(post(&app, &app.client, "/f/account", &body).await).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.attr("html", "lang"), "fr");
    for (field, words) in [
        ("email", "adresse e-mail valide"),
        ("first_name", "caractères invisibles"),
        ("last_name", "obligatoire"),
        ("phone", "numéro de téléphone"),
    ] {
        let control = page.one(&format!("#field-{field}"));
        assert_eq!(
            control.value().attr("aria-invalid"),
            Some("true"),
            "{field}"
        );
        let described = control.value().attr("aria-describedby").unwrap();
        assert!(
            described
                .split(' ')
                .any(|id| id == format!("field-{field}-error")),
            "{described}"
        );
        assert!(
            page.text(&format!("#field-{field}-error")).contains(words),
            "{field}: {}",
            page.text(&format!("#field-{field}-error"))
        );
        assert!(
            !page
                .all(&format!("#error-summary a[href='#field-{field}']"))
                .is_empty()
        );
    }
    assert_eq!(
        page.attr("#field-email", "value"),
        "pas-une-adresse",
        "values are kept"
    );
    assert!(
        page.one("input[name='consent.newsletter']")
            .value()
            .attr("checked")
            .is_some(),
        "the person's own tick is kept"
    );
    assert!(
        page.one("input[name='consent.promotional_offers']")
            .value()
            .attr("checked")
            .is_none()
    );
    assert_eq!(ledger_length(&app).await, 0);
    assert_eq!(submissions(&app).await, 0);
    // Corrected, the same form goes through: nothing was spent by the refusal.
    let body = filled(&page, "jeanne@example.org", &["newsletter"]);
    let response = post(&app, &app.client, "/f/account", &body).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn html_typed_in_a_field_is_shown_back_as_text(app: TestApp) {
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    let script = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let mut body = filled(&form, "not an email", &[]);
    for (name, value) in body.iter_mut() {
        if name == "name" || name == "message" {
            *value = script.into();
        }
    }
    let response = post(&app, &app.client, "/f/contact", &body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = response.text().await.unwrap();
    assert!(
        !text.contains("<script>") && !text.contains("<img src=x"),
        "markup is escaped"
    );
    let page = Html::parse_document(&text);
    assert_eq!(
        page.select(&Selector::parse("script, img").unwrap())
            .count(),
        0
    );
    let value = page
        .select(&Selector::parse("#field-name").unwrap())
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    assert_eq!(value, script, "shown back exactly as typed, as text");
}

async fn forged_posts_are_refused_and_record_nothing(app: TestApp) {
    type Forgery = Box<dyn Fn(&mut Vec<(String, String)>)>;
    let cases: Vec<(&str, Forgery, StatusCode)> = vec![
        (
            "a purpose the form does not offer",
            Box::new(|b| b.push(("consent.partner_offers".into(), "yes".into()))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a box for a purpose not based on consent",
            Box::new(|b| b.push(("consent.contact_handling".into(), "yes".into()))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a purpose that does not exist",
            Box::new(|b| b.push(("consent.astrology".into(), "yes".into()))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a box with a strange value",
            Box::new(|b| b.push(("consent.newsletter".into(), "no".into()))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a field sent twice",
            Box::new(|b| b.push(("email".into(), "other@example.org".into()))),
            StatusCode::BAD_REQUEST,
        ),
        (
            "the honeypot filled in",
            Box::new(|b| {
                b.iter_mut()
                    .filter(|(n, _)| n == "website")
                    .for_each(|(_, v)| *v = "http://spam".into())
            }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no token",
            Box::new(|b| b.retain(|(n, _)| n != "csrf_token")),
            StatusCode::FORBIDDEN,
        ),
        (
            "a forged token",
            Box::new(|b| {
                b.iter_mut()
                    .filter(|(n, _)| n == "csrf_token")
                    .for_each(|(_, v)| *v = format!("{v}x"))
            }),
            StatusCode::FORBIDDEN,
        ),
        (
            "another notice version",
            Box::new(|b| {
                b.iter_mut()
                    .filter(|(n, _)| n == "notice_version")
                    .for_each(|(_, v)| *v = format!("sha256:{}", "0".repeat(64)))
            }),
            StatusCode::FORBIDDEN,
        ),
        (
            "control characters",
            Box::new(|b| {
                b.iter_mut()
                    .filter(|(n, _)| n == "name")
                    .for_each(|(_, v)| *v = "Jeanne\u{7}\u{1b}[31m".into())
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "an invalid email",
            Box::new(|b| {
                b.iter_mut()
                    .filter(|(n, _)| n == "email")
                    .for_each(|(_, v)| *v = "jeanne@".into())
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (story, forge, status) in cases {
        let form = open(&app, &app.client, "/f/contact?lang=en").await;
        let mut body = filled(&form, "forger@example.org", &["newsletter"]);
        forge(&mut body);
        let page = Page::from(post(&app, &app.client, "/f/contact", &body).await).await;
        assert_eq!(page.status, status, "{story}");
        assert_eq!(
            page.header("content-type"),
            "text/html; charset=utf-8",
            "{story}: a page, not a bare error"
        );
        assert!(!page.text("h1").trim().is_empty(), "{story}");
    }
    // A form posted to another touchpoint than the one it was served for.
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    let response = post(
        &app,
        &app.client,
        "/f/account",
        &filled(&form, "forger@example.org", &[]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Not a form at all.
    let response = app
        .client
        .post(format!("{}/f/contact", app.url))
        .json(&json!({"email": "forger@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(ledger_length(&app).await, 0);
    assert_eq!(submissions(&app).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM subjects").await, 0);
}

async fn a_form_token_works_once(app: TestApp) {
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    let body = filled(&form, "jeanne@example.org", &["newsletter"]);
    assert_eq!(
        post(&app, &app.client, "/f/contact", &body).await.status(),
        StatusCode::SEE_OTHER
    );
    let again = Page::from(post(&app, &app.client, "/f/contact", &body).await).await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.text("[role=alert]").contains("already sent"));
    assert_eq!(ledger_length(&app).await, 1);
    assert_eq!(submissions(&app).await, 1);
    // A token from a form that was never sent works, with its own single use.
    let second = open(&app, &app.client, "/f/contact?lang=en").await;
    assert_ne!(
        second.attr("input[name=csrf_token]", "value"),
        form.attr("input[name=csrf_token]", "value")
    );
    assert_eq!(
        post(
            &app,
            &app.client,
            "/f/contact",
            &filled(&second, "jeanne@example.org", &[])
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
}

async fn a_form_from_another_browser_or_without_cookie_is_refused(app: TestApp) {
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    let body = filled(&form, "jeanne@example.org", &["newsletter"]);
    // Another site making the visitor's browser post a form it got for itself: the token
    // is bound to the forger's cookie, not the visitor's.
    let visitor = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    open(&app, &visitor, "/f/contact").await;
    assert_eq!(
        post(&app, &visitor, "/f/contact", &body).await.status(),
        StatusCode::FORBIDDEN
    );
    let no_cookies = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = Page::from(post(&app, &no_cookies, "/f/contact", &body).await).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.text("[role=alert]").contains("cookie"));
    assert_eq!(
        page.attr("#field-email", "value"),
        "jeanne@example.org",
        "what was typed is kept"
    );
    assert_eq!(ledger_length(&app).await, 0);
    // The cookie is HttpOnly and scoped to the site.
    let response = no_cookies
        .get(format!("{}/f/contact", app.url))
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Path=/") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

async fn a_body_over_64_kib_gets_413_and_records_nothing(app: TestApp) {
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    for size in [70 * 1024, 2 * 1024 * 1024] {
        let mut body = filled(&form, "jeanne@example.org", &[]);
        body.push(("message".into(), "x".repeat(size)));
        let response = app
            .client
            .post(format!("{}/f/contact", app.url))
            .form(&body)
            .send()
            .await;
        match response {
            Ok(response) => {
                assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{size}");
                let page = Page::from(response).await;
                assert!(
                    page.text("h1").contains("Too much data")
                        || page.text("h1").contains("volumineux")
                );
            }
            // The server may answer and close before a 2 MB upload ends; that is a refusal too.
            Err(error) => assert!(size > 64 * 1024 * 16, "{error}"),
        }
    }
    assert_eq!(submissions(&app).await, 0);
}

async fn thirty_forms_a_minute_from_one_address_pass_and_a_flood_gets_a_429_page(app: TestApp) {
    for i in 0..30 {
        let form = open(&app, &app.client, "/f/contact?lang=en").await;
        let response = post(
            &app,
            &app.client,
            "/f/contact",
            &filled(&form, &format!("person{i}@example.org"), &[]),
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "form {i}");
    }
    let mut limited = None;
    for i in 30..200 {
        let form = open(&app, &app.client, "/f/contact?lang=en").await;
        let response = post(
            &app,
            &app.client,
            "/f/contact",
            &filled(&form, &format!("person{i}@example.org"), &[]),
        )
        .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(Page::from(response).await);
            break;
        }
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let page = limited.expect("a flood is limited");
    assert!(page.header("retry-after").parse::<u64>().unwrap() >= 1);
    assert!(
        page.body_text().contains("Nothing was recorded")
            || page.body_text().contains("Rien n'a été enregistré")
    );
}

fn mail_link(mail: &str, path: &str) -> String {
    // Quoted-printable may fold long lines: unfold before looking.
    let unfolded = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = unfolded
        .find(&format!("{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in {unfolded}"));
    unfolded[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/?=._-".contains(*c))
        .collect()
}

async fn double_opt_in_waits_for_the_emailed_link_which_works_once(app: TestApp) {
    subscribe_to_consents(&app).await;
    let thanks = send_form(&app, "newsletter", "jeanne@example.org", &["newsletter"]).await;
    assert!(thanks.text(".alert--info").contains("Check your inbox"));
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "jeanne@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(
        (check["allowed"].clone(), check["state"].clone()),
        (json!(false), json!("pending"))
    );
    let mails = app.wait_for_outbox_mails(1).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: jeanne@example.org"));
    assert!(
        mail.contains("List-Unsubscribe: <")
            && mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    );
    assert!(mail.contains("Content-Type: text/plain") && mail.contains("Content-Type: text/html"));
    let confirm = mail_link(mail, "/f/confirm");
    // Opening the link (as a mail scanner would) confirms nothing.
    let page = open(&app, &app.client, &confirm).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text(".purpose-list").contains("Newsletter"));
    let token = page.attr("form input[name=token]", "value");
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "jeanne@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(check["state"], "pending");
    // The button does.
    let done = Page::from(
        post(
            &app,
            &app.client,
            "/f/confirm",
            &[("token".to_string(), token.clone())],
        )
        .await,
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert!(done.text("[role=status]").contains("confirmed"));
    let consents = consents_of(&app, "jeanne@example.org").await;
    let newsletter = purpose(&consents, "newsletter");
    assert_eq!(newsletter["state"], "granted");
    let history = newsletter["history"].as_array().unwrap();
    assert_eq!(
        history
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec!["grant_pending", "grant"]
    );
    assert_eq!(history[1]["source"], "email_link");
    assert_eq!(history[1]["notice_version"], history[0]["notice_version"]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE topic = 'consent.granted'")
            .await,
        1,
        "the webhook fires on confirmation"
    );
    // Once only.
    let again = post(
        &app,
        &app.client,
        "/f/confirm",
        &[("token".to_string(), token)],
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(ledger_length(&app).await, 2);
}

/// How many mails of the outbox show `email` in clear.
async fn mail_rows_with_in_clear(app: &TestApp, email: &str) -> i64 {
    let query = match app.backend {
        Backend::Sqlite => format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND instr(payload, CAST('{email}' AS BLOB)) > 0"
        ),
        Backend::Postgres => format!(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND position(convert_to('{email}', 'UTF8') in payload) > 0"
        ),
    };
    app.count(&query).await
}

async fn the_double_opt_in_mail_is_committed_with_the_form_and_still_sent_after_a_restart(
    mut app: TestApp,
) {
    // As if the process died right after the commit, before any mail could leave.
    app.stop_mail_worker().await;
    let form = open(&app, &app.client, "/f/newsletter?lang=en").await;
    let body = filled(&form, "jeanne@example.org", &["newsletter"]);
    let response = post(&app, &app.client, "/f/newsletter", &body).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let thanks = open(&app, &app.client, &location).await;
    assert!(thanks.text(".alert--info").contains("Check your inbox"));

    // The mail is a row of the outbox, committed with the submission and its pending
    // consent, sealed with the person's key: the address cannot be read in it.
    let waiting = "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND topic = 'form.confirmation' AND subject_id IS NOT NULL AND delivered_at IS NULL AND length(payload) > 0";
    assert_eq!(submissions(&app).await, 1);
    assert_eq!(ledger_length(&app).await, 1);
    assert_eq!(app.count(waiting).await, 1);
    assert_eq!(mail_rows_with_in_clear(&app, "jeanne@example.org").await, 0);
    assert!(app.outbox_mails().is_empty(), "nothing sent yet");
    // The row stands or falls with the submission: the same form sent again is refused and
    // queues no second mail.
    let again = post(&app, &app.client, "/f/newsletter", &body).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count(waiting).await, 1);

    // A new process on the same store sends it, once.
    let app = app.restart().await;
    let mails = app.wait_for_mails_to("jeanne@example.org", 1).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.contains("Confirm your subscription"),
        "{}",
        mails[0].subject
    );
    let sent = "SELECT COUNT(*) FROM outbox WHERE channel = 'email' AND delivered_at IS NOT NULL AND length(payload) = 0";
    registre_testkit::eventually(
        std::time::Duration::from_secs(10),
        "the mail marked sent and its payload wiped",
        || async { (app.count(sent).await == 1).then_some(()) },
    )
    .await;
    assert_eq!(app.count(waiting).await, 0);
    assert_eq!(app.mails_to("jeanne@example.org").len(), 1, "sent once");

    // Its link still confirms the consent it was written for.
    let confirm = mail_link(&app.outbox_mails()[0], "/f/confirm");
    let page = open(&app, &app.client, &confirm).await;
    let token = page.attr("form input[name=token]", "value");
    let done = post(
        &app,
        &app.client,
        "/f/confirm",
        &[("token".to_string(), token)],
    )
    .await;
    assert_eq!(done.status(), StatusCode::OK);
    let consents = consents_of(&app, "jeanne@example.org").await;
    assert_eq!(purpose(&consents, "newsletter")["state"], "granted");
}

async fn unconfirmed_grants_expire_after_seven_days(app: TestApp) {
    send_form(
        &app,
        "newsletter",
        "jeanne@example.org",
        &["newsletter", "partner_offers"],
    )
    .await;
    app.clock.advance(chrono::Duration::days(6));
    assert_eq!(app.app.expire_unconfirmed_grants().await.unwrap(), 0);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(app.app.expire_unconfirmed_grants().await.unwrap(), 2);
    assert_eq!(
        app.app.expire_unconfirmed_grants().await.unwrap(),
        0,
        "once"
    );
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "jeanne@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(
        (check["allowed"].clone(), check["state"].clone()),
        (json!(false), json!("expired"))
    );
    let confirm = mail_link(&app.wait_for_outbox_mails(1).await[0], "/f/confirm");
    let page = open(&app, &app.client, &confirm).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(
        page.text("[role=alert]").contains("expir"),
        "expired, in the browser's language"
    );
}

async fn the_one_click_link_of_an_email_withdraws_without_signing_in(app: TestApp) {
    subscribe_to_consents(&app).await;
    send_form(
        &app,
        "newsletter",
        "jeanne@example.org",
        &["newsletter", "promotional_offers"],
    )
    .await;
    let mail = app.wait_for_outbox_mails(1).await.remove(0);
    let confirm = mail_link(&mail, "/f/confirm");
    let token = confirm.split("token=").nth(1).unwrap().to_string();
    post(
        &app,
        &app.client,
        "/f/confirm",
        &[("token".to_string(), token)],
    )
    .await;
    let unsubscribe = mail_link(&mail, "/u");
    let stranger = reqwest::Client::new();
    // The page asks first...
    let page = open(&app, &stranger, &unsubscribe).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text(".purpose-list").contains("Newsletter")
            && page.text(".purpose-list").contains("Promotional offers")
    );
    let (_, check) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": "jeanne@example.org", "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(check["state"], "granted");
    // ...and a mail client's RFC 8058 one-click POST, with no cookie and no sign-in, withdraws.
    let response = stranger
        .post(format!("{}{unsubscribe}", app.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    for key in ["newsletter", "promotional_offers"] {
        let (_, check) = app
            .post(
                "/api/v1/consents/check",
                json!({"email": "jeanne@example.org", "purpose": key}),
            )
            .await;
        assert_eq!(check["state"], "withdrawn", "{key}");
    }
    let consents = consents_of(&app, "jeanne@example.org").await;
    assert_eq!(
        purpose(&consents, "newsletter")["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["source"],
        "email_link"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE topic = 'consent.withdrawn'")
            .await,
        2
    );
    // Again: nothing more to do, and no error.
    let again = Page::from(post(&app, &stranger, &unsubscribe, &[]).await).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.text("[role=status]").contains("already unsubscribed"));
    let forged = open(&app, &stranger, "/u?token=abc.def").await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
}

async fn the_full_notice_is_one_click_away_and_past_versions_stay_readable(app: TestApp) {
    let (_, touchpoint) = app.get("/api/v1/touchpoints/contact").await;
    let old_version = touchpoint["notice_version"].as_str().unwrap().to_string();
    let page = open(&app, &app.client, "/f/contact/notice?lang=en").await;
    assert_eq!(page.status, StatusCode::OK);
    let text = page.body_text();
    for expected in [
        "Exemple SAS",
        "1 rue de la Paix",
        "Claire Martin",
        "dpo@exemple.fr",
        "Answering the people who write to us.",
        "legitimate interest",
        "your consent",
        "3 years",
        "HubSpot",
        "United States (HubSpot), covered by the European Commission's standard contractual clauses",
        "have it erased",
        "portability",
        "withdraw your consent at any time",
        "https://www.cnil.fr",
        "No automated decision",
        "Required fields are needed",
        &old_version,
    ] {
        assert!(text.contains(expected), "the notice lacks {expected:?}");
    }
    assert!(
        page.all(".alert--info").is_empty(),
        "the current version is not marked as past"
    );
    // A change the person must be told of makes a new version; the old one stays readable.
    let (_, mut contact_handling) = app.get("/api/v1/purposes/contact_handling").await;
    contact_handling["retention_days"] = json!(730);
    let (status, _) = app
        .put("/api/v1/purposes/contact_handling", contact_handling)
        .await;
    assert_eq!(status, StatusCode::OK);
    let current = open(&app, &app.client, "/f/contact/notice?lang=en").await;
    assert!(current.body_text().contains("2 years") && !current.body_text().contains(&old_version));
    let past = open(
        &app,
        &app.client,
        &format!("/f/contact/notice?lang=en&version={old_version}"),
    )
    .await;
    assert_eq!(past.status, StatusCode::OK);
    assert!(past.body_text().contains("3 years"));
    assert!(past.text(".alert--info").contains("past version"));
    let french = open(
        &app,
        &app.client,
        &format!("/f/contact/notice?lang=fr&version={old_version}"),
    )
    .await;
    assert!(
        french.body_text().contains("3 ans") && french.body_text().contains("intérêt légitime")
    );
    // Versions of other touchpoints and unknown ones are not found here.
    let (_, account) = app.get("/api/v1/touchpoints/account").await;
    let other = open(
        &app,
        &app.client,
        &format!(
            "/f/contact/notice?version={}",
            account["notice_version"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let unknown = open(
        &app,
        &app.client,
        &format!("/f/contact/notice?version=sha256:{}", "0".repeat(64)),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.header("content-type"), "text/html; charset=utf-8");
}

async fn the_white_paper_is_delivered_once_the_form_is_sent(app: TestApp) {
    let thanks = send_form(&app, "whitepaper", "jeanne@example.org", &[]).await;
    let href = thanks.attr(".download a", "href");
    assert!(href.starts_with("/f/whitepaper/download?token="));
    let response = app
        .client
        .get(format!("{}{href}", app.url))
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
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("GDPR IN 10 QUESTIONS")
    );
    // Not without a link from a sent form.
    let forged = app
        .client
        .get(format!("{}/f/whitepaper/download?token=x.y", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    let contact = send_form(&app, "contact", "jeanne@example.org", &[]).await;
    assert!(contact.all(".download").is_empty());
}

async fn a_form_can_be_embedded_by_the_origins_its_touchpoint_allows(app: TestApp) {
    let plain = open(&app, &app.client, "/f/contact").await;
    assert!(
        plain
            .header("content-security-policy")
            .ends_with("frame-ancestors 'self'")
    );
    let (_, mut contact) = app.get("/api/v1/touchpoints/contact").await;
    contact["frame_ancestors"] = json!(["https://www.exemple.fr"]);
    let (status, body) = app.put("/api/v1/touchpoints/contact", contact).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let embedded = open(&app, &app.client, "/f/contact?embed=1&lang=en").await;
    assert_eq!(embedded.status, StatusCode::OK);
    assert!(
        embedded
            .header("content-security-policy")
            .ends_with("frame-ancestors 'self' https://www.exemple.fr")
    );
    assert!(embedded.all(".site-header").is_empty() && embedded.all(".site-footer").is_empty());
    assert_eq!(embedded.attr("form.form", "action"), "/f/contact?embed=1");
    let response = post(
        &app,
        &app.client,
        "/f/contact?embed=1",
        &filled(&embedded, "jeanne@example.org", &["newsletter"]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.ends_with("&embed=1"));
    let thanks = open(&app, &app.client, &location).await;
    assert!(thanks.all(".site-header").is_empty());
    assert!(
        thanks
            .header("content-security-policy")
            .ends_with("frame-ancestors 'self' https://www.exemple.fr")
    );
}

async fn an_unknown_touchpoint_is_a_real_404_page(app: TestApp) {
    for page in [
        open(&app, &app.client, "/f/astrology").await,
        Page::from(
            post(
                &app,
                &app.client,
                "/f/astrology",
                &[("email".into(), "a@example.org".into())],
            )
            .await,
        )
        .await,
        open(&app, &app.client, "/f/astrology/notice").await,
    ] {
        assert_eq!(page.status, StatusCode::NOT_FOUND);
        assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
        assert_eq!(page.attr("html", "lang"), "fr");
        assert!(page.text("h1").contains("Page introuvable"));
    }
    let browser = Page::from(
        app.client
            .get(format!("{}/nowhere", app.url))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(browser.status, StatusCode::NOT_FOUND);
    assert!(!browser.all("h1").is_empty());
    let (status, api) = app.get("/api/v1/nowhere").await;
    assert_eq!(
        (status, api["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("not_found"))
    );
}

async fn nothing_a_visitor_types_is_stored_in_clear(app: TestApp) {
    let form = open(&app, &app.client, "/f/contact?lang=en").await;
    let mut body = filled(
        &form,
        "very.distinctive.person@example.org",
        &["newsletter"],
    );
    for (name, value) in body.iter_mut() {
        if name == "message" {
            *value = "A-very-distinctive-message-text".into();
        }
    }
    assert_eq!(
        post(&app, &app.client, "/f/contact", &body).await.status(),
        StatusCode::SEE_OTHER
    );
    if app.backend == registre_testkit::Backend::Sqlite {
        let bytes = app.data_dir_bytes();
        assert!(!contains(&bytes, b"very.distinctive.person"));
        assert!(!contains(&bytes, b"A-very-distinctive-message-text"));
    }
    let sealed = app
        .app
        .store()
        .submissions_of(
            consents_of(&app, "very.distinctive.person@example.org").await["subject_id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(sealed.len(), 1);
    assert!(!contains(&sealed[0].fields_sealed, b"distinctive"));
}

/// A CRM's subscription to consent changes: without one, no webhook message is queued.
async fn subscribe_to_consents(app: &TestApp) {
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/crm", "events": ["consent.granted", "consent.withdrawn"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
