//! Who may do what: 401 without a key, 403 without the role, always as JSON.
use registre_domain::Role;
use registre_testkit::{TestApp, store_tests};
use reqwest::{Method, StatusCode};
use serde_json::json;

store_tests!(
    without_a_key_the_api_answers_401_in_json,
    the_auditor_reads_everything_and_writes_nothing,
    an_agent_records_consents_but_cannot_change_purposes,
    a_revoked_key_stops_working,
    health_and_openapi_need_no_key,
);

async fn without_a_key_the_api_answers_401_in_json(app: TestApp) {
    let (status, body) = app
        .request(Method::GET, "/api/v1/purposes", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = app
        .request(
            Method::GET,
            "/api/v1/purposes",
            None,
            Some("rk_not_a_real_key"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn the_auditor_reads_everything_and_writes_nothing(app: TestApp) {
    let auditor = app.key(Role::Auditor).await;
    for path in [
        "/api/v1/organisation",
        "/api/v1/purposes",
        "/api/v1/touchpoints",
        "/api/v1/audit-log",
        "/api/v1/ledger/verify",
    ] {
        let (status, _) = app.request(Method::GET, path, None, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (_, org) = app.get("/api/v1/organisation").await;
    let (status, body) = app
        .request(
            Method::PUT,
            "/api/v1/organisation",
            Some(org),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden");
    let consent =
        json!({"subject": {"email": "a@example.org"}, "purpose": "newsletter", "action": "grant"});
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/consents",
            Some(consent),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/api-keys",
            Some(json!({"name": "x", "role": "admin"})),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn an_agent_records_consents_but_cannot_change_purposes(app: TestApp) {
    let agent = app.key(Role::Agent).await;
    let consent = json!({"subject": {"email": "a@example.org"}, "purpose": "newsletter", "action": "grant", "source": "api"});
    let (status, _) = app
        .request(
            Method::POST,
            "/api/v1/consents",
            Some(consent),
            Some(&agent),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, purpose) = app.get("/api/v1/purposes/newsletter").await;
    let (status, _) = app
        .request(
            Method::PUT,
            "/api/v1/purposes/newsletter",
            Some(purpose),
            Some(&agent),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let dpo = app.key(Role::Dpo).await;
    let (status, _) = app
        .request(Method::GET, "/api/v1/api-keys", None, Some(&dpo))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only admins manage keys");
}

async fn a_revoked_key_stops_working(app: TestApp) {
    let (status, created) = app
        .post("/api/v1/api-keys", json!({"name": "crm", "role": "agent"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let key = created["key"].as_str().unwrap().to_string();
    let (status, _) = app
        .request(Method::GET, "/api/v1/purposes", None, Some(&key))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get("/api/v1/api-keys").await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k.get("key").is_none()),
        "keys are shown once"
    );
    let (status, _) = app
        .delete(&format!(
            "/api/v1/api-keys/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .request(Method::GET, "/api/v1/purposes", None, Some(&key))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn health_and_openapi_need_no_key(app: TestApp) {
    let (status, health) = app.request(Method::GET, "/healthz", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let (status, doc) = app
        .request(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/organisation",
        "/api/v1/purposes",
        "/api/v1/purposes/{key}",
        "/api/v1/touchpoints",
        "/api/v1/touchpoints/{key}",
        "/api/v1/consents",
        "/api/v1/consents/check",
        "/api/v1/ledger/verify",
        "/healthz",
        "/readyz",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}
