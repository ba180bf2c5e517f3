//! The organisation's whole privacy policy, as data derived from the registers: the
//! controller, every purpose (with the notice's own purpose entries), the processors that
//! receive data, and the forms that collect it. Like a notice, a version is the SHA-256 of
//! its canonical JSON, so the policy changes exactly when what it says changes.
use crate::localised::LocalisedText;
use crate::notice::{NoticeController, NoticePurpose, canonical_json};
use crate::organisation::{Organisation, is_in_eea};
use crate::processor::{Processor, ProcessorRole};
use crate::purpose::{Purpose, TransferSafeguard};
use crate::touchpoint::Touchpoint;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped when the rendered wording of the policy changes, so that the version changes too.
pub const POLICY_TEMPLATE_REVISION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyContent {
    pub template_revision: u32,
    pub controller: NoticeController,
    pub purposes: Vec<NoticePurpose>,
    /// Labels of the data categories the purposes name.
    pub data_categories: BTreeMap<String, LocalisedText>,
    pub processors: Vec<PolicyProcessor>,
    pub touchpoints: Vec<PolicyTouchpoint>,
}

/// A recipient of the processor register, as the policy names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyProcessor {
    pub name: String,
    pub service: String,
    pub role: ProcessorRole,
    pub country: String,
    /// Whether the country is outside the EEA (a transfer, Chapter V).
    pub outside_eea: bool,
    pub transfer_mechanism: Option<TransferSafeguard>,
    /// Keys of the purposes it serves.
    pub purposes: Vec<String>,
    pub subprocessors: Vec<String>,
}

/// A form that collects data, and the purposes it serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyTouchpoint {
    pub key: String,
    pub title: LocalisedText,
    pub description: Option<LocalisedText>,
    pub purposes: Vec<String>,
}

impl PolicyContent {
    /// The policy of the registers as they are. Entries are sorted by key or name, so that
    /// the order they were created in does not change the version.
    pub fn build(
        organisation: &Organisation,
        purposes: &[Purpose],
        processors: &[Processor],
        touchpoints: &[Touchpoint],
        category_labels: &BTreeMap<String, LocalisedText>,
    ) -> Self {
        let mut purposes: Vec<NoticePurpose> = purposes.iter().map(NoticePurpose::of).collect();
        purposes.sort_by(|a, b| a.key.cmp(&b.key));
        let mut data_categories = BTreeMap::new();
        for key in purposes.iter().flat_map(|p| p.data_categories.iter()) {
            let label = category_labels
                .get(key)
                .cloned()
                .unwrap_or_else(|| LocalisedText::new(key, key));
            data_categories.insert(key.clone(), label);
        }
        let mut processors: Vec<PolicyProcessor> = processors
            .iter()
            .map(|p| PolicyProcessor {
                name: p.name.clone(),
                service: p.service.clone(),
                role: p.role,
                country: p.country.clone(),
                outside_eea: !is_in_eea(&p.country),
                transfer_mechanism: p.transfer_mechanism,
                purposes: p.purposes.clone(),
                subprocessors: p.subprocessors.clone(),
            })
            .collect();
        processors.sort_by(|a, b| a.name.cmp(&b.name));
        let mut touchpoints: Vec<PolicyTouchpoint> = touchpoints
            .iter()
            .map(|t| PolicyTouchpoint {
                key: t.key.as_str().to_string(),
                title: t.title.clone(),
                description: t.description.clone(),
                purposes: t.purposes.clone(),
            })
            .collect();
        touchpoints.sort_by(|a, b| a.key.cmp(&b.key));
        Self {
            template_revision: POLICY_TEMPLATE_REVISION,
            controller: NoticeController::of(organisation),
            purposes,
            data_categories,
            processors,
            touchpoints,
        }
    }

    /// The canonical JSON text: object keys sorted, no insignificant whitespace.
    pub fn canonical_json(&self) -> String {
        match serde_json::to_value(self) {
            Ok(value) => canonical_json(&value),
            Err(_) => String::new(),
        }
    }

    /// `sha256:<hex>` of the canonical JSON.
    pub fn version(&self) -> String {
        format!(
            "sha256:{}",
            registre_crypto::sha256_hex(self.canonical_json().as_bytes())
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::purpose::PurposeInput;

    fn purpose(key: &str, retention_days: i64) -> Purpose {
        let input: PurposeInput = serde_json::from_value(serde_json::json!({"key": key, "legal_basis": "consent",
            "retention_days": retention_days, "data_categories": ["contact"], "title": key, "description": "d"}))
        .unwrap();
        input.validate(chrono::Utc::now()).unwrap()
    }

    #[test]
    fn the_version_follows_what_the_policy_says_not_the_order_of_the_registers() {
        let org = Organisation::placeholder();
        let labels = BTreeMap::new();
        let a = [purpose("newsletter", 1095), purpose("offers", 365)];
        let b = [purpose("offers", 365), purpose("newsletter", 1095)];
        let v1 = PolicyContent::build(&org, &a, &[], &[], &labels).version();
        assert!(v1.starts_with("sha256:") && v1.len() == 71);
        assert_eq!(
            v1,
            PolicyContent::build(&org, &b, &[], &[], &labels).version()
        );
        let changed = [purpose("newsletter", 730), purpose("offers", 365)];
        assert_ne!(
            v1,
            PolicyContent::build(&org, &changed, &[], &[], &labels).version()
        );
    }
}
