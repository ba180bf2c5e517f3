use crate::DomainError;
use serde::{Deserialize, Serialize};

/// The two languages every text a person reads exists in.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    Fr,
    En,
}

impl Language {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().get(..2) {
            Some("fr") => Some(Self::Fr),
            Some("en") => Some(Self::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The first supported language of an `Accept-Language` header, by weight.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut candidates: Vec<(f32, Self)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let language = Self::parse(pieces.next()?)?;
                let weight = pieces
                    .find_map(|p| {
                        p.trim()
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                    })
                    .unwrap_or(1.0);
                Some((weight, language))
            })
            .collect();
        candidates.sort_by(|a, b| b.0.total_cmp(&a.0));
        candidates.first().map(|(_, language)| *language)
    }
}

/// A text in French and English. On the wire a plain string is accepted as the same text in
/// both languages.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(from = "LocalisedTextWire")]
pub struct LocalisedText {
    pub fr: String,
    pub en: String,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum LocalisedTextWire {
    Plain(String),
    #[allow(dead_code)]
    Both {
        #[serde(default)]
        fr: String,
        #[serde(default)]
        en: String,
    },
}

impl From<LocalisedTextWire> for LocalisedText {
    fn from(wire: LocalisedTextWire) -> Self {
        match wire {
            LocalisedTextWire::Plain(text) => Self {
                fr: text.clone(),
                en: text,
            },
            LocalisedTextWire::Both { fr, en } => Self { fr, en },
        }
    }
}

impl LocalisedText {
    pub fn new(fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            fr: fr.into(),
            en: en.into(),
        }
    }

    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Fr => &self.fr,
            Language::En => &self.en,
        }
    }

    /// Both translations present, trimmed, and at most `max` characters.
    pub fn validate(&self, field: &str, max: usize) -> Result<Self, DomainError> {
        let mut out = Self::default();
        for (language, text, slot) in [("fr", &self.fr, &mut out.fr), ("en", &self.en, &mut out.en)]
        {
            let trimmed = text.trim();
            if trimmed.is_empty() {
                return Err(DomainError::invalid(
                    format!("{field}.{language}"),
                    "the translation is missing",
                ));
            }
            if trimmed.chars().count() > max {
                return Err(DomainError::invalid(
                    format!("{field}.{language}"),
                    format!("at most {max} characters"),
                ));
            }
            if trimmed
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
            {
                return Err(DomainError::invalid(
                    format!("{field}.{language}"),
                    "control characters are not allowed",
                ));
            }
            *slot = trimmed.to_string();
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_string_is_the_same_text_in_both_languages() {
        let text: LocalisedText = serde_json::from_str(r#""Newsletter""#).unwrap();
        assert_eq!(text, LocalisedText::new("Newsletter", "Newsletter"));
        let text: LocalisedText = serde_json::from_str(r#"{"fr":"Lettre","en":"Letter"}"#).unwrap();
        assert_eq!(text.get(Language::Fr), "Lettre");
    }

    #[test]
    fn a_missing_translation_is_named() {
        let text: LocalisedText = serde_json::from_str(r#"{"fr":"Lettre"}"#).unwrap();
        let err = text.validate("title", 200).unwrap_err();
        assert_eq!(
            err,
            DomainError::invalid("title.en", "the translation is missing")
        );
    }

    #[test]
    fn accept_language_picks_the_heaviest_supported_language() {
        assert_eq!(
            Language::from_accept_language("de-DE,en;q=0.8,fr;q=0.9"),
            Some(Language::Fr)
        );
        assert_eq!(Language::from_accept_language("en-GB"), Some(Language::En));
        assert_eq!(Language::from_accept_language("de"), None);
    }
}
