//! Fuzzes the JSON bodies of the API (`/api/v1`) through the whole router in process, as an
//! admin, on the demo organisation (fresh SQLite data dir): the real extractors deserialise
//! into the real input types and the use cases validate and record them.
//!
//! Input: byte 0 picks the endpoint (POST or PUT, paths with the ids of demo records), the
//! rest is the JSON body.
//!
//! Invariants: no panic and no server error for any body; every refusal has the API's JSON
//! error shape; malformed JSON is a 400, never an acceptance. Also, off the router: the
//! catalogue inputs deserialised with serde_json validate or refuse without panicking, and a
//! valid touchpoint or purpose validates again to the same thing.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Method, Request, header};
use libfuzzer_sys::fuzz_target;
use registre_domain::purpose::PurposeInput;
use registre_domain::touchpoint::TouchpointInput;
use std::sync::OnceLock;

/// The endpoints that take a JSON body (but `POST /api/v1/audit/form`, which fetches URLs).
const ENDPOINTS: [(&str, &str); 29] = [
    ("POST", "/api/v1/consents"),
    ("POST", "/api/v1/consents/bulk"),
    ("POST", "/api/v1/consents/check"),
    ("POST", "/api/v1/subjects/consents"),
    ("POST", "/api/v1/subjects/erase"),
    ("POST", "/api/v1/subjects/export"),
    ("POST", "/api/v1/purposes"),
    ("PUT", "/api/v1/purposes/newsletter"),
    ("POST", "/api/v1/touchpoints"),
    ("PUT", "/api/v1/touchpoints/contact"),
    ("PUT", "/api/v1/organisation"),
    ("POST", "/api/v1/data-categories"),
    ("POST", "/api/v1/requests"),
    ("POST", "/api/v1/requests/{request}/verify"),
    ("POST", "/api/v1/requests/{request}/start"),
    ("POST", "/api/v1/requests/{request}/extend"),
    ("POST", "/api/v1/requests/{request}/refuse"),
    ("POST", "/api/v1/requests/{request}/fulfil"),
    ("POST", "/api/v1/requests/{request}/lift-restriction"),
    ("POST", "/api/v1/breaches"),
    ("PUT", "/api/v1/breaches/{breach}"),
    ("POST", "/api/v1/breaches/{breach}/notifications"),
    ("POST", "/api/v1/processors"),
    ("PUT", "/api/v1/processors/{processor}"),
    ("PUT", "/api/v1/processors/{processor}/assessment"),
    ("POST", "/api/v1/processors/{processor}/questionnaire-link"),
    ("POST", "/api/v1/webhooks"),
    ("POST", "/api/v1/api-keys"),
    ("POST", "/api/v1/ledger/checkpoints"),
];

struct Ids {
    request: String,
    breach: String,
    processor: String,
}

fn api(method: Method, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let world = common::world();
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", world.admin_key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_vec()))
        .unwrap();
    let (response, body) = world.send(request);
    (response.status().as_u16(), body)
}

fn first_id(path: &str) -> String {
    let (status, body) = api(Method::GET, path, b"");
    assert_eq!(status, 200, "{path}");
    let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let list = value
        .as_array()
        .cloned()
        .or_else(|| {
            value
                .as_object()
                .and_then(|o| o.values().find_map(|v| v.as_array().cloned()))
        })
        .unwrap();
    let first = &list[0];
    first["id"]
        .as_str()
        .or_else(|| {
            first
                .as_object()
                .and_then(|o| o.values().find_map(|v| v["id"].as_str()))
        })
        .unwrap()
        .to_string()
}

fn ids() -> &'static Ids {
    static IDS: OnceLock<Ids> = OnceLock::new();
    IDS.get_or_init(|| {
        let (status, body) = api(
            Method::POST,
            "/api/v1/requests",
            br#"{"type": "access", "email": "jeanne@example.org", "details": "Quelles donnees ?"}"#,
        );
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let ids = Ids {
            request: request["id"].as_str().unwrap().to_string(),
            breach: first_id("/api/v1/breaches"),
            processor: first_id("/api/v1/processors"),
        };
        if let Ok(dir) = std::env::var("REGISTRE_FUZZ_WRITE_SEEDS") {
            write_seeds(std::path::Path::new(&dir), &ids);
        }
        ids
    })
}

fn path_of(template: &str, ids: &Ids) -> String {
    template
        .replace("{request}", &ids.request)
        .replace("{breach}", &ids.breach)
        .replace("{processor}", &ids.processor)
}

/// Seeds for the corpus: what the GET of each PUT endpoint answers (close to what it takes),
/// and hand-written bodies for the others.
fn write_seeds(dir: &std::path::Path, ids: &Ids) {
    std::fs::create_dir_all(dir).unwrap();
    let mut seeds: Vec<(usize, String)> = Vec::new();
    for (index, (method, template)) in ENDPOINTS.iter().enumerate() {
        if *method == "PUT" && !template.ends_with("/assessment") {
            let (status, body) = api(Method::GET, &path_of(template, ids), b"");
            if status == 200 {
                seeds.push((index, String::from_utf8(body).unwrap()));
            }
        }
    }
    let hand: [(&str, &str); 30] = [
        (
            "/api/v1/consents",
            r#"{"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "grant"}"#,
        ),
        (
            "/api/v1/consents",
            r#"{"subject": {"email": "paul@example.org"}, "purpose": "newsletter", "action": "withdraw", "source": "api", "touchpoint": "newsletter", "occurred_at": "2024-01-31T09:30:00Z", "provenance": "crm"}"#,
        ),
        (
            "/api/v1/consents",
            r#"{"subject": {"external_id": "crm-42"}, "purpose": "promotional_offers", "action": "object"}"#,
        ),
        (
            "/api/v1/consents/bulk",
            r#"{"provenance": "old-crm", "items": [{"subject": {"email": "a@example.org"}, "purpose": "newsletter", "action": "grant"}, {"subject": {"email": "b@example.org"}, "purpose": "nope", "action": "grant"}, 3]}"#,
        ),
        (
            "/api/v1/consents/check",
            r#"{"email": "jeanne@example.org", "purpose": "newsletter"}"#,
        ),
        (
            "/api/v1/subjects/consents",
            r#"{"email": "jeanne@example.org"}"#,
        ),
        (
            "/api/v1/subjects/erase",
            r#"{"email": "erased@example.org"}"#,
        ),
        (
            "/api/v1/subjects/export",
            r#"{"email": "jeanne@example.org"}"#,
        ),
        (
            "/api/v1/purposes",
            r#"{"key": "events", "legal_basis": "consent", "retention_days": 365, "data_categories": ["contact"], "title": {"fr": "Evenements", "en": "Events"}, "description": {"fr": "Invitations", "en": "Invitations"}, "marketing": true}"#,
        ),
        (
            "/api/v1/purposes",
            r#"{"key": "fraud", "legal_basis": "legitimate_interest", "legitimate_interest": {"fr": "Lutter contre la fraude", "en": "Fight fraud"}, "retention_days": 30, "data_categories": ["identity"], "title": {"fr": "Fraude", "en": "Fraud"}, "description": {"fr": "x", "en": "x"}}"#,
        ),
        (
            "/api/v1/touchpoints",
            r#"{"key": "events", "title": {"fr": "Evenements", "en": "Events"}, "double_opt_in": true, "purposes": ["newsletter"], "fields": [{"name": "email", "type": "email", "required": true, "data_category": "contact", "label": {"fr": "E-mail", "en": "Email"}}, {"name": "born", "type": "date", "data_category": "identity", "label": {"fr": "Ne le", "en": "Born"}, "max_length": 10}], "frame_ancestors": ["https://www.example.fr"], "download": "gdpr_white_paper"}"#,
        ),
        (
            "/api/v1/data-categories",
            r#"{"key": "billing", "label": {"fr": "Facturation", "en": "Billing"}, "sensitive": false}"#,
        ),
        (
            "/api/v1/requests",
            r#"{"type": "erasure", "email": "jeanne@example.org", "details": "Effacez tout", "identity_verified": true, "identity_verification": "replied from the address", "language": "en", "received_at": "2024-01-31T09:30:00Z"}"#,
        ),
        (
            "/api/v1/requests",
            r#"{"type": "portability", "email": "paul@example.org"}"#,
        ),
        (
            "/api/v1/requests/{request}/verify",
            r#"{"method": "replied from the address on file"}"#,
        ),
        ("/api/v1/requests/{request}/start", r#"{}"#),
        (
            "/api/v1/requests/{request}/extend",
            r#"{"reason": "complex request"}"#,
        ),
        (
            "/api/v1/requests/{request}/refuse",
            r#"{"reason": "manifestly unfounded"}"#,
        ),
        (
            "/api/v1/requests/{request}/fulfil",
            r#"{"note": "done", "rectified": {"first_name": "Jeanne"}}"#,
        ),
        ("/api/v1/requests/{request}/lift-restriction", r#"{}"#),
        (
            "/api/v1/breaches",
            r#"{"title": "Lost laptop", "aware_at": "2024-01-31T09:30:00Z", "description": "A laptop was lost", "data_categories": ["contact"], "subjects_estimate": 120, "likely_consequences": "phishing", "measures_taken": "remote wipe", "risk": "high"}"#,
        ),
        (
            "/api/v1/breaches/{breach}/notifications",
            r#"{"recipient": "authority", "notified_at": "2024-02-01T09:30:00Z", "channel": "cnil_online_form", "reference": "CNIL-1"}"#,
        ),
        (
            "/api/v1/breaches/{breach}/notifications",
            r#"{"recipient": "subjects", "notified_at": "2024-02-02T09:30:00Z", "channel": "email"}"#,
        ),
        (
            "/api/v1/processors",
            r#"{"name": "Mailjet", "service": "emailing", "role": "processor", "country": "FR", "transfer_mechanism": null, "dpa_signed_on": "2023-03-15", "dpa_reference": "DPA v2", "purposes": ["newsletter"], "data_categories": ["contact"], "subprocessors": []}"#,
        ),
        (
            "/api/v1/processors/{processor}/assessment",
            r#"{"dpo": {"appointed": true, "name": "DPO", "email": "dpo@example.com", "evidence": [{"reference": "https://example.com/privacy"}]}, "data_mapping": {"complete": true, "last_updated_on": "2024-01-01"}, "third_parties": {"shares_data": false}, "protection": {"measures": ["encryption_at_rest", "mfa"], "incident_procedure": true, "breach_notification_hours": 24}, "security_tests": {"performed": true, "kinds": ["penetration_test"], "last_on": "2024-01-01"}}"#,
        ),
        (
            "/api/v1/processors/{processor}/questionnaire-link",
            r#"{"language": "en"}"#,
        ),
        (
            "/api/v1/webhooks",
            r#"{"url": "https://crm.example.org/hooks/registre", "events": ["consent.granted", "consent.withdrawn"], "description": "CRM"}"#,
        ),
        ("/api/v1/api-keys", r#"{"name": "crm", "role": "agent"}"#),
        ("/api/v1/ledger/checkpoints", r#"{}"#),
        (
            "/api/v1/consents/check",
            r#"{"email": "JEANNE@Example.org ", "purpose": "newsletter", "extra": [1, 2.5e300, null, {"a": "\u00e9\ud83d\ude00"}]}"#,
        ),
    ];
    for (template, body) in hand {
        let index = ENDPOINTS.iter().position(|(_, t)| *t == template).unwrap();
        seeds.push((index, body.to_string()));
    }
    for (n, (index, body)) in seeds.into_iter().enumerate() {
        let mut bytes = vec![index as u8];
        bytes.extend_from_slice(body.as_bytes());
        std::fs::write(dir.join(format!("seed-{n:03}-{index:02}.json")), bytes).unwrap();
    }
}

fn catalogue_inputs(body: &[u8]) {
    let now = chrono::Utc::now();
    if let Ok(input) = serde_json::from_slice::<TouchpointInput>(body)
        && let Ok(valid) = input.validate(now)
    {
        let again = TouchpointInput {
            key: valid.key.to_string(),
            title: valid.title.clone(),
            description: valid.description.clone(),
            double_opt_in: valid.double_opt_in,
            purposes: valid.purposes.clone(),
            fields: valid.fields.clone(),
            frame_ancestors: valid.frame_ancestors.clone(),
            download: valid.download.clone(),
            notice_version: None,
            form_url: None,
            created_at: None,
            updated_at: None,
        };
        assert_eq!(
            again.validate(now).expect("a valid touchpoint stays valid"),
            valid
        );
    }
    if let Ok(input) = serde_json::from_slice::<PurposeInput>(body) {
        let _ = input.validate(now);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let ids = ids();
    let (method, template) = ENDPOINTS[selector as usize % ENDPOINTS.len()];
    let path = path_of(template, ids);
    let method = if method == "PUT" {
        Method::PUT
    } else {
        Method::POST
    };
    let (status, answer) = api(method, &path, body);
    common::check_api_answer(status, &answer, &path);
    // Three endpoints read no body; some take an empty one (whitespace) as `{}`.
    let reads_body = !["/start", "/lift-restriction", "/checkpoints"]
        .iter()
        .any(|end| template.ends_with(end));
    if reads_body
        && !body.iter().all(u8::is_ascii_whitespace)
        && serde_json::from_slice::<serde_json::Value>(body).is_err()
    {
        assert!(
            status >= 400,
            "{path}: malformed JSON was accepted ({status})"
        );
    }
    catalogue_inputs(body);
});
