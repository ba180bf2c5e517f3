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
