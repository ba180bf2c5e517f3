use crate::localised::LocalisedText;
use crate::organisation::validate_line;
use crate::{DomainError, Key};
use serde::{Deserialize, Serialize};

/// Art. 6(1): the ground on which a purpose's processing rests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterest,
}

impl LegalBasis {
    pub const ALL: [Self; 6] = [
        Self::Consent,
        Self::Contract,
        Self::LegalObligation,
        Self::VitalInterests,
        Self::PublicTask,
        Self::LegitimateInterest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Consent => "consent",
            Self::Contract => "contract",
            Self::LegalObligation => "legal_obligation",
            Self::VitalInterests => "vital_interests",
            Self::PublicTask => "public_task",
            Self::LegitimateInterest => "legitimate_interest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|basis| basis.as_str() == raw)
    }
}

/// Safeguard for a transfer outside the EEA (Chapter V).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferSafeguard {
    /// Art. 45 adequacy decision.
    Adequacy,
    /// Art. 46(2)(c) standard contractual clauses.
    Scc,
    /// Art. 47 binding corporate rules.
    Bcr,
    /// Art. 49 derogation (explicit consent, contract necessity...).
    Derogation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Transfer {
    /// ISO 3166 alpha-2 country code of the destination.
    pub country: String,
    /// Who receives the data there (a processor's name), if known.
    #[serde(default)]
    pub recipient: Option<String>,
    pub safeguard: TransferSafeguard,
}

/// A purpose as written by an administrator (POST/PUT body).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurposeInput {
    pub key: String,
    #[schema(value_type = String, example = "consent")]
    pub legal_basis: String,
    #[serde(default)]
    pub legitimate_interest: Option<LocalisedText>,
    pub retention_days: i64,
    #[serde(default)]
    pub data_categories: Vec<String>,
    #[serde(default)]
    pub recipients: Vec<String>,
    #[serde(default)]
    pub transfers: Vec<Transfer>,
    pub title: LocalisedText,
    pub description: LocalisedText,
    /// Direct marketing purposes (Art. 21(3)): an objection withdraws them all, for good.
    /// Defaults to true for consent purposes whose key speaks of newsletters or offers.
    #[serde(default)]
    pub marketing: Option<bool>,
    // Fields a client may send back from a GET; ignored.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub created_at: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub updated_at: Option<serde_json::Value>,
}

/// A valid purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Purpose {
    #[schema(value_type = String)]
    pub key: Key,
    pub legal_basis: LegalBasis,
    pub legitimate_interest: Option<LocalisedText>,
    pub retention_days: i64,
    pub data_categories: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<Transfer>,
    pub title: LocalisedText,
    pub description: LocalisedText,
    pub marketing: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

const MARKETING_WORDS: [&str; 6] = [
    "newsletter",
    "offer",
    "promo",
    "marketing",
    "partner",
    "commercial",
];

impl PurposeInput {
    /// Checks everything that does not need the store; the data categories' existence is
    /// checked by the caller.
    pub fn validate(self, now: chrono::DateTime<chrono::Utc>) -> Result<Purpose, DomainError> {
        let key = Key::parse("key", &self.key)?;
        let legal_basis = LegalBasis::parse(&self.legal_basis).ok_or_else(|| {
            DomainError::invalid(
                "legal_basis",
                format!(
                    "unknown legal basis {:?}; expected one of consent, contract, legal_obligation, vital_interests, public_task, legitimate_interest",
                    self.legal_basis
                ),
            )
        })?;
        let legitimate_interest = match (legal_basis, self.legitimate_interest) {
            (LegalBasis::LegitimateInterest, Some(text)) => {
                Some(text.validate("legitimate_interest", 1000)?)
            }
            (LegalBasis::LegitimateInterest, None) => {
                return Err(DomainError::invalid(
                    "legitimate_interest",
                    "a purpose based on legitimate interest must state the interest (Art. 13(1)(d))",
                ));
            }
            (_, _) => None,
        };
        if !(1..=36_500).contains(&self.retention_days) {
            return Err(DomainError::invalid(
                "retention_days",
                "between 1 and 36500 days",
            ));
        }
        let mut data_categories = Vec::new();
        for (i, category) in self.data_categories.iter().enumerate() {
            let key = Key::parse(&format!("data_categories/{i}"), category)?;
            if !data_categories.contains(&key.as_str().to_string()) {
                data_categories.push(key.as_str().to_string());
            }
        }
        let mut recipients = Vec::new();
        for (i, recipient) in self.recipients.iter().enumerate() {
            let name = validate_line(&format!("recipients/{i}"), recipient, 200, true)?;
            if !recipients.contains(&name) {
                recipients.push(name);
            }
        }
        let mut transfers = Vec::new();
        for (i, transfer) in self.transfers.into_iter().enumerate() {
            let country = transfer.country.trim().to_ascii_uppercase();
            if !crate::organisation::is_country_code(&country) {
                return Err(DomainError::invalid(
                    format!("transfers/{i}/country"),
                    "expected an ISO 3166 alpha-2 country code",
                ));
            }
            let recipient = match transfer.recipient {
                Some(name) => Some(validate_line(
                    &format!("transfers/{i}/recipient"),
                    &name,
                    200,
                    true,
                )?),
                None => None,
            };
            transfers.push(Transfer {
                country,
                recipient,
                safeguard: transfer.safeguard,
            });
        }
        let marketing = self.marketing.unwrap_or_else(|| {
            legal_basis == LegalBasis::Consent
                && MARKETING_WORDS.iter().any(|w| key.as_str().contains(w))
        });
        Ok(Purpose {
            key,
            legal_basis,
            legitimate_interest,
            retention_days: self.retention_days,
            data_categories,
            recipients,
            transfers,
            title: self.title.validate("title", 200)?,
            description: self.description.validate("description", 4000)?,
            marketing,
            created_at: now,
            updated_at: now,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> PurposeInput {
        serde_json::from_value(json).unwrap()
    }

    fn newsletter() -> serde_json::Value {
        serde_json::json!({"key": "newsletter", "legal_basis": "consent", "retention_days": 1095,
            "data_categories": ["contact"], "recipients": ["Mailjet"], "transfers": [],
            "title": {"fr": "Lettre d'information", "en": "Newsletter"}, "description": "Monthly news"})
    }

    #[test]
    fn a_newsletter_purpose_is_valid_and_marketing() {
        let purpose = input(newsletter()).validate(chrono::Utc::now()).unwrap();
        assert_eq!(purpose.legal_basis, LegalBasis::Consent);
        assert!(purpose.marketing);
        assert_eq!(purpose.description.en, "Monthly news");
    }

    #[test]
    fn an_unknown_legal_basis_is_refused() {
        let mut json = newsletter();
        json["legal_basis"] = "because".into();
        let err = input(json).validate(chrono::Utc::now()).unwrap_err();
        assert!(matches!(err, DomainError::Invalid { ref field, .. } if field == "legal_basis"));
    }

    #[test]
    fn legitimate_interest_must_be_stated() {
        let mut json = newsletter();
        json["legal_basis"] = "legitimate_interest".into();
        assert!(input(json.clone()).validate(chrono::Utc::now()).is_err());
        json["legitimate_interest"] = "Answering the questions people send us".into();
        assert!(input(json).validate(chrono::Utc::now()).is_ok());
    }

    #[test]
    fn bad_keys_and_retentions_are_refused() {
        let mut json = newsletter();
        json["key"] = "News Letter".into();
        assert!(input(json).validate(chrono::Utc::now()).is_err());
        let mut json = newsletter();
        json["retention_days"] = 0.into();
        assert!(input(json).validate(chrono::Utc::now()).is_err());
    }

    #[test]
    fn unknown_fields_are_an_error_not_silently_lost() {
        let mut json = newsletter();
        json["retention"] = 3.into();
        assert!(serde_json::from_value::<PurposeInput>(json).is_err());
    }
}
