//! Rights requests (Art. 15 to 21) and their deadlines (Art. 12(3)): one month from receipt,
//! extendable once by two further months with a reason given to the person.
//!
//! "One month" is the same day of the next month on the UTC date and time of receipt; when
//! that day does not exist (January 31 → February), the month's last day.
use crate::DomainError;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// How long before the deadline a request is flagged `due_soon`.
pub const DUE_SOON_DAYS: i64 = 7;

/// Longest free text a request carries (details, reasons, messages).
pub const MAX_TEXT: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestType {
    /// Art. 15: a copy of everything held, and how it is processed.
    Access,
    /// Art. 16: inaccurate data corrected.
    Rectification,
    /// Art. 17: data erased.
    Erasure,
    /// Art. 18: processing stopped, data kept.
    Restriction,
    /// Art. 20: what the person provided, machine-readable.
    Portability,
    /// Art. 21: objection to direct marketing or to processing on legitimate interest.
    Objection,
}

impl RequestType {
    pub const ALL: [Self; 6] = [
        Self::Access,
        Self::Rectification,
        Self::Erasure,
        Self::Restriction,
        Self::Portability,
        Self::Objection,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Rectification => "rectification",
            Self::Erasure => "erasure",
            Self::Restriction => "restriction",
            Self::Portability => "portability",
            Self::Objection => "objection",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw.trim()).ok_or_else(|| {
            DomainError::invalid(
                "type",
                format!("unknown request type {raw:?}; expected access, rectification, erasure, restriction, portability or objection"),
            )
        })
    }

    /// The article of the GDPR that grants the right.
    pub fn article(self) -> &'static str {
        match self {
            Self::Access => "15",
            Self::Rectification => "16",
            Self::Erasure => "17",
            Self::Restriction => "18",
            Self::Portability => "20",
            Self::Objection => "21",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Received,
    Verified,
    InProgress,
    Completed,
    Refused,
}

impl RequestStatus {
    pub const ALL: [Self; 5] = [
        Self::Received,
        Self::Verified,
        Self::InProgress,
        Self::Completed,
        Self::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Verified => "verified",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Refused => "refused",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw.trim()).ok_or_else(|| {
            DomainError::invalid("status", format!("unknown status {raw:?}; expected received, verified, in_progress, completed or refused"))
        })
    }

    /// Completed and refused requests have been answered: no deadline runs any more.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Completed | Self::Refused)
    }

    /// The state machine: received → verified → in_progress → completed | refused. Steps
    /// may be skipped forward (a request can be fulfilled straight after receipt), never
    /// taken back, and a closed request stays closed.
    pub fn can_become(self, next: Self) -> bool {
        if self.is_closed() {
            return false;
        }
        match next {
            Self::Received => false,
            Self::Verified => self == Self::Received,
            Self::InProgress => matches!(self, Self::Received | Self::Verified),
            Self::Completed | Self::Refused => true,
        }
    }

    pub fn transition(self, next: Self) -> Result<Self, DomainError> {
        if self.can_become(next) {
            Ok(next)
        } else {
            Err(DomainError::Rule(format!(
                "a {} request cannot become {}",
                self.as_str(),
                next.as_str()
            )))
        }
    }
}

/// `at` plus `months` calendar months, same day and time, clamped to the last day of the
/// target month.
pub fn add_months_clamped(at: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let date = at.date_naive();
    let total = date.year() * 12 + date.month0() as i32 + months as i32;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let day = date.day().min(days_in_month(year, month0 + 1));
    match NaiveDate::from_ymd_opt(year, month0 + 1, day) {
        Some(target) => target.and_time(at.time()).and_utc(),
        // Beyond chrono's range (year 262143): no deadline that far is meaningful.
        None => at,
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    match (
        NaiveDate::from_ymd_opt(next_year, next_month, 1),
        NaiveDate::from_ymd_opt(year, month, 1),
    ) {
        (Some(next), Some(first)) => (next - first).num_days() as u32,
        _ => 28,
    }
}

/// When the answer is due: one month after receipt, three once extended (Art. 12(3)).
pub fn due_at(received_at: DateTime<Utc>, extended: bool) -> DateTime<Utc> {
    add_months_clamped(received_at, if extended { 3 } else { 1 })
}

/// The deadline of an open request seen from `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineFlags {
    /// Due within [`DUE_SOON_DAYS`] days and not yet overdue.
    pub due_soon: bool,
    /// The deadline has passed without an answer.
    pub overdue: bool,
}

pub fn deadline_flags(
    status: RequestStatus,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DeadlineFlags {
    if status.is_closed() {
        return DeadlineFlags {
            due_soon: false,
            overdue: false,
        };
    }
    let overdue = now >= due_at;
    DeadlineFlags {
        due_soon: !overdue && due_at - now <= Duration::days(DUE_SOON_DAYS),
        overdue,
    }
}

/// A free text given with a request (details, a reason, how identity was checked): trimmed,
/// at most [`MAX_TEXT`] characters, no control characters other than line breaks and tabs.
pub fn validate_text(
    field: &str,
    raw: &str,
    required: bool,
) -> Result<Option<String>, DomainError> {
    let text = raw.trim();
    if text.is_empty() {
        return if required {
            Err(DomainError::invalid(field, "is required"))
        } else {
            Ok(None)
        };
    }
    if text.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(DomainError::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    Ok(Some(text.to_string()))
}

/// Whether a request may be extended now: once, while open, and (Art. 12(3)) within the
/// first month, before the original deadline passes.
pub fn check_extension(
    status: RequestStatus,
    extended: bool,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, DomainError> {
    if status.is_closed() {
        return Err(DomainError::Rule(format!(
            "a {} request cannot be extended",
            status.as_str()
        )));
    }
    if extended {
        return Err(DomainError::Rule(
            "a request can be extended only once".into(),
        ));
    }
    if now > due_at(received_at, false) {
        return Err(DomainError::Rule("the extension must be told to the person within the first month (Art. 12(3)); that month is over".into()));
    }
    Ok(due_at(received_at, true))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn a_request_is_due_the_same_day_next_month_at_the_same_time() {
        assert_eq!(
            due_at(at("2026-03-02T09:15:30.123456Z"), false),
            at("2026-04-02T09:15:30.123456Z")
        );
        assert_eq!(
            due_at(at("2026-01-15T00:00:00Z"), false),
            at("2026-02-15T00:00:00Z")
        );
    }

    #[test]
    fn the_last_days_of_january_are_due_on_the_last_day_of_february() {
        assert_eq!(
            due_at(at("2026-01-31T10:00:00Z"), false),
            at("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-01-29T10:00:00Z"), false),
            at("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-01-28T10:00:00Z"), false),
            at("2026-02-28T10:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-03-31T23:59:59Z"), false),
            at("2026-04-30T23:59:59Z")
        );
    }

    #[test]
    fn leap_years_have_a_february_29() {
        assert_eq!(
            due_at(at("2028-01-31T08:00:00Z"), false),
            at("2028-02-29T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2028-01-29T08:00:00Z"), false),
            at("2028-02-29T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2028-02-29T08:00:00Z"), false),
            at("2028-03-29T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2100-01-31T08:00:00Z"), false),
            at("2100-02-28T08:00:00Z"),
            "2100 is not a leap year"
        );
        assert_eq!(
            due_at(at("2000-01-31T08:00:00Z"), false),
            at("2000-02-29T08:00:00Z"),
            "2000 is"
        );
    }

    #[test]
    fn december_requests_are_due_next_year() {
        assert_eq!(
            due_at(at("2026-12-31T22:00:00Z"), false),
            at("2027-01-31T22:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-12-15T12:00:00Z"), false),
            at("2027-01-15T12:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-11-30T12:00:00Z"), true),
            at("2027-02-28T12:00:00Z")
        );
        assert_eq!(
            due_at(at("2027-11-30T12:00:00Z"), true),
            at("2028-02-29T12:00:00Z")
        );
    }

    #[test]
    fn an_extension_counts_three_months_from_receipt_with_the_same_clamping() {
        assert_eq!(
            due_at(at("2026-03-02T09:00:00Z"), true),
            at("2026-06-02T09:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-05-31T09:00:00Z"), true),
            at("2026-08-31T09:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-03-31T09:00:00Z"), true),
            at("2026-06-30T09:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-10-31T09:00:00Z"), true),
            at("2027-01-31T09:00:00Z")
        );
    }

    #[test]
    fn the_date_is_computed_in_utc_whatever_the_offset_the_request_came_with() {
        // 00:30 in Paris on 1 February is still 31 January in UTC.
        let paris = DateTime::parse_from_rfc3339("2026-02-01T00:30:00+01:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(due_at(paris, false), at("2026-02-28T23:30:00Z"));
    }

    #[test]
    fn requests_due_within_seven_days_are_flagged_and_late_ones_overdue() {
        let due = at("2026-04-02T09:00:00Z");
        let open = RequestStatus::Received;
        assert_eq!(
            deadline_flags(open, due, at("2026-03-20T09:00:00Z")),
            DeadlineFlags {
                due_soon: false,
                overdue: false
            }
        );
        assert_eq!(
            deadline_flags(open, due, at("2026-03-26T09:00:00Z")),
            DeadlineFlags {
                due_soon: true,
                overdue: false
            }
        );
        assert_eq!(
            deadline_flags(open, due, at("2026-04-02T08:59:59Z")),
            DeadlineFlags {
                due_soon: true,
                overdue: false
            }
        );
        assert_eq!(
            deadline_flags(open, due, at("2026-04-02T09:00:00Z")),
            DeadlineFlags {
                due_soon: false,
                overdue: true
            }
        );
        let closed = deadline_flags(RequestStatus::Completed, due, at("2026-05-01T00:00:00Z"));
        assert_eq!(
            closed,
            DeadlineFlags {
                due_soon: false,
                overdue: false
            }
        );
    }

    #[test]
    fn the_state_machine_moves_forward_only_and_closed_requests_stay_closed() {
        use RequestStatus::*;
        assert_eq!(Received.transition(Verified).unwrap(), Verified);
        assert_eq!(Verified.transition(InProgress).unwrap(), InProgress);
        assert_eq!(InProgress.transition(Completed).unwrap(), Completed);
        assert!(Received.transition(Completed).is_ok());
        assert!(Verified.transition(Refused).is_ok());
        assert!(InProgress.transition(Verified).is_err());
        assert!(Completed.transition(Refused).is_err());
        assert!(Refused.transition(Completed).is_err());
        assert!(Verified.transition(Received).is_err());
    }

    #[test]
    fn an_extension_is_granted_once_within_the_first_month() {
        let received = at("2026-01-31T10:00:00Z");
        let open = RequestStatus::Verified;
        assert_eq!(
            check_extension(open, false, received, at("2026-02-10T00:00:00Z")).unwrap(),
            at("2026-04-30T10:00:00Z")
        );
        assert!(check_extension(open, true, received, at("2026-02-10T00:00:00Z")).is_err());
        assert!(check_extension(open, false, received, at("2026-03-01T00:00:00Z")).is_err());
        assert!(
            check_extension(
                RequestStatus::Refused,
                false,
                received,
                at("2026-02-10T00:00:00Z")
            )
            .is_err()
        );
    }

    #[test]
    fn types_and_statuses_parse_from_their_wire_names_only() {
        for t in RequestType::ALL {
            assert_eq!(RequestType::parse(t.as_str()).unwrap(), t);
        }
        assert!(RequestType::parse("deletion").is_err());
        assert_eq!(
            RequestStatus::parse("in_progress").unwrap(),
            RequestStatus::InProgress
        );
        assert!(RequestStatus::parse("done").is_err());
    }

    #[test]
    fn texts_are_trimmed_and_bounded() {
        assert_eq!(
            validate_text("reason", "  late  ", true)
                .unwrap()
                .as_deref(),
            Some("late")
        );
        assert!(validate_text("reason", "   ", true).is_err());
        assert_eq!(validate_text("details", "", false).unwrap(), None);
        assert!(validate_text("details", &"x".repeat(MAX_TEXT + 1), false).is_err());
        assert!(validate_text("details", "a\u{0}b", false).is_err());
        assert!(validate_text("details", "line one\nline two", false).is_ok());
    }
}
