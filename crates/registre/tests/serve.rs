//! `registre serve` as an operator starts it: native TLS, the refusal of plain HTTP on a
//! public address, and the bound on a client that sends its headers slowly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use support::{registre, text};

/// A running `registre serve` with `args`, and the URL of its first line.
struct Serving {
    child: Child,
    url: String,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data_dir: &Path, args: &[&str]) -> Serving {
    let mut child = registre(data_dir, None)
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start registre serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Serving { child, url }
}

#[test]
fn a_public_address_without_tls_is_refused_unless_said_to_be_behind_a_proxy() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = registre(data_dir.path(), None)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let said = text(&output);
    assert!(said.contains("0.0.0.0:0"), "{said}");
    assert!(
        said.contains("--tls-cert") && said.contains("--insecure-public"),
        "{said}"
    );
    // Nothing was created: refused before the data dir was opened.
    assert!(!data_dir.path().join("registre.db").exists());

    // Half a TLS configuration is a usage error too.
    let output = registre(data_dir.path(), None)
        .args(["serve", "--listen", "0.0.0.0:0", "--tls-cert", "cert.pem"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));

    // Told it is behind a TLS proxy, it serves.
    let server = serve(
        data_dir.path(),
        &["--listen", "0.0.0.0:0", "--insecure-public"],
    );
    assert!(server.url.starts_with("http://0.0.0.0:"), "{}", server.url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_certificate_it_serves_https_and_pins_browsers_to_it() {
    let data_dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_path = data_dir.path().join("cert.pem");
    let key_path = data_dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.key_pair.serialize_pem()).unwrap();
    // A public address is fine with TLS: port 0 on every interface.
    let server = serve(
        data_dir.path(),
        &[
            "--listen",
            "0.0.0.0:0",
            "--tls-cert",
            cert_path.to_str().unwrap(),
            "--tls-key",
            key_path.to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let client = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .build()
        .unwrap();
    let response = client
        .get(format!("https://localhost:{port}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    // Links in pages and mail use https by default.
    let response = client
        .get(format!("https://localhost:{port}/api/v1/touchpoints"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    // A client that does not trust the certificate is not let in.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(true)
        .build()
        .unwrap();
    assert!(
        untrusting
            .get(format!("https://localhost:{port}/healthz"))
            .send()
            .await
            .is_err()
    );
}

#[test]
fn a_client_sending_its_headers_slowly_is_cut_off() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = serve(data_dir.path(), &["--listen", "127.0.0.1:0"]);
    let address = server.url.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    // The start of a request, then nothing: a slow-loris client.
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    // Far more than the server's header read timeout (10 s): the read ends because the
    // server closed the connection, not because this test gave up.
    stream
        .set_read_timeout(Some(registre_web::HEADER_READ_TIMEOUT * 3))
        .unwrap();
    let mut answer = Vec::new();
    let outcome = stream.read_to_end(&mut answer);
    match outcome {
        Ok(_) => {}
        Err(error) => assert!(
            !matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "the connection was still open: {error}"
        ),
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The server itself is fine.
    let mut fresh = std::net::TcpStream::connect(&address).unwrap();
    fresh
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    fresh.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A ledger of `events` events and no signed checkpoint in the data dir (and the database),
/// as after a large import: the next start walks all of it before it signs the head. Returns
/// the ledger's length.
async fn seed_unsigned_ledger(data_dir: &Path, database_url: Option<&str>, events: usize) -> i64 {
    let demo = support::run(data_dir, database_url, &["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let key_file = std::fs::read_to_string(data_dir.join("master.key")).unwrap();
    let keyring = registre_crypto::Keyring::from_key_file(
        &registre_crypto::KeyFile::parse(&key_file).unwrap(),
    );
    let store: std::sync::Arc<dyn registre_store::Store> = match database_url {
        Some(url) => std::sync::Arc::new(
            registre_store_postgres::PostgresStore::connect(url)
                .await
                .unwrap(),
        ),
        None => std::sync::Arc::new(
            registre_store_sqlite::SqliteStore::open(&data_dir.join("registre.db"))
                .await
                .unwrap(),
        ),
    };
    let app = registre_app::App::new(
        store,
        keyring,
        registre_crypto::SigningKey::generate(),
        std::sync::Arc::new(registre_domain::SystemClock),
        registre_app::AppConfig::new("http://localhost", data_dir),
    );
    let started = std::time::Instant::now();
    registre_testkit::seed_events(&app, "newsletter", events).await;
    let (length, _) = app.store().ledger_head().await.unwrap();
    assert!(app.store().latest_checkpoint().await.unwrap().is_none());
    eprintln!(
        "seeded {length} ledger events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    length
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One series of a Prometheus text page.
fn metric(page: &str, name: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| match value.trim() {
            "+Inf" => Some(f64::INFINITY),
            other => other.parse().ok(),
        })
}

/// What an orchestrator sees of a server starting on a large ledger nobody signed yet: it
/// answers at once, 503 `not_ready` while it opens its store and then walks the ledger (alive
/// meanwhile: `/healthz` 200), and 200 only once the head is signed.
async fn a_server_is_ready_only_once_it_walked_and_signed_its_ledger(
    database_url: Option<&str>,
    events: usize,
) {
    let data_dir = tempfile::tempdir().unwrap();
    let length = seed_unsigned_ledger(data_dir.path(), database_url, events).await;
    let (port, metrics_port) = (free_port(), free_port());
    let server = Serving {
        child: registre(data_dir.path(), database_url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env(
                "REGISTRE_METRICS_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            // The load balancer's 503s are not the test's errors.
            .env("REGISTRE_LOG", "warn,tower_http=off")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start registre serve"),
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let mut not_ready = Vec::new();
    let mut walking_while_alive = false;
    loop {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "not ready after 300 s; answers: {not_ready:?}"
        );
        let Ok(response) = client.get(format!("{}/readyz", server.url)).send().await else {
            // Not bound yet.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            continue;
        };
        if response.status() == reqwest::StatusCode::OK {
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body, serde_json::json!({"ready": true}));
            break;
        }
        assert_eq!(response.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_ready", "{body}");
        let message = body["error"]["message"].as_str().unwrap().to_string();
        if message.contains("walking the ledger") {
            let alive = client
                .get(format!("{}/healthz", server.url))
                .send()
                .await
                .unwrap()
                .status();
            let page = client
                .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            walking_while_alive |=
                alive == reqwest::StatusCode::OK && metric(&page, "registre_ready") == Some(0.0);
        }
        if not_ready.last() != Some(&message) {
            not_ready.push(message);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    eprintln!(
        "ready after {:.1} s; before: {not_ready:?}",
        started.elapsed().as_secs_f64()
    );
    assert!(!not_ready.is_empty(), "never seen starting");
    assert!(
        walking_while_alive,
        "never seen alive but not ready during the ledger walk: {not_ready:?}"
    );
    // Ready means the whole ledger was walked and its head signed.
    let page = client
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(metric(&page, "registre_ready"), Some(1.0), "{page}");
    assert_eq!(metric(&page, "registre_ledger_events"), Some(length as f64));
    assert_eq!(metric(&page, "registre_ledger_unsigned_events"), Some(0.0));
    let age = metric(&page, "registre_ledger_checkpoint_age_seconds").unwrap();
    assert!((0.0..300.0).contains(&age), "{age}");
    // The public listener has no metrics.
    let response = client
        .get(format!("{}/metrics", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_the_start_up_walk_on_sqlite() {
    // Enough for the walk to last far longer than the test's polling interval (about 1.4 s
    // in a debug build here; seeding takes a few seconds).
    a_server_is_ready_only_once_it_walked_and_signed_its_ledger(None, 200_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_waits_for_the_start_up_walk_on_postgres() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    // PostgreSQL seeds slower (about 35 s for 200,000 events here) and walks slower (about
    // 1 s for these).
    a_server_is_ready_only_once_it_walked_and_signed_its_ledger(Some(&url), 50_000).await;
}
