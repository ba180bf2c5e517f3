//! Enforcing each purpose's retention period (see `registre_domain::retention` for the
//! rules): people who outlived every purpose are erased the way an erasure request erases
//! them (key destroyed, blind index suppressed, pseudonymous marker in the ledger,
//! recipients told), and submissions that outlived their touchpoint's purposes are deleted.
//! `registre purge` runs it once; `serve` runs [`App::retention_loop`].
use crate::{App, AppResult, Principal};
use registre_domain::ledger::{ConsentAction, ConsentSource, NewConsentEvent};
use registre_domain::retention::{RetentionReport, Verdict, judge};
use registre_domain::role::Permission;
use registre_store::{ChangeSet, Erasure, SubjectActivityRecord};
use std::time::Duration;
use uuid::Uuid;

/// Subjects read per page.
const PAGE: i64 = 500;
/// Erasures committed together.
const ERASURE_BATCH: usize = 100;
/// How often `serve` applies retention periods.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(6 * 60 * 60);

impl App {
    /// Applies retention periods, or only counts what would go (`dry_run`). The report holds
    /// counts, never who.
    pub async fn run_retention(&self, dry_run: bool) -> AppResult<RetentionReport> {
        let now = self.now();
        let purposes = self.purposes().await?;
        let touchpoints = self.touchpoints().await?;
        let mut report = RetentionReport::new(&purposes, now, dry_run);
        let mut after = None;
        let mut expired_submissions: Vec<Uuid> = Vec::new();
        loop {
            let page = self.store().subject_activity(after, PAGE).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.subject.id);
            let mut doomed: Vec<(ChangeSet, Verdict)> = Vec::new();
            for entry in &page {
                let verdict = judge(&entry.activity, &purposes, &touchpoints, now);
                report.add(&verdict);
                expired_submissions.extend(verdict.expired_submissions.iter().map(|s| s.id));
                if verdict.erase && !dry_run {
                    doomed.push((self.retention_erasure(entry).await?, verdict));
                }
            }
            for chunk in doomed.chunks(ERASURE_BATCH) {
                let results = self
                    .store()
                    .commit(chunk.iter().map(|(change, _)| change.clone()).collect())
                    .await;
                for ((_, verdict), result) in chunk.iter().zip(results) {
                    if let Err(error) = result {
                        tracing::warn!(%error, "an erasure for retention failed; it is tried again on the next run");
                        report.erasure_failed(verdict);
                    }
                }
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        if !dry_run && !expired_submissions.is_empty() {
            for chunk in expired_submissions.chunks(1000) {
                let audit = self.audit_record(
                    &Principal::system(),
                    "retention.submissions_deleted",
                    "retention",
                    serde_json::json!({"count": chunk.len()}),
                );
                self.store().purge_submissions(chunk, &audit).await?;
            }
        }
        if !dry_run && (report.subjects_erased > 0 || report.submissions_erased > 0) {
            let audit = self.audit_record(
                &Principal::system(),
                "retention.applied",
                "retention",
                serde_json::json!({
                    "subjects_erased": report.subjects_erased,
                    "submissions_erased": report.submissions_erased,
                    "kept_restricted": report.kept_restricted,
                    "failures": report.failures,
                }),
            );
            self.store().append_audit(&audit).await?;
        }
        Ok(report)
    }

    /// What a run would do now, without doing it (`GET /api/v1/retention/report`).
    pub async fn retention_report(&self, by: &Principal) -> AppResult<RetentionReport> {
        by.require(Permission::Read)?;
        self.run_retention(true).await
    }

    /// The erasure of one person whose every purpose expired: the same writes as an
    /// erasure request, in one change set.
    async fn retention_erasure(&self, entry: &SubjectActivityRecord) -> AppResult<ChangeSet> {
        let subject = &entry.subject;
        let now = self.now();
        // Recipients are told with the address they know; a subject whose key no longer
        // opens is erased all the same.
        let email = self
            .subject_key(subject)
            .and_then(|key| self.subject_email(subject, &key))
            .ok();
        let marker = NewConsentEvent {
            event_id: Uuid::now_v7(),
            subject_id: subject.id,
            purpose: None,
            action: ConsentAction::Erase,
            source: ConsentSource::System,
            touchpoint: None,
            notice_version: None,
            provenance: Some("retention".into()),
            occurred_at: None,
        };
        let payload = serde_json::json!({
            "id": marker.event_id, "type": "subject.erased", "occurred_at": now,
            "data": {"email": email, "event_id": marker.event_id, "reason": "retention"}
        });
        Ok(ChangeSet {
            outbox: self
                .webhook_message("subject.erased", None, &payload)
                .await?,
            events: vec![marker],
            erasures: vec![Erasure {
                subject_id: subject.id,
                blind_index: subject.blind_index.clone(),
                at: now,
            }],
            audit: Some(self.audit_record(
                &Principal::system(),
                "subject.erased",
                format!("subject:{}", subject.id),
                serde_json::json!({"reason": "retention"}),
            )),
            at: now,
            ..Default::default()
        })
    }

    /// Applies retention periods every `every`, for as long as the server runs. Spawn it once
    /// per server: `tokio::spawn(app.clone().retention_loop(RETENTION_INTERVAL))`. The first
    /// run waits a minute, so that a starting server answers first.
    pub async fn retention_loop(self, every: Duration) {
        tokio::time::sleep(Duration::from_secs(60).min(every)).await;
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match self.run_retention(false).await {
                Ok(report) => tracing::info!(
                    examined = report.subjects_examined,
                    erased = report.subjects_erased,
                    submissions = report.submissions_erased,
                    kept_restricted = report.kept_restricted,
                    failures = report.failures,
                    "retention periods applied"
                ),
                Err(error) => {
                    tracing::warn!(%error, "applying retention periods failed; will retry")
                }
            }
        }
    }
}
