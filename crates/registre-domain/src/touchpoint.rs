use crate::localised::LocalisedText;
use crate::{DomainError, Key};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Email,
    Tel,
    Textarea,
    Date,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Email => "email",
            Self::Tel => "tel",
            Self::Textarea => "textarea",
            Self::Date => "date",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default)]
    pub required: bool,
    pub data_category: String,
    pub label: LocalisedText,
    /// Optional help under the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<LocalisedText>,
    /// HTML `autocomplete` hint; derived from the name and type when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autocomplete: Option<String>,
    /// Longest accepted value, in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A touchpoint as written by an administrator (POST/PUT body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TouchpointInput {
    pub key: String,
    pub title: LocalisedText,
    /// Shown above the form.
    #[serde(default)]
    pub description: Option<LocalisedText>,
    #[serde(default)]
    pub double_opt_in: bool,
    pub purposes: Vec<String>,
    pub fields: Vec<Field>,
    /// Origins allowed to embed the form in a frame (CSP `frame-ancestors`).
    #[serde(default)]
    pub frame_ancestors: Vec<String>,
    /// A document offered for download once the form is sent (`gdpr_white_paper`).
    #[serde(default)]
    pub download: Option<String>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub notice_version: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub form_url: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub updated_at: Option<serde_json::Value>,
}

/// A valid touchpoint (without its derived notice version, which depends on its purposes
/// and the organisation).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Touchpoint {
    #[schema(value_type = String)]
    pub key: Key,
    pub title: LocalisedText,
    pub description: Option<LocalisedText>,
    pub double_opt_in: bool,
    pub purposes: Vec<String>,
    pub fields: Vec<Field>,
    pub frame_ancestors: Vec<String>,
    /// A document offered for download once the form is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Names a form can never use for a field: they carry the protocol of the form itself.
const RESERVED_FIELD_NAMES: [&str; 5] =
    ["csrf_token", "notice_version", "website", "lang", "consent"];

fn valid_field_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl TouchpointInput {
    /// Checks everything that does not need the store; the caller checks that purposes and
    /// data categories exist.
    pub fn validate(self, now: chrono::DateTime<chrono::Utc>) -> Result<Touchpoint, DomainError> {
        let key = Key::parse("key", &self.key)?;
        if self.fields.is_empty() {
            return Err(DomainError::invalid(
                "fields",
                "a touchpoint needs at least an email field",
            ));
        }
        if self.fields.len() > 50 {
            return Err(DomainError::invalid("fields", "at most 50 fields"));
        }
        let mut fields: Vec<Field> = Vec::new();
        for (i, field) in self.fields.into_iter().enumerate() {
            let at = |name: &str| format!("fields/{i}/{name}");
            if !valid_field_name(&field.name) || RESERVED_FIELD_NAMES.contains(&field.name.as_str())
            {
                return Err(DomainError::invalid(
                    at("name"),
                    format!(
                        "{:?} is not a usable field name (lower-case letters, digits, underscores; not a reserved name)",
                        field.name
                    ),
                ));
            }
            if fields.iter().any(|f| f.name == field.name) {
                return Err(DomainError::invalid(
                    at("name"),
                    format!("{:?} appears twice", field.name),
                ));
            }
            Key::parse(&at("data_category"), &field.data_category)?;
            if let Some(hint) = &field.autocomplete
                && (hint.len() > 64
                    || !hint
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' '))
            {
                return Err(DomainError::invalid(
                    at("autocomplete"),
                    "not a valid autocomplete hint",
                ));
            }
            fields.push(Field {
                label: field.label.validate(&at("label"), 200)?,
                help: field
                    .help
                    .map(|h| h.validate(&at("help"), 500))
                    .transpose()?,
                max_length: Some(
                    field
                        .max_length
                        .unwrap_or(default_max_length(field.field_type))
                        .clamp(1, 20_000),
                ),
                ..field
            });
        }
        if !fields
            .iter()
            .any(|f| f.field_type == FieldType::Email && f.name == "email")
        {
            return Err(DomainError::invalid(
                "fields",
                "a touchpoint needs a field named \"email\" of type \"email\": it is how the person is known and reached",
            ));
        }
        if self.purposes.is_empty() {
            return Err(DomainError::invalid(
                "purposes",
                "a touchpoint serves at least one purpose",
            ));
        }
        let mut purposes = Vec::new();
        for (i, purpose) in self.purposes.iter().enumerate() {
            Key::parse(&format!("purposes/{i}"), purpose)?;
            if purposes.contains(purpose) {
                return Err(DomainError::invalid(
                    format!("purposes/{i}"),
                    format!("{purpose:?} appears twice"),
                ));
            }
            purposes.push(purpose.clone());
        }
        let mut frame_ancestors = Vec::new();
        for (i, origin) in self.frame_ancestors.iter().enumerate() {
            let origin = origin.trim().trim_end_matches('/');
            let valid = origin.starts_with("https://") || origin.starts_with("http://");
            let host = origin.split("://").nth(1).unwrap_or("");
            if !valid
                || host.is_empty()
                || host.contains('/')
                || !host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:*".contains(c))
            {
                return Err(DomainError::invalid(
                    format!("frame_ancestors/{i}"),
                    "expected an origin such as https://www.example.fr",
                ));
            }
            frame_ancestors.push(origin.to_string());
        }
        Ok(Touchpoint {
            key,
            title: self.title.validate("title", 200)?,
            description: self
                .description
                .map(|d| d.validate("description", 2000))
                .transpose()?,
            double_opt_in: self.double_opt_in,
            purposes,
            fields,
            frame_ancestors,
            download: self
                .download
                .as_deref()
                .map(|key| Key::parse("download", key).map(|k| k.to_string()))
                .transpose()?,
            created_at: now,
            updated_at: now,
        })
    }
}

fn default_max_length(field_type: FieldType) -> u32 {
    match field_type {
        FieldType::Textarea => 10_000,
        FieldType::Email => 254,
        FieldType::Tel => 32,
        FieldType::Date => 10,
        FieldType::Text => 200,
    }
}

impl Field {
    /// The `autocomplete` hint to render: the one given, else one guessed from the name.
    pub fn autocomplete_hint(&self) -> &str {
        if let Some(hint) = &self.autocomplete {
            return hint;
        }
        match (self.field_type, self.name.as_str()) {
            (FieldType::Email, _) => "email",
            (FieldType::Tel, _) => "tel",
            (_, "name" | "full_name") => "name",
            (_, "first_name" | "given_name") => "given-name",
            (_, "last_name" | "family_name") => "family-name",
            (_, "company" | "organisation" | "organization") => "organization",
            (_, "job_title") => "organization-title",
            (FieldType::Date, "birth_date" | "birthday") => "bday",
            _ => "off",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn contact() -> serde_json::Value {
        serde_json::json!({"key": "contact", "title": {"fr": "Nous contacter", "en": "Contact us"},
            "double_opt_in": false, "purposes": ["contact_handling", "newsletter"],
            "fields": [{"name": "email", "type": "email", "required": true, "data_category": "contact",
                        "label": {"fr": "Adresse e-mail", "en": "Email address"}},
                       {"name": "message", "type": "textarea", "required": true, "data_category": "support_content",
                        "label": {"fr": "Votre message", "en": "Your message"}}]})
    }

    #[test]
    fn the_contact_touchpoint_of_the_contract_is_valid() {
        let tp: TouchpointInput = serde_json::from_value(contact()).unwrap();
        let tp = tp.validate(chrono::Utc::now()).unwrap();
        assert_eq!(tp.fields[0].autocomplete_hint(), "email");
        assert_eq!(tp.fields[1].max_length, Some(10_000));
    }

    #[test]
    fn a_touchpoint_without_an_email_field_is_refused() {
        let mut json = contact();
        json["fields"].as_array_mut().unwrap().remove(0);
        let tp: TouchpointInput = serde_json::from_value(json).unwrap();
        let err = tp.validate(chrono::Utc::now()).unwrap_err();
        assert!(err.to_string().contains("email"));
    }

    #[test]
    fn reserved_and_duplicate_field_names_are_refused() {
        let mut json = contact();
        json["fields"][1]["name"] = "csrf_token".into();
        assert!(
            serde_json::from_value::<TouchpointInput>(json)
                .unwrap()
                .validate(chrono::Utc::now())
                .is_err()
        );
        let mut json = contact();
        json["fields"][1]["name"] = "email".into();
        assert!(
            serde_json::from_value::<TouchpointInput>(json)
                .unwrap()
                .validate(chrono::Utc::now())
                .is_err()
        );
    }
}
