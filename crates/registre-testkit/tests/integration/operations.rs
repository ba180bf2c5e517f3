//! Operating it: the metrics an operator's Prometheus scrapes from a listener of their own,
//! and the readiness a load balancer asks.
use registre_app::StartupTask;
use registre_testkit::{TestApp, store_tests};
use reqwest::StatusCode;
use serde_json::json;

store_tests!(
    an_operator_sees_each_route_and_the_ledger_move_without_any_personal_data,
    the_operator_sees_the_checkpoint_age_the_webhook_queue_and_the_deadlines_due,
    metrics_are_not_on_the_public_listener_and_the_metrics_listener_serves_nothing_else,
    a_load_balancer_waits_for_the_start_up_tasks_before_sending_traffic,
);

/// The metrics router on a listener of its own, as `registre serve --metrics-listen` does.
async fn metrics_listener(app: &TestApp) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = registre_web::metrics_router(app.app.clone());
    tokio::spawn(async move {
        let _ = registre_web::serve(listener, router, std::future::pending()).await;
    });
    url
}

async fn scrape(app: &TestApp, metrics_url: &str) -> String {
    let response = app
        .client
        .get(format!("{metrics_url}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    response.text().await.unwrap()
}

/// The value of the series `name{labels}` (labels as written, in order; "" for none).
fn value(text: &str, name: &str, labels: &str) -> Option<f64> {
    let series = if labels.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{labels}}}")
    };
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| line.strip_prefix(series.as_str())?.strip_prefix(' '))
        .map(|number| match number.trim() {
            "+Inf" => f64::INFINITY,
            "NaN" => f64::NAN,
            other => other.parse().unwrap_or_else(|_| panic!("{name}: {other}")),
        })
}

fn must(text: &str, name: &str, labels: &str) -> f64 {
    value(text, name, labels).unwrap_or_else(|| panic!("no {name}{{{labels}}} in:\n{text}"))
}

async fn an_operator_sees_each_route_and_the_ledger_move_without_any_personal_data(app: TestApp) {
    let metrics = metrics_listener(&app).await;
    let before = scrape(&app, &metrics).await;
    let appended = must(&before, "registre_ledger_appends_total", "");
    let batches = must(&before, "registre_ledger_batch_size_count", "");

    let email = "jeanne.metrics@example.org";
    let (status, event) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": email}, "purpose": "newsletter", "action": "grant", "source": "api"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let event_id = event["event_id"].as_str().unwrap().to_string();
    let (status, _) = app
        .get(&format!("/api/v1/consents/{event_id}/receipt"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            "/api/v1/consents/check",
            json!({"email": email, "purpose": "newsletter"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.get(&format!("/no/such/page/{event_id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let after = scrape(&app, &metrics).await;
    // Each request under the template of its route, its method and its status class.
    assert_eq!(
        must(
            &after,
            "registre_http_requests_total",
            r#"route="/api/v1/consents/{event_id}/receipt",method="GET",status="2xx""#
        ),
        1.0
    );
    assert_eq!(
        must(
            &after,
            "registre_http_requests_total",
            r#"route="/api/v1/consents",method="POST",status="2xx""#
        ),
        1.0
    );
    assert_eq!(
        must(
            &after,
            "registre_http_request_duration_seconds_count",
            r#"route="/api/v1/consents/check",method="POST""#
        ),
        1.0
    );
    assert_eq!(
        must(
            &after,
            "registre_http_request_duration_seconds_bucket",
            r#"route="/api/v1/consents/check",method="POST",le="+Inf""#
        ),
        1.0
    );
    // An unknown path counts under one label, never its own text.
    assert!(
        must(
            &after,
            "registre_http_requests_total",
            r#"route="unmatched",method="GET",status="4xx""#
        ) >= 1.0
    );
    // No id, no address, no path that is not a template.
    for secret in [event_id.as_str(), email, "/no/such/page", "jeanne"] {
        assert!(!after.contains(secret), "{secret:?} is in the metrics");
    }
    // The grant was one ledger event, appended in one group commit.
    assert_eq!(
        must(&after, "registre_ledger_appends_total", ""),
        appended + 1.0
    );
    assert_eq!(
        must(&after, "registre_ledger_batch_size_count", ""),
        batches + 1.0
    );
    assert_eq!(
        must(&after, "registre_ledger_batch_size_bucket", r#"le="1""#),
        must(&before, "registre_ledger_batch_size_bucket", r#"le="1""#) + 1.0
    );
}

async fn the_operator_sees_the_checkpoint_age_the_webhook_queue_and_the_deadlines_due(
    app: TestApp,
) {
    let metrics = metrics_listener(&app).await;
    let text = scrape(&app, &metrics).await;
    assert_eq!(must(&text, "registre_store_up", ""), 1.0);
    let events = must(&text, "registre_ledger_events", "");
    // Nothing signed yet (the test server runs no signer): infinitely old.
    assert_eq!(
        must(&text, "registre_ledger_checkpoint_age_seconds", ""),
        f64::INFINITY
    );
    assert_eq!(must(&text, "registre_ledger_unsigned_events", ""), events);
    assert_eq!(must(&text, "registre_webhook_queue_depth", ""), 0.0);
    assert_eq!(
        must(&text, "registre_webhook_queue_oldest_age_seconds", ""),
        0.0
    );

    app.app.sign_checkpoint(None).await.unwrap();
    // A CRM that is down, listening to grants.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let down = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE }),
        );
        let _ = axum::serve(listener, router).await;
    });
    let (status, webhook) = app
        .post(
            "/api/v1/webhooks",
            json!({"url": down, "events": ["consent.granted"], "secret": "s3cret-for-the-crm"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    let (status, _) = app
        .post(
            "/api/v1/consents",
            json!({"subject": {"email": "paul.metrics@example.org"}, "purpose": "newsletter", "action": "grant", "source": "api"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, request) = app
        .post(
            "/api/v1/requests",
            json!({"type": "access", "email": "paul.metrics@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{request}");

    let text = scrape(&app, &metrics).await;
    assert_eq!(
        must(&text, "registre_ledger_checkpoint_age_seconds", ""),
        0.0
    );
    assert_eq!(must(&text, "registre_ledger_events", ""), events + 1.0);
    assert_eq!(must(&text, "registre_ledger_unsigned_events", ""), 1.0);
    assert_eq!(must(&text, "registre_webhook_queue_depth", ""), 1.0);
    // Due in a month: not yet counted.
    for deadline in ["overdue", "within_7_days"] {
        assert_eq!(
            must(
                &text,
                "registre_rights_requests_due",
                &format!(r#"deadline="{deadline}""#)
            ),
            0.0
        );
    }

    // One delivery round: the CRM answers 503, the message waits for its retry.
    let client = reqwest::Client::new();
    assert_eq!(app.app.deliver_due_webhooks(&client).await.unwrap(), 1);
    let text = scrape(&app, &metrics).await;
    assert_eq!(
        must(
            &text,
            "registre_webhook_delivery_attempts_total",
            r#"outcome="failed""#
        ),
        1.0
    );
    assert_eq!(must(&text, "registre_webhook_queue_depth", ""), 1.0);
    assert_eq!(
        must(&text, "registre_webhook_deliveries_given_up_total", ""),
        0.0
    );

    // Three weeks and a half later the request is due within a week; a week after, overdue.
    let start = app.app.now();
    app.clock.set(start + chrono::Duration::days(25));
    let text = scrape(&app, &metrics).await;
    assert_eq!(
        must(
            &text,
            "registre_rights_requests_due",
            r#"deadline="within_7_days""#
        ),
        1.0
    );
    assert_eq!(
        must(
            &text,
            "registre_rights_requests_due",
            r#"deadline="overdue""#
        ),
        0.0
    );
    assert_eq!(
        must(&text, "registre_ledger_checkpoint_age_seconds", ""),
        25.0 * 86_400.0
    );
    assert_eq!(
        must(&text, "registre_webhook_queue_oldest_age_seconds", ""),
        25.0 * 86_400.0
    );
    app.clock.set(start + chrono::Duration::days(32));
    let text = scrape(&app, &metrics).await;
    assert_eq!(
        must(
            &text,
            "registre_rights_requests_due",
            r#"deadline="overdue""#
        ),
        1.0
    );
    assert_eq!(
        must(
            &text,
            "registre_rights_requests_due",
            r#"deadline="within_7_days""#
        ),
        0.0
    );
}

async fn metrics_are_not_on_the_public_listener_and_the_metrics_listener_serves_nothing_else(
    app: TestApp,
) {
    let (status, body) = app
        .request(reqwest::Method::GET, "/metrics", None, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Not with a key either.
    let (status, _) = app.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let metrics = metrics_listener(&app).await;
    let response = app
        .client
        .get(format!("{metrics}/api/v1/purposes"))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

async fn a_load_balancer_waits_for_the_start_up_tasks_before_sending_traffic(app: TestApp) {
    let metrics = metrics_listener(&app).await;
    let (status, body) = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"ready": true}));
    assert_eq!(
        must(&scrape(&app, &metrics).await, "registre_ready", ""),
        1.0
    );

    let walking = app.app.starting(StartupTask::LedgerWalk);
    let response = app
        .client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("walking the ledger"),
        "{body}"
    );
    // Alive all the same: the store answers.
    let (status, _) = app
        .request(reqwest::Method::GET, "/healthz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = scrape(&app, &metrics).await;
    assert_eq!(must(&text, "registre_ready", ""), 0.0);
    assert_eq!(
        must(
            &text,
            "registre_startup_task_running",
            r#"task="ledger_walk""#
        ),
        1.0
    );

    drop(walking);
    let (status, body) = app
        .request(reqwest::Method::GET, "/readyz", None, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = scrape(&app, &metrics).await;
    assert_eq!(must(&text, "registre_ready", ""), 1.0);
    assert_eq!(
        must(
            &text,
            "registre_startup_task_running",
            r#"task="ledger_walk""#
        ),
        0.0
    );
}
