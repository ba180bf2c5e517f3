//! The privacy policy (`GET /policy`): generated from the registers each time it is read,
//! never typed. Each distinct version is kept (a `privacy_policy` document keyed by its
//! version) with the moment it first appeared, so the policy has a change history and any
//! past version can be read again. A version is recorded the first time it is rendered.
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use registre_domain::policy::PolicyContent;
use registre_store::{Document, DocumentKind, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One version of the policy, as stored.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredPolicy {
    version: String,
    first_seen_at: DateTime<Utc>,
    content: PolicyContent,
}

/// A version and when it first appeared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version: String,
    pub first_seen_at: DateTime<Utc>,
}

/// The policy to show, with the history of its versions (oldest first).
#[derive(Clone, Debug)]
pub struct PolicyView {
    pub content: PolicyContent,
    pub version: String,
    pub first_seen_at: DateTime<Utc>,
    /// Whether this is the version in force.
    pub current: bool,
    pub current_version: String,
    pub history: Vec<PolicyVersion>,
}

fn stored(document: &Document) -> Option<StoredPolicy> {
    serde_json::from_value(document.body.clone()).ok()
}

impl App {
    /// The policy of the registers as they are now.
    async fn current_policy_content(&self) -> AppResult<PolicyContent> {
        let organisation = self.organisation().await?;
        let purposes = self.purposes().await?;
        let processors: Vec<_> = self
            .processors()
            .await?
            .into_iter()
            .map(|view| view.processor)
            .collect();
        let touchpoints = self.touchpoints().await?;
        let labels: BTreeMap<_, _> = self
            .data_categories()
            .await?
            .into_iter()
            .map(|c| (c.key, c.label))
            .collect();
        Ok(PolicyContent::build(
            &organisation,
            &purposes,
            &processors,
            &touchpoints,
            &labels,
        ))
    }

    async fn policy_history(&self) -> AppResult<Vec<StoredPolicy>> {
        let mut versions: Vec<StoredPolicy> = self
            .store()
            .documents(DocumentKind::PrivacyPolicy)
            .await?
            .iter()
            .filter_map(stored)
            .collect();
        versions.sort_by(|a, b| {
            a.first_seen_at
                .cmp(&b.first_seen_at)
                .then(a.version.cmp(&b.version))
        });
        Ok(versions)
    }

    /// The policy in force, recorded in the history if this version is new; or the past
    /// version `version` (`NotFound` when it never existed).
    pub async fn privacy_policy(&self, version: Option<&str>) -> AppResult<PolicyView> {
        let content = self.current_policy_content().await?;
        let current_version = content.version();
        let mut history = self.policy_history().await?;
        if !history.iter().any(|p| p.version == current_version) {
            let now = self.now();
            let record = StoredPolicy {
                version: current_version.clone(),
                first_seen_at: now,
                content: content.clone(),
            };
            let document = Document {
                kind: DocumentKind::PrivacyPolicy,
                key: current_version.clone(),
                body: serde_json::to_value(&record).map_err(AppError::internal)?,
                created_at: now,
                updated_at: now,
            };
            let audit = self.audit_record(
                &Principal::system(),
                "privacy_policy.version",
                format!("privacy_policy:{current_version}"),
                serde_json::json!({"version": current_version}),
            );
            match self.store().insert_document(&document, &audit).await {
                Ok(()) => {}
                // Another reader recorded the same version first: theirs is kept.
                Err(StoreError::Conflict { .. }) => {}
                Err(error) => return Err(error.into()),
            }
            history = self.policy_history().await?;
        }
        let summary: Vec<PolicyVersion> = history
            .iter()
            .map(|p| PolicyVersion {
                version: p.version.clone(),
                first_seen_at: p.first_seen_at,
            })
            .collect();
        let wanted = version.unwrap_or(&current_version);
        let Some(found) = history.into_iter().find(|p| p.version == wanted) else {
            return Err(AppError::not_found("privacy policy version"));
        };
        Ok(PolicyView {
            current: found.version == current_version,
            content: if found.version == current_version {
                content
            } else {
                found.content
            },
            version: found.version,
            first_seen_at: found.first_seen_at,
            history: summary,
            current_version,
        })
    }
}
