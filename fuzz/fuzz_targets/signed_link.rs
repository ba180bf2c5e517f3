//! Fuzzes the signed links and tokens (`registre-app` tokens.rs): sign-in links to the
//! portal and its session cookie, double opt-in and withdrawal links, downloads, receipts,
//! vendor questionnaires, form CSRF tokens; the portal's and the console's CSRF MACs; and the
//! public pages that open links, through the router.
//!
//! Input: byte 0 picks a mode and a token kind, the rest is the token text or a payload.
//! - raw: the text as a token: it never opens anything (no one has the key), and the CSRF
//!   checks refuse it unless it is the right value;
//! - self-signed: the text as a token's claims, with a valid MAC (what a leaked key would
//!   allow): parsing after the MAC never panics, and a verified token is of its kind and
//!   not expired;
//! - round trip: the text as a JSON payload: signed, it verifies with its kind and the same
//!   payload, never with another kind, another key, once tampered with, or once expired;
//! - pages: the text as the token of the public pages that take one: no server error.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use libfuzzer_sys::fuzz_target;
use registre_app::portal::PortalSession;
use registre_app::tokens::{TokenKind, TokenProblem};
use registre_crypto::{Keyring, MasterKey};
use std::sync::OnceLock;

const KINDS: [TokenKind; 8] = [
    TokenKind::PortalSignIn,
    TokenKind::PortalSession,
    TokenKind::ConfirmConsent,
    TokenKind::Unsubscribe,
    TokenKind::Download,
    TokenKind::VendorQuestionnaire,
    TokenKind::FormCsrf,
    TokenKind::FormReceipt,
];

const CONSOLE_NONCE: &str = "console-nonce-of-the-fuzzer";

struct Fixtures {
    /// Another installation's keys.
    other: Keyring,
    /// A real portal session (from a real sign-in link), for its CSRF token.
    session: Option<PortalSession>,
}

/// The sign-in link's token from the mail written to the outbox.
fn token_in_outbox(dir: &std::path::Path) -> Option<String> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let raw = std::fs::read_to_string(entry.path()).ok()?;
        let mut texts = vec![
            raw.replace("=\r\n", "")
                .replace("=\n", "")
                .replace("=3D", "="),
        ];
        // A base64 body: decode every line that decodes.
        let mut decoded = Vec::new();
        for line in raw.lines() {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(line.trim()) {
                decoded.extend(bytes);
            }
        }
        texts.push(String::from_utf8_lossy(&decoded).into_owned());
        for text in texts {
            if let Some(at) = text.find("sign-in?token=") {
                let token: String = text[at + "sign-in?token=".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c))
                    .collect();
                if token.contains('.') {
                    return Some(token);
                }
            }
        }
    }
    None
}

fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let world = common::world();
        let app = &world.app;
        let session = world.block_on(async {
            app.request_portal_sign_in("jeanne@example.org", "fuzz", registre_domain::Language::En)
                .await
                .unwrap();
            let token = token_in_outbox(&world.data_dir.path().join("outbox"))?;
            let cookie = app.complete_portal_sign_in(&token).await.unwrap().ok()?;
            app.portal_session(&cookie)
        });
        if session.is_none() {
            eprintln!("NOTICE: no portal session (sign-in link not found): portal CSRF not fuzzed");
        }
        Fixtures {
            other: Keyring::new(&MasterKey::generate()),
            session,
        }
    })
}

/// Every opener of a token, on `token`; whether any opened it.
fn open_everything(token: &str) -> bool {
    let app = &common::world().app;
    let mut opened = false;
    for kind in KINDS {
        if let Ok(verified) = app.verify_token(kind, token) {
            assert!(verified.expires_at > app.now());
            opened = true;
        }
    }
    opened |= app.open_receipt(token).is_ok();
    opened |= app.open_download(token).is_ok();
    opened |= app.confirmation_link(token).is_ok();
    opened |= app.unsubscribe_link(token).is_ok();
    opened |= app.portal_session(token).is_some();
    opened
}

fn has_float(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Number(n) => n.is_f64(),
        serde_json::Value::Array(items) => items.iter().any(has_float),
        serde_json::Value::Object(map) => map.values().any(has_float),
        _ => false,
    }
}

fn sign_with(keyring: &Keyring, claims: &[u8]) -> String {
    let body = URL_SAFE_NO_PAD.encode(claims);
    let mac = URL_SAFE_NO_PAD.encode(keyring.token_mac(body.as_bytes()));
    format!("{body}.{mac}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let world = common::world();
    let app = &world.app;
    let fixtures = fixtures();
    let kind = KINDS[(selector >> 2) as usize % KINDS.len()];
    let text = String::from_utf8_lossy(rest);
    match selector & 3 {
        0 => {
            assert!(
                !open_everything(&text),
                "a token made up by the fuzzer opened"
            );
            assert_eq!(
                app.console_sign_in_token_ok(CONSOLE_NONCE, &text),
                text == app.console_sign_in_token(CONSOLE_NONCE)
            );
            if let Some(session) = &fixtures.session {
                assert_eq!(
                    app.check_portal_csrf(session, &text),
                    text == app.portal_csrf(session)
                );
            }
        }
        1 => {
            let token = sign_with(app.keyring(), rest);
            for kind in KINDS {
                // Unknown claims are skipped unread (even bytes that are not UTF-8): only
                // what was read must be well formed.
                if app.verify_token(kind, &token).is_ok()
                    && let Ok(claims) = serde_json::from_slice::<serde_json::Value>(rest)
                {
                    assert!(claims["k"].is_string());
                }
            }
            let _ = open_everything(&token);
            let forged = sign_with(&fixtures.other, rest);
            assert!(!open_everything(&forged), "a token of another key opened");
        }
        2 => {
            let Ok(payload) = serde_json::from_slice::<serde_json::Value>(rest) else {
                return;
            };
            let token = app.sign_token(kind, payload.clone(), chrono::Duration::minutes(5));
            let verified = app
                .verify_token(kind, &token)
                .expect("a fresh token verifies");
            // serde_json's default float parsing is best effort (no `float_roundtrip`): a
            // float may come back one ulp off. Token payloads carry no floats; compare the rest.
            if !has_float(&payload) {
                assert_eq!(verified.payload, payload);
            }
            for other in KINDS.into_iter().filter(|k| *k != kind) {
                assert_eq!(
                    app.verify_token(other, &token).err(),
                    Some(TokenProblem::Invalid)
                );
            }
            let (body, _) = token.split_once('.').unwrap();
            let foreign = format!(
                "{body}.{}",
                URL_SAFE_NO_PAD.encode(fixtures.other.token_mac(body.as_bytes()))
            );
            assert_eq!(
                app.verify_token(kind, &foreign).err(),
                Some(TokenProblem::Invalid)
            );
            // One character changed anywhere: never valid.
            let mut bytes = token.clone().into_bytes();
            let at = rest.len() % bytes.len();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            if tampered != token {
                assert!(
                    app.verify_token(kind, &tampered).is_err(),
                    "tampered at {at}"
                );
            }
            let expired = app.sign_token(kind, payload, chrono::Duration::seconds(-1));
            assert_eq!(
                app.verify_token(kind, &expired).err(),
                Some(TokenProblem::Expired)
            );
        }
        _ => {
            let token: String = serde_urlencoded::to_string([("token", text.as_ref())]).unwrap();
            let r: String = serde_urlencoded::to_string([("r", text.as_ref())]).unwrap();
            let pages = [
                format!("/f/confirm?{token}"),
                format!("/u?{token}"),
                format!("/privacy/sign-in?{token}"),
                format!("/f/newsletter/thanks?{r}"),
                format!("/f/whitepaper/download?{token}"),
                format!("/vendor/questionnaire?{token}"),
                format!(
                    "/privacy/export/{}",
                    URL_SAFE_NO_PAD.encode(text.as_bytes())
                ),
            ];
            let page = &pages[(selector >> 2) as usize % pages.len()];
            let Ok(mut request) = Request::get(page.as_str())
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
            else {
                return;
            };
            if let Ok(cookie) = HeaderValue::from_str(&format!("registre_portal={text}")) {
                request.headers_mut().insert(header::COOKIE, cookie);
            }
            let (response, body) = world.send(request);
            let status = response.status().as_u16();
            assert!(
                status < 500,
                "{page}: {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
});
