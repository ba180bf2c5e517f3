//! The organisation's face on its public pages: its colour, as a stylesheet of its own (the
//! pages keep `style-src 'self'`), with text that stays readable on it.
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::json;

store_tests!(
    an_organisation_colours_its_public_pages_and_the_text_on_it_stays_readable,
    a_brand_colour_that_is_not_one_is_refused,
    every_public_page_family_loads_the_one_design_system,
);

async fn organisation_with(
    app: &TestApp,
    extra: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let (_, mut organisation) = app.get("/api/v1/organisation").await;
    for (key, value) in extra.as_object().unwrap() {
        organisation[key] = value.clone();
    }
    organisation.as_object_mut().unwrap().remove("updated_at");
    app.put("/api/v1/organisation", organisation).await
}

async fn brand_css(app: &TestApp) -> String {
    let response = app
        .client
        .get(format!("{}/static/brand.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    response.text().await.unwrap()
}

async fn an_organisation_colours_its_public_pages_and_the_text_on_it_stays_readable(app: TestApp) {
    // Without a colour, the sheet sets nothing: the defaults stand.
    assert!(!brand_css(&app).await.contains("--brand:"));
    // A light yellow: dark text on it, and links in a darker shade of it.
    let (status, saved) = organisation_with(&app, json!({"brand_color": "#FFD400"})).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["brand_color"], "#ffd400");
    let (_, read) = app.get("/api/v1/organisation").await;
    assert_eq!(read["brand_color"], "#ffd400");
    let css = brand_css(&app).await;
    assert!(css.contains("--brand: #ffd400;"), "{css}");
    assert!(css.contains("--on-brand: #000000;"), "{css}");
    let accent = css
        .split("--accent: ")
        .nth(1)
        .and_then(|rest| rest.get(..7))
        .unwrap();
    let accent = registre_domain::organisation::Rgb::parse(accent).unwrap();
    assert!(
        accent.contrast(registre_domain::organisation::Rgb::WHITE) >= 4.5,
        "links in {} on white",
        accent.hex()
    );
    // A dark blue: white text on it.
    organisation_with(&app, json!({"brand_color": "#0b2a6f"})).await;
    let css = brand_css(&app).await;
    assert!(css.contains("--brand: #0b2a6f;"), "{css}");
    assert!(css.contains("--on-brand: #ffffff;"), "{css}");
    // Emptied, the colour is gone again.
    let (status, saved) = organisation_with(&app, json!({"brand_color": ""})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        saved.get("brand_color").is_none_or(|c| c.is_null()),
        "{saved}"
    );
    assert!(!brand_css(&app).await.contains("--brand:"));
}

async fn a_brand_colour_that_is_not_one_is_refused(app: TestApp) {
    for extra in [
        json!({"brand_color": "red"}),
        json!({"brand_color": "#12345"}),
        json!({"brand_color": "#123456; } body { display: none"}),
    ] {
        let (status, body) = organisation_with(&app, extra.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}: {body}");
        assert!(body["error"]["code"].is_string(), "{body}");
    }
}

async fn every_public_page_family_loads_the_one_design_system(app: TestApp) {
    for path in [
        "/f/contact?lang=fr",
        "/f/contact/notice?lang=en",
        "/privacy?lang=fr",
        "/console/sign-in",
    ] {
        let page = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(r#"<link rel="stylesheet" href="/static/registre.css">"#),
            "{path} does not load the design system"
        );
        if !path.starts_with("/console") {
            assert!(
                page.contains(r#"href="/static/brand.css""#),
                "{path} does not carry the organisation's colour"
            );
        }
    }
    for sheet in [
        "/static/registre.css",
        "/static/forms.css",
        "/privacy/portal.css",
        "/console/console.css",
    ] {
        let (status, _) = app.get(sheet).await;
        assert_eq!(status, StatusCode::OK, "{sheet}");
    }
}
