//! Retention (Art. 5(1)(e)): personal data is kept no longer than each purpose needs. The
//! rules here decide, for one person, from what they did and when (never from who they
//! are), which of their submissions and whether the person themselves have outlived every
//! purpose; and which marketing consents the CNIL says to renew.
//!
//! - A person **relates** to a purpose when they acted on it (a consent event they caused:
//!   grant, withdrawal, objection...) or, for a purpose not based on consent, when they sent
//!   a form that serves it.
//! - The purpose's **last activity** is the latest of those events and of the forms they
//!   sent that serve it; the relation **expires** `retention_days` after it.
//! - The person is **erased** when every purpose they relate to has expired; a person who
//!   relates to none (an unfinished first submission) after [`ORPHAN_GRACE_DAYS`]. A person
//!   whose processing is restricted (Art. 18) is kept: restriction means "store, do not use".
//! - A **submission** is deleted once the longest retention of its touchpoint's purposes has
//!   passed since it was received.
//! - A marketing consent still granted with no contact from the person for three years is
//!   due for **renewal** (CNIL, prospection: 3 years from the last contact); it shows as due
//!   [`RENEWAL_NOTICE_DAYS`] before.
use crate::ledger::ConsentState;
use crate::purpose::{LegalBasis, Purpose};
use crate::touchpoint::Touchpoint;
use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Days a person who relates to no purpose is kept (an abandoned first submission).
pub const ORPHAN_GRACE_DAYS: i64 = 30;
/// CNIL: a prospect's data is kept three years from their last contact.
pub const MARKETING_RENEWAL_MONTHS: u32 = 36;
/// How long before the three years a consent shows as due for renewal.
pub const RENEWAL_NOTICE_DAYS: i64 = 90;

/// One submission, as retention sees it: where and when, not what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionActivity {
    pub id: Uuid,
    pub touchpoint: String,
    pub received_at: DateTime<Utc>,
}

/// What the store knows of one person's activity, without personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectActivity {
    pub subject_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub restricted: bool,
    pub submissions: Vec<SubmissionActivity>,
    /// Per purpose, the latest consent event the person caused (system events excluded).
    pub last_events: BTreeMap<String, DateTime<Utc>>,
    /// Per purpose, the current consent state.
    pub states: BTreeMap<String, ConsentState>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PurposeVerdict {
    pub purpose: String,
    pub last_activity: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub expired: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Renewal {
    /// Within the last [`RENEWAL_NOTICE_DAYS`] before three years without contact.
    Due,
    /// Three years without contact have passed and the consent still stands.
    Overdue,
}

/// What the rules say about one person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub erase: bool,
    /// Relates to no purpose.
    pub orphan: bool,
    /// Would be erased, but processing is restricted.
    pub kept_restricted: bool,
    /// Submissions past their touchpoint's retention (empty when the person is erased).
    pub expired_submissions: Vec<SubmissionActivity>,
    pub purposes: Vec<PurposeVerdict>,
    pub renewals: Vec<(String, Renewal)>,
}

fn add_months(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    at.checked_add_months(Months::new(months))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Applies the rules of this module to one person.
pub fn judge(
    activity: &SubjectActivity,
    purposes: &[Purpose],
    touchpoints: &[Touchpoint],
    now: DateTime<Utc>,
) -> Verdict {
    let serves = |touchpoint: &str, purpose: &str| {
        touchpoints
            .iter()
            .any(|t| t.key.as_str() == touchpoint && t.purposes.iter().any(|p| p == purpose))
    };
    let mut verdicts = Vec::new();
    for purpose in purposes {
        let key = purpose.key.as_str();
        let event = activity.last_events.get(key).copied();
        let forms = activity
            .submissions
            .iter()
            .filter(|s| serves(&s.touchpoint, key))
            .map(|s| s.received_at)
            .max();
        let related =
            event.is_some() || (purpose.legal_basis != LegalBasis::Consent && forms.is_some());
        if !related {
            continue;
        }
        let Some(last_activity) = event.into_iter().chain(forms).max() else {
            continue;
        };
        let expires_at = last_activity + Duration::days(purpose.retention_days);
        verdicts.push(PurposeVerdict {
            purpose: key.to_string(),
            last_activity,
            expires_at,
            expired: expires_at <= now,
        });
    }
    let orphan = verdicts.is_empty();
    let outlived = if orphan {
        activity.created_at + Duration::days(ORPHAN_GRACE_DAYS) <= now
    } else {
        verdicts.iter().all(|v| v.expired)
    };
    let erase = outlived && !activity.restricted;
    let expired_submissions = if erase {
        Vec::new()
    } else {
        activity
            .submissions
            .iter()
            .filter(|s| {
                let longest = touchpoints
                    .iter()
                    .find(|t| t.key.as_str() == s.touchpoint)
                    .into_iter()
                    .flat_map(|t| t.purposes.iter())
                    .filter_map(|key| purposes.iter().find(|p| p.key.as_str() == key))
                    .map(|p| p.retention_days)
                    .max();
                longest.is_some_and(|days| s.received_at + Duration::days(days) <= now)
            })
            .cloned()
            .collect()
    };
    let last_contact = activity
        .last_events
        .values()
        .copied()
        .chain(activity.submissions.iter().map(|s| s.received_at))
        .max();
    let mut renewals = Vec::new();
    if let Some(last_contact) = last_contact.filter(|_| !erase) {
        let renew_at = add_months(last_contact, MARKETING_RENEWAL_MONTHS);
        for purpose in purposes
            .iter()
            .filter(|p| p.marketing && p.legal_basis == LegalBasis::Consent)
        {
            if activity.states.get(purpose.key.as_str()) != Some(&ConsentState::Granted) {
                continue;
            }
            if now >= renew_at {
                renewals.push((purpose.key.to_string(), Renewal::Overdue));
            } else if now >= renew_at - Duration::days(RENEWAL_NOTICE_DAYS) {
                renewals.push((purpose.key.to_string(), Renewal::Due));
            }
        }
    }
    Verdict {
        erase,
        orphan,
        kept_restricted: outlived && activity.restricted,
        expired_submissions,
        purposes: verdicts,
        renewals,
    }
}

/// Counts for one purpose; no personal data.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PurposeRetentionCounts {
    pub purpose: String,
    pub retention_days: i64,
    /// People who relate to the purpose.
    pub subjects: u64,
    /// People whose relation with the purpose has expired.
    pub expired: u64,
    /// People erased (or who would be) who related to the purpose.
    pub erased: u64,
    /// Marketing consents to renew within [`RENEWAL_NOTICE_DAYS`].
    pub renewal_due: u64,
    /// Marketing consents standing after three years without contact.
    pub renewal_overdue: u64,
}

/// What a retention run did, or would do: counts only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RetentionReport {
    pub generated_at: DateTime<Utc>,
    /// Whether anything was erased (`false`) or only counted (`true`).
    pub dry_run: bool,
    pub subjects_examined: u64,
    /// People erased (or who would be), orphans included.
    pub subjects_erased: u64,
    /// Of those, people who related to no purpose.
    pub orphans_erased: u64,
    /// People past every retention period but kept because processing is restricted.
    pub kept_restricted: u64,
    /// Submissions deleted (or that would be) from people who are kept.
    pub submissions_erased: u64,
    pub purposes: Vec<PurposeRetentionCounts>,
    /// Submissions deleted per touchpoint.
    pub submissions_by_touchpoint: BTreeMap<String, u64>,
    /// Erasures that failed and will be tried again on the next run.
    pub failures: u64,
}

impl RetentionReport {
    pub fn new(purposes: &[Purpose], generated_at: DateTime<Utc>, dry_run: bool) -> Self {
        Self {
            generated_at,
            dry_run,
            purposes: purposes
                .iter()
                .map(|p| PurposeRetentionCounts {
                    purpose: p.key.to_string(),
                    retention_days: p.retention_days,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Adds one person's verdict.
    pub fn add(&mut self, verdict: &Verdict) {
        self.subjects_examined += 1;
        if verdict.erase {
            self.subjects_erased += 1;
            if verdict.orphan {
                self.orphans_erased += 1;
            }
        }
        if verdict.kept_restricted {
            self.kept_restricted += 1;
        }
        for submission in &verdict.expired_submissions {
            self.submissions_erased += 1;
            *self
                .submissions_by_touchpoint
                .entry(submission.touchpoint.clone())
                .or_default() += 1;
        }
        for counts in &mut self.purposes {
            if let Some(v) = verdict
                .purposes
                .iter()
                .find(|v| v.purpose == counts.purpose)
            {
                counts.subjects += 1;
                counts.expired += u64::from(v.expired);
                counts.erased += u64::from(verdict.erase);
            }
            for (purpose, renewal) in &verdict.renewals {
                if *purpose == counts.purpose {
                    match renewal {
                        Renewal::Due => counts.renewal_due += 1,
                        Renewal::Overdue => counts.renewal_overdue += 1,
                    }
                }
            }
        }
    }

    /// Takes back an erasure that failed (the person is kept until the next run).
    pub fn erasure_failed(&mut self, verdict: &Verdict) {
        self.failures += 1;
        self.subjects_erased = self.subjects_erased.saturating_sub(1);
        if verdict.orphan {
            self.orphans_erased = self.orphans_erased.saturating_sub(1);
        }
        for counts in &mut self.purposes {
            if verdict.purposes.iter().any(|v| v.purpose == counts.purpose) {
                counts.erased = counts.erased.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::purpose::PurposeInput;
    use crate::touchpoint::TouchpointInput;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
    }

    fn purpose(key: &str, basis: &str, days: i64) -> Purpose {
        let mut json = serde_json::json!({"key": key, "legal_basis": basis, "retention_days": days, "title": "t", "description": "d"});
        if basis == "legitimate_interest" {
            json["legitimate_interest"] = "answering".into();
        }
        serde_json::from_value::<PurposeInput>(json)
            .unwrap()
            .validate(utc(2020, 1, 1))
            .unwrap()
    }

    fn touchpoint(key: &str, purposes: &[&str]) -> Touchpoint {
        serde_json::from_value::<TouchpointInput>(serde_json::json!({"key": key, "title": "t", "purposes": purposes,
            "fields": [{"name": "email", "type": "email", "required": true, "data_category": "contact", "label": "Email"}]}))
        .unwrap()
        .validate(utc(2020, 1, 1))
        .unwrap()
    }

    fn catalogue() -> (Vec<Purpose>, Vec<Touchpoint>) {
        (
            vec![
                purpose("newsletter", "consent", 1095),
                purpose("contact_handling", "legitimate_interest", 365),
            ],
            vec![
                touchpoint("contact", &["contact_handling", "newsletter"]),
                touchpoint("newsletter", &["newsletter"]),
            ],
        )
    }

    fn person() -> SubjectActivity {
        SubjectActivity {
            subject_id: Uuid::now_v7(),
            created_at: utc(2022, 1, 1),
            restricted: false,
            submissions: vec![],
            last_events: BTreeMap::new(),
            states: BTreeMap::new(),
        }
    }

    fn sent(activity: &mut SubjectActivity, touchpoint: &str, at: DateTime<Utc>) {
        activity.submissions.push(SubmissionActivity {
            id: Uuid::now_v7(),
            touchpoint: touchpoint.into(),
            received_at: at,
        });
    }

    #[test]
    fn a_contact_message_without_consent_expires_with_contact_handling() {
        let (purposes, touchpoints) = catalogue();
        let mut who = person();
        sent(&mut who, "contact", utc(2022, 1, 1));
        // The form also serves the newsletter, but without a consent the person does not relate to it.
        let before = judge(&who, &purposes, &touchpoints, utc(2022, 12, 31));
        assert!(!before.erase);
        assert_eq!(before.purposes.len(), 1);
        let after = judge(&who, &purposes, &touchpoints, utc(2023, 1, 1));
        assert!(after.erase && !after.orphan);
    }

    #[test]
    fn a_person_is_kept_while_any_purpose_they_relate_to_is_alive_but_old_submissions_go() {
        let (purposes, touchpoints) = catalogue();
        let mut who = person();
        sent(&mut who, "contact", utc(2022, 1, 1));
        who.last_events.insert("newsletter".into(), utc(2022, 1, 1));
        who.states
            .insert("newsletter".into(), ConsentState::Granted);
        let verdict = judge(&who, &purposes, &touchpoints, utc(2024, 6, 1));
        assert!(!verdict.erase);
        assert!(
            verdict
                .purposes
                .iter()
                .any(|v| v.purpose == "contact_handling" && v.expired)
        );
        // The contact form's longest purpose (newsletter, 1095 days) still covers it.
        assert!(verdict.expired_submissions.is_empty());
        let verdict = judge(&who, &purposes, &touchpoints, utc(2025, 1, 1));
        assert!(verdict.erase, "three years without any activity");
    }

    #[test]
    fn a_new_consent_event_renews_the_retention_and_a_submission_goes_alone() {
        let (purposes, touchpoints) = catalogue();
        let mut who = person();
        sent(&mut who, "contact", utc(2020, 6, 1));
        who.last_events.insert("newsletter".into(), utc(2024, 1, 1));
        who.states
            .insert("newsletter".into(), ConsentState::Granted);
        let verdict = judge(&who, &purposes, &touchpoints, utc(2024, 6, 1));
        assert!(!verdict.erase);
        assert_eq!(verdict.expired_submissions.len(), 1);
    }

    #[test]
    fn a_restricted_person_is_kept_and_counted() {
        let (purposes, touchpoints) = catalogue();
        let mut who = person();
        sent(&mut who, "contact", utc(2020, 1, 1));
        who.restricted = true;
        let verdict = judge(&who, &purposes, &touchpoints, utc(2024, 1, 1));
        assert!(!verdict.erase && verdict.kept_restricted);
    }

    #[test]
    fn a_person_with_no_activity_goes_after_the_grace_period() {
        let (purposes, touchpoints) = catalogue();
        let who = person();
        assert!(!judge(&who, &purposes, &touchpoints, utc(2022, 1, 30)).erase);
        let verdict = judge(&who, &purposes, &touchpoints, utc(2022, 1, 31));
        assert!(verdict.erase && verdict.orphan);
    }

    #[test]
    fn marketing_consent_is_due_for_renewal_before_three_years_without_contact() {
        let purposes = vec![purpose("newsletter", "consent", 2000)];
        let touchpoints = vec![touchpoint("newsletter", &["newsletter"])];
        let mut who = person();
        who.last_events.insert("newsletter".into(), utc(2021, 3, 1));
        who.states
            .insert("newsletter".into(), ConsentState::Granted);
        assert!(
            judge(&who, &purposes, &touchpoints, utc(2023, 11, 1))
                .renewals
                .is_empty()
        );
        assert_eq!(
            judge(&who, &purposes, &touchpoints, utc(2024, 1, 15)).renewals,
            vec![("newsletter".to_string(), Renewal::Due)]
        );
        assert_eq!(
            judge(&who, &purposes, &touchpoints, utc(2024, 3, 1)).renewals,
            vec![("newsletter".to_string(), Renewal::Overdue)]
        );
        // A withdrawn consent has nothing to renew.
        who.states
            .insert("newsletter".into(), ConsentState::Withdrawn);
        assert!(
            judge(&who, &purposes, &touchpoints, utc(2024, 3, 1))
                .renewals
                .is_empty()
        );
    }

    #[test]
    fn three_years_from_a_leap_day_end_on_the_last_day_of_february() {
        assert_eq!(add_months(utc(2024, 2, 29), 36), utc(2027, 2, 28));
    }

    #[test]
    fn the_report_counts_per_purpose_without_naming_anyone() {
        let (purposes, touchpoints) = catalogue();
        let mut report = RetentionReport::new(&purposes, utc(2024, 1, 1), true);
        let mut gone = person();
        sent(&mut gone, "contact", utc(2020, 1, 1));
        let mut kept = person();
        sent(&mut kept, "newsletter", utc(2020, 1, 1));
        kept.last_events
            .insert("newsletter".into(), utc(2023, 1, 1));
        kept.states
            .insert("newsletter".into(), ConsentState::Granted);
        for who in [&gone, &kept] {
            report.add(&judge(who, &purposes, &touchpoints, utc(2024, 1, 1)));
        }
        assert_eq!(
            (
                report.subjects_examined,
                report.subjects_erased,
                report.submissions_erased
            ),
            (2, 1, 1)
        );
        let contact = report
            .purposes
            .iter()
            .find(|p| p.purpose == "contact_handling")
            .unwrap();
        assert_eq!(
            (contact.subjects, contact.expired, contact.erased),
            (1, 1, 1)
        );
        assert_eq!(report.submissions_by_touchpoint.get("newsletter"), Some(&1));
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains(&gone.subject_id.to_string()));
    }
}
