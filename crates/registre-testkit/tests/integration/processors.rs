//! The processor register through the API: entries, due diligence, evidence, the chain and
//! the vendor questionnaire.
use registre_domain::Role;
use registre_testkit::{Backend, TestApp, contains, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};

store_tests!(
    a_questionnaire_link_takes_no_body_or_json_and_nothing_else,
    a_processor_is_registered_then_assessed_and_its_review_date_follows,
    the_answers_of_the_contract_dated_today_make_a_compliant_entry,
    one_high_finding_makes_the_risk_high_and_brings_the_review_forward,
    bad_processor_input_gets_clear_errors_and_nothing_is_half_written,
    evidence_is_stored_encrypted_and_checked_for_size_and_type,
    the_sub_processor_chain_is_followed_and_a_cycle_is_marked,
    a_vendor_answers_once_through_a_signed_link_and_the_dpo_accepts_the_draft,
    an_expired_or_forged_link_does_not_open_and_a_mistake_does_not_spend_it,
    the_demo_has_processors_in_every_state,
    an_auditor_reads_the_register_but_cannot_change_it,
);

fn mailjet() -> Value {
    json!({"name": "Mailjet", "service": "emailing", "role": "processor", "country": "FR",
        "transfer_mechanism": null, "dpa_signed_on": "2024-01-10",
        "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": ["OVHcloud"]})
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.app.now().date_naive()
}

fn days_ago(app: &TestApp, days: i64) -> String {
    (today(app) - chrono::Duration::days(days)).to_string()
}

/// The answers of PRODUCT.md, with dates a few weeks old.
fn good_answers(app: &TestApp) -> Value {
    json!({"dpo": {"appointed": true, "name": "Jean Dupont", "email": "dpo@mailjet.example"},
        "data_mapping": {"complete": true, "last_updated_on": days_ago(app, 60)},
        "third_parties": {"shares_data": true, "recipients": ["OVHcloud"], "controls": "annual audits, DPAs"},
        "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups"],
                       "incident_procedure": true, "breach_notification_hours": 24},
        "security_tests": {"performed": true, "kinds": ["penetration_test", "vulnerability_scan"], "last_on": days_ago(app, 30)}})
}

fn codes(findings: &Value) -> Vec<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

async fn create(app: &TestApp, body: Value) -> Value {
    let (status, created) = app.post("/api/v1/processors", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

async fn a_processor_is_registered_then_assessed_and_its_review_date_follows(app: TestApp) {
    let created = create(&app, mailjet()).await;
    assert_eq!(created["status"], "pending_assessment");
    assert_eq!(created["risk"], "unknown");
    assert_eq!(created["country"], "FR");
    assert!(
        created["id"].is_string() && created["review_due_on"].is_string(),
        "{created}"
    );
    let id = created["id"].as_str().unwrap();

    let mut answers = good_answers(&app);
    answers["security_tests"]["last_on"] = json!(today(&app).to_string());
    let (status, outcome) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(
        (outcome["risk"].as_str(), outcome["status"].as_str()),
        (Some("low"), Some("compliant")),
        "{outcome}"
    );
    assert_eq!(outcome["findings"], json!([]));
    let in_a_year = registre_domain::processor::add_months(today(&app), 12).to_string();
    assert_eq!(outcome["review_due_on"], json!(in_a_year));

    let (_, read) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(read["status"], "compliant");
    assert_eq!(
        read["assessment"]["dpo"]["answered_on"],
        json!(today(&app).to_string()),
        "each answer is dated"
    );
    assert_eq!(read["review_due_soon"], false);

    // A year later the review shows as due before it is missed, then as overdue.
    app.clock.advance(chrono::Duration::days(340));
    let (_, read) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(
        (
            read["review_due_soon"].as_bool(),
            read["review_overdue"].as_bool()
        ),
        (Some(true), Some(false)),
        "{read}"
    );
    let (_, due) = app.get("/api/v1/processors?review_due=true").await;
    assert!(
        due["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == read["id"])
    );
    app.clock.advance(chrono::Duration::days(40));
    let (_, read) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(read["review_overdue"], true);

    // A GET body can be sent back as a PUT.
    let mut changed = read.clone();
    changed["service"] = json!("transactional email");
    let (status, replaced) = app.put(&format!("/api/v1/processors/{id}"), changed).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["service"], "transactional email");
    assert_eq!(
        replaced["assessed_at"], read["assessed_at"],
        "the assessment stays"
    );

    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "processor.created",
        "processor.assessed",
        "processor.updated",
    ] {
        assert!(actions.contains(&expected), "{expected} not audited");
    }
    let (_, verify) = app.get("/api/v1/audit-log/verify").await;
    assert_eq!(verify["ok"], true);
}

async fn the_answers_of_the_contract_dated_today_make_a_compliant_entry(app: TestApp) {
    // The exact body of PRODUCT.md: its test date is fixed, so once it is more than a year
    // old the rules say the tests are stale.
    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let contract = json!({"dpo": {"appointed": true, "name": "...", "email": "dpo@mailjet.example"},
        "data_mapping": {"complete": true, "last_updated_on": "2025-06-01"},
        "third_parties": {"shares_data": true, "recipients": ["..."], "controls": "annual audits, DPAs"},
        "protection": {"measures": ["encryption_at_rest", "encryption_in_transit", "access_control", "backups"],
                       "incident_procedure": true, "breach_notification_hours": 24},
        "security_tests": {"performed": true, "kinds": ["penetration_test", "vulnerability_scan"], "last_on": "2025-09-01"}});
    let (status, outcome) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), contract)
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    for finding in outcome["findings"].as_array().unwrap() {
        assert!(["low", "medium", "high"].contains(&finding["severity"].as_str().unwrap()));
        assert!(finding["message"].as_str().unwrap().len() > 10);
    }
    let stale = today(&app) > chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap();
    assert_eq!(
        codes(&outcome["findings"]).contains(&"stale_security_tests".to_string()),
        stale,
        "{outcome}"
    );
}

async fn one_high_finding_makes_the_risk_high_and_brings_the_review_forward(app: TestApp) {
    let created = create(
        &app,
        json!({"name": "Acme Analytics", "service": "analytics", "role": "third_party_tool", "country": "US",
            "purposes": ["newsletter"], "data_categories": ["usage"]}),
    )
    .await;
    let found = codes(&created["findings"]);
    assert!(
        found.contains(&"no_dpa".to_string())
            && found.contains(&"transfer_without_safeguard".to_string()),
        "{created}"
    );
    assert_eq!(
        created["risk"], "high",
        "one high finding makes the risk high even before the questionnaire"
    );
    assert_eq!(created["status"], "pending_assessment");
    let id = created["id"].as_str().unwrap();
    let mut answers = good_answers(&app);
    answers["protection"]["breach_notification_hours"] = json!(96);
    answers["dpo"] = json!({"appointed": false});
    answers["security_tests"] = json!({"performed": false});
    answers["third_parties"]["controls"] = Value::Null;
    let (_, outcome) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    let found = codes(&outcome["findings"]);
    for code in [
        "no_dpa",
        "transfer_without_safeguard",
        "no_dpo",
        "uncontrolled_third_parties",
        "slow_breach_notification",
        "no_security_tests",
    ] {
        assert!(
            found.contains(&code.to_string()),
            "{code} missing: {outcome}"
        );
    }
    assert_eq!(
        (outcome["risk"].as_str(), outcome["status"].as_str()),
        (Some("high"), Some("non_compliant"))
    );
    let in_three_months = registre_domain::processor::add_months(today(&app), 3).to_string();
    assert_eq!(outcome["review_due_on"], json!(in_three_months));

    // A safeguard and a signed DPA leave the questionnaire's findings.
    let (_, mut entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    entry["transfer_mechanism"] = json!("scc");
    entry["dpa_signed_on"] = json!(today(&app).to_string());
    let (status, entry) = app.put(&format!("/api/v1/processors/{id}"), entry).await;
    assert_eq!(status, StatusCode::OK, "{entry}");
    let found = codes(&entry["findings"]);
    assert!(
        !found.contains(&"no_dpa".to_string())
            && !found.contains(&"transfer_without_safeguard".to_string())
    );
    assert!(found.contains(&"uncontrolled_third_parties".to_string()));
}

async fn bad_processor_input_gets_clear_errors_and_nothing_is_half_written(app: TestApp) {
    let (_, before) = app.get("/api/v1/processors").await;
    let count = before["items"].as_array().unwrap().len();
    let tomorrow = (today(&app) + chrono::Duration::days(1)).to_string();
    let cases = [
        ("country", json!("XX")),
        ("country", json!("France")),
        ("dpa_signed_on", json!(tomorrow)),
        ("purposes", json!(["astrology"])),
        ("data_categories", json!(["shoe_size"])),
        ("transfer_mechanism", json!("derogation")),
        ("name", json!("  ")),
    ];
    for (field, value) in cases {
        let mut body = mailjet();
        body[field] = value.clone();
        let (status, error) = app.post("/api/v1/processors", body).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}={value}: {error}"
        );
        assert!(
            error["error"]["message"].as_str().unwrap().contains(field),
            "{error}"
        );
    }
    let (status, error) = app
        .post(
            "/api/v1/processors",
            json!({"name": "Brevo", "service": "emailing", "country": "FR"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "names are references, so they are unique: {error}"
    );
    let (status, error) = app
        .post(
            "/api/v1/processors",
            json!({"name": "X", "service": "y", "country": "FR", "colour": "red"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    let (_, after) = app.get("/api/v1/processors").await;
    assert_eq!(after["items"].as_array().unwrap().len(), count);

    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut answers = good_answers(&app);
    answers["security_tests"]["last_on"] = json!(tomorrow);
    let (status, error) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("security_tests.last_on"),
        "{error}"
    );
    let mut answers = good_answers(&app);
    answers["protection"]["breach_notification_hours"] = json!(-5);
    let (status, _) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, read) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(
        read["status"], "pending_assessment",
        "a refused assessment leaves nothing behind"
    );
    assert_eq!(read["assessment"], Value::Null);

    for path in [
        "/api/v1/processors/not-an-id",
        "/api/v1/processors/0190a7a4-0000-7000-8000-000000000000",
    ] {
        let (status, error) = app.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error["error"]["code"], "not_found");
    }
    let (status, _) = app
        .put(
            "/api/v1/processors/0190a7a4-0000-7000-8000-000000000000/assessment",
            good_answers(&app),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn upload(
    app: &TestApp,
    id: &str,
    name: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    // A connection of its own: the server answers 413 before reading an oversized body and
    // closes the connection, which a pooled client would then reuse for the next upload.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let response = client
        .post(format!(
            "{}/api/v1/processors/{id}/evidence?name={name}",
            app.url
        ))
        .bearer_auth(&app.admin_key)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn evidence_is_stored_encrypted_and_checked_for_size_and_type(app: TestApp) {
    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let content =
        b"%PDF-1.7\nISO/IEC 27001 certificate EVIDENCE-MARKER-7731 valid until 2027\n%%EOF"
            .to_vec();
    let (status, file) = upload(
        &app,
        &id,
        "iso27001.pdf",
        "application/pdf",
        content.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size"], content.len());
    let file_id = file["id"].as_str().unwrap().to_string();

    let response = app
        .client
        .get(format!(
            "{}/api/v1/processors/{id}/evidence/{file_id}",
            app.url
        ))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("iso27001.pdf")
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), content);
    if app.backend == Backend::Sqlite {
        assert!(
            !contains(&app.data_dir_bytes(), b"EVIDENCE-MARKER-7731"),
            "evidence is encrypted at rest"
        );
    }

    // Wrong type, a lie about the type, too large, empty: refused, nothing stored.
    let (status, error) = upload(
        &app,
        &id,
        "tool.exe",
        "application/x-msdownload",
        b"MZ\x90\x00".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, error) = upload(
        &app,
        &id,
        "fake.pdf",
        "application/pdf",
        b"MZ\x90\x00 not a pdf".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let mut huge = b"%PDF-1.7\n".to_vec();
    huge.resize(6 * 1024 * 1024, b'a');
    let (status, error) = upload(&app, &id, "huge.pdf", "application/pdf", huge).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{error}");
    assert_eq!(error["error"]["code"], "payload_too_large");
    let (status, _) = upload(&app, &id, "empty.txt", "text/plain", Vec::new()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = upload(&app, &id, "..%2Fpasswd", "text/plain", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, files) = app.get(&format!("/api/v1/processors/{id}/evidence")).await;
    assert_eq!(files["items"].as_array().unwrap().len(), 1, "{files}");
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM evidence_files").await, 1);

    // Answers name files by id; a file of another processor or none at all is refused.
    let mut answers = good_answers(&app);
    answers["security_tests"]["evidence"] = json!([{"file_id": file_id, "reference": "ISO 27001"}]);
    let (status, outcome) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    let mut answers = good_answers(&app);
    answers["dpo"]["evidence"] = json!([{"file_id": "0190a7a4-0000-7000-8000-000000000000"}]);
    let (status, error) = app
        .put(&format!("/api/v1/processors/{id}/assessment"), answers)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    let (status, _) = app
        .get(&format!(
            "/api/v1/processors/{id}/evidence/0190a7a4-0000-7000-8000-000000000000"
        ))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_sub_processor_chain_is_followed_and_a_cycle_is_marked(app: TestApp) {
    let (_, list) = app.get("/api/v1/processors").await;
    let hubspot = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "HubSpot")
        .unwrap()
        .clone();
    let (status, chain) = app
        .get(&format!(
            "/api/v1/processors/{}/chain",
            hubspot["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{chain}");
    assert_eq!(chain["name"], "HubSpot");
    let aws = &chain["subprocessors"][0];
    assert_eq!(
        (
            aws["name"].as_str(),
            aws["registered"].as_bool(),
            aws["country"].as_str()
        ),
        (Some("Amazon Web Services"), Some(true), Some("US"))
    );
    assert_eq!(aws["outside_eea"], true);

    let a = create(&app, json!({"name": "Alpha", "service": "hosting", "country": "DE", "subprocessors": ["Beta", "Ghost"]})).await;
    assert!(codes(&a["findings"]).contains(&"unregistered_subprocessor".to_string()));
    create(&app, json!({"name": "Beta", "service": "backup", "role": "subprocessor", "country": "NL", "subprocessors": ["alpha"]})).await;
    let (_, chain) = app
        .get(&format!(
            "/api/v1/processors/{}/chain",
            a["id"].as_str().unwrap()
        ))
        .await;
    let beta = &chain["subprocessors"][0];
    assert_eq!(beta["name"], "Beta");
    assert_eq!(beta["subprocessors"][0]["name"], "Alpha");
    assert_eq!(beta["subprocessors"][0]["cycle"], true);
    assert_eq!(beta["subprocessors"][0]["subprocessors"], json!([]));
    assert_eq!(chain["subprocessors"][1]["registered"], false);
}

/// The token of a questionnaire link.
fn token_of(link: &Value) -> String {
    let url = link["url"].as_str().unwrap();
    url.split("token=").nth(1).unwrap().to_string()
}

fn vendor_answers(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("token", token.to_string()),
        ("lang", "fr".into()),
        ("dpo_appointed", "yes".into()),
        ("dpo_name", "Sophie Bernard".into()),
        ("dpo_email", "dpo@mailjet.example".into()),
        ("mapping_complete", "yes".into()),
        ("third_parties_shares", "yes".into()),
        ("third_parties_recipients", "OVHcloud\nGoogle Cloud".into()),
        (
            "third_parties_controls",
            "Contrats de sous-traitance, audits annuels".into(),
        ),
        ("measures", "encryption_at_rest".into()),
        ("measures", "encryption_in_transit".into()),
        ("incident_procedure", "yes".into()),
        ("breach_notification_hours", "24".into()),
        ("tests_performed", "yes".into()),
        ("test_kinds", "penetration_test".into()),
        ("tests_last_on", "".into()),
        ("tests_evidence", "Rapport de test d'intrusion, mars".into()),
    ]
}

async fn post_form(app: &TestApp, fields: &[(&str, String)]) -> (StatusCode, String) {
    let response = app
        .client
        .post(format!("{}/vendor/questionnaire", app.url))
        .form(fields)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

async fn get_page(app: &TestApp, url: &str) -> (StatusCode, String, reqwest::header::HeaderMap) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

/// Found by schemathesis: a body of blanks only was taken for no body.
async fn a_questionnaire_link_takes_no_body_or_json_and_nothing_else(app: TestApp) {
    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let url = format!("{}/api/v1/processors/{id}/questionnaire-link", app.url);
    for (body, expected) in [
        ("", StatusCode::CREATED),
        ("\t", StatusCode::UNPROCESSABLE_ENTITY),
        ("{\"language\": \"en\"}", StatusCode::CREATED),
    ] {
        let response = app
            .client
            .post(&url)
            .bearer_auth(&app.admin_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{body:?}");
        if expected != StatusCode::CREATED {
            let error: Value = response.json().await.unwrap();
            assert_eq!(error["error"]["code"], "invalid_body", "{error}");
        }
    }
}

async fn a_vendor_answers_once_through_a_signed_link_and_the_dpo_accepts_the_draft(app: TestApp) {
    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, link) = app
        .post(
            &format!("/api/v1/processors/{id}/questionnaire-link"),
            json!({"language": "fr"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    let url = link["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/vendor/questionnaire?token=", app.url)),
        "{url}"
    );
    let expires_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(link["expires_at"].clone()).unwrap();
    let days = (expires_at - app.app.now()).num_hours();
    assert!(
        (30 * 24 - 1..=30 * 24).contains(&days),
        "valid 30 days: {days} h"
    );
    let (status, _) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, page, headers) = get_page(&app, url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<html lang=\"fr\">")
            && page.contains("Mailjet")
            && page.contains("Exemple SAS"),
        "{page}"
    );
    assert!(
        page.contains("<label for=\"dpo_email\">"),
        "every field has a label"
    );
    assert!(
        !page.contains("<script") && !page.contains("style="),
        "no inline script or style"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let (status, english, _) = get_page(&app, &format!("{url}&lang=en")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(english.contains("Have you appointed a data protection officer"));

    let token = token_of(&link);
    let (status, thanks) = post_form(&app, &vendor_answers(&token)).await;
    assert_eq!(status, StatusCode::OK, "{thanks}");
    assert!(thanks.contains("Merci"), "{thanks}");

    // Single use: the page and a second submission say so.
    let (status, used, _) = get_page(&app, url).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(used.contains("déjà servi"), "{used}");
    let (status, _) = post_form(&app, &vendor_answers(&token)).await;
    assert_eq!(status, StatusCode::GONE);

    let (status, draft) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    assert_eq!(draft["assessment"]["source"], "vendor_questionnaire");
    assert_eq!(
        draft["assessment"]["third_parties"]["recipients"],
        json!(["OVHcloud", "Google Cloud"])
    );
    assert!(
        codes(&draft["preview"]["findings"]).contains(&"stale_security_tests".to_string()),
        "no test date given: {draft}"
    );
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(
        (entry["draft_pending"].as_bool(), entry["status"].as_str()),
        (Some(true), Some("pending_assessment"))
    );

    let (status, outcome) = app
        .post(
            &format!("/api/v1/processors/{id}/assessment-draft/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{outcome}");
    assert_eq!(outcome["status"], "needs_attention");
    let (_, entry) = app.get(&format!("/api/v1/processors/{id}")).await;
    assert_eq!(entry["draft_pending"], false);
    assert_eq!(
        entry["assessment"]["security_tests"]["evidence"][0]["reference"],
        "Rapport de test d'intrusion, mars"
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/processors/{id}/assessment-draft/accept"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, log) = app.get("/api/v1/audit-log?limit=1000").await;
    let entries = log["items"].as_array().unwrap();
    for action in [
        "processor.questionnaire_link_created",
        "processor.questionnaire_submitted",
        "processor.assessment_draft_accepted",
    ] {
        assert!(
            entries.iter().any(|e| e["action"] == action),
            "{action} not audited"
        );
    }
    assert!(
        !log.to_string().contains(&token),
        "the link is not in the audit log"
    );
}

async fn an_expired_or_forged_link_does_not_open_and_a_mistake_does_not_spend_it(app: TestApp) {
    let id = create(&app, mailjet()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, link) = app
        .post(
            &format!("/api/v1/processors/{id}/questionnaire-link"),
            json!({}),
        )
        .await;
    let token = token_of(&link);

    // An unanswered question: the form comes back with what to correct, the link still works.
    let mut incomplete = vendor_answers(&token);
    incomplete.retain(|(k, _)| *k != "mapping_complete" && *k != "tests_last_on");
    incomplete.push(("tests_last_on", "31/02/2025".into()));
    let (status, page) = post_form(&app, &incomplete).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("role=\"alert\"") && page.contains("Sophie Bernard"),
        "the answers are kept: {page}"
    );
    let mut future = vendor_answers(&token);
    future.retain(|(k, _)| *k != "tests_last_on");
    future.push((
        "tests_last_on",
        (today(&app) + chrono::Duration::days(3)).to_string(),
    ));
    let (status, _) = post_form(&app, &future).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing half-written");

    let (status, page, _) = get_page(
        &app,
        &format!("{}/vendor/questionnaire?token=abc.def", app.url),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("pas valide"), "{page}");
    let forged = format!("{}x", token);
    let (status, _) = post_form(&app, &vendor_answers(&forged)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    app.clock.advance(chrono::Duration::days(31));
    let (status, page, _) = get_page(&app, link["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(
        page.contains("expiré") || page.contains("expired"),
        "{page}"
    );
    let (status, _) = post_form(&app, &vendor_answers(&token)).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, _) = app
        .get(&format!("/api/v1/processors/{id}/assessment-draft"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn the_demo_has_processors_in_every_state(app: TestApp) {
    let (status, list) = app.get("/api/v1/processors").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["next_cursor"], Value::Null);
    let items = list["items"].as_array().unwrap();
    let by_name = |name: &str| {
        items
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(by_name("Brevo")["status"], "compliant");
    assert_eq!(by_name("HubSpot")["status"], "needs_attention");
    assert_eq!(by_name("Zendesk")["status"], "non_compliant");
    assert_eq!(by_name("Zendesk")["risk"], "high");
    assert_eq!(by_name("OVHcloud")["status"], "pending_assessment");
    assert_eq!(by_name("OVHcloud")["draft_pending"], true);
    assert_eq!(by_name("HubSpot")["country"], "US");
    assert_eq!(by_name("HubSpot")["transfer_mechanism"], "scc");
    let (_, attention) = app.get("/api/v1/processors?status=needs_attention").await;
    assert!(
        attention["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["status"] == "needs_attention")
    );
    // Loading the demo again changes nothing.
    app.app.load_demo().await.unwrap();
    let (_, again) = app.get("/api/v1/processors").await;
    assert_eq!(again["items"].as_array().unwrap().len(), items.len());
}

async fn an_auditor_reads_the_register_but_cannot_change_it(app: TestApp) {
    let auditor = app.key(Role::Auditor).await;
    let (status, _) = app
        .request(
            reqwest::Method::GET,
            "/api/v1/processors",
            None,
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/processors",
            Some(mailjet()),
            Some(&auditor),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/processors", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, openapi) = app
        .request(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    for path in [
        "/api/v1/processors",
        "/api/v1/processors/{id}/assessment",
        "/api/v1/processors/{id}/chain",
        "/api/v1/processors/{id}/questionnaire-link",
        "/api/v1/processors/{id}/assessment-draft/accept",
        "/api/v1/breaches",
        "/api/v1/breaches/{id}/notifications",
        "/api/v1/ropa",
        "/api/v1/retention/report",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} is not in the OpenAPI document"
        );
    }
}
