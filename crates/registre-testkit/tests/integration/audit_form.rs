//! The form auditor over the API.
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;

store_tests!(
    a_page_with_a_prechecked_newsletter_box_gets_an_error_finding,
    a_private_url_is_refused_and_garbage_is_a_clear_error
);

async fn a_page_with_a_prechecked_newsletter_box_gets_an_error_finding(app: TestApp) {
    let page = r#"<html lang="en"><body><form action="https://shop.example/subscribe" method="post">
        <label>Email <input type="email" name="email" required></label>
        <label><input type="checkbox" name="newsletter" checked> Send me the newsletter</label>
        <button>Subscribe</button></form></body></html>"#;
    let response = app
        .client
        .post(format!("{}/api/v1/audit/form", app.url))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/html")
        .body(page)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: serde_json::Value = response.json().await.unwrap();
    let findings = report["forms"][0]["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "prechecked-consent" && f["level"] == "error"),
        "{report}"
    );
    assert!(report["summary"]["errors"].as_u64().unwrap() >= 1);
    assert_eq!(
        report["forms"][0]["action"],
        "https://shop.example/subscribe"
    );
}

async fn a_private_url_is_refused_and_garbage_is_a_clear_error(app: TestApp) {
    let (status, error) = app
        .post(
            "/api/v1/audit/form",
            serde_json::json!({"url": format!("{}/healthz", app.url)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    assert!(error["error"]["code"].is_string());
    let response = app
        .client
        .post(format!("{}/api/v1/audit/form", app.url))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/html")
        .body(vec![0u8, 159, 146, 150, 1, 2])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .request(reqwest::Method::POST, "/api/v1/audit/form", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
