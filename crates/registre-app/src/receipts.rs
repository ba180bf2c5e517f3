//! Consent receipts: the Kantara Initiative Consent Receipt (v1.1) fields for one ledger
//! event, signed as a compact JWS with the ledger key, so that the person, the controller
//! or an auditor can prove what was agreed with only the published key.
use crate::{App, AppError, AppResult, Principal};
use registre_domain::DomainError;
use registre_domain::ledger::{ConsentAction, ConsentSource};
use registre_domain::role::Permission;
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
}

fn collection_method(source: ConsentSource, touchpoint: Option<&str>) -> String {
    let method = match source {
        ConsentSource::Form => "web form",
        ConsentSource::Portal => "privacy portal",
        ConsentSource::Api => "API",
        ConsentSource::Import => "import of earlier records",
        ConsentSource::EmailLink => "link in an email",
        ConsentSource::System => "system",
    };
    match touchpoint {
        Some(touchpoint) => format!("{method} ({touchpoint})"),
        None => method.to_string(),
    }
}

impl App {
    /// The signed receipt of one grant or withdrawal.
    pub async fn consent_receipt(
        &self,
        by: &Principal,
        event_id: Uuid,
    ) -> AppResult<ConsentReceipt> {
        by.require(Permission::Read)?;
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
        let language = organisation.default_language;
        let purpose = self.purpose(&purpose_key).await?;
        let categories = self.data_categories().await?;
        let special: Vec<String> = purpose
            .data_categories
            .iter()
            .filter(|key| categories.iter().any(|c| &c.key == *key && c.special))
            .cloned()
            .collect();
        let service = match event.touchpoint.as_deref() {
            Some(key) => match self.touchpoint(key).await {
                Ok(touchpoint) => touchpoint.title.get(language).to_string(),
                Err(_) => key.to_string(),
            },
            None => organisation.name.clone(),
        };
        let policy_url = organisation
            .privacy_policy_url
            .clone()
            .unwrap_or_else(|| format!("{}/privacy", self.config().public_url));
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
            "termination": format!("Until the consent is withdrawn; data kept at most {} days", purpose.retention_days),
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
            "collectionMethod": collection_method(event.source, event.touchpoint.as_deref()),
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
        let jws = registre_crypto::sign_jws(&self.signing_key(), &receipt)?;
        Ok(ConsentReceipt { receipt, jws })
    }
}
