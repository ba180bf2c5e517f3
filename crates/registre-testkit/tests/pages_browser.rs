//! Every page family of the demo in a real browser (headless Debian Chromium over WebDriver),
//! at desktop (1280 px) and phone (390 px) width: a screenshot of each under
//! `target/screenshots/pages/` (or `$REGISTRE_SCREENSHOTS_DIR/pages/`), nothing wider than the
//! screen, and axe-core finding no violation of impact serious or critical. The hub, the forms,
//! a notice, a thanks page, the portal signed out and signed in, the console's sign-in, every
//! page of its navigation and one page of each register, the vendor questionnaire and the error
//! pages.
//!
//! And every link of every page of the demo answers, for a visitor and for a signed-in DPO.
//!
//! Skipped, with a notice, when Chromium is absent, unless `REGISTRE_REQUIRE_BROWSER=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fantoccini::{Client, Locator};
use registre_app::{NewRequest, Principal};
use registre_domain::Role;
use registre_testkit::browser::{Browser, PageCheck, click, text_of, type_into};
use registre_testkit::{Backend, TestApp, hidden_input, link_in, spawn_app};
use serde_json::json;
use std::collections::{BTreeSet, VecDeque};

const TOUCHPOINTS: [&str; 5] = ["newsletter", "account", "whitepaper", "contact", "support"];
const DPO: &str = "claire@exemple.fr";
const PASSWORD: &str = "a long console password";
const PERSON: &str = "jeanne.dupont@example.org";

/// What the demo holds besides its catalogue: a console user, a person with a consent, a
/// request and a breach, so that each register has a page to show.
async fn seed(app: &TestApp) {
    app.app
        .create_user(&Principal::cli(), DPO, Role::Admin, Some(PASSWORD))
        .await
        .unwrap();
    let (status, body) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": PERSON}, "purpose": "newsletter", "action": "grant", "source": "api"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    app.app
        .create_request(
            &Principal::cli(),
            NewRequest {
                request_type: "access".into(),
                email: PERSON.into(),
                details: Some("Merci de m'envoyer une copie de mes données.".into()),
                identity_verified: false,
                identity_verification: None,
                language: Some("fr".into()),
                received_at: None,
                marketing: None,
            },
            "api",
        )
        .await
        .unwrap();
    let (status, body) = app
        .post(
            "/api/v1/breaches",
            json!({"aware_at": app.app.now().to_rfc3339(), "description": "Un ordinateur portable a été volé.",
                   "data_categories": ["contact"], "subjects_affected": 120, "records_affected": 300,
                   "likely_consequences": "Hameçonnage", "measures": "Mots de passe changés", "risk": "risk"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
}

/// Whether `path` answers 200 with a page (the hub `/` exists only once it is built).
async fn is_a_page(app: &TestApp, path: &str) -> bool {
    let response = app
        .client
        .get(format!("{}{path}", app.url))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    response.status() == 200
        && response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}

async fn go(client: &Client, app: &TestApp, path: &str) {
    client.goto(&format!("{}{path}", app.url)).await.unwrap();
}

/// The `href`s of the elements `css` names, as paths of this server.
async fn hrefs(client: &Client, css: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for link in client.find_all(Locator::Css(css)).await.unwrap() {
        if let Some(href) = link.attr("href").await.unwrap()
            && href.starts_with('/')
        {
            paths.push(href);
        }
    }
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_family_reads_on_a_desktop_and_a_phone_with_no_serious_accessibility_issue() {
    let Some(browser) = Browser::start("fr-FR").await else {
        return;
    };
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    seed(&app).await;
    browser
        .run(|client| walk_every_page_family(app, client))
        .await;
}

async fn walk_every_page_family(app: TestApp, client: Client) {
    let mut check = PageCheck::new("pages");

    // The public side.
    if is_a_page(&app, "/").await {
        go(&client, &app, "/?lang=fr").await;
        check.page(&client, "hub-fr").await;
        go(&client, &app, "/?lang=en").await;
        check.page(&client, "hub-en").await;
    }
    for key in TOUCHPOINTS {
        for lang in ["fr", "en"] {
            go(&client, &app, &format!("/f/{key}?lang={lang}")).await;
            check.page(&client, &format!("form-{key}-{lang}")).await;
        }
    }
    go(&client, &app, "/f/contact?embed=1&lang=fr").await;
    check.page(&client, "form-contact-embed-fr").await;
    go(&client, &app, "/f/contact/notice?lang=fr").await;
    check.page(&client, "notice-contact-fr").await;
    go(&client, &app, "/f/contact/notice?lang=en").await;
    check.page(&client, "notice-contact-en").await;
    // A form sent with a mistake, then right: the errors, then the thanks page.
    go(&client, &app, "/f/contact?lang=fr").await;
    type_into(&client, "#field-email", "pas-une-adresse").await;
    click(&client, "form.form button[type=submit]").await;
    text_of(&client, "#error-summary").await;
    check.page(&client, "form-contact-errors-fr").await;
    let email = client.find(Locator::Css("#field-email")).await.unwrap();
    email.clear().await.unwrap();
    email.send_keys("visiteur@example.org").await.unwrap();
    for field in client
        .find_all(Locator::Css(
            "form.form input[required]:not([type=email]), form.form textarea[required]",
        ))
        .await
        .unwrap()
    {
        field.clear().await.unwrap();
        field.send_keys("Jeanne Dupont").await.unwrap();
    }
    click(&client, "form.form button[type=submit]").await;
    text_of(&client, ".success-mark").await;
    check.page(&client, "thanks-contact-fr").await;
    // The person's receipt of the seeded consent, in both languages.
    let (_, consents) = app
        .post("/api/v1/subjects/consents", json!({"email": PERSON}))
        .await;
    let event_id = consents["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["history"].as_array().cloned().unwrap_or_default())
        .find_map(|e| e["event_id"].as_str().map(str::to_string))
        .expect("the seeded consent event");
    let receipt_path = format!("/r/{}", app.app.receipt_token(event_id.parse().unwrap()));
    for lang in ["fr", "en"] {
        go(&client, &app, &format!("{receipt_path}?lang={lang}")).await;
        check.page(&client, &format!("receipt-{lang}")).await;
    }
    // The whole privacy policy.
    for lang in ["fr", "en"] {
        go(&client, &app, &format!("/policy?lang={lang}")).await;
        check.page(&client, &format!("policy-{lang}")).await;
    }
    // The error page of an unknown form or path.
    go(&client, &app, "/f/no-such-form?lang=fr").await;
    check.page(&client, "error-unknown-form-fr").await;
    go(&client, &app, "/no/such/page").await;
    check.page(&client, "error-not-found").await;

    // The portal, signed out, then signed in from the mailed link.
    for lang in ["fr", "en"] {
        go(&client, &app, &format!("/privacy?lang={lang}")).await;
        check.page(&client, &format!("portal-sign-in-{lang}")).await;
    }
    type_into(&client, "#email", PERSON).await;
    click(&client, "form button[type=submit]").await;
    check.page(&client, "portal-link-sent-en").await;
    let mails = app.mails_to(PERSON);
    let mail = mails.last().expect("a sign-in mail");
    let link = link_in(&mail.body, "/privacy/sign-in?token=").expect("a sign-in link");
    client.goto(&link).await.unwrap();
    check.page(&client, "portal-confirm-en").await;
    click(&client, "form[action='/privacy/sign-in/confirm'] button").await;
    text_of(&client, "#consents-title").await;
    check.page(&client, "portal-overview-en").await;
    go(&client, &app, "/privacy?lang=fr").await;
    check.page(&client, "portal-overview-fr").await;

    // The console: sign-in, every page of the navigation, one page of each register.
    go(&client, &app, "/console/sign-in?lang=fr").await;
    check.page(&client, "console-sign-in-fr").await;
    type_into(&client, "#email", DPO).await;
    type_into(&client, "#password", PASSWORD).await;
    click(&client, "form button[type=submit]").await;
    assert!(
        client
            .current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/console/dashboard"),
        "signed in to the console"
    );
    let navigation = hrefs(&client, "nav.side a[href^='/console/']").await;
    assert!(navigation.len() >= 10, "{navigation:?}");
    let mut details = Vec::new();
    for path in &navigation {
        go(&client, &app, path).await;
        let name = path.trim_start_matches("/console/").replace('/', "-");
        check.page(&client, &format!("console-{name}")).await;
        // The first entry of the register, when the page lists some.
        if let Some(first) = hrefs(&client, "main table tbody a[href^='/console/']")
            .await
            .into_iter()
            .find(|href| !href.contains('?') && href.trim_start_matches(path).starts_with('/'))
        {
            details.push((name, first));
        }
    }
    for (name, path) in details {
        go(&client, &app, &path).await;
        check.page(&client, &format!("console-{name}-entry")).await;
    }
    go(&client, &app, "/console/breaches/new").await;
    check.page(&client, "console-breaches-new").await;
    go(&client, &app, "/console/ropa/print").await;
    check.page(&client, "console-ropa-print").await;
    go(
        &client,
        &app,
        "/console/requests/00000000-0000-0000-0000-000000000000",
    )
    .await;
    check.page(&client, "console-error").await;
    go(&client, &app, "/console/dashboard?lang=en").await;
    check.page(&client, "console-dashboard-en").await;

    // The vendor's questionnaire.
    let (_, processors) = app.get("/api/v1/processors").await;
    let id = processors["items"][0]["id"].as_str().unwrap().to_string();
    let (_, link) = app
        .post(
            &format!("/api/v1/processors/{id}/questionnaire-link"),
            json!({"language": "fr"}),
        )
        .await;
    client.goto(link["url"].as_str().unwrap()).await.unwrap();
    check.page(&client, "vendor-questionnaire-fr").await;

    check.assert_clean();
}

/// What a reader should never see in a page's or a mail's text (#15 item 4): codes in
/// snake_case (`legitimate_interest`, `cnil_online_form`, `email_link`), a CLI flag, a
/// recital quoted by number, a full SHA-256. Text inside `code`, `pre`, `kbd`, `samp` (keys
/// and references shown as such), and addresses and links, are left alone.
fn raw_codes(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .split(|c: char| c.is_whitespace() || ",;()«»“”\"'!?[]{}|·—–".contains(c))
        .map(|w| w.trim_end_matches([':', '.']))
        .filter(|w| !w.contains('@') && !w.contains('/') && !w.contains('.'))
        .filter(|w| {
            let parts: Vec<&str> = w.split('_').collect();
            parts.len() > 1
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        })
        .map(str::to_string)
        .collect();
    for phrase in ["--allow-private", "Recital 32", "considérant 32"] {
        if text.contains(phrase) {
            found.push(phrase.to_string());
        }
    }
    if let Some(at) = text.find("sha256:")
        && text[at + 7..]
            .chars()
            .take(64)
            .filter(char::is_ascii_hexdigit)
            .count()
            == 64
    {
        found.push("a full sha256: hash".into());
    }
    found
}

/// The text a reader sees on a page, without what is shown as code.
fn visible_text(document: &scraper::Html) -> String {
    let mut text = String::new();
    for node in document.root_element().descendants() {
        let Some(piece) = node.value().as_text() else {
            continue;
        };
        let hidden = node.ancestors().any(|a| {
            a.value().as_element().is_some_and(|e| {
                matches!(
                    e.name(),
                    "code" | "pre" | "kbd" | "samp" | "script" | "style" | "head" | "textarea"
                )
            })
        });
        if !hidden {
            text.push_str(piece);
            text.push(' ');
        }
    }
    text
}

/// Every same-origin link of every page reachable from `start`, followed breadth first with
/// `client` (and its cookies); answers how many pages were visited, the links that did not
/// answer 200 (with the page that holds them), and the raw codes each page shows.
async fn broken_links(
    app: &TestApp,
    client: &reqwest::Client,
    start: &[String],
) -> (usize, Vec<String>, Vec<String>) {
    let mut seen: BTreeSet<String> = start.iter().cloned().collect();
    let mut queue: VecDeque<(String, String)> = start
        .iter()
        .map(|p| (p.clone(), "(start)".into()))
        .collect();
    let mut broken = Vec::new();
    let mut raw = Vec::new();
    let mut visited = 0;
    while let Some((path, from)) = queue.pop_front() {
        assert!(visited < 2000, "the crawl does not end: {seen:?}");
        visited += 1;
        let response = client
            .get(format!("{}{path}", app.url))
            .header("accept", "text/html")
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status.is_redirection() {
            if let Some(location) = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .and_then(|l| local_path(&app.url, "/", l))
                && seen.insert(location.clone())
            {
                queue.push_back((location, path.clone()));
            }
            continue;
        }
        if status != 200 {
            broken.push(format!("{status} {path} (linked from {from})"));
            continue;
        }
        let is_html = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
        if !is_html {
            continue;
        }
        let html = response.text().await.unwrap();
        let document = scraper::Html::parse_document(&html);
        for code in raw_codes(&visible_text(&document)) {
            raw.push(format!("{path}: {code}"));
        }
        let links = scraper::Selector::parse("a[href], link[href]").unwrap();
        for element in document.select(&links) {
            let Some(href) = element.value().attr("href") else {
                continue;
            };
            if let Some(target) = local_path(&app.url, &path, href)
                && seen.insert(target.clone())
            {
                queue.push_back((target, path.clone()));
            }
        }
    }
    raw.sort();
    raw.dedup();
    (visited, broken, raw)
}

/// `href` as a path of the server at `base`, seen from the page `page`; `None` for another
/// site, a mail address, a fragment alone.
fn local_path(base: &str, page: &str, href: &str) -> Option<String> {
    let href = href.split('#').next().unwrap_or_default();
    if href.is_empty() {
        return None;
    }
    let path = if let Some(rest) = href.strip_prefix(base) {
        if rest.is_empty() { "/" } else { rest }.to_string()
    } else if href.starts_with('/') && !href.starts_with("//") {
        href.to_string()
    } else if href.contains(':') || href.starts_with("//") {
        return None;
    } else if href.starts_with('?') {
        format!("{}{href}", page.split('?').next().unwrap_or(page))
    } else {
        let dir = page.split('?').next().unwrap_or(page);
        let dir = &dir[..dir.rfind('/').map_or(0, |i| i + 1)];
        format!("{dir}{href}")
    };
    Some(path.replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_of_the_demo_answers_for_a_visitor_and_for_a_signed_in_dpo() {
    let app = spawn_app(Backend::Sqlite).await.expect("server");
    seed(&app).await;
    let mut start: Vec<String> = vec![
        "/".into(),
        "/privacy?lang=fr".into(),
        "/privacy?lang=en".into(),
    ];
    for key in TOUCHPOINTS {
        for lang in ["fr", "en"] {
            start.push(format!("/f/{key}?lang={lang}"));
        }
    }
    // The hub answers only once it is built; the crawl starts from the forms either way.
    if !is_a_page(&app, "/").await {
        start.remove(0);
    }
    let visitor = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let (visited, broken, raw) = broken_links(&app, &visitor, &start).await;
    assert!(visited > 20, "the visitor's crawl reached {visited} pages");
    assert!(broken.is_empty(), "as a visitor:\n{}", broken.join("\n"));
    let mut raw_everywhere = raw;

    // The DPO signs in to the console, then everything it links is followed.
    let dpo = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let sign_in = dpo
        .get(format!("{}/console/sign-in", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden_input(&sign_in, "csrf_token");
    let signed_in = dpo
        .post(format!("{}/console/sign-in", app.url))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", DPO),
            ("password", PASSWORD),
            ("lang", "fr"),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        signed_in.status().is_redirection(),
        "signed in: {}",
        signed_in.status()
    );
    let (visited, broken, raw) =
        broken_links(&app, &dpo, &["/console/dashboard".to_string()]).await;
    assert!(visited > 20, "the DPO's crawl reached {visited} pages");
    assert!(broken.is_empty(), "as the DPO:\n{}", broken.join("\n"));
    raw_everywhere.extend(raw);
    // Every mail the demo sent on the way, text and HTML.
    for mail in app.decoded_mails() {
        let document = scraper::Html::parse_document(&mail.body);
        for code in raw_codes(&visible_text(&document)) {
            raw_everywhere.push(format!("mail “{}”: {code}", mail.subject));
        }
    }
    raw_everywhere.sort();
    raw_everywhere.dedup();
    assert!(
        raw_everywhere.is_empty(),
        "codes shown to a reader:\n{}",
        raw_everywhere.join("\n")
    );
}
