//! Data subjects: found by the blind index of their email, described only in ciphertext
//! sealed with their own key.
use crate::{App, AppResult};
use registre_crypto::SubjectKey;
use registre_domain::Email;
use registre_store::{OutboxRecord, SubjectRecord};
use uuid::Uuid;

/// Where a sealed value lives, bound into its ciphertext.
pub const EMAIL_CONTEXT: &str = "subjects.email";
pub const SUBMISSION_CONTEXT: &str = "submissions.fields";
pub const OUTBOX_CONTEXT: &str = "outbox.payload";

impl App {
    pub fn blind_index(&self, email: &Email) -> Vec<u8> {
        self.keyring().blind_index(email.as_str()).0.to_vec()
    }

    pub async fn find_subject(&self, email: &Email) -> AppResult<Option<SubjectRecord>> {
        Ok(self
            .store()
            .subject_by_index(&self.blind_index(email))
            .await?)
    }

    /// The subject with this email, created (with a fresh key) if new, and its key.
    pub async fn subject_with_key(&self, email: &Email) -> AppResult<(SubjectRecord, SubjectKey)> {
        let blind_index = self.blind_index(email);
        if let Some(existing) = self.store().subject_by_index(&blind_index).await? {
            let key = self
                .keyring()
                .unwrap_subject_key(&registre_crypto::WrappedKey(existing.wrapped_key.clone()))?;
            return Ok((existing, key));
        }
        let (candidate, key) = self.new_subject(email)?;
        let stored = self.store().get_or_create_subject(&candidate).await?;
        if stored.id == candidate.id {
            Ok((stored, key))
        } else {
            // Someone else created this person a moment ago: use their key.
            let key = self
                .keyring()
                .unwrap_subject_key(&registre_crypto::WrappedKey(stored.wrapped_key.clone()))?;
            Ok((stored, key))
        }
    }

    /// A person not stored yet, with a fresh key of their own sealing their email: to be
    /// created by the caller (alone, or inside the change set that first records them).
    pub(crate) fn new_subject(&self, email: &Email) -> AppResult<(SubjectRecord, SubjectKey)> {
        let (key, wrapped) = self.keyring().new_subject_key()?;
        let record = SubjectRecord {
            id: Uuid::now_v7(),
            blind_index: self.blind_index(email),
            wrapped_key: wrapped.0,
            email_sealed: key.seal_str(EMAIL_CONTEXT, email.as_str())?,
            external_id_index: None,
            external_id_sealed: None,
            restricted: false,
            objected_to_marketing: false,
            created_at: self.now(),
        };
        Ok((record, key))
    }

    pub fn subject_key(&self, subject: &SubjectRecord) -> AppResult<SubjectKey> {
        Ok(self
            .keyring()
            .unwrap_subject_key(&registre_crypto::WrappedKey(subject.wrapped_key.clone()))?)
    }

    pub fn subject_email(&self, subject: &SubjectRecord, key: &SubjectKey) -> AppResult<String> {
        Ok(key.open_string(EMAIL_CONTEXT, &subject.email_sealed)?)
    }

    /// The outbox rows for `topic`: its webhook message, or none when no active
    /// subscription listens to it (nothing would ever be delivered). The payload (which
    /// carries the email a CRM needs) is sealed at rest and deleted once delivered.
    pub(crate) async fn webhook_message(
        &self,
        topic: &str,
        subject_id: Option<Uuid>,
        payload: &serde_json::Value,
    ) -> AppResult<Vec<OutboxRecord>> {
        if !self.listened_topics().await?.contains(topic) {
            return Ok(Vec::new());
        }
        let sealed = self
            .keyring()
            .system_key()
            .seal(OUTBOX_CONTEXT, payload.to_string().as_bytes())?;
        Ok(vec![OutboxRecord {
            id: Uuid::now_v7(),
            channel: crate::webhooks::WEBHOOK_CHANNEL.into(),
            topic: topic.into(),
            subject_id,
            payload: sealed,
            created_at: self.now(),
        }])
    }

    /// Opens an outbox payload sealed by [`Self::webhook_message`].
    pub fn open_outbox_payload(&self, sealed: &[u8]) -> AppResult<serde_json::Value> {
        let bytes = self.keyring().system_key().open(OUTBOX_CONTEXT, sealed)?;
        serde_json::from_slice(&bytes).map_err(|_| registre_crypto::CryptoError::Open.into())
    }
}
