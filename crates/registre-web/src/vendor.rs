//! The page a vendor's contact opens from a questionnaire link (`/vendor/questionnaire?token=`):
//! the due-diligence questions in French or English, no account, no script. The link is the
//! vendor's only credential; the answers become a draft the DPO accepts.
//!
//! A server-rendered page in the shared layout (`templates/vendor/`, `base.html`); the
//! handlers only translate between the form and the use cases.
use crate::i18n::{self, Messages};
use crate::layout::{self, Chrome};
use crate::public::pages::{MessagePage, site_name};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use registre_app::processors::{VendorProblem, VendorQuestionnaire};
use registre_app::tokens::TokenProblem;
use registre_domain::processor::{
    AssessmentInput, DataMappingAnswer, DpoAnswer, Evidence, MEASURES, ProtectionAnswer,
    SecurityTestsAnswer, TEST_KINDS, ThirdPartiesAnswer,
};
use registre_domain::{DomainError, Language};
use serde::Deserialize;

/// Largest form body the page takes.
const MAX_FORM: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/vendor/questionnaire",
            axum::routing::get(show).post(submit),
        )
        .layer(DefaultBodyLimit::max(MAX_FORM))
}

/// Every text of the page, in one language.
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub title: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub dpo_legend: &'static str,
    pub dpo_question: &'static str,
    pub dpo_name: &'static str,
    pub dpo_email: &'static str,
    pub mapping_legend: &'static str,
    pub mapping_question: &'static str,
    pub mapping_date: &'static str,
    pub third_legend: &'static str,
    pub third_question: &'static str,
    pub third_recipients: &'static str,
    pub third_controls: &'static str,
    pub protection_legend: &'static str,
    pub measures_question: &'static str,
    pub measures_other: &'static str,
    pub incident_question: &'static str,
    pub hours: &'static str,
    pub tests_legend: &'static str,
    pub tests_question: &'static str,
    pub tests_kinds: &'static str,
    pub tests_date: &'static str,
    pub evidence: &'static str,
    pub one_per_line: &'static str,
    pub submit: &'static str,
    pub errors_title: &'static str,
    pub required: &'static str,
    pub not_a_date: &'static str,
    pub not_hours: &'static str,
}

pub const FR: Texts = Texts {
    lang: "fr",
    other_lang: "en",
    title: "Questionnaire de conformité RGPD",
    yes: "Oui",
    no: "Non",
    dpo_legend: "1. Délégué à la protection des données",
    dpo_question: "Avez-vous désigné un délégué à la protection des données (DPO) ?",
    dpo_name: "Nom du DPO",
    dpo_email: "Adresse e-mail du DPO",
    mapping_legend: "2. Cartographie des données",
    mapping_question: "Avez-vous cartographié toutes les données personnelles que vous traitez ?",
    mapping_date: "Date de la dernière mise à jour de la cartographie",
    third_legend: "3. Transmission à des tiers",
    third_question: "Transmettez-vous des données personnelles à des tiers (sous-traitants ultérieurs, partenaires) ?",
    third_recipients: "À qui ?",
    third_controls: "Comment les contrôlez-vous et les vérifiez-vous ?",
    protection_legend: "4. Protection des données et incidents",
    measures_question: "Quelles mesures de protection appliquez-vous ?",
    measures_other: "Autres mesures",
    incident_question: "Avez-vous une procédure en cas de perte, de vol ou de piratage des données ?",
    hours: "Sous combien d'heures nous prévenez-vous d'une violation de données ?",
    tests_legend: "5. Tests de sécurité",
    tests_question: "Réalisez-vous des tests de sécurité ?",
    tests_kinds: "Lesquels ?",
    tests_date: "Date du dernier test",
    evidence: "Justificatifs : référence d'un certificat, d'une politique, d'un rapport",
    one_per_line: "un par ligne",
    submit: "Envoyer les réponses",
    errors_title: "Certaines réponses sont à corriger",
    required: "merci de répondre par oui ou par non",
    not_a_date: "la date n'est pas valide (AAAA-MM-JJ)",
    not_hours: "indiquez un nombre d'heures",
};

pub const EN: Texts = Texts {
    lang: "en",
    other_lang: "fr",
    title: "GDPR due-diligence questionnaire",
    yes: "Yes",
    no: "No",
    dpo_legend: "1. Data protection officer",
    dpo_question: "Have you appointed a data protection officer (DPO)?",
    dpo_name: "DPO's name",
    dpo_email: "DPO's email address",
    mapping_legend: "2. Data mapping",
    mapping_question: "Have you mapped all the personal data you process?",
    mapping_date: "Date of the map's last update",
    third_legend: "3. Data passed to third parties",
    third_question: "Do you pass personal data to third parties (sub-processors, partners)?",
    third_recipients: "To whom?",
    third_controls: "How do you control and verify them?",
    protection_legend: "4. Protection and incidents",
    measures_question: "Which protection measures do you apply?",
    measures_other: "Other measures",
    incident_question: "Do you have a procedure for data loss, theft or hacking?",
    hours: "Within how many hours do you tell us of a data breach?",
    tests_legend: "5. Security tests",
    tests_question: "Do you run security tests?",
    tests_kinds: "Which ones?",
    tests_date: "Date of the last test",
    evidence: "Evidence: reference of a certificate, a policy, a report",
    one_per_line: "one per line",
    submit: "Send the answers",
    errors_title: "Some answers need correcting",
    required: "please answer yes or no",
    not_a_date: "the date is not valid (YYYY-MM-DD)",
    not_hours: "give a number of hours",
};

pub fn texts(language: Language) -> &'static Texts {
    match language {
        Language::Fr => &FR,
        Language::En => &EN,
    }
}

/// A checkbox choice.
pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// What the form shows in its fields: the vendor's last answers, or what they just sent.
#[derive(Default)]
pub struct FormValues {
    pub dpo_appointed: String,
    pub dpo_name: String,
    pub dpo_email: String,
    pub dpo_evidence: String,
    pub mapping_complete: String,
    pub mapping_last_updated_on: String,
    pub mapping_evidence: String,
    pub third_parties_shares: String,
    pub third_parties_recipients: String,
    pub third_parties_controls: String,
    pub third_parties_evidence: String,
    pub measures: Vec<String>,
    pub measures_other: String,
    pub incident_procedure: String,
    pub breach_notification_hours: String,
    pub protection_evidence: String,
    pub tests_performed: String,
    pub test_kinds: Vec<String>,
    pub tests_last_on: String,
    pub tests_evidence: String,
}

fn yes_no(answer: Option<bool>) -> String {
    match answer {
        Some(true) => "yes".into(),
        Some(false) => "no".into(),
        None => String::new(),
    }
}

fn references(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .filter_map(|e| e.reference.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

impl FormValues {
    fn from_input(input: &AssessmentInput) -> Self {
        let mut v = Self::default();
        if let Some(a) = &input.dpo {
            v.dpo_appointed = yes_no(Some(a.appointed));
            v.dpo_name = a.name.clone().unwrap_or_default();
            v.dpo_email = a.email.clone().unwrap_or_default();
            v.dpo_evidence = references(&a.evidence);
        }
        if let Some(a) = &input.data_mapping {
            v.mapping_complete = yes_no(Some(a.complete));
            v.mapping_last_updated_on =
                a.last_updated_on.map(|d| d.to_string()).unwrap_or_default();
            v.mapping_evidence = references(&a.evidence);
        }
        if let Some(a) = &input.third_parties {
            v.third_parties_shares = yes_no(Some(a.shares_data));
            v.third_parties_recipients = a.recipients.join("\n");
            v.third_parties_controls = a.controls.clone().unwrap_or_default();
            v.third_parties_evidence = references(&a.evidence);
        }
        if let Some(a) = &input.protection {
            let known: Vec<&str> = MEASURES.iter().map(|(k, _, _)| *k).collect();
            v.measures = a
                .measures
                .iter()
                .filter(|m| known.contains(&m.as_str()))
                .cloned()
                .collect();
            v.measures_other = a
                .measures
                .iter()
                .filter(|m| !known.contains(&m.as_str()))
                .cloned()
                .collect::<Vec<_>>()
                .join("\n");
            v.incident_procedure = yes_no(Some(a.incident_procedure));
            v.breach_notification_hours = a
                .breach_notification_hours
                .map(|h| h.to_string())
                .unwrap_or_default();
            v.protection_evidence = references(&a.evidence);
        }
        if let Some(a) = &input.security_tests {
            v.tests_performed = yes_no(Some(a.performed));
            let known: Vec<&str> = TEST_KINDS.iter().map(|(k, _, _)| *k).collect();
            v.test_kinds = a
                .kinds
                .iter()
                .filter(|k| known.contains(&k.as_str()))
                .cloned()
                .collect();
            v.tests_last_on = a.last_on.map(|d| d.to_string()).unwrap_or_default();
            v.tests_evidence = references(&a.evidence);
        }
        v
    }

    fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let all = |name: &str| {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .collect::<Vec<_>>()
        };
        Self {
            dpo_appointed: one("dpo_appointed"),
            dpo_name: one("dpo_name"),
            dpo_email: one("dpo_email"),
            dpo_evidence: one("dpo_evidence"),
            mapping_complete: one("mapping_complete"),
            mapping_last_updated_on: one("mapping_last_updated_on"),
            mapping_evidence: one("mapping_evidence"),
            third_parties_shares: one("third_parties_shares"),
            third_parties_recipients: one("third_parties_recipients"),
            third_parties_controls: one("third_parties_controls"),
            third_parties_evidence: one("third_parties_evidence"),
            measures: all("measures"),
            measures_other: one("measures_other"),
            incident_procedure: one("incident_procedure"),
            breach_notification_hours: one("breach_notification_hours"),
            protection_evidence: one("protection_evidence"),
            tests_performed: one("tests_performed"),
            test_kinds: all("test_kinds"),
            tests_last_on: one("tests_last_on"),
            tests_evidence: one("tests_evidence"),
        }
    }

    /// The answers as the use case takes them, or what to correct, in the page's language.
    fn to_input(&self, t: &Texts) -> Result<AssessmentInput, Vec<String>> {
        let mut errors = Vec::new();
        // French puts a space before a colon; English does not.
        let colon = if t.lang == "fr" { " :" } else { ":" };
        let mut answer = |value: &str, question: &str| match value {
            "yes" => true,
            "no" => false,
            _ => {
                errors.push(format!("{question}{colon} {}", t.required));
                false
            }
        };
        let dpo_appointed = answer(&self.dpo_appointed, t.dpo_question);
        let mapping_complete = answer(&self.mapping_complete, t.mapping_question);
        let shares = answer(&self.third_parties_shares, t.third_question);
        let incident = answer(&self.incident_procedure, t.incident_question);
        let performed = answer(&self.tests_performed, t.tests_question);
        let mut date = |value: &str, label: &str| {
            if value.is_empty() {
                return None;
            }
            match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
                Ok(date) => Some(date),
                Err(_) => {
                    errors.push(format!("{label}{colon} {}", t.not_a_date));
                    None
                }
            }
        };
        let mapping_date = date(&self.mapping_last_updated_on, t.mapping_date);
        let tests_date = date(&self.tests_last_on, t.tests_date);
        let hours = if self.breach_notification_hours.is_empty() {
            None
        } else {
            match self.breach_notification_hours.parse::<i64>() {
                Ok(hours) => Some(hours),
                Err(_) => {
                    errors.push(format!("{}{colon} {}", t.hours, t.not_hours));
                    None
                }
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let lines = |text: &str| {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let evidence = |text: &str| {
            lines(text)
                .into_iter()
                .map(|r| Evidence {
                    reference: Some(r),
                    file_id: None,
                })
                .collect()
        };
        let optional = |text: &str| {
            if text.is_empty() {
                None
            } else {
                Some(text.to_string())
            }
        };
        let mut measures = self.measures.clone();
        measures.extend(lines(&self.measures_other));
        Ok(AssessmentInput {
            dpo: Some(DpoAnswer {
                appointed: dpo_appointed,
                name: optional(&self.dpo_name),
                email: optional(&self.dpo_email),
                answered_on: None,
                evidence: evidence(&self.dpo_evidence),
            }),
            data_mapping: Some(DataMappingAnswer {
                complete: mapping_complete,
                last_updated_on: mapping_date,
                answered_on: None,
                evidence: evidence(&self.mapping_evidence),
            }),
            third_parties: Some(ThirdPartiesAnswer {
                shares_data: shares,
                recipients: lines(&self.third_parties_recipients),
                controls: optional(&self.third_parties_controls),
                answered_on: None,
                evidence: evidence(&self.third_parties_evidence),
            }),
            protection: Some(ProtectionAnswer {
                measures,
                incident_procedure: incident,
                breach_notification_hours: hours,
                answered_on: None,
                evidence: evidence(&self.protection_evidence),
            }),
            security_tests: Some(SecurityTestsAnswer {
                performed,
                kinds: self.test_kinds.clone(),
                last_on: tests_date,
                answered_on: None,
                evidence: evidence(&self.tests_evidence),
            }),
            assessed_at: None,
            source: None,
        })
    }
}

#[derive(Template)]
#[template(path = "vendor/questionnaire.html")]
struct QuestionnairePage {
    chrome: Chrome,
    t: &'static Messages,
    q: &'static Texts,
    token: String,
    heading: String,
    intro: String,
    validity: String,
    /// What the DPO asked to correct, when the answers were sent back.
    returned: Option<(&'static str, String)>,
    v: FormValues,
    measures: Vec<Choice>,
    test_kinds: Vec<Choice>,
    errors: Vec<String>,
}

fn choices(
    options: &[(&'static str, &'static str, &'static str)],
    checked: &[String],
    language: Language,
) -> Vec<Choice> {
    options
        .iter()
        .map(|(value, fr, en)| Choice {
            value,
            label: if language == Language::Fr { fr } else { en },
            checked: checked.iter().any(|c| c == value),
        })
        .collect()
}

/// The shared layout's headers, and no referrer: the link is in the address.
fn page(status: StatusCode, template: &impl Template) -> Response {
    let mut response = layout::render(status, template, "'none'");
    let headers = response.headers_mut();
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn questionnaire(
    status: StatusCode,
    site_name: String,
    form: &VendorQuestionnaire,
    language: Language,
    token: &str,
    values: FormValues,
    errors: Vec<String>,
) -> Response {
    let t = i18n::messages(language);
    let q = texts(language);
    let expires = form.expires_at.format("%Y-%m-%d").to_string();
    let (intro, validity) = match language {
        Language::Fr => (
            format!(
                "{} vous demande de répondre à ces questions sur la protection des données que {} traite pour son compte (article 28 du RGPD). Vos réponses sont transmises à son délégué à la protection des données ({}), qui les examinera.",
                form.organisation_name, form.processor_name, form.dpo_email
            ),
            format!("Ce lien est valable jusqu'au {expires} et ne sert qu'une fois."),
        ),
        Language::En => (
            format!(
                "{} asks you to answer these questions on how {} protects the personal data it processes on its behalf (GDPR Article 28). Your answers go to its data protection officer ({}), who will review them.",
                form.organisation_name, form.processor_name, form.dpo_email
            ),
            format!("This link is valid until {expires} and can be used once."),
        ),
    };
    let heading = format!("{}{} {}", q.title, t.colon, form.processor_name);
    let mut chrome = Chrome::new(heading.clone(), site_name);
    chrome.other_language_href = Some(format!(
        "/vendor/questionnaire?token={token}&lang={}",
        q.other_lang
    ));
    let measures = choices(&MEASURES, &values.measures, language);
    let test_kinds = choices(&TEST_KINDS, &values.test_kinds, language);
    let page_data = QuestionnairePage {
        chrome,
        t,
        q,
        token: token.to_string(),
        heading,
        intro,
        validity,
        returned: form.returned_comment.clone().map(|comment| {
            let label = match language {
                Language::Fr => "Vos réponses vous ont été renvoyées pour correction :",
                Language::En => "Your answers were sent back to you for correction:",
            };
            (label, comment)
        }),
        v: values,
        measures,
        test_kinds,
        errors,
    };
    page(status, &page_data)
}

fn message(
    status: StatusCode,
    site_name: String,
    language: Language,
    heading: &str,
    body: &str,
) -> Response {
    let page_data = MessagePage {
        chrome: Chrome::new(heading, site_name),
        t: i18n::messages(language),
        heading: heading.to_string(),
        paragraphs: vec![body.to_string()],
        link: None,
    };
    page(status, &page_data)
}

fn link_problem(problem: TokenProblem, site_name: String, language: Language) -> Response {
    let (status, fr, en) = match problem {
        TokenProblem::Invalid => (
            StatusCode::NOT_FOUND,
            (
                "Ce lien n'est pas valide",
                "Vérifiez qu'il a été copié en entier, ou demandez-en un nouveau à la personne qui vous l'a envoyé.",
            ),
            (
                "This link is not valid",
                "Check that it was copied whole, or ask the person who sent it for a new one.",
            ),
        ),
        TokenProblem::Expired => (
            StatusCode::GONE,
            (
                "Ce lien a expiré",
                "Les liens du questionnaire sont valables 30 jours. Demandez-en un nouveau à la personne qui vous l'a envoyé.",
            ),
            (
                "This link has expired",
                "Questionnaire links are valid for 30 days. Ask the person who sent it for a new one.",
            ),
        ),
        TokenProblem::AlreadyUsed => (
            StatusCode::GONE,
            (
                "Ce lien a déjà servi",
                "Les réponses envoyées avec ce lien ont bien été reçues. Pour les modifier, demandez un nouveau lien.",
            ),
            (
                "This link was already used",
                "The answers sent with this link were received. To change them, ask for a new link.",
            ),
        ),
    };
    let (heading, body) = if language == Language::Fr { fr } else { en };
    message(status, site_name, language, heading, body)
}

fn internal(site_name: String, language: Language, error: &registre_app::AppError) -> Response {
    tracing::error!(%error, "the vendor questionnaire failed");
    let (heading, body) = match language {
        Language::Fr => (
            "Une erreur est survenue",
            "Vos réponses n'ont pas été enregistrées. Réessayez dans un instant.",
        ),
        Language::En => (
            "Something went wrong",
            "Your answers were not saved. Try again in a moment.",
        ),
    };
    message(
        StatusCode::INTERNAL_SERVER_ERROR,
        site_name,
        language,
        heading,
        body,
    )
}

#[derive(Deserialize)]
struct PageQuery {
    token: Option<String>,
    lang: Option<String>,
}

fn asked_language(raw: Option<&str>) -> Option<Language> {
    raw.and_then(Language::parse)
}

/// The questionnaire, in the link's language (or `?lang=`).
async fn show(State(state): State<AppState>, Query(query): Query<PageQuery>) -> Response {
    let asked = asked_language(query.lang.as_deref());
    let token = query.token.unwrap_or_default();
    let site_name = site_name(&state.app).await;
    match state.app.vendor_questionnaire(&token).await {
        Ok(form) => {
            let language = asked.unwrap_or(form.language);
            let values = FormValues::from_input(&form.prefill);
            questionnaire(
                StatusCode::OK,
                site_name,
                &form,
                language,
                &token,
                values,
                Vec::new(),
            )
        }
        Err(VendorProblem::Link(problem)) => {
            link_problem(problem, site_name, asked.unwrap_or_default())
        }
        Err(VendorProblem::Invalid(_)) => {
            link_problem(TokenProblem::Invalid, site_name, asked.unwrap_or_default())
        }
        Err(VendorProblem::Other(error)) => internal(site_name, asked.unwrap_or_default(), &error),
    }
}

/// The answers: a draft for the DPO, or the form again with what to correct (422).
async fn submit(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    body: Bytes,
) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let token = field("token").or(query.token).unwrap_or_default();
    let asked = asked_language(field("lang").as_deref().or(query.lang.as_deref()));
    let site_name = site_name(&state.app).await;
    let form = match state.app.vendor_questionnaire(&token).await {
        Ok(form) => form,
        Err(VendorProblem::Link(problem)) => {
            return link_problem(problem, site_name, asked.unwrap_or_default());
        }
        Err(VendorProblem::Invalid(_)) => {
            return link_problem(TokenProblem::Invalid, site_name, asked.unwrap_or_default());
        }
        Err(VendorProblem::Other(error)) => {
            return internal(site_name, asked.unwrap_or_default(), &error);
        }
    };
    let language = asked.unwrap_or(form.language);
    let t = texts(language);
    let values = FormValues::from_pairs(&pairs);
    let input = match values.to_input(t) {
        Ok(input) => input,
        Err(errors) => {
            return questionnaire(
                StatusCode::UNPROCESSABLE_ENTITY,
                site_name,
                &form,
                language,
                &token,
                values,
                errors,
            );
        }
    };
    match state.app.submit_vendor_questionnaire(&token, input).await {
        Ok(()) => {
            let (title, body) = match language {
                Language::Fr => (
                    "Merci, vos réponses ont été envoyées".to_string(),
                    format!(
                        "{} les examinera. Pour toute question, écrivez à {}.",
                        form.organisation_name, form.dpo_email
                    ),
                ),
                Language::En => (
                    "Thank you, your answers were sent".to_string(),
                    format!(
                        "{} will review them. For any question, write to {}.",
                        form.organisation_name, form.dpo_email
                    ),
                ),
            };
            message(StatusCode::OK, site_name, language, &title, &body)
        }
        Err(VendorProblem::Invalid(error)) => {
            let detail = match error {
                DomainError::Invalid { field, message } => format!("{field}: {message}"),
                DomainError::Rule(message) => message,
            };
            questionnaire(
                StatusCode::UNPROCESSABLE_ENTITY,
                site_name,
                &form,
                language,
                &token,
                values,
                vec![detail],
            )
        }
        Err(VendorProblem::Link(problem)) => link_problem(problem, site_name, language),
        Err(VendorProblem::Other(error)) => internal(site_name, language, &error),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_filled_form_becomes_the_questionnaire_answers() {
        let values = FormValues::from_pairs(&pairs(&[
            ("dpo_appointed", "yes"),
            ("dpo_email", "dpo@vendor.example"),
            ("mapping_complete", "yes"),
            ("mapping_last_updated_on", "2025-06-01"),
            ("third_parties_shares", "no"),
            ("measures", "encryption_at_rest"),
            ("measures", "backups"),
            ("measures_other", "Coffre-fort de secrets\n"),
            ("incident_procedure", "yes"),
            ("breach_notification_hours", "24"),
            ("tests_performed", "yes"),
            ("test_kinds", "penetration_test"),
            ("tests_last_on", "2025-09-01"),
            (
                "tests_evidence",
                "Rapport de test d'intrusion 2025\nCertificat ISO 27001",
            ),
        ]));
        let input = values.to_input(&FR).unwrap();
        assert_eq!(
            input.protection.as_ref().unwrap().measures,
            vec!["encryption_at_rest", "backups", "Coffre-fort de secrets"]
        );
        assert_eq!(input.security_tests.as_ref().unwrap().evidence.len(), 2);
        assert_eq!(
            input.protection.as_ref().unwrap().breach_notification_hours,
            Some(24)
        );
        // And back: the form shows what was answered.
        let again = FormValues::from_input(&input);
        assert_eq!(again.measures_other, "Coffre-fort de secrets");
        assert_eq!(again.dpo_appointed, "yes");
    }

    #[test]
    fn unanswered_questions_and_bad_dates_are_named_in_the_page_language() {
        let values = FormValues::from_pairs(&pairs(&[
            ("dpo_appointed", "yes"),
            ("tests_last_on", "01/09/2025"),
        ]));
        let errors = values.to_input(&EN).unwrap_err();
        assert!(errors.iter().any(|e| e.starts_with(EN.mapping_question)));
        assert!(errors.iter().any(|e| e.contains(EN.not_a_date)));
        let errors = values.to_input(&FR).unwrap_err();
        assert!(errors.iter().any(|e| e.contains(FR.required)));
    }
}
