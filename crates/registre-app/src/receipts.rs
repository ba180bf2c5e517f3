//! Consent receipts: the Kantara Initiative Consent Receipt (v1.1) fields for one ledger
//! event, signed as a compact JWS with the ledger key, so that the person, the controller
//! or an auditor can prove what was agreed with only the published key.
use crate::{App, AppError, AppResult, Principal};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentSource};
use registre_domain::purpose::Purpose;
use registre_domain::role::Permission;
use registre_domain::{DomainError, Language};
use serde::Serialize;
use uuid::Uuid;

/// The Kantara specification version the receipt follows.
pub const RECEIPT_VERSION: &str = "KI-CR-v1.1.0";

/// `{"receipt": {...}, "jws": "<compact JWS of the receipt>"}`.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsentReceipt {
    /// Kantara Consent Receipt v1.1 fields, plus the ledger's `seq`, `hash`, `notice_version`.
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
    /// The receipt signed with the ledger key (EdDSA); its payload is `receipt`.
    pub jws: String,
    /// The event's RFC 9162 inclusion proof in the ledger's tree when the receipt was made,
    /// with that tree's signed checkpoint: `registre verify-receipt` checks it offline.
    pub proof: crate::tree::InclusionProof,
}

fn collection_method(
    source: ConsentSource,
    touchpoint: Option<&str>,
    language: Language,
) -> String {
    let method = match (language, source) {
        (Language::Fr, ConsentSource::Form) => "formulaire web",
        (Language::En, ConsentSource::Form) => "web form",
        (Language::Fr, ConsentSource::Portal) => "espace confidentialité",
        (Language::En, ConsentSource::Portal) => "privacy portal",
        (Language::Fr, ConsentSource::Api) => "interface de programmation (API)",
        (Language::En, ConsentSource::Api) => "API",
        (Language::Fr, ConsentSource::Import) => "reprise d'enregistrements antérieurs",
        (Language::En, ConsentSource::Import) => "import of earlier records",
        (Language::Fr, ConsentSource::EmailLink) => "lien dans un e-mail",
        (Language::En, ConsentSource::EmailLink) => "link in an email",
        (Language::Fr, ConsentSource::System) => "système",
        (Language::En, ConsentSource::System) => "system",
    };
    match touchpoint {
        Some(touchpoint) => format!("{method} ({touchpoint})"),
        None => method.to_string(),
    }
}

/// How long the data is kept, in words of `language` ("3 ans", "1 year").
fn termination(retention_days: i64, language: Language) -> String {
    let kept = registre_domain::words::retention(retention_days);
    match language {
        Language::Fr => format!(
            "Jusqu'au retrait du consentement ; données conservées {} au plus",
            kept.fr
        ),
        Language::En => format!(
            "Until the consent is withdrawn; data kept for {} at most",
            kept.en
        ),
    }
}

/// The receipt token's MAC: the first half of the token key's HMAC of the event id.
fn receipt_mac(app: &App, event_id: Uuid) -> [u8; 16] {
    let full = app
        .keyring()
        .token_mac(format!("consent_receipt:{event_id}").as_bytes());
    let mut mac = [0u8; 16];
    mac.copy_from_slice(&full[..16]);
    mac
}

/// A receipt as its person reads it: the signed receipt and the event it proves.
#[derive(Clone, Debug)]
pub struct PersonReceipt {
    /// The receipt's fields, before signing: [`App::signed_receipt`] signs and proves them
    /// for whoever downloads it; the page a person reads needs neither.
    pub body: serde_json::Value,
    pub event: ConsentEvent,
    pub purpose: Purpose,
    /// The touchpoint's title in the receipt's language, when the event came from one.
    pub touchpoint_title: Option<String>,
    pub language: Language,
}

impl App {
    /// The signed receipt of one grant or withdrawal, in the organisation's language.
    pub async fn consent_receipt(
        &self,
        by: &Principal,
        event_id: Uuid,
    ) -> AppResult<ConsentReceipt> {
        by.require(Permission::Read)?;
        let language = self.organisation().await?.default_language;
        let found = self.receipt_of(event_id, language).await?;
        self.signed_receipt(&found).await
    }

    /// The person's own link to the receipt of one of their consent events: the event id
    /// and an HMAC of it under the token key. It never expires, names nobody, and cannot be
    /// made for another event without the key.
    pub fn receipt_token(&self, event_id: Uuid) -> String {
        format!(
            "{}{}",
            URL_SAFE_NO_PAD.encode(event_id.as_bytes()),
            URL_SAFE_NO_PAD.encode(receipt_mac(self, event_id))
        )
    }

    /// The event a receipt token names, if the token is ours.
    pub fn open_receipt_token(&self, token: &str) -> Option<Uuid> {
        if token.len() != 44 || !token.is_ascii() {
            return None;
        }
        let (id, mac) = token.split_at(22);
        let id = Uuid::from_slice(&URL_SAFE_NO_PAD.decode(id).ok()?).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        registre_crypto::constant_time_eq(&mac, &receipt_mac(self, id)).then_some(id)
    }

    /// The receipt behind a person's receipt link, in `language` (the organisation's by
    /// default); `NotFound` for a token that is not ours or an event that is not a consent.
    pub async fn receipt_for_person(
        &self,
        token: &str,
        language: Option<Language>,
    ) -> AppResult<PersonReceipt> {
        let event_id = self
            .open_receipt_token(token)
            .ok_or_else(|| AppError::not_found("receipt"))?;
        let language = match language {
            Some(language) => language,
            None => self.organisation().await?.default_language,
        };
        match self.receipt_of(event_id, language).await {
            Err(AppError::Domain(DomainError::Rule(_))) => Err(AppError::not_found("receipt")),
            other => other,
        }
    }

    /// The receipt signed with the ledger key, with its event's inclusion proof in the
    /// current tree and that tree's checkpoint: what a downloaded receipt holds.
    pub async fn signed_receipt(&self, found: &PersonReceipt) -> AppResult<ConsentReceipt> {
        Ok(ConsentReceipt {
            receipt: found.body.clone(),
            jws: registre_crypto::sign_jws(&self.signing_key(), &found.body)?,
            proof: self.inclusion_of(&found.event).await?,
        })
    }

    async fn receipt_of(&self, event_id: Uuid, language: Language) -> AppResult<PersonReceipt> {
        let event = self
            .store()
            .event(event_id)
            .await?
            .ok_or_else(|| AppError::not_found("consent event"))?;
        let purpose_key = match (&event.purpose, event.action) {
            (
                Some(purpose),
                ConsentAction::Grant
                | ConsentAction::Withdraw
                | ConsentAction::GrantPending
                | ConsentAction::Expire,
            ) => purpose.clone(),
            _ => {
                return Err(DomainError::Rule(format!(
                    "a {} event is not a consent: it has no receipt",
                    event.action.as_str()
                ))
                .into());
            }
        };
        let organisation = self.organisation().await?;
        let purpose = self.purpose(&purpose_key).await?;
        let categories = self.data_categories().await?;
        let special: Vec<String> = purpose
            .data_categories
            .iter()
            .filter(|key| categories.iter().any(|c| &c.key == *key && c.special))
            .cloned()
            .collect();
        let touchpoint_title = match event.touchpoint.as_deref() {
            Some(key) => Some(match self.touchpoint(key).await {
                Ok(touchpoint) => touchpoint.title.get(language).to_string(),
                Err(_) => key.to_string(),
            }),
            None => None,
        };
        let service = touchpoint_title
            .clone()
            .unwrap_or_else(|| organisation.name.clone());
        let policy_url = organisation
            .privacy_policy_url
            .clone()
            .unwrap_or_else(|| format!("{}/policy", self.config().public_url));
        let key = self.signing_key().verifying_key();
        let mut controller = serde_json::json!({
            "piiController": organisation.name,
            "contact": organisation.dpo.name,
            "address": organisation.address,
            "email": organisation.contact_email,
            "piiControllerUrl": policy_url,
        });
        if let Some(object) = controller.as_object_mut() {
            object.insert("dpoEmail".into(), organisation.dpo.email.clone().into());
        }
        let mut purpose_entry = serde_json::json!({
            "purpose": purpose.title.get(language),
            "purposeCategory": [purpose.key.as_str()],
            "consentType": "EXPLICIT",
            "piiCategory": purpose.data_categories,
            "primaryPurpose": true,
            "termination": termination(purpose.retention_days, language),
            "thirdPartyDisclosure": !purpose.recipients.is_empty(),
            "legalBasis": purpose.legal_basis.as_str(),
        });
        if !purpose.recipients.is_empty()
            && let Some(object) = purpose_entry.as_object_mut()
        {
            object.insert(
                "thirdPartyName".into(),
                purpose.recipients.join(", ").into(),
            );
        }
        let jurisdiction = if organisation.authority.name.eq_ignore_ascii_case("CNIL") {
            "FR"
        } else {
            "EU"
        };
        let receipt = serde_json::json!({
            "version": RECEIPT_VERSION,
            "jurisdiction": jurisdiction,
            "consentTimestamp": event.occurred_at.timestamp(),
            "collectionMethod": collection_method(event.source, touchpoint_title.as_deref(), language),
            "consentReceiptID": event.event_id.to_string(),
            "publicKey": key.to_hex(),
            "language": language.code(),
            "piiPrincipalId": event.subject_id.to_string(),
            "piiControllers": [controller],
            "policyUrl": policy_url,
            "services": [{"service": service, "purposes": [purpose_entry]}],
            "sensitive": !special.is_empty(),
            "spiCat": special,
            // The ledger's own fields, to find the event and check it against the chain.
            "seq": event.seq,
            "hash": event.hash,
            "prev_hash": event.prev_hash,
            "notice_version": event.notice_version,
            "action": event.action.as_str(),
            "purpose": purpose_key,
            "touchpoint": event.touchpoint,
            "source": event.source.as_str(),
            "recorded_at": registre_domain::clock::canonical_time(event.recorded_at),
            "occurred_at": registre_domain::clock::canonical_time(event.occurred_at),
            "key_id": key.kid(),
        });
        Ok(PersonReceipt {
            body: receipt,
            event,
            purpose,
            touchpoint_title,
            language,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receipt_says_how_it_was_collected_and_kept_in_its_own_language() {
        assert_eq!(
            collection_method(ConsentSource::Form, Some("Nous contacter"), Language::Fr),
            "formulaire web (Nous contacter)"
        );
        assert_eq!(
            collection_method(ConsentSource::EmailLink, None, Language::En),
            "link in an email"
        );
        assert!(termination(1095, Language::Fr).contains("3 ans"));
        assert!(termination(365, Language::En).contains("1 year"));
    }
}
