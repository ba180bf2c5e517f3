//! Fuzzes a public form submission, `POST /f/{touchpoint}`, through the whole router in
//! process (demo touchpoints on a fresh SQLite data dir), then the pure layers it rests on.
//!
//! Input: byte 0 picks the touchpoint, byte 1 holds flags, the rest is the urlencoded body.
//! Flag bit 0 puts a fresh, valid `csrf_token` and `notice_version` in front of the body, so
//! that the fuzzer gets past the token to the field checks and the recording; bit 1 sends
//! another content type, bit 2 no form cookie, bit 3 `?embed=1`, bit 4 `?lang=en`.
//!
//! Invariants: no panic and no server error for any body; a recorded submission (303) was a
//! well-formed body whose receipt opens and lists exactly the consent boxes ticked; field
//! normalisation is idempotent; ticked purposes are a subset of the boxes, once each.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use registre_domain::submission::{check_value, check_values, ticked_purposes};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// A well-formed form cookie (43 url-safe characters).
const BROWSER_SECRET: &str = "fuzzFUZZfuzzFUZZfuzzFUZZfuzzFUZZfuzzFUZZfuz";

fn notices() -> &'static Vec<registre_app::NoticeView> {
    static NOTICES: OnceLock<Vec<registre_app::NoticeView>> = OnceLock::new();
    NOTICES.get_or_init(|| {
        let world = common::world();
        world.block_on(async {
            let mut notices = Vec::new();
            for key in common::TOUCHPOINTS {
                let touchpoint = world.app.touchpoint(key).await.unwrap();
                notices.push(world.app.current_notice(&touchpoint).await.unwrap());
            }
            notices
        })
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let world = common::world();
    let index = data[0] as usize % common::TOUCHPOINTS.len();
    let key = common::TOUCHPOINTS[index];
    let notice = &notices()[index];
    let flags = data[1];
    let mut body = Vec::new();
    if flags & 1 != 0 {
        let token = world.app.form_token(key, &notice.version, BROWSER_SECRET);
        body.extend_from_slice(
            format!("csrf_token={token}&notice_version={}&", notice.version).as_bytes(),
        );
    }
    body.extend_from_slice(&data[2..]);

    let mut query = Vec::new();
    if flags & 8 != 0 {
        query.push("embed=1");
    }
    if flags & 16 != 0 {
        query.push("lang=en");
    }
    let uri = if query.is_empty() {
        format!("/f/{key}")
    } else {
        format!("/f/{key}?{}", query.join("&"))
    };
    let mut request = Request::post(uri).header(
        header::CONTENT_TYPE,
        if flags & 2 == 0 {
            "application/x-www-form-urlencoded"
        } else {
            "text/plain"
        },
    );
    if flags & 4 == 0 {
        request = request.header(header::COOKIE, format!("registre_form={BROWSER_SECRET}"));
    }
    let (response, page) = world.send(request.body(Body::from(body.clone())).unwrap());
    let status = response.status().as_u16();
    assert!(
        status < 500,
        "status {status}: {}",
        String::from_utf8_lossy(&page)
    );

    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body);
    if status == 303 {
        let pairs = pairs
            .as_ref()
            .expect("a recorded form had a well-formed body");
        let location = response.headers()[header::LOCATION].to_str().unwrap();
        let prefix = format!("/f/{key}/thanks?r=");
        assert!(location.starts_with(&prefix), "{location}");
        let token = location[prefix.len()..].split('&').next().unwrap();
        let receipt = world.app.open_receipt(token).expect("the receipt opens");
        assert_eq!(receipt.touchpoint, key);
        let ticked: BTreeSet<&str> = pairs
            .iter()
            .filter_map(|(name, _)| name.strip_prefix("consent."))
            .collect();
        let recorded: BTreeSet<&str> = receipt
            .granted
            .iter()
            .chain(&receipt.pending)
            .map(String::as_str)
            .collect();
        assert_eq!(ticked, recorded);
        assert!(
            flags & 1 != 0 && flags & 4 == 0,
            "recorded without token or cookie"
        );
    }

    // The pure layers, on the same body.
    let Ok(pairs) = pairs else { return };
    let fields = &notice.content.touchpoint.fields;
    let mut values = BTreeMap::new();
    let mut ticked = Vec::new();
    for (name, value) in &pairs {
        if let Some(purpose) = name.strip_prefix("consent.") {
            ticked.push(purpose.to_string());
        } else {
            values.insert(name.clone(), value.clone());
        }
        for field in fields.iter().filter(|f| &f.name == name) {
            if let Ok(Some(kept)) = check_value(field, value) {
                assert_eq!(
                    check_value(field, &kept),
                    Ok(Some(kept.clone())),
                    "normalising {:?} ({:?}) again changed it",
                    value,
                    field.field_type
                );
            }
        }
    }
    if let Ok(checked) = check_values(fields, &values) {
        assert_eq!(
            checked.values.get("email").map(String::as_str),
            Some(checked.email.as_str())
        );
        assert!(
            checked
                .values
                .keys()
                .all(|k| fields.iter().any(|f| &f.name == k))
        );
    }
    if let Ok(purposes) = ticked_purposes(&notice.content.purposes, &ticked) {
        let unique: BTreeSet<&String> = purposes.iter().collect();
        assert_eq!(unique.len(), purposes.len());
        assert!(purposes.iter().all(|p| ticked.contains(p)));
        assert!(ticked.iter().all(|p| purposes.contains(p)));
    }
});
