//! The readable page of an access export: the same content as the JSON, for a person rather
//! than a program. Self-contained (no script, no external resource), escaped throughout.
use registre_domain::Language;
use serde_json::Value;
use std::fmt::Write;

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) => escape(s),
        Value::Bool(true) => "✓".into(),
        Value::Bool(false) => "✗".into(),
        other => escape(&other.to_string()),
    }
}

fn localised(value: &Value, language: Language) -> String {
    match value.get(language.code()) {
        Some(v) => text(v),
        None => text(value),
    }
}

fn table(out: &mut String, headers: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        out.push_str("<p>—</p>\n");
        return;
    }
    out.push_str("<table><thead><tr>");
    for header in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(header));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// Renders `export` (the JSON of an access request) as an HTML page in `language`.
pub(crate) fn render(export: &Value, language: Language) -> String {
    let fr = language == Language::Fr;
    let t = |fr_text: &'static str, en_text: &'static str| if fr { fr_text } else { en_text };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;line-height:1.5}}table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}th,td{{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}}th{{background:#eee}}</style></head><body>\n",
        language.code(),
        t("Vos données personnelles", "Your personal data")
    );
    let controller = &export["controller"];
    let _ = writeln!(
        out,
        "<h1>{}</h1>",
        t("Vos données personnelles", "Your personal data")
    );
    let _ = writeln!(
        out,
        "<p>{} <strong>{}</strong> — {} {}</p>",
        t("Responsable du traitement :", "Controller:"),
        text(&controller["name"]),
        t("généré le", "generated on"),
        text(&export["generated_at"])
    );
    let subject = &export["subject"];
    let _ = writeln!(out, "<h2>{}</h2>", t("Vous", "You"));
    table(
        &mut out,
        &[
            t("Adresse e-mail", "Email address"),
            t("Connu depuis", "Known since"),
            t("Traitement limité", "Processing restricted"),
            t("Opposition à la prospection", "Objected to marketing"),
        ],
        vec![vec![
            text(&subject["email"]),
            text(&subject["known_since"]),
            text(&subject["restricted"]),
            text(&subject["objected_to_marketing"]),
        ]],
    );
    let _ = writeln!(
        out,
        "<h2>{}</h2>",
        t("Ce que vous nous avez transmis", "What you sent us")
    );
    let rows = export["submissions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let fields = s["fields"]
                .as_object()
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| format!("<strong>{}</strong> : {}", escape(k), text(v)))
                        .collect::<Vec<_>>()
                        .join("<br>")
                })
                .unwrap_or_default();
            vec![
                text(&s["received_at"]),
                text(&s["touchpoint"]),
                fields,
                text(&s["notice_version"]),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            t("Reçu le", "Received"),
            t("Formulaire", "Form"),
            t("Données", "Data"),
            t("Version de l'information", "Notice version"),
        ],
        rows,
    );
    let _ = writeln!(out, "<h2>{}</h2>", t("Vos consentements", "Your consents"));
    let rows = export["consents"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| vec![text(&c["purpose"]), text(&c["state"]), text(&c["since"])])
        .collect();
    table(
        &mut out,
        &[
            t("Finalité", "Purpose"),
            t("État", "State"),
            t("Depuis", "Since"),
        ],
        rows,
    );
    let _ = writeln!(out, "<h3>{}</h3>", t("Historique", "History"));
    let rows = export["consent_history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            vec![
                text(&e["occurred_at"]),
                text(&e["purpose"]),
                text(&e["action"]),
                text(&e["source"]),
                text(&e["notice_version"]),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            t("Date", "Date"),
            t("Finalité", "Purpose"),
            t("Action", "Action"),
            t("Source", "Source"),
            t("Version de l'information", "Notice version"),
        ],
        rows,
    );
    let _ = writeln!(out, "<h2>{}</h2>", t("Vos demandes", "Your requests"));
    let rows = export["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            vec![
                text(&r["received_at"]),
                text(&r["type"]),
                text(&r["status"]),
                text(&r["due_at"]),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            t("Reçue le", "Received"),
            t("Type", "Type"),
            t("État", "Status"),
            t("Échéance", "Due"),
        ],
        rows,
    );
    let _ = writeln!(
        out,
        "<h2>{}</h2>",
        t(
            "Comment vos données sont traitées",
            "How your data is processed"
        )
    );
    let rows = export["purposes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            vec![
                localised(&p["title"], language),
                localised(&p["description"], language),
                text(&p["legal_basis"]),
                p["recipients"]
                    .as_array()
                    .map(|r| r.iter().map(text).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
                format!("{} {}", text(&p["retention_days"]), t("jours", "days")),
            ]
        })
        .collect();
    table(
        &mut out,
        &[
            t("Finalité", "Purpose"),
            t("Description", "Description"),
            t("Base légale", "Legal basis"),
            t("Destinataires", "Recipients"),
            t("Conservation", "Retention"),
        ],
        rows,
    );
    let _ = writeln!(
        out,
        "<h2>{}</h2><p>{}</p>",
        t("Source", "Source"),
        localised(&export["source"]["text"], language)
    );
    let authority = &export["rights"]["authority"];
    let _ = writeln!(
        out,
        "<h2>{}</h2><p>{}</p><p>{} {} — {}</p>",
        t("Vos droits", "Your rights"),
        localised(&export["rights"]["text"], language),
        t("Autorité de contrôle :", "Supervisory authority:"),
        text(&authority["name"]),
        text(&authority["url"])
    );
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_person_typed_is_escaped() {
        let export = serde_json::json!({"subject": {"email": "a@b.fr"}, "submissions": [{"fields": {"message": "<script>x</script>"}}]});
        let html = render(&export, Language::En);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
