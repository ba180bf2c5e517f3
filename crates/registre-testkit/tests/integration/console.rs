//! The admin console under attack: sign-in without its token, guessed passwords, a session
//! cookie from another server, forged CSRF tokens, an agent posting a DPO's form by hand, and
//! markup typed into a purpose's title. Each is refused or escaped, on both stores.
use registre_app::Principal;
use registre_domain::role::Role;
use registre_testkit::{Backend, TestApp, hidden_input, link_in, spawn_app, store_tests};
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

store_tests!(
    signing_in_needs_the_sign_in_forms_own_token,
    five_wrong_passwords_lock_the_account_and_the_audit_log_says_so,
    wrong_passwords_from_others_never_lock_the_real_user_out,
    a_session_cookie_from_another_server_opens_nothing,
    a_forged_csrf_token_changes_nothing,
    an_agent_posting_a_dpo_form_by_hand_is_refused_and_nothing_changes,
    markup_in_a_purpose_title_is_shown_as_text_on_every_page,
    signing_out_ends_the_session_on_the_server,
    lang_in_the_address_shows_a_console_page_in_that_language_without_changing_the_users_choice,
    a_dpo_fixes_a_missing_dpa_from_the_console_and_the_finding_goes,
    the_vendors_answers_are_read_before_they_are_accepted_or_sent_back_with_a_comment,
    a_breach_is_edited_with_the_date_it_happened_and_the_authority_text_says_it,
    the_audit_log_names_people_and_events_in_words_and_filters_by_actor_register_and_date,
    an_admin_changes_roles_disables_users_and_mails_reset_links_but_never_removes_the_last_admin,
    the_request_list_says_who_what_and_when_and_filters_by_status_and_deadline,
);

const PASSWORD: &str = "a long console password";

/// A client that keeps no cookies and follows no redirects: the test says what it sends.
fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn user(app: &TestApp, email: &str, role: Role) {
    app.app
        .create_user(&Principal::cli(), email, role, Some(PASSWORD))
        .await
        .unwrap();
}

/// `name=value` of a `Set-Cookie` header naming `name`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// The sign-in page's cookie and token.
async fn sign_in_form(app: &TestApp) -> (String, String) {
    let response = bare_client()
        .get(format!("{}/console/sign-in", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookie(&response, "registre_console_sign_in").expect("a sign-in cookie");
    let html = response.text().await.unwrap();
    (cookie, hidden_input(&html, "csrf_token"))
}

async fn post_sign_in(
    app: &TestApp,
    cookie: Option<&str>,
    token: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let mut request = bare_client()
        .post(format!("{}/console/sign-in", app.url))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", token),
            ("lang", "en"),
        ]);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.send().await.unwrap()
}

/// Signs in and returns the session cookie (`registre_console=...`).
async fn signed_in(app: &TestApp, email: &str) -> String {
    let (cookie, token) = sign_in_form(app).await;
    let response = post_sign_in(app, Some(&cookie), &token, email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[LOCATION], "/console/dashboard");
    set_cookie(&response, "registre_console").expect("a session cookie")
}

async fn page(app: &TestApp, session: &str, path: &str) -> (StatusCode, String) {
    let response = bare_client()
        .get(format!("{}{}", app.url, path))
        .header(COOKIE, session)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post_form(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = bare_client()
        .post(format!("{}{}", app.url, path))
        .header(COOKIE, session)
        .form(fields)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The newsletter purpose form, filled in by someone who should not change it.
fn hijacked_purpose(csrf_token: &str) -> [(&str, &str); 6] {
    [
        ("csrf_token", csrf_token),
        ("title_fr", "Piégé"),
        ("title_en", "Hijacked"),
        ("description_fr", "x"),
        ("description_en", "x"),
        ("retention_days", "1"),
    ]
}

fn is_sign_in_redirect(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::SEE_OTHER && response.headers()[LOCATION] == "/console/sign-in"
}

async fn signing_in_needs_the_sign_in_forms_own_token(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let (cookie, token) = sign_in_form(&app).await;
    // Login CSRF: another site posts the form with the right password but no cookie, or a
    // token that is not the one this cookie was given.
    let no_cookie = post_sign_in(&app, None, &token, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(no_cookie.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&no_cookie, "registre_console").is_none());
    let (_, other_token) = sign_in_form(&app).await;
    let mixed = post_sign_in(
        &app,
        Some(&cookie),
        &other_token,
        "dpo@exemple.fr",
        PASSWORD,
    )
    .await;
    assert_eq!(mixed.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&mixed, "registre_console").is_none());
    let forged = post_sign_in(&app, Some(&cookie), "forged", "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    // With both, the same password opens a session, in a cookie the page's scripts cannot
    // read and other sites cannot send.
    let good = post_sign_in(&app, Some(&cookie), &token, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(good.status(), StatusCode::SEE_OTHER);
    let header = good
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("registre_console="))
        .unwrap()
        .to_string();
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Strict"), "{header}");
    // Sent to `/` too, so that the privacy hub offers the console to a signed-in user.
    assert!(header.contains("Path=/;"), "{header}");
}

async fn five_wrong_passwords_lock_the_account_and_the_audit_log_says_so(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    for attempt in 1..=4 {
        let (cookie, token) = sign_in_form(&app).await;
        let response = post_sign_in(
            &app,
            Some(&cookie),
            &token,
            "dpo@exemple.fr",
            "not the password at all",
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        let html = response.text().await.unwrap();
        // The address typed is given back, escaped; the password never is.
        assert!(html.contains("dpo@exemple.fr"));
        assert!(!html.contains("not the password at all"));
    }
    let (cookie, token) = sign_in_form(&app).await;
    let fifth = post_sign_in(&app, Some(&cookie), &token, "dpo@exemple.fr", "wrong again").await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    // Locked: the right password does not open it either, and says why.
    let (cookie, token) = sign_in_form(&app).await;
    let right = post_sign_in(&app, Some(&cookie), &token, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&right, "registre_console").is_none());
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("locked for 15 more min")
    );
    // Another account is not locked by this one's failures.
    user(&app, "agent@exemple.fr", Role::Agent).await;
    signed_in(&app, "agent@exemple.fr").await;
    // Unknown addresses get the same answer as wrong passwords and leave no audit entry.
    let (cookie, token) = sign_in_form(&app).await;
    let unknown = post_sign_in(&app, Some(&cookie), &token, "nobody@exemple.fr", PASSWORD).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let actions: Vec<String> = log["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{log}"))
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "user.sign_in_failed")
            .count(),
        4,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "user.locked_out").count(),
        1,
        "{actions:?}"
    );
    let text = log.to_string();
    assert!(!text.contains("nobody@exemple.fr"));
    assert!(!text.contains("wrong again"));
    // Fifteen minutes later the account opens again.
    app.clock.advance(chrono::Duration::minutes(16));
    signed_in(&app, "dpo@exemple.fr").await;
}

async fn a_session_cookie_from_another_server_opens_nothing(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let theirs = spawn_app(Backend::Sqlite).await.unwrap();
    user(&theirs, "dpo@exemple.fr", Role::Dpo).await;
    let foreign = signed_in(&theirs, "dpo@exemple.fr").await;
    let (status, _) = page(&theirs, &foreign, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK, "the cookie works where it was made");
    for path in ["/console/dashboard", "/console/purposes", "/console/users"] {
        let response = bare_client()
            .get(format!("{}{}", app.url, path))
            .header(COOKIE, &foreign)
            .send()
            .await
            .unwrap();
        assert!(
            is_sign_in_redirect(&response),
            "{path}: {:?}",
            response.status()
        );
    }
    // Nor does a cookie whose signature was kept but whose token was changed, or garbage.
    let own = signed_in(&app, "dpo@exemple.fr").await;
    let (name_token, mac) = own.split_once('.').unwrap();
    for cookie in [
        format!("{name_token}x.{mac}"),
        format!("{name_token}.{}", "0".repeat(mac.len())),
        "registre_console=".to_string(),
        format!("registre_console={}", "a".repeat(10_000)),
        "registre_console=%00%ff.'\"<>".to_string(),
    ] {
        let response = bare_client()
            .get(format!("{}/console/dashboard", app.url))
            .header(COOKIE, cookie.as_str())
            .send()
            .await
            .unwrap();
        assert!(
            is_sign_in_redirect(&response) || response.status() == StatusCode::BAD_REQUEST,
            "{cookie:.60}: {:?}",
            response.status()
        );
    }
}

async fn a_forged_csrf_token_changes_nothing(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(&app, "dpo@exemple.fr").await;
    let (status, html) = page(&app, &session, "/console/purposes/newsletter").await;
    assert_eq!(status, StatusCode::OK);
    let token = hidden_input(&html, "csrf_token");
    // Another user's token, a made-up one and none at all are all refused.
    user(&app, "other@exemple.fr", Role::Dpo).await;
    let other = signed_in(&app, "other@exemple.fr").await;
    let (_, other_html) = page(&app, &other, "/console/purposes/newsletter").await;
    let other_token = hidden_input(&other_html, "csrf_token");
    assert_ne!(token, other_token);
    let (_, before) = app.get("/api/v1/purposes/newsletter").await;
    for forged in [other_token.as_str(), "forged", ""] {
        let (status, body) = post_form(
            &app,
            &session,
            "/console/purposes/newsletter",
            &hijacked_purpose(forged),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{forged}: {body:.200}");
    }
    let (_, after) = app.get("/api/v1/purposes/newsletter").await;
    assert_eq!(before, after);
    // The real token on the same form works, so the refusals above were the token's doing.
    let (status, _) = post_form(
        &app,
        &session,
        "/console/purposes/newsletter",
        &[
            ("csrf_token", token.as_str()),
            ("title_fr", "Lettre d'information"),
            ("title_en", "Newsletter"),
            ("description_fr", "Nos nouvelles, une fois par mois."),
            ("description_en", "Our news, once a month."),
            ("retention_days", "730"),
        ],
    )
    .await;
    assert!(status.is_redirection() || status.is_success(), "{status}");
    let (_, saved) = app.get("/api/v1/purposes/newsletter").await;
    assert_eq!(saved["retention_days"], 730);
}

async fn an_agent_posting_a_dpo_form_by_hand_is_refused_and_nothing_changes(app: TestApp) {
    user(&app, "agent@exemple.fr", Role::Agent).await;
    let session = signed_in(&app, "agent@exemple.fr").await;
    // The agent's own token is valid: only the role stops them.
    let (status, html) = page(&app, &session, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let token = hidden_input(&html, "csrf_token");
    let (_, before) = app.get("/api/v1/purposes/newsletter").await;
    let (status, body) = post_form(
        &app,
        &session,
        "/console/purposes/newsletter",
        &hijacked_purpose(&token),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body:.300}");
    let (_, after) = app.get("/api/v1/purposes/newsletter").await;
    assert_eq!(before, after);
    // Publishing a touchpoint and the admin's pages are refused the same way.
    let (_, touchpoint) = app.get("/api/v1/touchpoints/newsletter").await;
    let (status, _) = post_form(
        &app,
        &session,
        "/console/touchpoints/newsletter/publish",
        &[("csrf_token", token.as_str())],
    )
    .await;
    assert!(
        status == StatusCode::FORBIDDEN || status == StatusCode::UNPROCESSABLE_ENTITY,
        "{status}"
    );
    let (status, _) = page(&app, &session, "/console/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, &session, "/console/api-keys").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, touchpoint_after) = app.get("/api/v1/touchpoints/newsletter").await;
    assert_eq!(
        touchpoint["notice_version"],
        touchpoint_after["notice_version"]
    );
}

async fn markup_in_a_purpose_title_is_shown_as_text_on_every_page(app: TestApp) {
    let payload = "<script>alert('x')</script><img src=x onerror=alert(1)>";
    let (status, body) = app
        .post(
            "/api/v1/purposes",
            json!({"key": "contests", "legal_basis": "consent", "legitimate_interest": null,
                "retention_days": 365, "data_categories": ["contact"], "recipients": [payload],
                "transfers": [], "title": {"fr": payload, "en": payload},
                "description": {"fr": payload, "en": payload}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(&app, "dpo@exemple.fr").await;
    for path in [
        "/console/dashboard",
        "/console/purposes",
        "/console/purposes/contests",
        "/console/consents",
        "/console/ropa",
    ] {
        let (status, html) = page(&app, &session, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !html.contains("<script>alert"),
            "{path} carries the raw script"
        );
        assert!(!html.contains("<img src=x"), "{path} carries the raw image");
    }
    let (_, html) = page(&app, &session, "/console/purposes/contests").await;
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
        "the title is shown, escaped"
    );
}

async fn signing_out_ends_the_session_on_the_server(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(&app, "dpo@exemple.fr").await;
    let (_, html) = page(&app, &session, "/console/dashboard").await;
    let token = hidden_input(&html, "csrf_token");
    // Signing out needs the token too: another site cannot sign the user out.
    let (status, _) = post_form(&app, &session, "/console/sign-out", &[("csrf_token", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = page(&app, &session, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post_form(
        &app,
        &session,
        "/console/sign-out",
        &[("csrf_token", token.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // The same cookie, replayed after sign-out, opens nothing.
    let response = bare_client()
        .get(format!("{}/console/dashboard", app.url))
        .header(COOKIE, &session)
        .send()
        .await
        .unwrap();
    assert!(is_sign_in_redirect(&response));
}

/// A DPO signed in, and the CSRF token of their session.
async fn dpo_session(app: &TestApp) -> (String, String) {
    user(app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(app, "dpo@exemple.fr").await;
    let (_, html) = page(app, &session, "/console/dashboard").await;
    let token = hidden_input(&html, "csrf_token");
    (session, token)
}

/// The `Location` a console form redirects to.
async fn post_redirect(
    app: &TestApp,
    session: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> String {
    let response = bare_client()
        .post(format!("{}{}", app.url, path))
        .header(COOKIE, session)
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    match location {
        Some(location) if status == StatusCode::SEE_OTHER => location,
        _ => panic!("{path}: {status} {}", response.text().await.unwrap()),
    }
}

async fn a_dpo_fixes_a_missing_dpa_from_the_console_and_the_finding_goes(app: TestApp) {
    let (session, token) = dpo_session(&app).await;
    // The add form offers the register's purposes and data categories as boxes to tick,
    // and services and safeguards in words.
    let (status, html) = page(&app, &session, "/console/processors").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(r#"name="purposes" value="newsletter""#),
        "{html}"
    );
    assert!(html.contains(r#"name="data_categories" value="contact""#));
    assert!(html.contains("Gestion de la relation client"));
    assert!(html.contains("Clauses contractuelles types (art. 46)"));
    let location = post_redirect(
        &app,
        &session,
        "/console/processors",
        &[
            ("csrf_token", token.as_str()),
            ("name", "Mailjet"),
            ("service", "emailing"),
            ("role", "processor"),
            ("country", "fr"),
            ("transfer_mechanism", ""),
            ("dpa_signed_on", ""),
            ("purposes", "newsletter"),
            ("data_categories", "contact"),
            ("subprocessors", ""),
        ],
    )
    .await;
    let id = location
        .trim_start_matches("/console/processors/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(entry["purposes"], json!(["newsletter"]), "{entry}");
    assert_eq!(entry["data_categories"], json!(["contact"]));
    let codes = |entry: &serde_json::Value| -> Vec<String> {
        entry["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(codes(&entry).contains(&"no_dpa".to_string()), "{entry}");
    let (_, html) = page(&app, &session, &format!("/console/processors/{id}")).await;
    assert!(
        html.contains("Envoi d&#39;e-mails") || html.contains("Envoi d'e-mails"),
        "the service in words"
    );
    assert!(!html.contains("<code>no_dpa</code>"), "no raw finding code");
    // The edit page is the same form, filled in.
    let (status, html) = page(&app, &session, &format!("/console/processors/{id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"value="Mailjet""#));
    assert!(html.contains(r#"name="purposes" value="newsletter" checked"#));
    let location = post_redirect(
        &app,
        &session,
        &format!("/console/processors/{id}/edit"),
        &[
            ("csrf_token", token.as_str()),
            ("name", "Mailjet"),
            ("service", "emailing"),
            ("role", "processor"),
            ("country", "FR"),
            ("transfer_mechanism", ""),
            ("dpa_signed_on", "2025-01-15"),
            ("dpa_reference", "Mailjet DPA v3, signé en ligne"),
            ("contact_email", "privacy@mailjet.example"),
            ("purposes", "newsletter"),
            ("data_categories", "contact"),
            ("subprocessors", ""),
        ],
    )
    .await;
    assert_eq!(location, format!("/console/processors/{id}?done=saved"));
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(entry["dpa_signed_on"], "2025-01-15");
    assert_eq!(entry["dpa_reference"], "Mailjet DPA v3, signé en ligne");
    assert_eq!(entry["contact_email"], "privacy@mailjet.example");
    assert!(!codes(&entry).contains(&"no_dpa".to_string()), "{entry}");
    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    assert!(log.to_string().contains("processor.updated"));
    // An agent cannot open the edit form nor post it.
    user(&app, "agent@exemple.fr", Role::Agent).await;
    let agent = signed_in(&app, "agent@exemple.fr").await;
    let (status, _) = page(&app, &agent, &format!("/console/processors/{id}/edit")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, html) = page(&app, &agent, "/console/dashboard").await;
    let agent_token = hidden_input(&html, "csrf_token");
    let (status, _) = post_form(
        &app,
        &agent,
        &format!("/console/processors/{id}/edit"),
        &[
            ("csrf_token", agent_token.as_str()),
            ("name", "Hijacked"),
            ("service", "emailing"),
            ("country", "FR"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, after) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(after["name"], "Mailjet");
}

fn vendor_answers(token: &str, dpo_name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("token", token.to_string()),
        ("lang", "fr".into()),
        ("dpo_appointed", "yes".into()),
        ("dpo_name", dpo_name.into()),
        ("dpo_email", "dpo@mailjet.example".into()),
        ("mapping_complete", "yes".into()),
        ("third_parties_shares", "no".into()),
        ("measures", "encryption_at_rest".into()),
        ("incident_procedure", "yes".into()),
        ("breach_notification_hours", "24".into()),
        ("tests_performed", "no".into()),
    ]
}

async fn vendor_submits(app: &TestApp, fields: &[(&str, String)]) {
    let response = app
        .client
        .post(format!("{}/vendor/questionnaire", app.url))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        response.text().await.unwrap()
    );
}

async fn the_vendors_answers_are_read_before_they_are_accepted_or_sent_back_with_a_comment(
    app: TestApp,
) {
    let (status, entry) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Mailjet", "service": "emailing", "country": "FR",
                "dpa_signed_on": "2024-01-10", "contact_email": "privacy@mailjet.example",
                "purposes": ["newsletter"], "data_categories": ["contact"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    let id = entry["id"].as_str().unwrap().to_string();
    let (session, token) = dpo_session(&app).await;
    // "Send the questionnaire" mails the vendor's contact and still shows the link.
    let (status, html) = post_form(
        &app,
        &session,
        &format!("/console/processors/{id}/questionnaire-link"),
        &[("csrf_token", token.as_str()), ("language", "fr")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("privacy@mailjet.example"), "{html}");
    let mails = app.mails_to("privacy@mailjet.example");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].subject.contains("Mailjet"), "{}", mails[0].subject);
    assert!(mails[0].body.contains("questionnaire de conformité"));
    assert!(
        mails[0].body.contains("compliance questionnaire"),
        "the other language below"
    );
    let link = link_in(&mails[0].body, "/vendor/questionnaire?token=").expect("a link");
    assert!(html.contains(&link), "the page offers the same link");
    let vendor_token = link.split("token=").nth(1).unwrap().to_string();
    vendor_submits(&app, &vendor_answers(&vendor_token, "Sophie Bernard")).await;
    // The DPO reads the answers, and what accepting them would give, before deciding.
    let (_, html) = page(&app, &session, &format!("/console/processors/{id}")).await;
    assert!(
        html.contains("Sophie Bernard"),
        "the draft's answers are shown"
    );
    assert!(html.contains("/return-draft"));
    // Sent back with a comment: nothing is accepted, the vendor gets the comment and a new
    // link that opens on their answers.
    let comment = "Merci de préciser vos tests de sécurité.";
    let (status, html) = post_form(
        &app,
        &session,
        &format!("/console/processors/{id}/return-draft"),
        &[("csrf_token", token.as_str()), ("comment", comment)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, _) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert!(entry["assessment"].is_null(), "{entry}");
    let mails = app.mails_to("privacy@mailjet.example");
    assert_eq!(mails.len(), 2);
    assert!(mails[1].body.contains(comment), "{}", mails[1].body);
    let second = link_in(&mails[1].body, "/vendor/questionnaire?token=").unwrap();
    assert_ne!(second, link);
    let vendor_page = app.client.get(&second).send().await.unwrap();
    let vendor_html = vendor_page.text().await.unwrap();
    assert!(
        vendor_html.contains(comment),
        "the vendor sees what to correct"
    );
    assert!(
        vendor_html.contains("Sophie Bernard"),
        "on their own answers"
    );
    let second_token = second.split("token=").nth(1).unwrap().to_string();
    vendor_submits(
        &app,
        &vendor_answers(&second_token, "Sophie Bernard-Martin"),
    )
    .await;
    let (_, html) = page(&app, &session, &format!("/console/processors/{id}")).await;
    assert!(html.contains("Sophie Bernard-Martin"));
    let location = post_redirect(
        &app,
        &session,
        &format!("/console/processors/{id}/accept-draft"),
        &[("csrf_token", token.as_str())],
    )
    .await;
    assert!(location.ends_with("done=accepted"));
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(entry["assessment"]["dpo"]["name"], "Sophie Bernard-Martin");
    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let log = log.to_string();
    assert!(log.contains("processor.assessment_draft_returned"));
    assert!(
        !log.contains(comment),
        "the comment stays out of the audit log"
    );
    assert!(!log.contains("privacy@mailjet.example"));
}

async fn a_breach_is_edited_with_the_date_it_happened_and_the_authority_text_says_it(app: TestApp) {
    let (session, token) = dpo_session(&app).await;
    // Times are typed in the DPO's zone; UTC here keeps the arithmetic plain.
    post_redirect(
        &app,
        &session,
        "/console/preferences",
        &[
            ("csrf_token", token.as_str()),
            ("language", "fr"),
            ("time_zone", "UTC"),
        ],
    )
    .await;
    let (status, html) = page(&app, &session, "/console/breaches/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"name="occurred_at""#));
    let now = app.app.now();
    let aware = (now - chrono::Duration::hours(5))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let location = post_redirect(
        &app,
        &session,
        "/console/breaches",
        &[
            ("csrf_token", token.as_str()),
            ("aware_at", aware.as_str()),
            ("occurred_at", ""),
            ("description", "Un ordinateur portable volé"),
            ("data_categories", "contact"),
            ("subjects_affected", "120"),
            ("records_affected", "120"),
            ("likely_consequences", "Hameçonnage"),
            ("measures", "Mots de passe changés"),
            ("risk", "risk"),
            ("processor", ""),
        ],
    )
    .await;
    let id = location
        .trim_start_matches("/console/breaches/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (_, breach) = app.get(&format!("/api/v1/breaches/{id}")).await;
    assert!(breach["occurred_at"].is_null(), "{breach}");
    let (_, html) = page(&app, &session, &format!("/console/breaches/{id}")).await;
    assert!(html.contains("Date de la violation : inconnue"), "{html}");
    // The investigation finds when it happened: the DPO edits the breach.
    let (status, html) = page(&app, &session, &format!("/console/breaches/{id}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Un ordinateur portable volé"),
        "the form is filled in"
    );
    let occurred = now - chrono::Duration::days(2);
    let occurred_local = occurred.format("%Y-%m-%dT%H:%M").to_string();
    let location = post_redirect(
        &app,
        &session,
        &format!("/console/breaches/{id}/edit"),
        &[
            ("csrf_token", token.as_str()),
            ("aware_at", aware.as_str()),
            ("occurred_at", occurred_local.as_str()),
            ("description", "Un ordinateur portable volé dans un train"),
            ("nature", "confidentiality"),
            ("data_categories", "contact"),
            ("subjects_affected", "150"),
            ("records_affected", "150"),
            ("likely_consequences", "Hameçonnage"),
            ("measures", "Mots de passe changés"),
            ("risk", "risk"),
            ("processor", ""),
        ],
    )
    .await;
    assert_eq!(location, format!("/console/breaches/{id}?done=saved"));
    let (_, breach) = app.get(&format!("/api/v1/breaches/{id}")).await;
    let saved: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(breach["occurred_at"].clone()).unwrap();
    assert_eq!(
        saved.format("%Y-%m-%dT%H:%M").to_string(),
        occurred_local,
        "read in the DPO's time zone"
    );
    assert_eq!(breach["subjects_affected"], 150);
    assert_eq!(breach["nature"], json!(["confidentiality"]));
    let (_, html) = page(&app, &session, &format!("/console/breaches/{id}")).await;
    assert!(!html.contains("Date de la violation : inconnue"), "{html}");
    assert!(html.contains("Date de la violation : "));
    assert!(html.contains("Un ordinateur portable volé dans un train"));
}

async fn the_audit_log_names_people_and_events_in_words_and_filters_by_actor_register_and_date(
    app: TestApp,
) {
    let (session, _) = dpo_session(&app).await;
    let (status, entry) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Mailjet", "service": "emailing", "country": "FR",
                "purposes": ["newsletter"], "data_categories": ["contact"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    let (status, html) = page(&app, &session, "/console/audit-log").await;
    assert_eq!(status, StatusCode::OK);
    // Who by email or key name, what in words, details as text.
    assert!(html.contains("<td>dpo@exemple.fr</td>"), "{html}");
    assert!(
        html.contains("Clé d&#39;API «") || html.contains("Clé d'API «"),
        "{html}"
    );
    assert!(html.contains("Sous-traitant ajouté"));
    assert!(html.contains("Connexion"));
    assert!(!html.contains("processor.created"), "no raw action code");
    assert!(!html.contains("user.signed_in"));
    assert!(
        !html.contains("{&quot;") && !html.contains("{\""),
        "no JSON"
    );
    assert!(
        !html.contains(">user:") && !html.contains(">api_key:"),
        "actors by name"
    );
    // By register.
    let (_, html) = page(&app, &session, "/console/audit-log?register=processor").await;
    assert!(html.contains("Sous-traitant ajouté"));
    assert!(!html.contains("<strong>Connexion</strong>"), "{html}");
    // By actor: the DPO's own entries only.
    let marker = "<option value=\"user:";
    let start = html.find(marker).expect("users offered as actors") + "<option value=\"".len();
    let actor = html[start..].split('"').next().unwrap().to_string();
    let (_, html) = page(&app, &session, &format!("/console/audit-log?actor={actor}")).await;
    assert!(html.contains("<strong>Connexion</strong>"));
    assert!(!html.contains("<strong>Sous-traitant ajouté</strong>"));
    // By date: nothing happened before yesterday; the empty table says so.
    let yesterday = (app.app.now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let (_, html) = page(
        &app,
        &session,
        &format!(
            "/console/audit-log?to={}",
            (app.app.now() - chrono::Duration::days(3)).format("%Y-%m-%d")
        ),
    )
    .await;
    assert!(
        html.contains("Aucune entrée ne correspond à ces critères."),
        "{html}"
    );
    let (_, html) = page(
        &app,
        &session,
        &format!("/console/audit-log?from={yesterday}"),
    )
    .await;
    assert!(html.contains("Sous-traitant ajouté"));
}

async fn user_id(app: &TestApp, email: &str) -> uuid::Uuid {
    app.app
        .users(&Principal::cli())
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.email == email)
        .unwrap()
        .id
}

async fn an_admin_changes_roles_disables_users_and_mails_reset_links_but_never_removes_the_last_admin(
    app: TestApp,
) {
    user(&app, "admin@exemple.fr", Role::Admin).await;
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let admin = signed_in(&app, "admin@exemple.fr").await;
    let (status, html) = page(&app, &admin, "/console/users").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("dpo@exemple.fr") && html.contains("Actif"));
    let token = hidden_input(&html, "csrf_token");
    let dpo_id = user_id(&app, "dpo@exemple.fr").await;
    let admin_id = user_id(&app, "admin@exemple.fr").await;
    let dpo_session = signed_in(&app, "dpo@exemple.fr").await;

    // A role changed ends the user's sessions: the next sign-in carries the new role.
    let location = post_redirect(
        &app,
        &admin,
        &format!("/console/users/{dpo_id}/role"),
        &[("csrf_token", token.as_str()), ("role", "agent")],
    )
    .await;
    assert_eq!(location, "/console/users?done=role_changed");
    let users = app.app.users(&Principal::cli()).await.unwrap();
    let dpo = users.iter().find(|u| u.id == dpo_id).unwrap();
    assert_eq!(dpo.role, Role::Agent);
    let response = bare_client()
        .get(format!("{}/console/dashboard", app.url))
        .header(COOKIE, &dpo_session)
        .send()
        .await
        .unwrap();
    assert!(is_sign_in_redirect(&response));
    // Now an agent, they cannot administer anyone.
    let agent = signed_in(&app, "dpo@exemple.fr").await;
    let (_, html) = page(&app, &agent, "/console/dashboard").await;
    let agent_token = hidden_input(&html, "csrf_token");
    let (status, _) = post_form(
        &app,
        &agent,
        &format!("/console/users/{admin_id}/disable"),
        &[("csrf_token", agent_token.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The only administrator can neither demote nor disable themself.
    for (path, fields) in [
        (
            format!("/console/users/{admin_id}/role"),
            vec![("csrf_token", token.as_str()), ("role", "dpo")],
        ),
        (
            format!("/console/users/{admin_id}/disable"),
            vec![("csrf_token", token.as_str())],
        ),
    ] {
        let (status, html) = post_form(&app, &admin, &path, &fields).await;
        assert_eq!(status, StatusCode::CONFLICT, "{path}");
        assert!(html.contains("au moins un administrateur actif"), "{html}");
    }
    let users = app.app.users(&Principal::cli()).await.unwrap();
    let me = users.iter().find(|u| u.id == admin_id).unwrap();
    assert_eq!(me.role, Role::Admin);
    assert!(me.disabled_at.is_none());

    // Disabled: the session ends and the right password opens nothing; enabled again, it does.
    post_redirect(
        &app,
        &admin,
        &format!("/console/users/{dpo_id}/disable"),
        &[("csrf_token", token.as_str())],
    )
    .await;
    let response = bare_client()
        .get(format!("{}/console/dashboard", app.url))
        .header(COOKIE, &agent)
        .send()
        .await
        .unwrap();
    assert!(is_sign_in_redirect(&response));
    let (cookie, form_token) = sign_in_form(&app).await;
    let refused = post_sign_in(&app, Some(&cookie), &form_token, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let (_, html) = page(&app, &admin, "/console/users").await;
    assert!(html.contains("Désactivé"));
    post_redirect(
        &app,
        &admin,
        &format!("/console/users/{dpo_id}/enable"),
        &[("csrf_token", token.as_str())],
    )
    .await;
    signed_in(&app, "dpo@exemple.fr").await;

    // A reset link is mailed; it sets a new password once, and the old one stops working.
    let location = post_redirect(
        &app,
        &admin,
        &format!("/console/users/{dpo_id}/reset-password"),
        &[("csrf_token", token.as_str())],
    )
    .await;
    assert_eq!(location, "/console/users?done=reset_sent");
    let mails = app.mails_to("dpo@exemple.fr");
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains("nouveau mot de passe"));
    assert!(
        !mails[0].body.contains("new password"),
        "in the user's language only"
    );
    let link = link_in(&mails[0].body, "/console/reset-password?token=").expect("a link");
    let response = bare_client().get(&link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("dpo@exemple.fr"));
    let reset_token = hidden_input(&html, "token");
    let post_reset = |password: &'static str, confirm: &'static str| {
        let url = format!("{}/console/reset-password", app.url);
        let reset_token = reset_token.clone();
        async move {
            bare_client()
                .post(url)
                .form(&[
                    ("token", reset_token.as_str()),
                    ("password", password),
                    ("confirm", confirm),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let differ = post_reset("a brand new password", "another one entirely").await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = post_reset("a brand new password", "a brand new password").await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        done.text()
            .await
            .unwrap()
            .contains("Mot de passe enregistré")
    );
    let again = post_reset("yet another password", "yet another password").await;
    assert_eq!(
        again.status(),
        StatusCode::BAD_REQUEST,
        "the link works once"
    );
    let (cookie, form_token) = sign_in_form(&app).await;
    let old = post_sign_in(&app, Some(&cookie), &form_token, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let (cookie, form_token) = sign_in_form(&app).await;
    let new = post_sign_in(
        &app,
        Some(&cookie),
        &form_token,
        "dpo@exemple.fr",
        "a brand new password",
    )
    .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);

    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let log = log.to_string();
    for action in [
        "user.role_changed",
        "user.disabled",
        "user.enabled",
        "user.password_reset_sent",
        "user.password_reset",
    ] {
        assert!(log.contains(action), "{action}");
    }
    assert!(!log.contains("a brand new password"));
}

async fn the_request_list_says_who_what_and_when_and_filters_by_status_and_deadline(app: TestApp) {
    let (status, alice) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": "alice@exemple.fr", "identity_verified": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{alice}");
    let alice_id = alice["id"].as_str().unwrap().to_string();
    app.clock.advance(chrono::Duration::days(26));
    let (status, bob) = app
        .post(
            "/api/v1/requests",
            json!({"type": "erasure", "email": "bob@exemple.fr", "identity_verified": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    let (session, _) = dpo_session(&app).await;
    let (status, html) = page(&app, &session, "/console/requests").await;
    assert_eq!(status, StatusCode::OK);
    // Who, what, the status and the deadline in words; no raw codes.
    assert!(
        html.contains("alice@exemple.fr") && html.contains("bob@exemple.fr"),
        "{html}"
    );
    assert!(html.contains("Accès (art. 15)") && html.contains("Effacement (art. 17)"));
    assert!(html.contains("Saisie par l&#39;équipe") || html.contains("Saisie par l'équipe"));
    let months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    assert!(
        months.iter().any(|m| html.contains(&format!(" {m} 20"))),
        "a date in words"
    );
    assert!(!html.contains("<td>api</td>"));
    // Due within 7 days: Alice only; overdue ten days later: still only Alice.
    let (_, soon) = page(&app, &session, "/console/requests?due=soon").await;
    assert!(
        soon.contains("alice@exemple.fr") && !soon.contains("bob@exemple.fr"),
        "{soon}"
    );
    let (_, overdue) = page(&app, &session, "/console/requests?due=overdue").await;
    assert!(
        overdue.contains("Aucune demande ne correspond"),
        "{overdue}"
    );
    // By status: Bob's identity is not checked yet.
    let (_, received) = page(&app, &session, "/console/requests?status=received").await;
    assert!(received.contains("bob@exemple.fr") && !received.contains("alice@exemple.fr"));
    // The new request is on the dashboard.
    let (_, dashboard) = page(&app, &session, "/console/dashboard").await;
    assert!(
        dashboard.contains("Nouvelles demandes à prendre en charge"),
        "{dashboard}"
    );
    assert!(dashboard.contains(&format!(
        "/console/requests/{}",
        bob["id"].as_str().unwrap()
    )));
    // The request page shows the mails the person was sent.
    let (_, request) = page(&app, &session, &format!("/console/requests/{alice_id}")).await;
    assert!(request.contains("E-mails envoyés à la personne"));
    assert!(
        request.contains("nous avons bien reçu votre demande"),
        "{request}"
    );
    let mails = app.mails_to("alice@exemple.fr");
    assert_eq!(mails.len(), 1, "the page shows the one mail that went out");
    app.clock.advance(chrono::Duration::days(10));
    let session = signed_in(&app, "dpo@exemple.fr").await;
    let (_, overdue) = page(&app, &session, "/console/requests?due=overdue").await;
    assert!(overdue.contains("alice@exemple.fr") && !overdue.contains("bob@exemple.fr"));
}

/// A client whose connections come from `address` (any 127.x.y.z reaches the server).
fn client_from(address: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(std::net::IpAddr::from(address))
        .build()
        .unwrap()
}

/// A sign-in posted from `client`, with its own sign-in form.
async fn sign_in_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = client
        .get(format!("{}/console/sign-in", app.url))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie(&form, "registre_console_sign_in").expect("a sign-in cookie");
    let token = hidden_input(&form.text().await.unwrap(), "csrf_token");
    client
        .post(format!("{}/console/sign-in", app.url))
        .header(COOKIE, cookie)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", token.as_str()),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap()
}

async fn wrong_passwords_from_others_never_lock_the_real_user_out(app: TestApp) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    // Someone at one address tries passwords until that address is locked out of the account.
    let attacker = client_from([127, 0, 0, 2]);
    for attempt in 1..=4 {
        let response = sign_in_from(&app, &attacker, "dpo@exemple.fr", "guess number one").await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    let fifth = sign_in_from(&app, &attacker, "dpo@exemple.fr", "guess number five").await;
    assert_eq!(fifth.status(), StatusCode::TOO_MANY_REQUESTS);
    let right = sign_in_from(&app, &attacker, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(
        right.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked for that address"
    );

    // The real user, from their own address, signs in with their password.
    let own = client_from([127, 0, 0, 3]);
    let response = sign_in_from(&app, &own, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response, "registre_console").is_some());

    // Many addresses together lock the account everywhere ...
    for address in 4..=7u8 {
        let client = client_from([127, 0, 0, address]);
        for _ in 0..5 {
            let response = sign_in_from(&app, &client, "dpo@exemple.fr", "a wrong guess").await;
            assert_ne!(response.status(), StatusCode::SEE_OTHER);
        }
    }
    // ... and the right password from yet another address then mails an unlock link instead
    // of opening the session; a wrong one is simply refused.
    let fresh = client_from([127, 0, 0, 8]);
    let wrong = sign_in_from(&app, &fresh, "dpo@exemple.fr", "still a wrong guess").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = sign_in_from(&app, &fresh, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(right.status(), StatusCode::ACCEPTED);
    assert!(set_cookie(&right, "registre_console").is_none());
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("link that opens the session")
    );
    let mails = app.mails_to("dpo@exemple.fr");
    assert_eq!(mails.len(), 1, "one unlock mail");
    assert!(
        mails[0].body.contains("suivez ce lien") && !mails[0].body.contains("follow this link"),
        "in the user's language only: {}",
        mails[0].body
    );
    let link = registre_testkit::link_in(&mails[0].body, "/console/unlock?token=")
        .expect("an unlock link");
    assert!(!mails[0].body.contains(PASSWORD));

    // The link opens the session, once.
    let opened = fresh.get(&link).send().await.unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(opened.headers()[LOCATION], "/console/dashboard");
    let session = set_cookie(&opened, "registre_console").expect("a session cookie");
    let (status, _) = page(&app, &session, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    let again = fresh.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(set_cookie(&again, "registre_console").is_none());
    // The account is open again, from anywhere but the address still locked out.
    let later = client_from([127, 0, 0, 9]);
    let response = sign_in_from(&app, &later, "dpo@exemple.fr", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    // Every step is in the audit log, with a tag of the address, never a password.
    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let entries = log["items"].as_array().unwrap_or_else(|| panic!("{log}"));
    let count = |action: &str| entries.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("user.unlock_link_sent"), 1, "{log}");
    assert_eq!(count("user.unlocked"), 1, "{log}");
    assert!(count("user.locked_out") >= 2, "{log}");
    assert!(count("user.sign_in_failed") >= 20, "{log}");
    let failed = entries
        .iter()
        .find(|e| e["action"] == "user.sign_in_failed")
        .unwrap();
    assert!(failed.to_string().contains("client"), "{failed}");
    let text = log.to_string();
    for secret in ["guess number", "a wrong guess", PASSWORD, "127.0.0."] {
        assert!(!text.contains(secret), "{secret} in the audit log");
    }
}

/// #15 item 4: `?lang=` works in the console too, for the page asked; the user's own
/// language stays their choice.
async fn lang_in_the_address_shows_a_console_page_in_that_language_without_changing_the_users_choice(
    app: TestApp,
) {
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(&app, "dpo@exemple.fr").await;
    let (status, french) = page(&app, &session, "/console/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(french.contains("<html lang=\"fr\""), "the user's language");
    let (status, english) = page(&app, &session, "/console/dashboard?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        english.contains("<html lang=\"en\""),
        "asked in the address"
    );
    assert!(
        english.contains("Times shown:"),
        "in words of that language"
    );
    let (_, again) = page(&app, &session, "/console/requests").await;
    assert!(
        again.contains("<html lang=\"fr\""),
        "the user's choice is kept"
    );
}

/// #15 item 3: a fresh installation's registers say they are empty, in a sentence that says
/// what to do; never an empty table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_register_says_so_in_a_sentence_not_an_empty_table() {
    let app = registre_testkit::spawn_app_with(Backend::Sqlite, false)
        .await
        .expect("server");
    user(&app, "dpo@exemple.fr", Role::Dpo).await;
    let session = signed_in(&app, "dpo@exemple.fr").await;
    for (path, sentence) in [
        ("/console/purposes", "Aucune finalité n'est déclarée"),
        ("/console/touchpoints", "Aucun formulaire n'est publié"),
        ("/console/ropa", "Le registre est vide"),
    ] {
        let (status, html) = page(&app, &session, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        let text = html.replace("&#39;", "'");
        assert!(text.contains(sentence), "{path}: {html}");
        assert!(
            !html.contains("<tbody>\n</tbody>") && !html.contains("<tbody></tbody>"),
            "{path}"
        );
    }
}
