//! The admin console under attack: sign-in without its token, guessed passwords, a session
//! cookie from another server, forged CSRF tokens, an agent posting a DPO's form by hand, and
//! markup typed into a purpose's title. Each is refused or escaped, on both stores.
use registre_app::Principal;
use registre_domain::role::Role;
use registre_testkit::{Backend, TestApp, hidden_input, spawn_app, store_tests};
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
    assert!(header.contains("Path=/console"), "{header}");
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
        mails[0].body.contains("suivez ce lien") && mails[0].body.contains("follow this link"),
        "both languages: {}",
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
