//! The real binary, as an operator runs it: servers started and stopped, commands run
//! against a data dir (SQLite) or a PostgreSQL database. Shared by backup.rs and keys.rs
//! (the same helpers as crash.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub const BINARY: &str = env!("CARGO_BIN_EXE_registre");
pub const PASSPHRASE: &str = "une phrase de passe assez longue";

pub struct Server {
    pub child: Child,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn registre(data_dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(BINARY);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env("REGISTRE_LOG", "warn")
        .env_remove("REGISTRE_MASTER_KEY")
        .env_remove("REGISTRE_BACKUP_PASSPHRASE");
    match database_url {
        Some(url) => command.env("REGISTRE_DATABASE_URL", url),
        None => command.env_remove("REGISTRE_DATABASE_URL"),
    };
    command
}

/// Runs a command to its end.
pub fn run(data_dir: &Path, database_url: Option<&str>, args: &[&str]) -> Output {
    registre(data_dir, database_url)
        .args(args)
        .output()
        .expect("run registre")
}

pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn start(data_dir: &Path, database_url: Option<&str>) -> Server {
    let mut child = registre(data_dir, database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start registre serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("address in the first line")
        .to_string();
    Server { child, url }
}

/// Loads the demo organisation and creates an admin API key.
pub fn api_key(data_dir: &Path, database_url: Option<&str>) -> String {
    let demo = run(data_dir, database_url, &["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let output = run(
        data_dir,
        database_url,
        &["api-key", "create", "--name", "ops", "--role", "admin"],
    );
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string()
}

pub async fn grant(client: &reqwest::Client, url: &str, key: &str, email: &str) -> Option<Value> {
    let response = client
        .post(format!("{url}/api/v1/consents"))
        .bearer_auth(key)
        .json(&json!({"subject": {"email": email}, "purpose": "newsletter", "action": "grant", "source": "api"}))
        .send()
        .await
        .ok()?;
    if response.status() != reqwest::StatusCode::CREATED {
        return None;
    }
    response.json().await.ok()
}

pub async fn check(client: &reqwest::Client, url: &str, key: &str, email: &str) -> Value {
    client
        .post(format!("{url}/api/v1/consents/check"))
        .bearer_auth(key)
        .json(&json!({"email": email, "purpose": "newsletter"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The access export of a person: needs their key unwrapped and their email opened.
pub async fn export_subject(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    email: &str,
) -> (reqwest::StatusCode, String) {
    let response = client
        .post(format!("{url}/api/v1/subjects/export"))
        .bearer_auth(key)
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

pub async fn erase(client: &reqwest::Client, url: &str, key: &str, email: &str) -> Value {
    let response = client
        .post(format!("{url}/api/v1/subjects/erase"))
        .bearer_auth(key)
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "erase: {}",
        response.status()
    );
    response.json().await.unwrap()
}

pub async fn get_json(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client
        .get(url)
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A second PostgreSQL database for the restore, or `None` on SQLite.
pub async fn restore_target(database_url: Option<&str>) -> Option<String> {
    match database_url {
        Some(_) => Some(
            registre_testkit::fresh_postgres_database()
                .await
                .expect("PostgreSQL answered a moment ago"),
        ),
        None => None,
    }
}
