//! Webhooks: subscriptions, signed deliveries, retries, dead deliveries.
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use registre_testkit::{TestApp, eventually, store_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

store_tests!(
    a_subscription_never_shows_its_secret_again_and_takes_only_http_urls,
    a_withdrawal_reaches_the_crm_signed_within_seconds,
    a_failed_delivery_is_retried_and_one_that_never_succeeds_is_dead_and_visible,
    several_workers_share_the_outbox_and_deliver_each_event_once,
    a_message_is_queued_only_for_a_topic_an_active_subscription_listens_to,
    the_ledger_and_webhook_routes_are_in_the_openapi_document,
);

/// What a receiver got: the path, the headers, the body.
type Received = Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>;

/// A small CRM: `/ok/..` answers 200, `/flaky/..` 500 the first time then 200, `/down/..`
/// always 500.
async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    async fn hook(
        State(received): State<Received>,
        Path((mode, _name)): Path<(String, String)>,
        headers: HeaderMap,
        body: Bytes,
    ) -> AxumStatus {
        let mut all = received.lock().unwrap();
        let earlier = all.iter().filter(|(path, _, _)| path == &mode).count();
        all.push((mode.clone(), headers, body));
        match (mode.as_str(), earlier) {
            ("ok", _) | ("flaky", 1..) => AxumStatus::NO_CONTENT,
            _ => AxumStatus::INTERNAL_SERVER_ERROR,
        }
    }
    let router = axum::Router::new()
        .route("/{mode}/{name}", axum::routing::post(hook))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, received)
}

fn start_worker(app: &TestApp) {
    tokio::spawn(app.app.clone().webhook_worker(Duration::from_millis(100)));
}

async fn subscribe(app: &TestApp, url: &str, events: &[&str], secret: &str) -> Value {
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": url, "events": events, "secret": secret}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    webhook
}

async fn deliveries(app: &TestApp, webhook: &Value) -> Vec<Value> {
    let (status, list) = app
        .get(&format!(
            "/api/v1/webhooks/{}/deliveries",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().unwrap().clone()
}

fn signature_is_valid(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let expected = format!(
        "sha256={}",
        registre_crypto::hmac_sha256_hex(secret.as_bytes(), body)
    );
    headers
        .get("x-registre-signature")
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

async fn a_subscription_never_shows_its_secret_again_and_takes_only_http_urls(app: TestApp) {
    let webhook = subscribe(
        &app,
        "https://crm.example/hooks/registre",
        &["consent.granted", "consent.withdrawn", "subject.erased"],
        "s3cret-shared",
    )
    .await;
    assert!(
        webhook.get("secret").is_none(),
        "a given secret is not echoed: {webhook}"
    );
    assert_eq!(
        webhook["events"],
        json!(["consent.granted", "consent.withdrawn", "subject.erased"])
    );
    let id = webhook["id"].as_str().unwrap();
    let (status, one) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(one.get("secret").is_none());
    let (_, list) = app.get("/api/v1/webhooks").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains("s3cret-shared"));

    // Without a secret, one is made and shown once.
    let (status, generated) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://crm.internal:8080/hook", "events": ["request.created"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = generated["secret"].as_str().unwrap();
    assert!(secret.len() >= 32);
    let (_, again) = app
        .get(&format!(
            "/api/v1/webhooks/{}",
            generated["id"].as_str().unwrap()
        ))
        .await;
    assert!(again.get("secret").is_none());

    for bad in [
        json!({"url": "ftp://crm.example/hook", "events": ["consent.granted"], "secret": "x"}),
        json!({"url": "not a url", "events": ["consent.granted"], "secret": "x"}),
        json!({"url": "https://crm.example/hook", "events": ["consent.maybe"], "secret": "x"}),
        json!({"url": "https://crm.example/hook", "events": [], "secret": "x"}),
    ] {
        let (status, error) = app.post("/api/v1/webhooks", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
    }
    let agent = app.key(registre_domain::Role::Agent).await;
    let (status, _) = app
        .request(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://x.example/h", "events": ["consent.granted"]})),
            Some(&agent),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = app.delete(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/api/v1/webhooks/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get("/api/v1/webhooks/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn a_withdrawal_reaches_the_crm_signed_within_seconds(app: TestApp) {
    let (base, received) = receiver().await;
    let webhook = subscribe(
        &app,
        &format!("{base}/ok/crm"),
        &["consent.granted", "consent.withdrawn"],
        "crm-secret",
    )
    .await;
    start_worker(&app);
    let (status, granted) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "grant"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, withdrawn) = app.post("/api/v1/consents", json!({"subject": {"email": "jeanne@example.org"}, "purpose": "newsletter", "action": "withdraw"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let bodies = eventually(Duration::from_secs(10), "both deliveries", || {
        let received = received.clone();
        async move {
            let all = received.lock().unwrap();
            (all.len() >= 2).then(|| {
                all.iter()
                    .map(|(_, headers, body)| (headers.clone(), body.clone()))
                    .collect::<Vec<_>>()
            })
        }
    })
    .await;
    for (headers, body) in &bodies {
        assert!(
            signature_is_valid("crm-secret", headers, body),
            "the signature is HMAC-SHA256(secret, body)"
        );
        assert_eq!(headers["content-type"], "application/json");
    }
    let bodies: Vec<Value> = bodies
        .iter()
        .map(|(_, body)| serde_json::from_slice(body).unwrap())
        .collect();
    let withdrawal = bodies
        .iter()
        .find(|b| b["type"] == "consent.withdrawn")
        .expect("the withdrawal was delivered");
    assert_eq!(withdrawal["id"], withdrawn["event_id"]);
    assert_eq!(withdrawal["data"]["event_id"], withdrawn["event_id"]);
    assert_eq!(withdrawal["data"]["email"], "jeanne@example.org");
    assert_eq!(withdrawal["data"]["purpose"], "newsletter");
    assert!(withdrawal["occurred_at"].is_string());
    assert!(
        bodies
            .iter()
            .any(|b| b["type"] == "consent.granted" && b["id"] == granted["event_id"])
    );

    let delivered = eventually(Duration::from_secs(10), "deliveries recorded", || async {
        let list = deliveries(&app, &webhook).await;
        (list.len() == 2 && list.iter().all(|d| d["status"] == "delivered")).then_some(list)
    })
    .await;
    assert_eq!(delivered[0]["attempts"], 1);
    assert_eq!(delivered[0]["last_status"], 204);
    // Once delivered everywhere, the sealed payload (which holds the email) is gone.
    let left = app.sql_i64("SELECT COUNT(*) FROM outbox WHERE channel = 'webhook' AND (delivered_at IS NULL OR length(payload) > 0)").await;
    assert_eq!(left, 0);
}

async fn a_failed_delivery_is_retried_and_one_that_never_succeeds_is_dead_and_visible(
    app: TestApp,
) {
    let (base, received) = receiver().await;
    let flaky = subscribe(
        &app,
        &format!("{base}/flaky/crm"),
        &["consent.granted"],
        "flaky-secret",
    )
    .await;
    let down = subscribe(
        &app,
        &format!("{base}/down/old-tool"),
        &["consent.granted"],
        "down-secret",
    )
    .await;
    let (_, other) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": format!("{base}/ok/erasures"), "events": ["subject.erased"]}),
        )
        .await;
    start_worker(&app);
    let (status, granted) = app.post("/api/v1/consents", json!({"subject": {"email": "paul@example.org"}, "purpose": "newsletter", "action": "grant"})).await;
    assert_eq!(status, StatusCode::CREATED);

    // The first attempt fails with a 500; the retry is scheduled within 10 s.
    let first = eventually(
        Duration::from_secs(10),
        "a failed first attempt",
        || async {
            deliveries(&app, &flaky)
                .await
                .into_iter()
                .find(|d| d["attempts"] == 1)
        },
    )
    .await;
    assert_eq!(
        (
            first["status"].clone(),
            first["last_status"].clone(),
            first["last_error"].clone()
        ),
        (json!("pending"), json!(500), json!("HTTP 500"))
    );
    let tried =
        chrono::DateTime::parse_from_rfc3339(first["last_attempt_at"].as_str().unwrap()).unwrap();
    let next =
        chrono::DateTime::parse_from_rfc3339(first["next_attempt_at"].as_str().unwrap()).unwrap();
    assert!(
        next > tried && next - tried <= chrono::Duration::seconds(10),
        "first retry within 10 s: {first}"
    );

    // Ten seconds later (on the server's clock) the retry succeeds, with the same event id.
    app.clock.advance(chrono::Duration::seconds(10));
    let retried = eventually(Duration::from_secs(10), "a successful retry", || async {
        deliveries(&app, &flaky)
            .await
            .into_iter()
            .find(|d| d["status"] == "delivered")
    })
    .await;
    assert_eq!(retried["attempts"], 2);
    {
        let all = received.lock().unwrap();
        let flaky_bodies: Vec<Value> = all
            .iter()
            .filter(|(path, _, _)| path == "flaky")
            .map(|(_, _, body)| serde_json::from_slice(body).unwrap())
            .collect();
        assert_eq!(flaky_bodies.len(), 2);
        assert!(
            flaky_bodies.iter().all(|b| b["id"] == granted["event_id"]),
            "at least once, with one id to deduplicate on"
        );
        assert!(
            all.iter()
                .filter(|(path, _, _)| path == "down")
                .all(|(_, headers, body)| signature_is_valid("down-secret", headers, body))
        );
    }
    assert!(
        deliveries(&app, &other).await.is_empty(),
        "a subscription gets only its event types"
    );

    // A receiver that never answers 2xx is given up after the retry period, and shown dead.
    let pending = deliveries(&app, &down).await;
    assert_eq!(pending[0]["status"], "pending");
    app.clock.advance(chrono::Duration::hours(25));
    let dead = eventually(Duration::from_secs(10), "a dead delivery", || async {
        deliveries(&app, &down)
            .await
            .into_iter()
            .find(|d| d["status"] == "dead")
    })
    .await;
    assert!(dead["attempts"].as_i64().unwrap() >= 2);
    assert_eq!(dead["last_error"], "HTTP 500");
    assert!(dead["next_attempt_at"].is_null());
    let payloads = eventually(Duration::from_secs(10), "the payload wiped", || async {
        let left = app
            .sql_i64("SELECT COUNT(*) FROM outbox WHERE length(payload) > 0")
            .await;
        (left == 0).then_some(left)
    })
    .await;
    assert_eq!(payloads, 0);
}

async fn several_workers_share_the_outbox_and_deliver_each_event_once(app: TestApp) {
    let (base, received) = receiver().await;
    let webhook = subscribe(
        &app,
        &format!("{base}/ok/crm"),
        &["consent.granted"],
        "shared",
    )
    .await;
    for _ in 0..3 {
        start_worker(&app);
    }
    let items: Vec<Value> = (0..30).map(|n| json!({"subject": {"email": format!("p{n}@example.org")}, "purpose": "newsletter", "action": "grant"})).collect();
    let (status, answer) = app
        .post(
            "/api/v1/consents/bulk",
            json!({"provenance": "sync", "items": items}),
        )
        .await;
    assert_eq!(
        (status, answer["accepted"].clone()),
        (StatusCode::OK, json!(30)),
        "{answer}"
    );
    eventually(
        Duration::from_secs(20),
        "30 deliveries recorded",
        || async {
            let list = deliveries(&app, &webhook).await;
            (list.len() == 30 && list.iter().all(|d| d["status"] == "delivered")).then_some(())
        },
    )
    .await;
    let all = received.lock().unwrap();
    let mut ids: Vec<String> = all
        .iter()
        .map(|(_, _, body)| {
            serde_json::from_slice::<Value>(body).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 30, "each event delivered once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30);
}

async fn the_ledger_and_webhook_routes_are_in_the_openapi_document(app: TestApp) {
    let (status, openapi) = app
        .request(reqwest::Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/v1/ledger/verify",
        "/api/v1/ledger/checkpoints",
        "/.well-known/registre/ledger-key",
        "/api/v1/consents/{event_id}/receipt",
        "/api/v1/consents/bulk",
        "/api/v1/webhooks",
        "/api/v1/webhooks/{id}",
        "/api/v1/webhooks/{id}/deliveries",
    ] {
        assert!(
            openapi["paths"].get(path).is_some(),
            "{path} is not documented"
        );
    }
}

async fn a_message_is_queued_only_for_a_topic_an_active_subscription_listens_to(app: TestApp) {
    let consent = |email: &str, action: &str| json!({"subject": {"email": email}, "purpose": "newsletter", "action": action});
    let queued = |topic: &'static str| {
        let app = &app;
        async move {
            app.sql_i64(&format!(
                "SELECT COUNT(*) FROM outbox WHERE channel = 'webhook' AND topic = '{topic}'"
            ))
            .await
        }
    };
    // No subscription: nothing would ever be delivered, so nothing is kept.
    let (status, _) = app
        .post("/api/v1/consents", consent("ada@example.org", "grant"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(queued("consent.granted").await, 0);
    // A subscription counts from the answer that created it, for its own topics only.
    let webhook = subscribe(
        &app,
        "http://127.0.0.1:9/crm",
        &["consent.withdrawn"],
        "s3cret",
    )
    .await;
    app.post("/api/v1/consents", consent("ada@example.org", "withdraw"))
        .await;
    app.post("/api/v1/consents", consent("alan@example.org", "grant"))
        .await;
    assert_eq!(queued("consent.withdrawn").await, 1);
    assert_eq!(queued("consent.granted").await, 0);
    // A paused one listens to nothing.
    let (status, _) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": "http://127.0.0.1:9/paused", "events": ["consent.granted"], "active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.post("/api/v1/consents", consent("grace@example.org", "grant"))
        .await;
    assert_eq!(queued("consent.granted").await, 0);
    // Once deleted, it is no longer listened to.
    let (status, _) = app
        .delete(&format!(
            "/api/v1/webhooks/{}",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert!(status.is_success(), "{status}");
    app.post("/api/v1/consents", consent("alan@example.org", "withdraw"))
        .await;
    assert_eq!(queued("consent.withdrawn").await, 1);
}
