//! The API answers as its OpenAPI document says, checked operation by operation where an
//! outside client found them apart: the document is read from the running server.
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    erasing_someone_without_a_ledger_history_answers_the_documented_shape,
    fulfil_and_a_questionnaire_link_take_no_body_as_documented,
    an_evidence_file_comes_back_with_a_documented_type,
    an_assessment_sent_as_a_json_array_is_refused_and_changes_nothing,
);

async fn document(app: &TestApp) -> Value {
    let (status, document) = app.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    document
}

/// A `$ref` of the document, followed.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document
                .pointer(pointer)
                .unwrap_or_else(|| panic!("{reference}"))
        }
        None => schema,
    }
}

fn operation<'a>(document: &'a Value, path: &str, method: &str) -> &'a Value {
    let operation = &document["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    operation
}

async fn erasing_someone_without_a_ledger_history_answers_the_documented_shape(app: TestApp) {
    let document = document(&app).await;
    let schema = resolve(
        &document,
        &operation(&document, "/api/v1/subjects/erase", "post")["responses"]["200"]["content"]["application/json"]
            ["schema"],
    );
    // Known through a request only: no consent, so no ledger history.
    let (status, request) = app
        .post(
            "/api/v1/requests",
            json!({"type": "erasure", "email": "no-history@example.org"}),
        )
        .await;
    assert!(status.is_success(), "{request}");
    let (status, answer) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "no-history@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    for required in schema["required"].as_array().unwrap_or(&Vec::new()) {
        let name = required.as_str().unwrap();
        assert!(
            answer.get(name).is_some(),
            "the document requires {name:?}, the answer has none: {answer}"
        );
    }
    assert!(answer["certificate_id"].is_string(), "{answer}");
    // Someone with a history gets the ledger marker too.
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": "known@example.org"}, "purpose": "newsletter",
                   "action": "grant", "source": "api"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, answer) = app
        .post(
            "/api/v1/subjects/erase",
            json!({"email": "known@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["seq"].is_i64(), "{answer}");
    assert!(
        schema["properties"]["seq"].is_object(),
        "the document names seq: {schema}"
    );
}

async fn fulfil_and_a_questionnaire_link_take_no_body_as_documented(app: TestApp) {
    let document = document(&app).await;
    for path in [
        "/api/v1/requests/{id}/fulfil",
        "/api/v1/processors/{id}/questionnaire-link",
    ] {
        let body = &operation(&document, path, "post")["requestBody"];
        assert!(body.is_object(), "{path}: a body is documented");
        assert_ne!(body["required"], true, "{path}: the body is optional");
    }
    // And what is documented is what happens: no body at all is fine ...
    let (status, request) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": "jeanne@example.org"}),
        )
        .await;
    assert!(status.is_success(), "{request}");
    let id = request["id"].as_str().unwrap();
    let response = app
        .client
        .post(format!("{}/api/v1/requests/{id}/fulfil", app.url))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // ... but an array is no fulfilment input.
    let (status, processor) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Contract Test Link", "service": "emailing", "role": "processor", "country": "FR",
                   "transfer_mechanism": null, "dpa_signed_on": "2024-01-10",
                   "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    let id = processor["id"].as_str().unwrap();
    let response = app
        .client
        .post(format!(
            "{}/api/v1/processors/{id}/questionnaire-link",
            app.url
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (status, error) = app
        .post(
            &format!("/api/v1/processors/{id}/questionnaire-link"),
            json!([]),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
}

async fn an_evidence_file_comes_back_with_a_documented_type(app: TestApp) {
    let document = document(&app).await;
    let documented: Vec<String> = operation(
        &document,
        "/api/v1/processors/{id}/evidence/{file_id}",
        "get",
    )["responses"]["200"]["content"]
        .as_object()
        .map(|content| content.keys().cloned().collect())
        .unwrap_or_default();
    let (status, processor) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Contract Test Mailer", "service": "emailing", "role": "processor", "country": "FR",
                   "transfer_mechanism": null, "dpa_signed_on": "2024-01-10",
                   "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    let id = processor["id"].as_str().unwrap();
    let uploaded = app
        .client
        .post(format!(
            "{}/api/v1/processors/{id}/evidence?name=policy.txt",
            app.url
        ))
        .bearer_auth(&app.admin_key)
        .header("content-type", "text/plain")
        .body("Our security policy, version 3")
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), StatusCode::CREATED);
    let file: Value = uploaded.json().await.unwrap();
    let response = app
        .client
        .get(format!(
            "{}/api/v1/processors/{id}/evidence/{}",
            app.url,
            file["id"].as_str().unwrap()
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .trim()
        .to_string();
    assert!(
        documented.contains(&content_type),
        "{content_type} is not among the documented {documented:?}"
    );
}

async fn an_assessment_sent_as_a_json_array_is_refused_and_changes_nothing(app: TestApp) {
    let (status, processor) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Contract Test Sender", "service": "emailing", "role": "processor", "country": "FR",
                   "transfer_mechanism": null, "dpa_signed_on": "2024-01-10",
                   "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{processor}");
    let id = processor["id"].as_str().unwrap();
    for body in [json!([]), json!([null, null])] {
        let (status, error) = app
            .put(&format!("/api/v1/processors/{id}/assessment"), body.clone())
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {error}");
        assert_eq!(error["error"]["code"], "invalid_body", "{error}");
    }
    let (_, after) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(after["status"], "pending_assessment", "{after}");
    // The bulk import still takes a bare array of items.
    let (status, bulk) = app
        .post(
            "/api/v1/consents/bulk",
            json!([{"subject": {"email": "bulk@example.org"}, "purpose": "newsletter",
                    "action": "grant", "source": "import", "provenance": "crm export"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
}
