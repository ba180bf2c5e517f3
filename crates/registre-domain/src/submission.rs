//! What a person sends through a touchpoint, checked against the form they were shown: the
//! fields of the notice version served with the form, and its consent purposes.
use crate::Email;
use crate::notice::NoticePurpose;
use crate::touchpoint::{Field, FieldType};
use std::collections::BTreeMap;

/// Why a value typed in a field is not accepted; the edge words it in the person's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldProblem {
    Required,
    TooLong {
        max: u32,
    },
    InvalidEmail,
    /// Invisible control characters (a line break in a one-line field counts as one).
    ControlCharacters,
    InvalidPhone,
    InvalidDate,
}

/// Values that passed their fields' checks, and the email the person is known by.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckedValues {
    pub email: Email,
    /// Field name → trimmed value; empty optional fields are left out.
    pub values: BTreeMap<String, String>,
}

impl std::fmt::Debug for CheckedValues {
    // What people type is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckedValues")
            .field("fields", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// Checks one value; `Ok(None)` for an optional field left empty.
pub fn check_value(field: &Field, raw: &str) -> Result<Option<String>, FieldProblem> {
    let multiline = field.field_type == FieldType::Textarea;
    // Browsers send CRLF line breaks in textareas; keep one form of them.
    let value = if multiline {
        raw.replace("\r\n", "\n")
    } else {
        raw.to_string()
    };
    let value = value.trim();
    if value.is_empty() {
        return if field.required {
            Err(FieldProblem::Required)
        } else {
            Ok(None)
        };
    }
    let allowed_control = |c: char| multiline && (c == '\n' || c == '\t');
    if value
        .chars()
        .any(|c| (c.is_control() && !allowed_control(c)) || is_invisible_format(c))
    {
        return Err(FieldProblem::ControlCharacters);
    }
    let max = field.max_length.unwrap_or(200);
    if value.chars().count() > max as usize {
        return Err(FieldProblem::TooLong { max });
    }
    match field.field_type {
        FieldType::Email => Email::parse(value)
            .map(|email| Some(email.as_str().to_string()))
            .map_err(|_| FieldProblem::InvalidEmail),
        FieldType::Tel => {
            let digits = value.chars().filter(char::is_ascii_digit).count();
            let shape = value
                .chars()
                .all(|c| c.is_ascii_digit() || " +().-/".contains(c));
            if shape && (6..=20).contains(&digits) {
                Ok(Some(value.to_string()))
            } else {
                Err(FieldProblem::InvalidPhone)
            }
        }
        FieldType::Date => match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
            Ok(date) if (1900..=2200).contains(&chrono::Datelike::year(&date)) => {
                Ok(Some(date.format("%Y-%m-%d").to_string()))
            }
            _ => Err(FieldProblem::InvalidDate),
        },
        FieldType::Text | FieldType::Textarea => Ok(Some(value.to_string())),
    }
}

/// Bidirectional overrides and zero-width characters: invisible, and used to disguise text.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Checks every field of a form; all problems at once, by field name, in the fields' order.
pub fn check_values(
    fields: &[Field],
    raw: &BTreeMap<String, String>,
) -> Result<CheckedValues, Vec<(String, FieldProblem)>> {
    let mut values = BTreeMap::new();
    let mut problems = Vec::new();
    for field in fields {
        match check_value(
            field,
            raw.get(&field.name).map(String::as_str).unwrap_or(""),
        ) {
            Ok(Some(value)) => {
                values.insert(field.name.clone(), value);
            }
            Ok(None) => {}
            Err(problem) => problems.push((field.name.clone(), problem)),
        }
    }
    let email = values.get("email").and_then(|raw| Email::parse(raw).ok());
    match email {
        Some(email) if problems.is_empty() => Ok(CheckedValues { email, values }),
        Some(_) => Err(problems),
        None => {
            if !problems.iter().any(|(name, _)| name == "email") {
                problems.push(("email".into(), FieldProblem::Required));
            }
            Err(problems)
        }
    }
}

/// A consent box the form never showed: a forged or stale post.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ForgedConsent {
    /// The touchpoint does not serve this purpose.
    NotOffered(String),
    /// The purpose rests on another legal basis: there is no box to tick.
    NotConsentBased(String),
}

/// The purposes whose boxes were ticked, checked against the purposes of the notice served
/// with the form, in the notice's order and each once.
pub fn ticked_purposes(
    purposes: &[NoticePurpose],
    ticked: &[String],
) -> Result<Vec<String>, ForgedConsent> {
    for key in ticked {
        match purposes.iter().find(|p| &p.key == key) {
            None => return Err(ForgedConsent::NotOffered(key.clone())),
            Some(purpose) if !purpose.asks_consent() => {
                return Err(ForgedConsent::NotConsentBased(key.clone()));
            }
            Some(_) => {}
        }
    }
    Ok(purposes
        .iter()
        .filter(|p| ticked.contains(&p.key))
        .map(|p| p.key.clone())
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::localised::LocalisedText;
    use crate::purpose::LegalBasis;

    fn field(name: &str, field_type: FieldType, required: bool) -> Field {
        Field {
            name: name.into(),
            field_type,
            required,
            data_category: "contact".into(),
            label: LocalisedText::new(name, name),
            help: None,
            autocomplete: None,
            max_length: Some(if field_type == FieldType::Textarea {
                10_000
            } else {
                200
            }),
        }
    }

    fn purpose(key: &str, legal_basis: LegalBasis) -> NoticePurpose {
        NoticePurpose {
            key: key.into(),
            legal_basis,
            legitimate_interest: None,
            retention_days: 30,
            data_categories: vec![],
            recipients: vec![],
            transfers: vec![],
            title: LocalisedText::new(key, key),
            description: LocalisedText::new(key, key),
        }
    }

    #[test]
    fn values_are_trimmed_and_optional_empty_fields_left_out() {
        let fields = [
            field("email", FieldType::Email, true),
            field("first_name", FieldType::Text, false),
        ];
        let raw = BTreeMap::from([
            ("email".to_string(), " Jeanne@Example.org ".to_string()),
            ("first_name".into(), "  ".into()),
        ]);
        let checked = check_values(&fields, &raw).unwrap();
        assert_eq!(checked.email.as_str(), "jeanne@example.org");
        assert_eq!(checked.values.len(), 1);
    }

    #[test]
    fn every_problem_is_named_by_its_field() {
        let fields = [
            field("email", FieldType::Email, true),
            field("name", FieldType::Text, true),
            field("phone", FieldType::Tel, false),
            field("born", FieldType::Date, false),
        ];
        let raw = BTreeMap::from([
            ("email".to_string(), "not-an-email".to_string()),
            ("phone".into(), "call me".into()),
            ("born".into(), "31/02/2020".into()),
        ]);
        let problems = check_values(&fields, &raw).unwrap_err();
        assert_eq!(
            problems,
            vec![
                ("email".to_string(), FieldProblem::InvalidEmail),
                ("name".into(), FieldProblem::Required),
                ("phone".into(), FieldProblem::InvalidPhone),
                ("born".into(), FieldProblem::InvalidDate)
            ]
        );
    }

    #[test]
    fn control_characters_are_refused_but_a_message_may_have_lines() {
        let name = field("name", FieldType::Text, true);
        assert_eq!(
            check_value(&name, "Jeanne\u{0}"),
            Err(FieldProblem::ControlCharacters)
        );
        assert_eq!(
            check_value(&name, "Jea\nnne"),
            Err(FieldProblem::ControlCharacters)
        );
        assert_eq!(
            check_value(&name, "Jea\u{202E}nne"),
            Err(FieldProblem::ControlCharacters)
        );
        let message = field("message", FieldType::Textarea, true);
        assert_eq!(
            check_value(&message, "Hello\r\nWorld\t!"),
            Ok(Some("Hello\nWorld\t!".into()))
        );
        assert_eq!(
            check_value(&message, "bell\u{7}"),
            Err(FieldProblem::ControlCharacters)
        );
    }

    #[test]
    fn html_is_kept_as_text_and_length_is_counted_in_characters() {
        let name = field("name", FieldType::Text, true);
        assert_eq!(
            check_value(&name, "<script>alert(1)</script>"),
            Ok(Some("<script>alert(1)</script>".into()))
        );
        assert_eq!(
            check_value(&name, &"é".repeat(200)).map(|v| v.is_some()),
            Ok(true)
        );
        assert_eq!(
            check_value(&name, &"é".repeat(201)),
            Err(FieldProblem::TooLong { max: 200 })
        );
    }

    #[test]
    fn only_boxes_of_consent_purposes_the_form_showed_count() {
        let purposes = [
            purpose("contact_handling", LegalBasis::LegitimateInterest),
            purpose("newsletter", LegalBasis::Consent),
            purpose("promotional_offers", LegalBasis::Consent),
        ];
        assert_eq!(
            ticked_purposes(&purposes, &[]).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(
            ticked_purposes(
                &purposes,
                &["promotional_offers".into(), "newsletter".into()]
            )
            .unwrap(),
            vec!["newsletter", "promotional_offers"]
        );
        assert_eq!(
            ticked_purposes(&purposes, &["partner_offers".into()]),
            Err(ForgedConsent::NotOffered("partner_offers".into()))
        );
        assert_eq!(
            ticked_purposes(&purposes, &["contact_handling".into()]),
            Err(ForgedConsent::NotConsentBased("contact_handling".into()))
        );
    }
}
