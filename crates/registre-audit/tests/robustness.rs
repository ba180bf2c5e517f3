//! Hostile and broken input: the auditor answers with a report or a clear error, never a
//! panic, and never spends minutes on a page (no wall-clock assertion here: the limits are
//! structural, see `guard.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use registre_audit::{AuditError, MAX_INPUT_BYTES, audit_html};

fn audit_is_sound(html: &str) {
    match audit_html(html) {
        Ok(report) => {
            let errors: usize = report
                .forms
                .iter()
                .flat_map(|f| &f.findings)
                .filter(|f| f.level == registre_audit::Level::Error)
                .count();
            assert_eq!(errors, report.summary.errors);
            let json = serde_json::to_string(&report).unwrap();
            let back: registre_audit::AuditReport = serde_json::from_str(&json).unwrap();
            assert_eq!(back, report);
            let _ = report.to_text();
            let _ = report.to_sarif("page.html");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[test]
fn a_hundred_thousand_nested_divs_are_refused_clearly() {
    let html = format!(
        "<html><body>{}<form><input type=email></form></body></html>",
        "<div>".repeat(100_000)
    );
    let err = audit_html(&html).unwrap_err();
    assert!(matches!(err, AuditError::TooDeep { .. }), "{err}");
    assert!(err.to_string().contains("nests too deeply"));
}

#[test]
fn deep_nesting_of_every_kind_is_refused_or_audited() {
    for open in [
        "<span>",
        "<b>",
        "<table>",
        "<form><div>",
        "<ul><li>",
        "<p>",
        "<a href=x>",
        "<select>",
        "<svg>",
        "<template>",
        "<font color=red>",
    ] {
        audit_is_sound(&open.repeat(100_000));
    }
}

#[test]
fn formatting_elements_left_open_do_not_multiply_the_tree() {
    let mut html = String::new();
    for i in 0..99 {
        html.push_str(&format!("<b id=b{i}>"));
    }
    html.push_str(&"<p>x".repeat(2_000));
    audit_is_sound(&html);
    let mut html = String::new();
    for i in 0..5_000 {
        html.push_str(&format!("<font size={i}>"));
    }
    html.push_str(&"<p>x".repeat(5_000));
    assert!(matches!(audit_html(&html), Err(AuditError::TooDeep { .. })));
}

#[test]
fn a_fifty_megabyte_page_is_refused_before_parsing() {
    let mut html = String::with_capacity(50 * 1024 * 1024 + 64);
    html.push_str("<html><body><form><input type=email name=e>");
    while html.len() < 50 * 1024 * 1024 {
        html.push_str("<p>lorem ipsum dolor sit amet</p>");
    }
    let err = audit_html(&html).unwrap_err();
    assert_eq!(
        err,
        AuditError::TooLarge {
            size: html.len(),
            limit: MAX_INPUT_BYTES
        }
    );
    assert_eq!(err.code(), "payload_too_large");
}

#[test]
fn a_page_just_under_the_cap_is_audited() {
    let mut html = String::from("<html lang=en><body>");
    let form = "<form action='https://x.example/s'><input type=email name=email><label><input type=checkbox name=nl checked> Newsletter</label></form>";
    while html.len() < MAX_INPUT_BYTES - 200_000 {
        html.push_str("<div><p>Some text about our products, nothing about data.</p></div>");
        if html.len() % 97 == 0 {
            html.push_str(form);
        }
    }
    html.push_str(form);
    let report = audit_html(&html).unwrap();
    assert!(report.has_errors());
}

#[test]
fn binary_garbage_and_non_html_are_refused() {
    let mut garbage = String::new();
    let mut x: u32 = 12345;
    for _ in 0..100_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push(char::from_u32(x % 0x250).unwrap_or('\u{FFFD}'));
    }
    audit_is_sound(&garbage);
    let png = String::from_utf8_lossy(&[
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, b'I', b'H', b'D', b'R',
        0xff, 0xfe,
    ])
    .repeat(1000);
    assert!(matches!(audit_html(&png), Err(AuditError::NotHtml(_))));
    assert!(matches!(audit_html(""), Err(AuditError::NotHtml(_))));
    assert!(matches!(audit_html("   \n "), Err(AuditError::NotHtml(_))));
    assert!(matches!(
        audit_html("{\"forms\": []}"),
        Err(AuditError::NotHtml(_))
    ));
    assert!(matches!(
        audit_html("just some plain text, no markup"),
        Err(AuditError::NotHtml(_))
    ));
}

#[test]
fn broken_markup_is_audited() {
    for html in [
        "<form><input type=email name=e><form><input type=email name=f></form></form>",
        "<table><form><tr><td><input type=email name=mail></td></tr></form></table>",
        "</form></form><form action=http://x><input type=email",
        "<form action='http://a.example/<script>'><input type=\"email\" name='x\"y'><label for=>Nom</label>",
        "<form><input type=checkbox checked name=\"a[]\" value='\"'><label>newsletter et offres</label>",
        "<form><input type=email id=\"\" name=\"\"><input type=checkbox id='a b' checked>Newsletter</form>",
        "<!-- <form> --><form><!-- --><input type=email></form><![CDATA[ x ]]>",
        "<form><select><option><input type=email></select><textarea><input type=checkbox checked>offres</textarea></form>",
        "<html lang><form><input type=email><input type=checkbox aria-labelledby='x y z' checked><span id=x>offres</span>",
        "<form><label><label><input type=checkbox checked>Newsletter</label></label><input type=email></form>",
        "<form><input type=checkbox checked form=nowhere><input type=email form=></form>",
        "<base href='javascript:alert(1)'><form action=foo><input type=email></form>",
        "<base href='http://[::1'><form action=foo><input type=email></form>",
    ] {
        audit_is_sound(html);
    }
}

#[test]
fn many_forms_are_capped() {
    let html = "<form><input type=email name=e></form>".repeat(3000);
    let report = audit_html(&html).unwrap();
    assert_eq!(report.forms.len(), 1000);
    assert_eq!(report.skipped_forms, 2000);
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<form action=http://x.example>".to_string()),
        Just("<form>".to_string()),
        Just("</form>".to_string()),
        Just("<input type=email name=email>".to_string()),
        Just("<input type=checkbox checked>".to_string()),
        Just("<input type=checkbox required id=c>".to_string()),
        Just("<input type=radio checked value=oui>".to_string()),
        Just("<input type=hidden name=optin value=1>".to_string()),
        Just("<label for=c>".to_string()),
        Just("</label>".to_string()),
        Just("<div>".to_string()),
        Just("</div>".to_string()),
        Just("<b>".to_string()),
        Just("<table><tr><td>".to_string()),
        Just("<p>".to_string()),
        Just("<details><summary>".to_string()),
        Just("<script>".to_string()),
        Just("<!--".to_string()),
        Just(" Newsletter et offres partenaires ".to_string()),
        Just(" droit d'accès dpo@x.fr conservées 3 ans ".to_string()),
        Just(" I accept the terms and want offers ".to_string()),
        "[a-zA-Z<>/=\"' \u{e9}\u{2019}&;#]{0,40}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_markup_never_panics(parts in proptest::collection::vec(fragment(), 0..80)) {
        audit_is_sound(&parts.concat());
    }

    #[test]
    fn random_text_never_panics(s in any::<String>()) {
        audit_is_sound(&s);
    }
}
