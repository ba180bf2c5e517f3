//! The record of processing activities as a print-ready page (`templates/ropa/ropa.html`):
//! what `GET /api/v1/ropa?format=html` serves and `registre export ropa --format html` prints.
//! The page stands alone (its print styles are inside it), so it can be saved or printed as is.
//! Served, its one `<style>` element is allowed by its hash ([`CONTENT_SECURITY_POLICY`]):
//! no `'unsafe-inline'`.
use askama::Template;
use base64::Engine;
use registre_domain::Language;
use registre_domain::ropa::Ropa;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// The print styles, written into the page's `<style>` element as they are.
const STYLESHEET: &str = include_str!("../static/ropa.css");

/// The policy of the served page: its own styles (by their SHA-256) and nothing else.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLESHEET));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
});

struct Labels {
    title: &'static str,
    subtitle: &'static str,
    controller: &'static str,
    dpo: &'static str,
    authority: &'static str,
    generated: &'static str,
    contents: &'static str,
    key: &'static str,
    purpose: &'static str,
    legal_basis: &'static str,
    legitimate_interest: &'static str,
    categories: &'static str,
    special: &'static str,
    subjects: &'static str,
    recipients: &'static str,
    transfers: &'static str,
    retention: &'static str,
    measures: &'static str,
    none: &'static str,
    no_transfer: &'static str,
}

const FR: Labels = Labels {
    title: "Registre des activités de traitement",
    subtitle: "Article 30.1 du règlement général sur la protection des données. Établi à partir des registres tenus dans Registre : finalités, formulaires, sous-traitants et leurs évaluations.",
    controller: "Responsable du traitement",
    dpo: "Délégué à la protection des données",
    authority: "Autorité de contrôle",
    generated: "Date d'établissement",
    contents: "Activités de traitement",
    key: "Identifiant",
    purpose: "Finalité",
    legal_basis: "Base légale",
    legitimate_interest: "Intérêt légitime poursuivi",
    categories: "Catégories de données",
    special: "dont données sensibles (art. 9)",
    subjects: "Catégories de personnes concernées",
    recipients: "Destinataires",
    transfers: "Transferts hors de l'Union européenne et garanties",
    retention: "Durée de conservation",
    measures: "Mesures de sécurité",
    none: "Aucun",
    no_transfer: "Aucun transfert hors de l'Espace économique européen",
};

const EN: Labels = Labels {
    title: "Record of processing activities",
    subtitle: "Article 30(1) of the General Data Protection Regulation. Drawn from the registers kept in Registre: purposes, forms, processors and their assessments.",
    controller: "Controller",
    dpo: "Data protection officer",
    authority: "Supervisory authority",
    generated: "Generated on",
    contents: "Processing activities",
    key: "Identifier",
    purpose: "Purpose",
    legal_basis: "Legal basis",
    legitimate_interest: "Legitimate interest pursued",
    categories: "Categories of data",
    special: "including special categories (Art. 9)",
    subjects: "Categories of data subjects",
    recipients: "Recipients",
    transfers: "Transfers outside the European Union and safeguards",
    retention: "Retention period",
    measures: "Security measures",
    none: "None",
    no_transfer: "No transfer outside the European Economic Area",
};

struct ActivityRow {
    number: usize,
    key: String,
    name: String,
    description: String,
    legal_basis: String,
    legitimate_interest: Option<String>,
    categories: String,
    special: bool,
    subjects: Vec<String>,
    recipients: Vec<String>,
    transfers: Vec<String>,
    retention: String,
    measures: Vec<String>,
}

#[derive(Template)]
#[template(path = "ropa/ropa.html")]
struct RopaPage {
    stylesheet: &'static str,
    lang: &'static str,
    t: &'static Labels,
    controller_name: String,
    controller: String,
    dpo: String,
    authority: String,
    generated_iso: String,
    generated: String,
    activities: Vec<ActivityRow>,
}

/// The record as a standalone HTML page in `language`.
pub fn ropa_html(ropa: &Ropa, language: Language) -> Result<String, askama::Error> {
    let t = if language == Language::Fr { &FR } else { &EN };
    let c = &ropa.controller;
    let activities = ropa
        .activities
        .iter()
        .enumerate()
        .map(|(i, a)| ActivityRow {
            number: i + 1,
            key: a.purpose.clone(),
            name: a.name.get(language).to_string(),
            description: a.description.get(language).to_string(),
            legal_basis: a.legal_basis_label.get(language).to_string(),
            legitimate_interest: a
                .legitimate_interest
                .as_ref()
                .map(|l| l.get(language).to_string()),
            categories: a.categories_text(language),
            special: a.special_categories,
            subjects: a
                .data_subjects
                .iter()
                .map(|s| s.label.get(language).to_string())
                .collect(),
            recipients: a
                .recipients_text(language)
                .split("; ")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            transfers: a
                .transfers_text(language)
                .split("; ")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            retention: a.retention.get(language).to_string(),
            measures: a
                .security_measures
                .iter()
                .map(|m| m.get(language).to_string())
                .collect(),
        })
        .collect();
    let page = RopaPage {
        stylesheet: STYLESHEET,
        lang: language.code(),
        t,
        controller_name: c.name.clone(),
        controller: [
            c.name.as_str(),
            c.address.as_str(),
            c.contact_email.as_str(),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", "),
        dpo: format!("{} ({})", c.dpo_name, c.dpo_email),
        authority: c.authority.clone(),
        generated_iso: registre_domain::clock::canonical_time(ropa.generated_at),
        generated: ropa.generated_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        activities,
    };
    page.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_policy_allows_exactly_the_page_s_own_styles() {
        let page = RopaPage {
            stylesheet: STYLESHEET,
            lang: "en",
            t: &EN,
            controller_name: String::new(),
            controller: String::new(),
            dpo: String::new(),
            authority: String::new(),
            generated_iso: String::new(),
            generated: String::new(),
            activities: Vec::new(),
        };
        let html = page.render().unwrap_or_default();
        let style = html
            .split_once("<style>")
            .and_then(|(_, rest)| rest.split_once("</style>"))
            .map(|(style, _)| style)
            .unwrap_or_default();
        assert!(style.contains("@media print"));
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
        assert!(
            CONTENT_SECURITY_POLICY.contains(&format!("style-src 'sha256-{hash}'")),
            "{}",
            *CONTENT_SECURITY_POLICY
        );
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
        assert_eq!(html.matches("<style").count(), 1);
        assert!(!html.contains("style=\""));
    }
}
