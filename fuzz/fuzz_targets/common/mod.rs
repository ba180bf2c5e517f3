//! What the targets that need a running application share: one application on a fresh
//! SQLite data dir with the demo organisation loaded, its HTTP router (no rate limits), an
//! admin API key, and a tokio runtime to drive them — all built once per process.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, Response};
use registre_app::{App, AppConfig, Principal};
use registre_crypto::{Keyring, MasterKey, SigningKey};
use registre_domain::{Role, SystemClock};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

pub struct World {
    pub rt: tokio::runtime::Runtime,
    pub app: App,
    pub router: axum::Router,
    pub admin_key: String,
    pub data_dir: tempfile::TempDir,
}

/// The demo's touchpoints, and `event`, made here with a field of every type.
pub const TOUCHPOINTS: [&str; 6] = [
    "newsletter",
    "account",
    "whitepaper",
    "contact",
    "support",
    "event",
];

/// A touchpoint with every field type (the demo has no date field), double opt-in.
fn event_touchpoint() -> registre_domain::touchpoint::TouchpointInput {
    serde_json::from_value(serde_json::json!({
        "key": "event", "title": {"fr": "Inscription à l'événement", "en": "Event sign-up"},
        "double_opt_in": true, "purposes": ["newsletter", "promotional_offers", "contact_handling"],
        "fields": [
            {"name": "email", "type": "email", "required": true, "data_category": "contact",
             "label": {"fr": "Adresse e-mail", "en": "Email address"}},
            {"name": "full_name", "type": "text", "required": true, "data_category": "identity",
             "label": {"fr": "Nom", "en": "Name"}, "max_length": 80},
            {"name": "phone", "type": "tel", "required": false, "data_category": "contact",
             "label": {"fr": "Téléphone", "en": "Phone"}},
            {"name": "birth_date", "type": "date", "required": false, "data_category": "identity",
             "label": {"fr": "Date de naissance", "en": "Date of birth"}},
            {"name": "message", "type": "textarea", "required": false, "data_category": "support_content",
             "label": {"fr": "Message", "en": "Message"}, "max_length": 500}]}))
    .unwrap()
}

pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(build)
}

fn build() -> World {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let data_dir = tempfile::Builder::new()
        .prefix("registre-fuzz-")
        .tempdir()
        .unwrap();
    let (app, admin_key) = rt.block_on(async {
        let store = registre_store_sqlite::SqliteStore::open(&data_dir.path().join("registre.db"))
            .await
            .unwrap();
        let app = App::new(
            Arc::new(store),
            Keyring::new(&MasterKey::generate()),
            SigningKey::generate(),
            Arc::new(SystemClock),
            AppConfig::new("http://registre.test", data_dir.path()),
        );
        app.load_demo().await.unwrap();
        app.create_touchpoint(&Principal::cli(), event_touchpoint())
            .await
            .unwrap();
        // Every served notice saved once, as showing the form does.
        for key in TOUCHPOINTS {
            let touchpoint = app.touchpoint(key).await.unwrap();
            app.current_notice(&touchpoint).await.unwrap();
        }
        let admin_key = app
            .create_api_key(&Principal::cli(), "fuzz admin", Role::Admin)
            .await
            .unwrap()
            .key;
        (app, admin_key)
    });
    let options = registre_web::HttpOptions {
        public: registre_web::PublicLimits {
            submissions_per_minute: 0,
            pages_per_minute: 0,
            trust_forwarded_for: false,
        },
        api: registre_web::ApiLimits {
            per_address_per_second: 0,
            per_key_per_second: 0,
            trust_forwarded_for: false,
        },
        transport: Default::default(),
    };
    let router = registre_web::router_with(app.clone(), options);
    World {
        rt,
        app,
        router,
        admin_key,
        data_dir,
    }
}

impl World {
    /// One request through the whole router, in process; the status, headers and body.
    pub fn send(&self, mut request: Request<Body>) -> (Response<()>, Vec<u8>) {
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))));
        self.rt.block_on(async {
            let response = self.router.clone().oneshot(request).await.unwrap();
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            (Response::from_parts(parts, ()), bytes.to_vec())
        })
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }
}

/// An error answer of the API has the JSON error shape; a server error is a bug for any
/// input (the store is local and healthy).
pub fn check_api_answer(status: u16, body: &[u8], what: &str) {
    assert!(
        status < 500,
        "{what}: status {status}: {}",
        String::from_utf8_lossy(body)
    );
    if status >= 400 {
        let value: serde_json::Value = serde_json::from_slice(body)
            .unwrap_or_else(|_| panic!("{what}: {status} body is not JSON"));
        assert!(
            value["error"]["code"].is_string() && value["error"]["message"].is_string(),
            "{what}: {status} body has not the error shape: {value}"
        );
    }
}
