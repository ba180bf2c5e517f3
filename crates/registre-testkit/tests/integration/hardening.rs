//! HTTP hardening as a browser and an integration see it: the security headers of every
//! surface, the API's rate limits, and refusals in the contract's error shape.
use registre_domain::Role;
use registre_testkit::{Backend, TestApp, spawn_app_with_options, store_tests};
use registre_web::{ApiLimits, HttpOptions, Transport};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

store_tests!(
    every_surface_answers_with_security_headers_and_no_inline_allowance,
    a_form_framed_by_another_site_drops_the_deny_header_for_its_own_list,
    framework_refusals_speak_the_json_error_shape,
    answers_that_carry_personal_data_are_kept_by_no_cache,
);

async fn headers_of(app: &TestApp, path: &str, key: Option<&str>) -> (StatusCode, HeaderMap) {
    let mut request = app.client.get(format!("{}{path}", app.url));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// What every answer must carry, whatever else it says.
fn assert_hardened(path: &str, headers: &HeaderMap) {
    let policy = header(headers, "content-security-policy");
    assert!(policy.contains("default-src 'none'"), "{path}: {policy}");
    assert!(policy.contains("frame-ancestors"), "{path}: {policy}");
    assert!(
        !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
        "{path}: {policy}"
    );
    assert_eq!(
        header(headers, "x-content-type-options"),
        "nosniff",
        "{path}"
    );
    assert!(
        ["no-referrer", "strict-origin-when-cross-origin"]
            .contains(&header(headers, "referrer-policy")),
        "{path}"
    );
    // Served over plain http here: no HSTS (it would pin browsers to an https that is not there).
    assert!(headers.get("strict-transport-security").is_none(), "{path}");
}

async fn every_surface_answers_with_security_headers_and_no_inline_allowance(app: TestApp) {
    let key = app.admin_key.clone();
    let surfaces: [(&str, Option<&str>, &str, &str); 12] = [
        // path, key, frame-ancestors, X-Frame-Options
        ("/api/v1/purposes", Some(&key), "'none'", "DENY"),
        ("/api/v1/purposes", None, "'none'", "DENY"),
        (
            "/api/v1/ropa?format=html",
            Some(&key),
            "'self'",
            "SAMEORIGIN",
        ),
        ("/api/openapi.json", None, "'none'", "DENY"),
        ("/healthz", None, "'none'", "DENY"),
        ("/console/sign-in", None, "'none'", "DENY"),
        ("/console/console.css", None, "'none'", "DENY"),
        ("/privacy", None, "'none'", "DENY"),
        ("/privacy/portal.css", None, "'none'", "DENY"),
        ("/f/contact", None, "'self'", "SAMEORIGIN"),
        ("/static/registre.css", None, "'self'", "SAMEORIGIN"),
        ("/no/such/page", None, "'none'", "DENY"),
    ];
    for (path, key, ancestors, frame_options) in surfaces {
        let (status, headers) = headers_of(&app, path, key).await;
        assert!(
            status != StatusCode::INTERNAL_SERVER_ERROR,
            "{path}: {status}"
        );
        assert_hardened(path, &headers);
        let policy = header(&headers, "content-security-policy");
        assert!(
            policy.ends_with(&format!("frame-ancestors {ancestors}"))
                || policy.contains(&format!("frame-ancestors {ancestors};")),
            "{path}: {policy}"
        );
        assert_eq!(header(&headers, "x-frame-options"), frame_options, "{path}");
    }
    // Links with tokens (sign-in, confirmation) never leak through Referer.
    for path in ["/privacy", "/console/sign-in", "/f/contact"] {
        let (_, headers) = headers_of(&app, path, None).await;
        assert_eq!(header(&headers, "referrer-policy"), "no-referrer", "{path}");
    }
    // The printable record keeps its styles without 'unsafe-inline': by their hash.
    let (_, headers) = headers_of(&app, "/api/v1/ropa?format=html", Some(&key)).await;
    assert!(header(&headers, "content-security-policy").contains("style-src 'sha256-"));
}

async fn a_form_framed_by_another_site_drops_the_deny_header_for_its_own_list(app: TestApp) {
    let (_, mut contact) = app.get("/api/v1/touchpoints/contact").await;
    contact["frame_ancestors"] = json!(["https://www.exemple.fr"]);
    let (status, body) = app.put("/api/v1/touchpoints/contact", contact).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, headers) = headers_of(&app, "/f/contact?embed=1", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_hardened("/f/contact?embed=1", &headers);
    assert!(
        header(&headers, "content-security-policy")
            .ends_with("frame-ancestors 'self' https://www.exemple.fr")
    );
    // X-Frame-Options cannot name an origin: it would forbid what the policy allows.
    assert!(headers.get("x-frame-options").is_none());
    // Another touchpoint is still framed by no one else.
    let (_, headers) = headers_of(&app, "/f/newsletter", None).await;
    assert_eq!(header(&headers, "x-frame-options"), "SAMEORIGIN");
}

async fn answers_that_carry_personal_data_are_kept_by_no_cache(app: TestApp) {
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter",
                   "action": "grant", "source": "api"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, request) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": "jeanne@example.org"}),
        )
        .await;
    assert!(status.is_success(), "{status} {request}");
    let request = format!("/api/v1/requests/{}", request["id"].as_str().unwrap());
    let key = app.admin_key.clone();
    for path in [
        "/api/v1/subjects/export?email=jeanne%40example.org",
        "/api/v1/subjects/consents?email=jeanne%40example.org",
        "/api/v1/consents/check?email=jeanne%40example.org&purpose=newsletter",
        "/api/v1/requests",
        request.as_str(),
        "/api/v1/audit-log",
        "/privacy",
        "/console/sign-in",
    ] {
        let (status, headers) = headers_of(&app, path, Some(&key)).await;
        assert!(status.is_success(), "{path}: {status}");
        assert_eq!(header(&headers, "cache-control"), "no-store", "{path}");
    }
    // What holds nobody's data keeps its own caching.
    let (_, headers) = headers_of(&app, "/console/console.css", None).await;
    assert_eq!(header(&headers, "cache-control"), "public, max-age=3600");
}

async fn framework_refusals_speak_the_json_error_shape(app: TestApp) {
    // A method the route does not have: 405 in the JSON shape, with its Allow header.
    let response = app
        .client
        .delete(format!("{}/api/v1/organisation", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().get("allow").is_some());
    assert_hardened("DELETE /api/v1/organisation", response.headers());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    assert!(body["error"]["message"].is_string());
    // A page to audit over the limit (read as text, not JSON): 413 in the JSON shape.
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/audit/form", app.url))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/html")
        .body("<p>x</p>".repeat(12 * 128 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large", "{body}");
}

fn limited(api: ApiLimits) -> Option<HttpOptions> {
    Some(HttpOptions {
        api,
        ..HttpOptions::default()
    })
}

async fn assert_rate_limited(response: reqwest::Response) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = header(response.headers(), "retry-after").parse().unwrap();
    assert!(retry_after >= 1);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_over_its_budget_gets_429_and_other_keys_go_on() {
    let api = ApiLimits {
        per_key_per_second: 1,
        ..ApiLimits::default()
    };
    let app = spawn_app_with_options(Backend::Sqlite, true, limited(api))
        .await
        .unwrap();
    let other = app.key(Role::Auditor).await;
    let (status, _) = app.get("/api/v1/purposes").await;
    assert_eq!(status, StatusCode::OK);
    // One a second: the next one, right after, is over budget.
    let response = app
        .client
        .get(format!("{}/api/v1/purposes", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_rate_limited(response).await;
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/purposes", None, Some(&other))
        .await;
    assert_eq!(status, StatusCode::OK, "each key has its own budget");
    // Made-up keys are refused as such, not counted against a real key.
    let (status, body) = app
        .request(reqwest::Method::GET, "/api/v1/purposes", None, Some("nope"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_over_its_budget_gets_429_on_the_api_only() {
    let api = ApiLimits {
        per_address_per_second: 1,
        ..ApiLimits::default()
    };
    let app = spawn_app_with_options(Backend::Sqlite, true, limited(api))
        .await
        .unwrap();
    let (status, _) = app.get("/api/v1/purposes").await;
    assert_eq!(status, StatusCode::OK);
    let response = app
        .client
        .get(format!("{}/api/v1/organisation", app.url))
        .send()
        .await
        .unwrap();
    assert_rate_limited(response).await;
    // The health check and the public pages have limits of their own.
    let (status, _) = app
        .request(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = app
        .client
        .get(format!("{}/f/contact", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_every_answer_pins_browsers_to_it() {
    let options = HttpOptions {
        transport: Transport { https: true },
        ..HttpOptions::default()
    };
    let app = spawn_app_with_options(Backend::Sqlite, true, Some(options))
        .await
        .unwrap();
    for path in [
        "/healthz",
        "/api/v1/purposes",
        "/f/contact",
        "/privacy",
        "/console/sign-in",
    ] {
        let (_, headers) = headers_of(&app, path, Some(&app.admin_key)).await;
        assert_eq!(
            header(&headers, "strict-transport-security"),
            "max-age=31536000",
            "{path}"
        );
    }
}
