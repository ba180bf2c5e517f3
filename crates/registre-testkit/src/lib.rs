//! A real Registre server per test: its own data dir, its own SQLite file or PostgreSQL
//! database, bound to `127.0.0.1:0` so tests run in parallel and never sleep.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod browser;

use registre_app::{App, AppConfig, Principal};
use registre_crypto::{Keyring, MasterKey, SigningKey};
use registre_domain::{FixedClock, Role};
use registre_store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the test PostgreSQL answers; `REGISTRE_TEST_POSTGRES` overrides.
pub fn postgres_admin_url() -> String {
    std::env::var("REGISTRE_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, empty PostgreSQL database, or `None` (with a notice) when no server answers.
pub async fn fresh_postgres_database() -> Option<String> {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(conn) => conn,
        Err(error) => {
            if std::env::var("REGISTRE_REQUIRE_POSTGRES").is_ok() {
                panic!(
                    "PostgreSQL is required (REGISTRE_REQUIRE_POSTGRES) but does not answer at {admin}: {error}"
                );
            }
            eprintln!(
                "NOTICE: PostgreSQL does not answer at {admin} ({error}); skipping the PostgreSQL variant of this test"
            );
            return None;
        }
    };
    let name = format!("registre_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base.to_string())
        .unwrap_or(admin);
    Some(format!("{base}/{name}"))
}

pub async fn open_store(
    backend: Backend,
    data_dir: &std::path::Path,
) -> Option<(Arc<dyn Store>, Option<String>)> {
    match backend {
        Backend::Sqlite => {
            let store = registre_store_sqlite::SqliteStore::open(&data_dir.join("registre.db"))
                .await
                .expect("open sqlite");
            Some((Arc::new(store), None))
        }
        Backend::Postgres => {
            let url = fresh_postgres_database().await?;
            let store = registre_store_postgres::PostgresStore::connect(&url)
                .await
                .expect("open postgres");
            Some((Arc::new(store), Some(url)))
        }
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub backend: Backend,
    pub url: String,
    pub app: App,
    pub client: reqwest::Client,
    /// An admin API key.
    pub admin_key: String,
    pub clock: FixedClock,
    pub data_dir: tempfile::TempDir,
    pub database_url: Option<String>,
    pub master_key: MasterKey,
    /// The HTTP server's task, ended by [`TestApp::restart`].
    server: tokio::task::JoinHandle<()>,
    /// The worker that sends the mail of the outbox, as `serve` runs it.
    mail_worker: Option<tokio::task::JoinHandle<()>>,
}

/// Starts a server on `backend` with the demo organisation loaded; `None` when the backend
/// is not available here (PostgreSQL not answering).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, true).await
}

pub async fn spawn_app_with(backend: Backend, demo: bool) -> Option<TestApp> {
    spawn_app_with_options(backend, demo, None).await
}

/// A server with explicit HTTP options (limits, transport) instead of the environment's.
pub async fn spawn_app_with_options(
    backend: Backend,
    demo: bool,
    options: Option<registre_web::HttpOptions>,
) -> Option<TestApp> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    spawn_app_on(
        backend,
        demo,
        options,
        listener,
        SigningKey::generate(),
        |_| {},
    )
    .await
}

/// A server on `listener` signing with `signing_key`, its configuration changed by
/// `configure`: for tests where two servers must know each other's keys (witnesses).
pub async fn spawn_app_on(
    backend: Backend,
    demo: bool,
    options: Option<registre_web::HttpOptions>,
    listener: tokio::net::TcpListener,
    signing_key: SigningKey,
    configure: impl FnOnce(&mut AppConfig),
) -> Option<TestApp> {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (store, database_url) = open_store(backend, data_dir.path()).await?;
    let launched = Launch {
        backend,
        store,
        database_url,
        data_dir,
        master_key: MasterKey::generate(),
        signing_key,
        clock: FixedClock::at(chrono::Utc::now()),
        admin_key: None,
    };
    Some(launched.start(demo, options, listener, configure).await)
}

/// What a server is started from: a store and the keys, data dir and clock that go with it.
struct Launch {
    backend: Backend,
    store: Arc<dyn Store>,
    database_url: Option<String>,
    data_dir: tempfile::TempDir,
    master_key: MasterKey,
    signing_key: SigningKey,
    clock: FixedClock,
    /// The admin key of a server started before on this store; a new one is made otherwise.
    admin_key: Option<String>,
}

impl Launch {
    async fn start(
        self,
        demo: bool,
        options: Option<registre_web::HttpOptions>,
        listener: tokio::net::TcpListener,
        configure: impl FnOnce(&mut AppConfig),
    ) -> TestApp {
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let mut config = AppConfig::new(url.clone(), self.data_dir.path());
        configure(&mut config);
        let app = App::new(
            self.store,
            Keyring::new(&self.master_key),
            self.signing_key,
            Arc::new(self.clock.clone()),
            config,
        );
        if demo {
            app.load_demo().await.expect("demo");
        }
        let admin_key = match self.admin_key {
            Some(key) => key,
            None => {
                app.create_api_key(&Principal::cli(), "test admin", Role::Admin)
                    .await
                    .expect("admin key")
                    .key
            }
        };
        let router = match options {
            Some(options) => registre_web::router_with(app.clone(), options),
            None => registre_web::router(app.clone()),
        };
        let server = tokio::spawn(async move {
            let _ = registre_web::serve(listener, router, std::future::pending()).await;
        });
        let mail_worker = tokio::spawn(
            app.clone()
                .mail_worker(std::time::Duration::from_millis(100)),
        );
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            backend: self.backend,
            url,
            app,
            client,
            admin_key,
            clock: self.clock,
            data_dir: self.data_dir,
            database_url: self.database_url,
            master_key: self.master_key,
            server,
            mail_worker: Some(mail_worker),
        }
    }
}

impl TestApp {
    /// Stops sending the mail of the outbox, as if the process died before its worker ran:
    /// what is committed stays in the outbox.
    pub async fn stop_mail_worker(&mut self) {
        if let Some(worker) = self.mail_worker.take() {
            worker.abort();
            let _ = worker.await;
        }
    }

    /// Stops this server and starts a new one on the same store, keys, data dir and clock
    /// (on a new port), as after a restart of the process. The demo is not loaded again.
    pub async fn restart(mut self) -> TestApp {
        self.stop_mail_worker().await;
        self.server.abort();
        let _ = (&mut self.server).await;
        let signing_key = SigningKey::from_hex(&self.app.signing_key().to_hex()).expect("key");
        drop(self.app);
        let store: Arc<dyn Store> = match (self.backend, &self.database_url) {
            (Backend::Postgres, Some(url)) => Arc::new(
                registre_store_postgres::PostgresStore::connect(url)
                    .await
                    .expect("reopen postgres"),
            ),
            _ => Arc::new(
                registre_store_sqlite::SqliteStore::open(&self.data_dir.path().join("registre.db"))
                    .await
                    .expect("reopen sqlite"),
            ),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let launch = Launch {
            backend: self.backend,
            store,
            database_url: self.database_url,
            data_dir: self.data_dir,
            master_key: self.master_key,
            signing_key,
            clock: self.clock,
            admin_key: Some(self.admin_key),
        };
        launch.start(false, None, listener, |_| {}).await
    }
}

impl TestApp {
    /// A new API key with `role`.
    pub async fn key(&self, role: Role) -> String {
        self.app
            .create_api_key(&Principal::cli(), "test", role)
            .await
            .expect("key")
            .key
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::GET, path, None, Some(&self.admin_key))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(
            reqwest::Method::POST,
            path,
            Some(body),
            Some(&self.admin_key),
        )
        .await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.request(
            reqwest::Method::PUT,
            path,
            Some(body),
            Some(&self.admin_key),
        )
        .await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.request(reqwest::Method::DELETE, path, None, Some(&self.admin_key))
            .await
    }

    /// Any request, with an optional body and key; the answer's body parsed as JSON
    /// (`Value::Null` when it is empty or not JSON).
    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{}", self.url, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every file of the data dir, concatenated: to search for something that must not be
    /// there in clear.
    pub fn data_dir_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut stack = vec![self.data_dir.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(content) = std::fs::read(&path) {
                    bytes.extend(content);
                }
            }
        }
        bytes
    }
}

impl TestApp {
    /// Runs one SQL statement straight on the test's database, behind the server's back: to
    /// tamper with rows and see that verification notices.
    pub async fn sql(&self, statement: &str) {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    self.data_dir.path().join("registre.db").display()
                );
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect sqlite");
                sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                    .execute(&mut conn)
                    .await
                    .expect("sql");
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(
                    self.database_url.as_deref().expect("database url"),
                )
                .await
                .expect("connect postgres");
                sqlx::query(sqlx::AssertSqlSafe(statement.to_string()))
                    .execute(&mut conn)
                    .await
                    .expect("sql");
            }
        }
    }

    /// The first column of the first row of `query`, as an integer.
    pub async fn sql_i64(&self, query: &str) -> i64 {
        use sqlx::Connection;
        match self.backend {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    self.data_dir.path().join("registre.db").display()
                );
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("connect sqlite");
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(query.to_string()))
                    .fetch_one(&mut conn)
                    .await
                    .expect("sql")
            }
            Backend::Postgres => {
                let mut conn = sqlx::PgConnection::connect(
                    self.database_url.as_deref().expect("database url"),
                )
                .await
                .expect("connect postgres");
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(query.to_string()))
                    .fetch_one(&mut conn)
                    .await
                    .expect("sql")
            }
        }
    }

    /// The mails written to `<data-dir>/outbox/` (no SMTP in tests), oldest first, as text.
    pub fn outbox_mails(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> =
            std::fs::read_dir(self.data_dir.path().join("outbox"))
                .into_iter()
                .flatten()
                .flatten()
                .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "eml"))
                .map(|entry| {
                    (
                        entry
                            .metadata()
                            .and_then(|m| m.modified())
                            .unwrap_or(std::time::UNIX_EPOCH),
                        entry.path(),
                    )
                })
                .collect();
        files.sort();
        files
            .into_iter()
            .map(|(_, path)| std::fs::read_to_string(path).expect("mail"))
            .collect()
    }

    /// One number from the database behind the server, whichever store it is (counts of rows
    /// no API shows, such as the webhook outbox).
    pub async fn count(&self, sql: &str) -> i64 {
        self.sql_i64(sql).await
    }
}

/// Polls `probe` until it gives a value or `deadline` passes: for what happens in the
/// background (webhook deliveries), without fixed sleeps.
pub async fn eventually<T, F, Fut>(deadline: std::time::Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = std::time::Instant::now() + deadline;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if std::time::Instant::now() > until {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs a story against both stores: `store_tests!(story_a, story_b);` in a test file makes
/// `sqlite::story_a`, `postgres::story_a`, ... Each story is `async fn(TestApp)`.
#[macro_export]
macro_rules! store_tests {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if let Some(app) = $crate::spawn_app($crate::Backend::Sqlite).await {
                        super::$story(app).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    if let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await {
                        super::$story(app).await;
                    }
                }
            )*
        }
    };
}

/// Creates `count` subjects `bench{n}@example.org` who granted `purpose`, each person
/// created in the change set of their grant (one group-committed transaction per batch);
/// returns their ids in order.
pub async fn seed_grants(app: &App, purpose: &str, count: usize) -> Vec<uuid::Uuid> {
    use registre_domain::ledger::{ConsentAction, ConsentSource, NewConsentEvent};
    const CHUNK: usize = 4_096;
    let now = app.now();
    let mut ids = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let end = (start + CHUNK).min(count);
        let mut changes = Vec::with_capacity(end - start);
        for n in start..end {
            let email =
                registre_domain::Email::parse(&format!("bench{n}@example.org")).expect("email");
            let (key, wrapped) = app.keyring().new_subject_key().expect("key");
            let subject = registre_store::SubjectRecord {
                id: uuid::Uuid::now_v7(),
                blind_index: app.blind_index(&email),
                wrapped_key: wrapped.0,
                email_sealed: key
                    .seal_str(registre_app::subjects::EMAIL_CONTEXT, email.as_str())
                    .expect("seal"),
                external_id_index: None,
                external_id_sealed: None,
                restricted: false,
                objected_to_marketing: false,
                created_at: now,
            };
            ids.push(subject.id);
            changes.push(registre_store::ChangeSet {
                events: vec![NewConsentEvent {
                    event_id: uuid::Uuid::now_v7(),
                    subject_id: subject.id,
                    purpose: Some(purpose.to_string()),
                    action: ConsentAction::Grant,
                    source: ConsentSource::Import,
                    touchpoint: None,
                    notice_version: None,
                    provenance: Some("benchmark seed".into()),
                    occurred_at: None,
                }],
                new_subjects: vec![subject],
                at: now,
                ..Default::default()
            });
        }
        for result in app.store().commit(changes).await {
            result.expect("seed grants");
        }
        start = end;
    }
    ids
}

/// After [`seed_grants`]: `per_subject` more withdraw/grant events for each of `ids`, a
/// person's events written together, in large durable transactions (the store of issue 6:
/// 1 million people, 10 million events).
pub async fn seed_history(app: &App, purpose: &str, ids: &[uuid::Uuid], per_subject: usize) {
    let now = app.now();
    for people in ids.chunks(2_000) {
        let changes = people
            .iter()
            .map(|id| registre_store::ChangeSet {
                events: (0..per_subject)
                    .map(|i| seed_event(*id, purpose, i))
                    .collect(),
                at: now,
                ..Default::default()
            })
            .collect();
        for result in app.store().commit(changes).await {
            result.expect("seed history");
        }
    }
}

/// The `n`th seeded event of a subject: withdrawals and grants in turn, marked as a seed.
fn seed_event(
    subject_id: uuid::Uuid,
    purpose: &str,
    n: usize,
) -> registre_domain::ledger::NewConsentEvent {
    use registre_domain::ledger::{ConsentAction, ConsentSource, NewConsentEvent};
    NewConsentEvent {
        event_id: uuid::Uuid::now_v7(),
        subject_id,
        purpose: Some(purpose.to_string()),
        action: if n.is_multiple_of(2) {
            ConsentAction::Withdraw
        } else {
            ConsentAction::Grant
        },
        source: ConsentSource::Import,
        touchpoint: None,
        notice_version: None,
        provenance: Some("benchmark seed".into()),
        occurred_at: None,
    }
}

/// Appends `count` grant/withdraw events spread over 1,000 subjects: a long ledger for the
/// `verify` benchmark, written in large durable transactions.
pub async fn seed_events(app: &App, purpose: &str, count: usize) {
    let ids = seed_grants(app, purpose, 1_000).await;
    let now = app.now();
    let mut written = 1_000;
    while written < count {
        let mut changes = Vec::with_capacity(100);
        for _ in 0..100 {
            let size = 1_000.min(count - written);
            if size == 0 {
                break;
            }
            let events = (0..size)
                .map(|i| seed_event(ids[(written + i) % ids.len()], purpose, written + i))
                .collect();
            changes.push(registre_store::ChangeSet {
                events,
                at: now,
                ..Default::default()
            });
            written += size;
        }
        for result in app.store().commit(changes).await {
            result.expect("seed events");
        }
    }
}

/// A mail written to the file outbox, decoded.
#[derive(Clone, Debug)]
pub struct OutboxMail {
    pub file: std::path::PathBuf,
    pub to: String,
    pub subject: String,
    /// The text parts, decoded (the plain text first, then the HTML).
    pub body: String,
}

impl TestApp {
    /// Every `.eml` in `<data-dir>/outbox/`, oldest first.
    pub fn decoded_mails(&self) -> Vec<OutboxMail> {
        let mut files: Vec<_> = std::fs::read_dir(self.data_dir.path().join("outbox"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .into_iter()
            .filter_map(|file| parse_eml(&file, &std::fs::read_to_string(&file).ok()?))
            .collect()
    }

    /// The mails sent to `to`.
    pub fn mails_to(&self, to: &str) -> Vec<OutboxMail> {
        self.decoded_mails()
            .into_iter()
            .filter(|m| m.to.contains(to))
            .collect()
    }

    /// [`Self::mails_to`] once at least `count` went to `to`: mail committed to the outbox
    /// (double opt-in) is sent by the mail worker a moment after the commit.
    pub async fn wait_for_mails_to(&self, to: &str, count: usize) -> Vec<OutboxMail> {
        eventually(std::time::Duration::from_secs(10), "mails", || async {
            let mails = self.mails_to(to);
            (mails.len() >= count).then_some(mails)
        })
        .await
    }

    /// [`Self::outbox_mails`] once at least `count` are written (see
    /// [`Self::wait_for_mails_to`]).
    pub async fn wait_for_outbox_mails(&self, count: usize) -> Vec<String> {
        eventually(std::time::Duration::from_secs(10), "mails", || async {
            let mails = self.outbox_mails();
            (mails.len() >= count).then_some(mails)
        })
        .await
    }
}

/// The outbox's `.eml` as a mail client reads it: headers decoded, and every text part
/// (the plain text first, then the HTML) decoded from its transfer encoding.
fn parse_eml(file: &std::path::Path, text: &str) -> Option<OutboxMail> {
    let mail = mailparse::parse_mail(text.as_bytes()).ok()?;
    let header = |name: &str| {
        mail.headers
            .iter()
            .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    let mut parts: Vec<&mailparse::ParsedMail<'_>> = mail.parts().collect();
    parts.retain(|p| p.subparts.is_empty() && p.ctype.mimetype.starts_with("text/"));
    parts.sort_by_key(|p| p.ctype.mimetype != "text/plain");
    let body = parts
        .iter()
        .filter_map(|p| p.get_body().ok())
        .map(|b| b.replace("\r\n", "\n"))
        .collect::<Vec<_>>()
        .join("\n");
    Some(OutboxMail {
        file: file.to_path_buf(),
        to: header("To"),
        subject: header("Subject"),
        body,
    })
}

/// The value of the hidden input `name` in a page (a CSRF token, a confirmation token).
pub fn hidden_input(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The first `http(s)://...` link in `text` that contains `part`.
pub fn link_in(text: &str, part: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
        .find(|word| {
            (word.starts_with("http://") || word.starts_with("https://")) && word.contains(part)
        })
        .map(str::to_string)
}
