//! The public contract: JSON shape of PRODUCT.md, text and SARIF output, guarded fetching.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use registre_audit::fetch::{FetchError, FetchPolicy, fetch, fetch_page};
use registre_audit::{audit_html, audit_html_with_url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const NEWSLETTER_PRECHECKED: &str = r#"<html lang="en"><body>
<form action="https://example.com/subscribe"><input type="email" name="email">
<label><input type="checkbox" name="optin" checked> Send me your newsletter</label><button>Go</button></form>
<p>Example Ltd uses your email to send you the newsletter and keeps it until you unsubscribe.
You have the right to access and erase your data: dpo@example.com. <a href="/privacy">Privacy</a></p>
</body></html>"#;

#[test]
fn a_visitor_sees_a_prechecked_newsletter_box_reported_in_the_product_shape() {
    let report = audit_html(NEWSLETTER_PRECHECKED).unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["summary"],
        serde_json::json!({"errors": 1, "warnings": 0})
    );
    let form = &json["forms"][0];
    assert_eq!(form["index"], 0);
    assert_eq!(form["action"], "https://example.com/subscribe");
    let finding = &form["findings"][0];
    assert_eq!(finding["rule"], "prechecked-consent");
    assert_eq!(finding["level"], "error");
    assert_eq!(finding["element"], "input[name=optin]");
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("ticked in advance")
    );
    assert!(finding["article"].as_str().unwrap().contains("Art. 7"));
    assert!(!finding["fix"].as_str().unwrap().is_empty());
    assert!(report.has_errors());
}

#[test]
fn a_form_without_action_serialises_action_as_null() {
    let report = audit_html("<form><input type=search name=q></form>").unwrap();
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["forms"][0]["action"].is_null());
    assert_eq!(json["forms"][0]["findings"], serde_json::json!([]));
    assert!(!report.has_errors());
}

#[test]
fn french_pages_get_french_messages_and_text_report() {
    let html = r#"<html lang="fr"><form action="https://exemple.fr/s"><input type="email" name="courriel">
    <input type="checkbox" id="o" name="offres" checked><label for="o">Je veux recevoir les offres</label></form></html>"#;
    let report = audit_html(html).unwrap();
    assert_eq!(report.language, "fr");
    let text = report.to_text();
    assert!(text.contains("Formulaire #0"), "{text}");
    assert!(text.contains("cochée par défaut"), "{text}");
    assert!(text.contains("Bilan"), "{text}");
    assert!(text.contains("input#o"), "{text}");
}

#[test]
fn relative_actions_on_an_http_page_are_insecure() {
    let html = "<html lang=en><form action='/signup'><input type=email name=e></form></html>";
    let plain = audit_html_with_url(html, "http://shop.example/page").unwrap();
    assert!(
        plain.forms[0]
            .findings
            .iter()
            .any(|f| f.rule == "insecure-action")
    );
    assert_eq!(
        plain.forms[0].action.as_deref(),
        Some("http://shop.example/signup")
    );
    let secure = audit_html_with_url(html, "https://shop.example/page").unwrap();
    assert!(
        !secure.forms[0]
            .findings
            .iter()
            .any(|f| f.rule == "insecure-action")
    );
    assert!(audit_html_with_url(html, "not a url").is_err());
}

#[test]
fn sarif_output_lists_rules_and_results() {
    let report = audit_html(NEWSLETTER_PRECHECKED).unwrap();
    let sarif = report.to_sarif("https://example.com/");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"].as_array().unwrap().len(), 11);
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "prechecked-consent");
    assert_eq!(result["level"], "error");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "https://example.com/"
    );
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "input[name=optin]"
    );
}

#[test]
fn the_report_reads_back_from_json() {
    let report = audit_html(NEWSLETTER_PRECHECKED).unwrap();
    let minimal = r#"{"forms": [{"index": 0, "action": null, "findings": [{"rule": "prechecked-consent", "level": "error", "message": "m", "element": "input[name=optin]"}]}], "summary": {"errors": 1, "warnings": 0}}"#;
    let parsed: registre_audit::AuditReport = serde_json::from_str(minimal).unwrap();
    assert!(parsed.has_errors());
    let round: registre_audit::AuditReport =
        serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(round, report);
}

/// A one-shot HTTP server on 127.0.0.1 answering each connection with `responses[i]`.
async fn serve(responses: Vec<String>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for response in responses {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(response.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}")
}

fn ok_html(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn private_ok() -> FetchPolicy {
    FetchPolicy {
        allow_private: true,
        timeout: Duration::from_secs(5),
        max_bytes: 1024 * 1024,
    }
}

#[tokio::test]
async fn loopback_is_refused_unless_allowed() {
    let base = serve(vec![ok_html("<form></form>")]).await;
    let err = fetch_page(&base, &FetchPolicy::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::PrivateAddress { .. }), "{err}");
    assert!(err.to_string().contains("--allow-private"));
    let page = fetch_page(&base, &private_ok()).await.unwrap();
    assert_eq!(page, "<form></form>");
}

#[tokio::test]
async fn internal_names_and_metadata_addresses_are_refused() {
    for url in [
        "http://localhost/",
        "http://127.0.0.1:9/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:192.168.0.1]/",
    ] {
        let err = fetch_page(url, &FetchPolicy::default()).await.unwrap_err();
        assert!(
            matches!(err, FetchError::PrivateAddress { .. }),
            "{url}: {err}"
        );
    }
}

#[tokio::test]
async fn only_http_schemes_are_fetched() {
    for url in [
        "file:///etc/passwd",
        "ftp://example.com/",
        "gopher://x/",
        "data:text/html,<form>",
    ] {
        let err = fetch_page(url, &FetchPolicy::default()).await.unwrap_err();
        assert!(
            matches!(err, FetchError::UnsupportedScheme { .. }),
            "{url}: {err}"
        );
    }
    assert!(matches!(
        fetch_page("not a url", &FetchPolicy::default()).await,
        Err(FetchError::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn redirects_are_followed_by_hand_and_checked() {
    let target = serve(vec![ok_html("<p>final</p>")]).await;
    let first = serve(vec![format!(
        "HTTP/1.1 302 Found\r\nLocation: {target}/end\r\nContent-Length: 0\r\n\r\n"
    )])
    .await;
    let page = fetch(&first, &private_ok()).await.unwrap();
    assert_eq!(page.html, "<p>final</p>");
    assert!(page.url.ends_with("/end"));

    let to_file = serve(vec![
        "HTTP/1.1 301 Moved\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n".into(),
    ])
    .await;
    let err = fetch_page(&to_file, &private_ok()).await.unwrap_err();
    assert!(matches!(err, FetchError::UnsupportedScheme { .. }), "{err}");

    let looping = serve(
        (0..10)
            .map(|_| {
                "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n".to_string()
            })
            .collect(),
    )
    .await;
    let err = fetch_page(&looping, &private_ok()).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects { .. }), "{err}");
}

#[tokio::test]
async fn the_unspecified_address_is_refused() {
    let err = fetch_page("http://0.0.0.0:80/", &FetchPolicy::default())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::PrivateAddress { .. }), "{err}");
}

#[tokio::test]
async fn non_html_large_and_failing_pages_get_clear_errors() {
    let json = serve(vec![
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".into(),
    ])
    .await;
    let err = fetch_page(&json, &private_ok()).await.unwrap_err();
    assert_eq!(
        err,
        FetchError::NotHtml {
            content_type: "application/json".into()
        }
    );

    let big_body = "<p>x</p>".repeat(20_000);
    let big = serve(vec![ok_html(&big_body)]).await;
    let small = FetchPolicy {
        max_bytes: 10_000,
        ..private_ok()
    };
    assert_eq!(
        fetch_page(&big, &small).await.unwrap_err(),
        FetchError::TooLarge { limit: 10_000 }
    );

    let chunked_body = "<p>y</p>".repeat(5_000);
    let chunked = serve(vec![format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{chunked_body}\r\n0\r\n\r\n",
        chunked_body.len()
    )])
    .await;
    assert_eq!(
        fetch_page(&chunked, &small).await.unwrap_err(),
        FetchError::TooLarge { limit: 10_000 }
    );

    let missing = serve(vec![
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
    ])
    .await;
    assert_eq!(
        fetch_page(&missing, &private_ok()).await.unwrap_err(),
        FetchError::Status { status: 404 }
    );
}

#[tokio::test]
async fn unreachable_and_silent_servers_fail_in_time() {
    // A port where nothing listens.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let err = fetch_page(&format!("http://127.0.0.1:{port}/"), &private_ok())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Unreachable { .. }), "{err}");

    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let quick = FetchPolicy {
        timeout: Duration::from_millis(300),
        ..private_ok()
    };
    let err = fetch_page(&format!("http://{addr}/"), &quick)
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn a_fetched_page_is_audited() {
    let base = serve(vec![ok_html(NEWSLETTER_PRECHECKED)]).await;
    let page = fetch(&base, &private_ok()).await.unwrap();
    let report = audit_html_with_url(&page.html, &page.url).unwrap();
    assert_eq!(report.summary.errors, 1);
}
