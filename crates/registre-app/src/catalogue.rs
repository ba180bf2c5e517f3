//! The organisation, its data categories, purposes and touchpoints, and the notices they
//! produce.
use crate::{App, AppError, AppResult, Principal};
use registre_domain::localised::LocalisedText;
use registre_domain::notice::NoticeContent;
use registre_domain::organisation::Organisation;
use registre_domain::purpose::{Purpose, PurposeInput};
use registre_domain::role::Permission;
use registre_domain::touchpoint::{Touchpoint, TouchpointInput};
use registre_domain::{DomainError, Key};
use registre_store::{Document, DocumentKind, StoreError, StoredNotice};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const ORGANISATION_KEY: &str = "default";

/// How long another server's change to the purposes may go unseen by this one.
pub(crate) const CATALOGUE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// A kind of personal data. `special` marks Art. 9 data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DataCategory {
    pub key: String,
    pub label: LocalisedText,
    #[serde(default)]
    pub special: bool,
    /// Built-in categories cannot be changed. Set by the server: ignored in a request.
    #[serde(default)]
    #[schema(read_only)]
    pub builtin: bool,
}

fn builtin_categories() -> Vec<DataCategory> {
    let make = |key: &str, fr: &str, en: &str, special: bool| DataCategory {
        key: key.into(),
        label: LocalisedText::new(fr, en),
        special,
        builtin: true,
    };
    vec![
        make("identity", "Identité", "Identity", false),
        make("contact", "Coordonnées", "Contact details", false),
        make(
            "account_credentials",
            "Identifiants de compte",
            "Account credentials",
            false,
        ),
        make(
            "support_content",
            "Contenu des messages",
            "Message content",
            false,
        ),
        make("usage", "Données d'utilisation", "Usage data", false),
        make("financial", "Données financières", "Financial data", false),
        make(
            "location",
            "Données de localisation",
            "Location data",
            false,
        ),
        make(
            "special",
            "Données sensibles (art. 9)",
            "Special category data (Art. 9)",
            true,
        ),
    ]
}

/// A touchpoint as the API shows it: with its current notice version and form URL.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TouchpointView {
    #[serde(flatten)]
    pub touchpoint: Touchpoint,
    pub notice_version: String,
    pub form_url: String,
}

/// A published notice: its version, content and when it was first published.
#[derive(Clone, Debug)]
pub struct NoticeView {
    pub version: String,
    pub content: NoticeContent,
    pub published_at: chrono::DateTime<chrono::Utc>,
}

/// A memo of [`App::current_notice`]: building a notice reads the whole catalogue and hashes
/// its canonical form, and every form view and API consent asks for it. It holds for the
/// touchpoint it was built for, while no local change happened and for at most
/// [`CATALOGUE_TTL`] (the bound on changes made by another process).
#[derive(Debug)]
pub(crate) struct CurrentNotice {
    generation: u64,
    built: std::time::Instant,
    touchpoint: Touchpoint,
    view: std::sync::Arc<NoticeView>,
}

/// Touchpoints whose current notice is kept; more are built afresh each time.
const CURRENT_NOTICES_KEPT: usize = 64;

pub(crate) fn decode<T: serde::de::DeserializeOwned>(document: &Document) -> AppResult<T> {
    serde_json::from_value(document.body.clone()).map_err(|e| {
        AppError::Store(StoreError::Corrupt(format!(
            "{} {}: {e}",
            document.kind.as_str(),
            document.key
        )))
    })
}

pub(crate) fn encode<T: Serialize>(value: &T) -> AppResult<serde_json::Value> {
    serde_json::to_value(value).map_err(AppError::internal)
}

pub(crate) fn conflict_or(error: StoreError, what: &str) -> AppError {
    match error {
        StoreError::Conflict { .. } => AppError::Conflict(format!("{what} already exists")),
        StoreError::NotFound => AppError::NotFound(what.to_string()),
        other => other.into(),
    }
}

impl App {
    // ---- organisation ----

    /// The organisation, read on every public page: cached like the purposes.
    pub async fn organisation(&self) -> AppResult<Organisation> {
        if let Ok(cache) = self.inner.organisation_cache.read()
            && let Some((at, organisation)) = cache.as_ref()
            && at.elapsed() < CATALOGUE_TTL
        {
            return Ok(organisation.clone());
        }
        let organisation = match self
            .store()
            .document(DocumentKind::Organisation, ORGANISATION_KEY)
            .await?
        {
            Some(document) => {
                let mut organisation: Organisation = decode(&document)?;
                organisation.updated_at = Some(document.updated_at);
                organisation
            }
            None => Organisation::placeholder(),
        };
        if let Ok(mut cache) = self.inner.organisation_cache.write() {
            *cache = Some((std::time::Instant::now(), organisation.clone()));
        }
        Ok(organisation)
    }

    pub async fn put_organisation(
        &self,
        by: &Principal,
        input: Organisation,
    ) -> AppResult<Organisation> {
        by.require(Permission::ManageRegisters)?;
        let mut organisation = input.validate()?;
        let now = self.now();
        organisation.updated_at = None;
        let existing = self
            .store()
            .document(DocumentKind::Organisation, ORGANISATION_KEY)
            .await?;
        let document = Document {
            kind: DocumentKind::Organisation,
            key: ORGANISATION_KEY.into(),
            body: encode(&organisation)?,
            created_at: existing.as_ref().map(|d| d.created_at).unwrap_or(now),
            updated_at: now,
        };
        let audit = self.audit_record(
            by,
            "organisation.updated",
            "organisation",
            serde_json::json!({}),
        );
        let written = if existing.is_some() {
            self.store().update_document(&document, &audit).await
        } else {
            self.store().insert_document(&document, &audit).await
        };
        if let Ok(mut cache) = self.inner.organisation_cache.write() {
            *cache = None;
        }
        self.forget_current_notices();
        written?;
        self.republish_notices(|_| true).await?;
        organisation.updated_at = Some(now);
        Ok(organisation)
    }

    // ---- data categories ----

    pub async fn data_categories(&self) -> AppResult<Vec<DataCategory>> {
        let mut categories = builtin_categories();
        for document in self.store().documents(DocumentKind::DataCategory).await? {
            categories.push(decode(&document)?);
        }
        Ok(categories)
    }

    pub async fn create_data_category(
        &self,
        by: &Principal,
        input: DataCategory,
    ) -> AppResult<DataCategory> {
        by.require(Permission::ManageRegisters)?;
        let key = Key::parse("key", &input.key)?;
        if builtin_categories().iter().any(|c| c.key == key.as_str()) {
            return Err(AppError::Conflict(format!(
                "data category {key} already exists"
            )));
        }
        let category = DataCategory {
            key: key.to_string(),
            label: input.label.validate("label", 200)?,
            special: input.special,
            builtin: false,
        };
        let now = self.now();
        let document = Document {
            kind: DocumentKind::DataCategory,
            key: key.to_string(),
            body: encode(&category)?,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_record(
            by,
            "data_category.created",
            format!("data_category:{key}"),
            serde_json::json!({"special": category.special}),
        );
        let inserted = self.store().insert_document(&document, &audit).await;
        self.forget_current_notices();
        inserted.map_err(|e| conflict_or(e, &format!("data category {key}")))?;
        Ok(category)
    }

    pub(crate) async fn check_categories(&self, field: &str, keys: &[String]) -> AppResult<()> {
        let known = self.data_categories().await?;
        for (i, key) in keys.iter().enumerate() {
            if !known.iter().any(|c| &c.key == key) {
                return Err(DomainError::invalid(
                    format!("{field}/{i}"),
                    format!(
                        "unknown data category {key:?}; create it with POST /api/v1/data-categories"
                    ),
                )
                .into());
            }
        }
        Ok(())
    }

    // ---- purposes ----

    pub async fn purposes(&self) -> AppResult<Vec<Purpose>> {
        Ok(self.cached_purposes().await?.as_ref().clone())
    }

    async fn cached_purposes(&self) -> AppResult<std::sync::Arc<Vec<Purpose>>> {
        if let Ok(cache) = self.inner.purposes_cache.read()
            && let Some((at, purposes)) = cache.as_ref()
            && at.elapsed() < CATALOGUE_TTL
        {
            return Ok(purposes.clone());
        }
        let purposes: Vec<Purpose> = self
            .store()
            .documents(DocumentKind::Purpose)
            .await?
            .iter()
            .map(decode)
            .collect::<AppResult<_>>()?;
        let purposes = std::sync::Arc::new(purposes);
        if let Ok(mut cache) = self.inner.purposes_cache.write() {
            *cache = Some((std::time::Instant::now(), purposes.clone()));
        }
        Ok(purposes)
    }

    fn forget_purposes(&self) {
        if let Ok(mut cache) = self.inner.purposes_cache.write() {
            *cache = None;
        }
        self.forget_current_notices();
    }

    pub async fn purpose(&self, key: &str) -> AppResult<Purpose> {
        self.cached_purposes()
            .await?
            .iter()
            .find(|p| p.key.as_str() == key)
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("purpose {key:?}")))
    }

    pub async fn create_purpose(&self, by: &Principal, input: PurposeInput) -> AppResult<Purpose> {
        by.require(Permission::ManageRegisters)?;
        let purpose = input.validate(self.now())?;
        self.check_categories("data_categories", &purpose.data_categories)
            .await?;
        let document = Document {
            kind: DocumentKind::Purpose,
            key: purpose.key.to_string(),
            body: encode(&purpose)?,
            created_at: purpose.created_at,
            updated_at: purpose.updated_at,
        };
        let audit = self.audit_record(
            by,
            "purpose.created",
            format!("purpose:{}", purpose.key),
            serde_json::json!({"legal_basis": purpose.legal_basis.as_str()}),
        );
        let inserted = self.store().insert_document(&document, &audit).await;
        self.forget_purposes();
        inserted.map_err(|e| conflict_or(e, &format!("purpose {}", purpose.key)))?;
        Ok(purpose)
    }

    /// Replaces a purpose. The key in the path wins; a different key in the body is an error.
    pub async fn update_purpose(
        &self,
        by: &Principal,
        key: &str,
        input: PurposeInput,
    ) -> AppResult<Purpose> {
        by.require(Permission::ManageRegisters)?;
        if input.key != key {
            return Err(DomainError::invalid(
                "key",
                "the key in the body differs from the key in the path",
            )
            .into());
        }
        let existing = self.purpose(key).await?;
        let mut purpose = input.validate(self.now())?;
        self.check_categories("data_categories", &purpose.data_categories)
            .await?;
        purpose.created_at = existing.created_at;
        let document = Document {
            kind: DocumentKind::Purpose,
            key: key.to_string(),
            body: encode(&purpose)?,
            created_at: purpose.created_at,
            updated_at: purpose.updated_at,
        };
        let audit = self.audit_record(
            by,
            "purpose.updated",
            format!("purpose:{key}"),
            serde_json::json!({"legal_basis": purpose.legal_basis.as_str()}),
        );
        let updated = self.store().update_document(&document, &audit).await;
        self.forget_purposes();
        updated.map_err(|e| conflict_or(e, &format!("purpose {key}")))?;
        self.republish_notices(|tp| tp.purposes.iter().any(|p| p == key))
            .await?;
        Ok(purpose)
    }

    // ---- touchpoints ----

    pub async fn touchpoint(&self, key: &str) -> AppResult<Touchpoint> {
        self.cached_touchpoints()
            .await?
            .iter()
            .find(|t| t.key.as_str() == key)
            .cloned()
            .ok_or_else(|| AppError::not_found(format!("touchpoint {key:?}")))
    }

    pub async fn touchpoints(&self) -> AppResult<Vec<Touchpoint>> {
        Ok(self.cached_touchpoints().await?.as_ref().clone())
    }

    /// Touchpoints, read on every form view and submission: cached like the purposes.
    pub(crate) async fn cached_touchpoints(&self) -> AppResult<std::sync::Arc<Vec<Touchpoint>>> {
        if let Ok(cache) = self.inner.touchpoints_cache.read()
            && let Some((at, touchpoints)) = cache.as_ref()
            && at.elapsed() < CATALOGUE_TTL
        {
            return Ok(touchpoints.clone());
        }
        let touchpoints: Vec<Touchpoint> = self
            .store()
            .documents(DocumentKind::Touchpoint)
            .await?
            .iter()
            .map(decode)
            .collect::<AppResult<_>>()?;
        let touchpoints = std::sync::Arc::new(touchpoints);
        if let Ok(mut cache) = self.inner.touchpoints_cache.write() {
            *cache = Some((std::time::Instant::now(), touchpoints.clone()));
        }
        Ok(touchpoints)
    }

    fn forget_touchpoints(&self) {
        if let Ok(mut cache) = self.inner.touchpoints_cache.write() {
            *cache = None;
        }
        self.forget_current_notices();
    }

    pub async fn touchpoint_view(&self, touchpoint: Touchpoint) -> AppResult<TouchpointView> {
        let notice = self.current_notice(&touchpoint).await?;
        let form_url = format!("/f/{}", touchpoint.key);
        Ok(TouchpointView {
            touchpoint,
            notice_version: notice.version,
            form_url,
        })
    }

    pub(crate) async fn validated_touchpoint(
        &self,
        input: TouchpointInput,
    ) -> AppResult<Touchpoint> {
        let touchpoint = input.validate(self.now())?;
        let purposes = self.purposes().await?;
        for (i, key) in touchpoint.purposes.iter().enumerate() {
            if !purposes.iter().any(|p| p.key.as_str() == key) {
                return Err(DomainError::invalid(
                    format!("purposes/{i}"),
                    format!("unknown purpose {key:?}"),
                )
                .into());
            }
        }
        let categories: Vec<String> = touchpoint
            .fields
            .iter()
            .map(|f| f.data_category.clone())
            .collect();
        self.check_categories("fields/*/data_category", &categories)
            .await?;
        Ok(touchpoint)
    }

    pub async fn create_touchpoint(
        &self,
        by: &Principal,
        input: TouchpointInput,
    ) -> AppResult<TouchpointView> {
        by.require(Permission::ManageRegisters)?;
        let touchpoint = self.validated_touchpoint(input).await?;
        let document = Document {
            kind: DocumentKind::Touchpoint,
            key: touchpoint.key.to_string(),
            body: encode(&touchpoint)?,
            created_at: touchpoint.created_at,
            updated_at: touchpoint.updated_at,
        };
        let audit = self.audit_record(
            by,
            "touchpoint.created",
            format!("touchpoint:{}", touchpoint.key),
            serde_json::json!({"purposes": touchpoint.purposes}),
        );
        let inserted = self.store().insert_document(&document, &audit).await;
        self.forget_touchpoints();
        inserted.map_err(|e| conflict_or(e, &format!("touchpoint {}", touchpoint.key)))?;
        self.touchpoint_view(touchpoint).await
    }

    pub async fn update_touchpoint(
        &self,
        by: &Principal,
        key: &str,
        input: TouchpointInput,
    ) -> AppResult<TouchpointView> {
        by.require(Permission::ManageRegisters)?;
        if input.key != key {
            return Err(DomainError::invalid(
                "key",
                "the key in the body differs from the key in the path",
            )
            .into());
        }
        let existing = self.touchpoint(key).await?;
        let mut touchpoint = self.validated_touchpoint(input).await?;
        touchpoint.created_at = existing.created_at;
        let document = Document {
            kind: DocumentKind::Touchpoint,
            key: key.to_string(),
            body: encode(&touchpoint)?,
            created_at: touchpoint.created_at,
            updated_at: touchpoint.updated_at,
        };
        let audit = self.audit_record(
            by,
            "touchpoint.updated",
            format!("touchpoint:{key}"),
            serde_json::json!({"purposes": touchpoint.purposes}),
        );
        let updated = self.store().update_document(&document, &audit).await;
        self.forget_touchpoints();
        updated.map_err(|e| conflict_or(e, &format!("touchpoint {key}")))?;
        self.touchpoint_view(touchpoint).await
    }

    // ---- notices ----

    /// The notice a person sees at `touchpoint` now, saved as a version if it is new.
    pub async fn current_notice(&self, touchpoint: &Touchpoint) -> AppResult<NoticeView> {
        Ok(self
            .current_notice_shared(touchpoint)
            .await?
            .as_ref()
            .clone())
    }

    /// [`Self::current_notice`], shared with the memo.
    pub(crate) async fn current_notice_shared(
        &self,
        touchpoint: &Touchpoint,
    ) -> AppResult<std::sync::Arc<NoticeView>> {
        use std::sync::atomic::Ordering;
        // Read before the catalogue: a change made while this notice is built bumps it and
        // the notice is not kept.
        let generation = self.inner.catalogue_generation.load(Ordering::Acquire);
        if let Ok(memo) = self.inner.current_notices.read()
            && let Some(kept) = memo.iter().find(|kept| {
                kept.generation == generation
                    && kept.built.elapsed() < CATALOGUE_TTL
                    && kept.touchpoint == *touchpoint
            })
        {
            return Ok(kept.view.clone());
        }
        let view = std::sync::Arc::new(self.build_current_notice(touchpoint).await?);
        if let Ok(mut memo) = self.inner.current_notices.write() {
            memo.retain(|kept| {
                kept.generation == generation && kept.touchpoint.key != touchpoint.key
            });
            if memo.len() < CURRENT_NOTICES_KEPT {
                memo.push(CurrentNotice {
                    generation,
                    built: std::time::Instant::now(),
                    touchpoint: touchpoint.clone(),
                    view: view.clone(),
                });
            }
        }
        Ok(view)
    }

    /// Forgets every current notice built so far: what they were built from changed.
    fn forget_current_notices(&self) {
        self.inner
            .catalogue_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    async fn build_current_notice(&self, touchpoint: &Touchpoint) -> AppResult<NoticeView> {
        let organisation = self.organisation().await?;
        let purposes = self.purposes().await?;
        let labels: BTreeMap<String, LocalisedText> = self
            .data_categories()
            .await?
            .into_iter()
            .map(|c| (c.key, c.label))
            .collect();
        let content = NoticeContent::build(&organisation, touchpoint, &purposes, &labels);
        let version = content.version();
        let now = self.now();
        let known = self
            .inner
            .saved_notices
            .lock()
            .map(|set| set.contains(&version))
            .unwrap_or(false);
        if !known {
            self.store()
                .save_notice(&StoredNotice {
                    version: version.clone(),
                    touchpoint: touchpoint.key.to_string(),
                    content: content.canonical_json(),
                    published_at: now,
                })
                .await?;
            if let Ok(mut set) = self.inner.saved_notices.lock() {
                set.insert(version.clone());
            }
        }
        Ok(NoticeView {
            version,
            content,
            published_at: now,
        })
    }

    /// A past or present notice version, exactly as it was published.
    pub async fn notice(&self, version: &str) -> AppResult<NoticeView> {
        let stored = self
            .store()
            .notice(version)
            .await?
            .ok_or_else(|| AppError::not_found(format!("notice version {version:?}")))?;
        let content: NoticeContent = serde_json::from_str(&stored.content)
            .map_err(|e| AppError::Store(StoreError::Corrupt(format!("notice {version}: {e}"))))?;
        Ok(NoticeView {
            version: stored.version,
            content,
            published_at: stored.published_at,
        })
    }

    pub async fn notice_history(
        &self,
        touchpoint: &str,
    ) -> AppResult<Vec<registre_store::NoticeSummary>> {
        Ok(self.store().notice_history(touchpoint).await?)
    }

    /// Publishes the new notice of every touchpoint `affected` selects, so that each version
    /// a person could have seen is on record.
    async fn republish_notices(&self, affected: impl Fn(&Touchpoint) -> bool) -> AppResult<()> {
        for touchpoint in self.touchpoints().await? {
            if affected(&touchpoint) {
                self.current_notice(&touchpoint).await?;
            }
        }
        Ok(())
    }
}
