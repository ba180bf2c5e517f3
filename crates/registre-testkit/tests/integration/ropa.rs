//! The record of processing activities (Art. 30): JSON, CSV read back by a CSV parser, and
//! the print-ready page.
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::json;

store_tests!(
    the_record_has_one_activity_per_purpose_under_the_controller_and_dpo,
    the_csv_record_reads_back_with_a_csv_parser,
    the_print_ready_record_is_an_html_page_in_french_or_english,
    the_record_follows_the_registers_without_being_typed_twice,
);

async fn raw(app: &TestApp, path: &str) -> (StatusCode, String, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn the_record_has_one_activity_per_purpose_under_the_controller_and_dpo(app: TestApp) {
    let (status, ropa) = app.get("/api/v1/ropa").await;
    assert_eq!(status, StatusCode::OK, "{ropa}");
    assert_eq!(ropa["controller"]["name"], "Exemple SAS");
    assert_eq!(ropa["controller"]["dpo_email"], "dpo@exemple.fr");
    assert!(ropa["generated_at"].is_string());
    let (_, purposes) = app.get("/api/v1/purposes").await;
    let activities = ropa["activities"].as_array().unwrap();
    assert_eq!(
        activities.len(),
        purposes["items"].as_array().unwrap().len()
    );
    let contact = activities
        .iter()
        .find(|a| a["purpose"] == "contact_handling")
        .unwrap();
    assert_eq!(contact["legal_basis"], "legitimate_interest");
    assert_eq!(
        contact["legitimate_interest"]["fr"],
        "Répondre aux personnes qui nous écrivent."
    );
    assert_eq!(contact["retention_days"], 1095);
    let hubspot = contact["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "HubSpot")
        .unwrap();
    assert_eq!(
        (hubspot["country"].as_str(), hubspot["registered"].as_bool()),
        (Some("US"), Some(true))
    );
    assert!(
        contact["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["country"] == "US" && t["safeguard"] == "scc"),
        "{contact}"
    );
    assert!(
        contact["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["recipient"] == "HubSpot › Amazon Web Services"),
        "sub-processors' transfers are in the record: {contact}"
    );
    assert!(
        contact["data_subjects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["touchpoint"] == "contact")
    );
    let measures = contact["security_measures"].to_string();
    assert!(
        measures.contains("XChaCha20") && measures.contains("HubSpot"),
        "Registre's and the processors' measures: {measures}"
    );
    // The auditor's key reads it.
    let auditor = app.key(registre_domain::Role::Auditor).await;
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/ropa", None, Some(&auditor))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn the_csv_record_reads_back_with_a_csv_parser(app: TestApp) {
    let (status, content_type, body) = raw(&app, "/api/v1/ropa?format=csv&lang=en").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[3], "Key");
    assert_eq!(&headers[11], "Recipients");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let (_, purposes) = app.get("/api/v1/purposes").await;
    let purposes = purposes["items"]
        .as_array()
        .or(purposes.as_array())
        .map(Vec::len)
        .unwrap();
    assert_eq!(rows.len(), purposes, "one row per purpose");
    for row in &rows {
        assert_eq!(row.len(), headers.len());
        assert!(row[1].starts_with("Exemple SAS"));
        assert!(row[2].contains("dpo@exemple.fr"));
    }
    let offers = rows.iter().find(|r| &r[3] == "promotional_offers").unwrap();
    assert!(
        offers[11].contains("HubSpot (Customer relationship management, US)")
            && offers[11].contains("Brevo (Emailing, FR)"),
        "{offers:?}"
    );
    assert!(
        offers[12].contains("standard contractual clauses"),
        "{offers:?}"
    );
    assert_eq!(&offers[14], "1095");
    // French headers by default (the organisation's language).
    let (_, _, french) = raw(&app, "/api/v1/ropa?format=csv").await;
    let mut reader = csv::Reader::from_reader(french.as_bytes());
    assert_eq!(&reader.headers().unwrap()[4], "Finalité");
    // A description that looks like a formula does not run as one in a spreadsheet.
    let (_, mut newsletter) = app.get("/api/v1/purposes/newsletter").await;
    newsletter["description"] = json!({"fr": "=HYPERLINK(\"http://evil\")", "en": "=1+1"});
    let (status, _) = app.put("/api/v1/purposes/newsletter", newsletter).await;
    assert_eq!(status, StatusCode::OK);
    let (_, _, body) = raw(&app, "/api/v1/ropa?format=csv&lang=en").await;
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let row = reader
        .records()
        .map(Result::unwrap)
        .find(|r| &r[3] == "newsletter")
        .unwrap();
    assert_eq!(&row[5], "'=1+1");
}

async fn the_print_ready_record_is_an_html_page_in_french_or_english(app: TestApp) {
    let (status, content_type, html) = raw(&app, "/api/v1/ropa?format=html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/html"));
    assert!(html.starts_with("<!doctype html>") && html.contains("<html lang=\"fr\">"));
    for expected in [
        "Registre des activités de traitement",
        "@media print",
        "Exemple SAS",
        "Claire Martin",
        "Offres promotionnelles",
        "Assistance client",
        "Zendesk (Support client, US)",
        "Date d&#39;établissement",
    ] {
        assert!(html.contains(expected), "{expected:?} missing");
    }
    assert!(!html.contains("<script"));
    let (_, _, english) = raw(&app, "/api/v1/ropa?format=html&lang=en").await;
    assert!(
        english.contains("Record of processing activities") && english.contains("Customer support")
    );
    let (status, _, _) = raw(&app, "/api/v1/ropa?format=pdf").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

async fn the_record_follows_the_registers_without_being_typed_twice(app: TestApp) {
    let (status, _) = app
        .post("/api/v1/purposes", json!({"key": "loyalty_programme", "legal_basis": "contract", "retention_days": 730,
            "data_categories": ["identity", "special"], "recipients": ["Fidelio"],
            "title": {"fr": "Programme de fidélité", "en": "Loyalty programme"}, "description": "Points"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post("/api/v1/processors", json!({"name": "Fidelio", "service": "loyalty", "country": "CH", "transfer_mechanism": "adequacy",
            "dpa_signed_on": "2025-01-01", "purposes": ["loyalty_programme"], "data_categories": ["identity"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, ropa) = app.get("/api/v1/ropa").await;
    let loyalty = ropa["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["purpose"] == "loyalty_programme")
        .unwrap();
    assert_eq!(loyalty["special_categories"], true);
    assert_eq!(loyalty["retention"]["en"], "2 years");
    assert_eq!(loyalty["recipients"][0]["country"], "CH");
    assert_eq!(loyalty["transfers"][0]["safeguard"], "adequacy");
    assert_eq!(
        loyalty["data_subjects"][0]["touchpoint"],
        serde_json::Value::Null,
        "no form serves it yet"
    );
}
