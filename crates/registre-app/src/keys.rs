//! Master key rotation: every subject's data key wrapped again under the current master key,
//! page by page, while servers keep reading and writing. A wrapped key changed in between
//! (an erasure, another rotation) is left as it is; the next pass sees it.
use crate::{App, AppResult, Principal};
use registre_crypto::{Keyring, WrappedKey};
use registre_domain::role::Permission;
use registre_store::Rewrap;
use serde::Serialize;
use std::collections::BTreeMap;

/// Subjects read per page.
const PAGE: i64 = 500;

/// What one pass over the wrapped keys did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct RewrapReport {
    /// Subject keys read.
    pub examined: u64,
    /// Re-wrapped under the current master key in this pass.
    pub rewrapped: u64,
    /// Wrapped keys that changed while the pass ran (tried again by the next pass).
    pub skipped: u64,
    /// Keys that no master key of the keyring opens (reported, never changed).
    pub unreadable: u64,
    /// How many subject keys each master key id wraps after the pass.
    pub by_key_id: BTreeMap<String, u64>,
}

impl App {
    /// One pass: re-wraps every subject key not yet under the current master key.
    pub async fn rewrap_subject_keys(&self, by: &Principal) -> AppResult<RewrapReport> {
        by.require(Permission::Administer)?;
        let current = self.keyring().key_id();
        let mut report = RewrapReport::default();
        let mut after = None;
        loop {
            let page = self.store().wrapped_keys(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.subject_id);
            let mut rewraps = Vec::new();
            for row in &page {
                report.examined += 1;
                let wrapped = WrappedKey(row.wrapped_key.clone());
                match self.keyring().rewrap(&wrapped) {
                    Ok(Some(rewrapped)) => rewraps.push(Rewrap {
                        subject_id: row.subject_id,
                        old: row.wrapped_key.clone(),
                        new: rewrapped.wrapped.0,
                    }),
                    Ok(None) => {
                        *report.by_key_id.entry(current.clone()).or_default() += 1;
                    }
                    Err(error) => {
                        report.unreadable += 1;
                        let id =
                            Keyring::wrapped_key_id(&wrapped).unwrap_or_else(|| "unnamed".into());
                        *report.by_key_id.entry(id).or_default() += 1;
                        tracing::warn!(subject = %row.subject_id, %error, "a subject key does not open");
                    }
                }
            }
            if !rewraps.is_empty() {
                let changed = self.store().rewrap_keys(&rewraps).await?;
                report.rewrapped += changed;
                report.skipped += rewraps.len() as u64 - changed;
                *report.by_key_id.entry(current.clone()).or_default() += changed;
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        Ok(report)
    }

    /// Records an operation (a key rotation, erasures re-applied) in the audit log: key ids
    /// and counts, never a secret.
    pub async fn record_operation(
        &self,
        by: &Principal,
        action: &str,
        details: serde_json::Value,
    ) -> AppResult<()> {
        by.require(Permission::Administer)?;
        let audit = self.audit_record(by, action, "keys", details);
        self.store().append_audit(&audit).await?;
        Ok(())
    }
}
