//! The information given to a person at a touchpoint (Art. 13), as data. Every published
//! version is identified by the SHA-256 of its canonical JSON, so a consent can name exactly
//! what the person was told, and that text can be shown again years later.
use crate::localised::LocalisedText;
use crate::organisation::Organisation;
use crate::purpose::{LegalBasis, Purpose, Transfer};
use crate::touchpoint::{Field, Touchpoint};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped when the rendered wording of notices changes, so that the version changes too.
pub const NOTICE_TEMPLATE_REVISION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeContent {
    pub template_revision: u32,
    pub controller: NoticeController,
    pub touchpoint: NoticeTouchpoint,
    pub purposes: Vec<NoticePurpose>,
    /// Labels of the data categories named by fields and purposes.
    pub data_categories: BTreeMap<String, LocalisedText>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeController {
    pub name: String,
    pub address: String,
    pub contact_email: String,
    pub dpo_name: String,
    pub dpo_email: String,
    pub authority_name: String,
    pub authority_url: String,
    pub privacy_policy_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticeTouchpoint {
    pub key: String,
    pub title: LocalisedText,
    pub description: Option<LocalisedText>,
    pub double_opt_in: bool,
    pub fields: Vec<Field>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NoticePurpose {
    pub key: String,
    pub legal_basis: LegalBasis,
    pub legitimate_interest: Option<LocalisedText>,
    pub retention_days: i64,
    pub data_categories: Vec<String>,
    pub recipients: Vec<String>,
    pub transfers: Vec<Transfer>,
    pub title: LocalisedText,
    pub description: LocalisedText,
}

impl NoticeController {
    /// The controller as the organisation's register describes it.
    pub fn of(organisation: &Organisation) -> Self {
        Self {
            name: organisation.name.clone(),
            address: organisation.address.clone(),
            contact_email: organisation.contact_email.clone(),
            dpo_name: organisation.dpo.name.clone(),
            dpo_email: organisation.dpo.email.clone(),
            authority_name: organisation.authority.name.clone(),
            authority_url: organisation.authority.url.clone(),
            privacy_policy_url: organisation.privacy_policy_url.clone(),
        }
    }
}

impl NoticePurpose {
    /// What a person is told of `purpose`.
    pub fn of(p: &Purpose) -> Self {
        Self {
            key: p.key.as_str().to_string(),
            legal_basis: p.legal_basis,
            legitimate_interest: p.legitimate_interest.clone(),
            retention_days: p.retention_days,
            data_categories: p.data_categories.clone(),
            recipients: p.recipients.clone(),
            transfers: p.transfers.clone(),
            title: p.title.clone(),
            description: p.description.clone(),
        }
    }

    /// Consent purposes are asked with a checkbox; the others are only explained.
    pub fn asks_consent(&self) -> bool {
        self.legal_basis == LegalBasis::Consent
    }
}

impl NoticeContent {
    /// Builds the notice of `touchpoint`. `purposes` must hold every purpose the touchpoint
    /// names; `category_labels` the label of each data category (unknown ones show their key).
    pub fn build(
        organisation: &Organisation,
        touchpoint: &Touchpoint,
        purposes: &[Purpose],
        category_labels: &BTreeMap<String, LocalisedText>,
    ) -> Self {
        let purposes: Vec<NoticePurpose> = touchpoint
            .purposes
            .iter()
            .filter_map(|key| purposes.iter().find(|p| p.key.as_str() == key))
            .map(NoticePurpose::of)
            .collect();
        let mut data_categories = BTreeMap::new();
        let named = touchpoint
            .fields
            .iter()
            .map(|f| f.data_category.clone())
            .chain(
                purposes
                    .iter()
                    .flat_map(|p| p.data_categories.iter().cloned()),
            );
        for key in named {
            let label = category_labels
                .get(&key)
                .cloned()
                .unwrap_or_else(|| LocalisedText::new(&key, &key));
            data_categories.insert(key, label);
        }
        Self {
            template_revision: NOTICE_TEMPLATE_REVISION,
            controller: NoticeController::of(organisation),
            touchpoint: NoticeTouchpoint {
                key: touchpoint.key.as_str().to_string(),
                title: touchpoint.title.clone(),
                description: touchpoint.description.clone(),
                double_opt_in: touchpoint.double_opt_in,
                fields: touchpoint.fields.clone(),
            },
            purposes,
            data_categories,
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

/// JSON with object keys sorted at every level: the same value always gives the same bytes,
/// whatever map implementation serde_json was built with.
pub fn canonical_json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical_json(v)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(canonical_json)
                .collect::<Vec<_>>()
                .join(",")
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::purpose::PurposeInput;
    use crate::touchpoint::TouchpointInput;

    fn fixture() -> (Organisation, Touchpoint, Vec<Purpose>) {
        let now = chrono::Utc::now();
        let purpose: PurposeInput = serde_json::from_value(serde_json::json!({"key": "newsletter", "legal_basis": "consent",
            "retention_days": 1095, "data_categories": ["contact"], "title": "Newsletter", "description": "News"})).unwrap();
        let touchpoint: TouchpointInput = serde_json::from_value(serde_json::json!({"key": "newsletter", "title": "Newsletter",
            "purposes": ["newsletter"], "fields": [{"name": "email", "type": "email", "required": true,
            "data_category": "contact", "label": "Email"}]})).unwrap();
        (
            Organisation::placeholder(),
            touchpoint.validate(now).unwrap(),
            vec![purpose.validate(now).unwrap()],
        )
    }

    #[test]
    fn the_version_depends_on_what_the_person_is_told_only() {
        let (org, tp, purposes) = fixture();
        let labels = BTreeMap::new();
        let v1 = NoticeContent::build(&org, &tp, &purposes, &labels).version();
        assert!(v1.starts_with("sha256:") && v1.len() == 71);
        // Timestamps are not part of the notice.
        let mut later = tp.clone();
        later.updated_at += chrono::Duration::days(1);
        assert_eq!(
            NoticeContent::build(&org, &later, &purposes, &labels).version(),
            v1
        );
        // A longer retention is something the person is told.
        let mut longer = purposes.clone();
        longer[0].retention_days = 2000;
        assert_ne!(
            NoticeContent::build(&org, &tp, &longer, &labels).version(),
            v1
        );
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let value = serde_json::json!({"b": 1, "a": {"d": [1, {"f": 2, "e": 3}], "c": null}});
        assert_eq!(
            canonical_json(&value),
            r#"{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}"#
        );
    }
}
