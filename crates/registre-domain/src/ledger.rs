//! The consent ledger: every grant, withdrawal, expiry, restriction, objection and erasure,
//! appended to a hash chain. Subjects appear only by their opaque id, so erasing a person
//! never breaks the chain; the current state of each consent is a fold of its events.
use crate::clock::canonical_time;
use crate::purpose::{LegalBasis, Purpose};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::audit::{ChainReport, ChainVerifier, GENESIS_HASH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentAction {
    Grant,
    Withdraw,
    /// A grant waiting for the person's confirmation (double opt-in).
    GrantPending,
    /// An unconfirmed grant that lapsed.
    Expire,
    /// Art. 18: processing restricted for every purpose until lifted.
    Restrict,
    LiftRestriction,
    /// Art. 21: objection, to one purpose or (purpose absent) to all direct marketing.
    Object,
    /// Erasure marker: the person's data was destroyed.
    Erase,
}

impl ConsentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Withdraw => "withdraw",
            Self::GrantPending => "grant_pending",
            Self::Expire => "expire",
            Self::Restrict => "restrict",
            Self::LiftRestriction => "lift_restriction",
            Self::Object => "object",
            Self::Erase => "erase",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Grant,
            Self::Withdraw,
            Self::GrantPending,
            Self::Expire,
            Self::Restrict,
            Self::LiftRestriction,
            Self::Object,
            Self::Erase,
        ]
        .into_iter()
        .find(|a| a.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentSource {
    Form,
    Portal,
    Api,
    Import,
    EmailLink,
    System,
}

impl ConsentSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::Portal => "portal",
            Self::Api => "api",
            Self::Import => "import",
            Self::EmailLink => "email_link",
            Self::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Form,
            Self::Portal,
            Self::Api,
            Self::Import,
            Self::EmailLink,
            Self::System,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// An event before it is placed in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewConsentEvent {
    pub event_id: Uuid,
    pub subject_id: Uuid,
    pub purpose: Option<String>,
    pub action: ConsentAction,
    pub source: ConsentSource,
    pub touchpoint: Option<String>,
    pub notice_version: Option<String>,
    /// Where an imported or API event came from (a file name, a system), never personal data.
    pub provenance: Option<String>,
    /// When the event happened, if before it was recorded (imports).
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConsentEvent {
    pub seq: i64,
    pub event_id: Uuid,
    pub recorded_at: DateTime<Utc>,
    pub occurred_at: DateTime<Utc>,
    pub subject_id: Uuid,
    pub purpose: Option<String>,
    pub action: ConsentAction,
    pub source: ConsentSource,
    pub touchpoint: Option<String>,
    pub notice_version: Option<String>,
    pub provenance: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl ConsentEvent {
    pub fn chain(
        new: &NewConsentEvent,
        recorded_at: DateTime<Utc>,
        prev_seq: i64,
        prev_hash: &str,
    ) -> Self {
        let recorded_at = crate::clock::truncate_to_micros(recorded_at);
        let mut event = Self {
            seq: prev_seq + 1,
            event_id: new.event_id,
            recorded_at,
            occurred_at: crate::clock::truncate_to_micros(new.occurred_at.unwrap_or(recorded_at)),
            subject_id: new.subject_id,
            purpose: new.purpose.clone(),
            action: new.action,
            source: new.source,
            touchpoint: new.touchpoint.clone(),
            notice_version: new.notice_version.clone(),
            provenance: new.provenance.clone(),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        event.hash = event.compute_hash();
        event
    }

    /// SHA-256 over the JSON array
    /// `[seq, event_id, recorded_at, occurred_at, subject_id, purpose, action, source,
    ///   touchpoint, notice_version, provenance, prev_hash]`
    /// (instants in RFC 3339 UTC with microseconds, absent values as `null`), as lower-case hex.
    pub fn compute_hash(&self) -> String {
        let mut canonical = Vec::with_capacity(512);
        self.write_canonical(&mut canonical);
        registre_crypto::sha256_hex(&canonical)
    }

    /// Whether [`Self::compute_hash`] is `stored`, without building the hex text: a walk
    /// checks millions of events. `scratch` is reused from one event to the next.
    pub fn hash_matches(&self, stored: &str, scratch: &mut Vec<u8>) -> bool {
        scratch.clear();
        self.write_canonical(scratch);
        let mut text = [0u8; 64];
        hex::encode_to_slice(registre_crypto::sha256(scratch), &mut text).is_ok()
            && text == stored.as_bytes()
    }

    /// The bytes [`Self::compute_hash`] hashes: exactly what `serde_json` writes for the JSON
    /// array above, written without building it (verification hashes millions of events).
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        fn text(out: &mut Vec<u8>, value: &str) {
            // What serde_json escapes: '"', '\\' and control characters. Without any, its
            // output is the text in quotes; otherwise its own escaping, so that any stored
            // text hashes as documented.
            if value.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                plain(out, value);
            } else if serde_json::to_writer(&mut *out, value).is_err() {
                out.extend_from_slice(b"null");
            }
        }
        fn optional(out: &mut Vec<u8>, value: Option<&str>) {
            match value {
                Some(value) => text(out, value),
                None => out.extend_from_slice(b"null"),
            }
        }
        fn plain(out: &mut Vec<u8>, value: &str) {
            // Only for values made here of characters JSON never escapes (ids, instants, names).
            out.push(b'"');
            out.extend_from_slice(value.as_bytes());
            out.push(b'"');
        }
        fn digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
            let mut text = [b'0'; 6];
            for digit in text[..width].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
            out.extend_from_slice(&text[..width]);
        }
        fn instant(out: &mut Vec<u8>, at: DateTime<Utc>) {
            use chrono::{Datelike, Timelike};
            let year = at.year();
            if !(0..=9999).contains(&year) || at.nanosecond() >= 1_000_000_000 {
                // Far years and leap seconds: rare enough to take the slow, sure path.
                return plain(out, &canonical_time(at));
            }
            // `canonical_time`'s form, digit by digit: "YYYY-MM-DDTHH:MM:SS.ffffffZ".
            let parts = [
                (b'"', year as u32, 4),
                (b'-', at.month(), 2),
                (b'-', at.day(), 2),
                (b'T', at.hour(), 2),
                (b':', at.minute(), 2),
                (b':', at.second(), 2),
                (b'.', at.timestamp_subsec_micros(), 6),
            ];
            for (separator, value, width) in parts {
                out.push(separator);
                digits(out, value, width);
            }
            out.extend_from_slice(b"Z\"");
        }
        let mut uuid = uuid::Uuid::encode_buffer();
        out.push(b'[');
        if serde_json::to_writer(&mut *out, &self.seq).is_err() {
            out.extend_from_slice(b"null");
        }
        out.push(b',');
        plain(out, self.event_id.hyphenated().encode_lower(&mut uuid));
        out.push(b',');
        instant(out, self.recorded_at);
        out.push(b',');
        instant(out, self.occurred_at);
        out.push(b',');
        plain(out, self.subject_id.hyphenated().encode_lower(&mut uuid));
        out.push(b',');
        optional(out, self.purpose.as_deref());
        out.push(b',');
        plain(out, self.action.as_str());
        out.push(b',');
        plain(out, self.source.as_str());
        out.push(b',');
        optional(out, self.touchpoint.as_deref());
        out.push(b',');
        optional(out, self.notice_version.as_deref());
        out.push(b',');
        optional(out, self.provenance.as_deref());
        out.push(b',');
        text(out, &self.prev_hash);
        out.push(b']');
    }
}

/// What a subject's events say about processing in general (not one purpose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SubjectFlags {
    pub erased: bool,
    pub restricted: bool,
    /// Objected to direct marketing (Art. 21(2)-(3)): absolute, for good.
    pub objected_to_marketing: bool,
}

/// Whether an event about a person we hold no subject for (never seen, or erased) creates
/// one. A grant, withdrawal or objection from someone never seen does, so that a later import
/// cannot override it. For an erased person, only a fresh, explicit consent from them does
/// (PRODUCT.md "Erasure"): never an import, a system event, a withdrawal or an objection,
/// which would otherwise bring the erased person back.
pub fn opens_subject(action: ConsentAction, source: ConsentSource, erased: bool) -> bool {
    match action {
        ConsentAction::Grant | ConsentAction::GrantPending => {
            !erased || !matches!(source, ConsentSource::Import | ConsentSource::System)
        }
        ConsentAction::Withdraw | ConsentAction::Object => !erased,
        _ => false,
    }
}

/// The consent state of one purpose for one subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    Granted,
    Withdrawn,
    Pending,
    Expired,
    Objected,
    None,
}

impl ConsentState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::Withdrawn => "withdrawn",
            Self::Pending => "pending",
            Self::Expired => "expired",
            Self::Objected => "objected",
            Self::None => "none",
        }
    }

    /// The state after `action` on this purpose. A withdrawal never lifts an objection
    /// (Art. 21): only a fresh, explicit grant answers for the purpose again.
    pub fn after(self, action: ConsentAction) -> Self {
        match action {
            ConsentAction::Grant => Self::Granted,
            ConsentAction::Withdraw if self == Self::Objected => Self::Objected,
            ConsentAction::Withdraw => Self::Withdrawn,
            ConsentAction::GrantPending if self == Self::Granted => Self::Granted,
            ConsentAction::GrantPending => Self::Pending,
            ConsentAction::Expire if self == Self::Pending => Self::Expired,
            ConsentAction::Object => Self::Objected,
            _ => self,
        }
    }
}

/// The answer to "may we process this person's data for this purpose now?".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub allowed: bool,
    /// granted, withdrawn, none, pending, expired, erased, restricted, objected, not_required.
    pub state: String,
    pub basis: Option<LegalBasis>,
    pub since: Option<DateTime<Utc>>,
}

/// The law's rule, in one place: erasure, then restriction (Art. 18), then objection
/// (Art. 21), then the purpose's own basis — consent needs a standing grant; the other bases
/// do not depend on consent.
pub fn decide(
    purpose: &Purpose,
    flags: SubjectFlags,
    state: Option<(ConsentState, DateTime<Utc>)>,
    known_subject: bool,
) -> Decision {
    let basis = Some(purpose.legal_basis);
    let since = state.map(|(_, at)| at);
    let answer = |allowed: bool, state: &str| Decision {
        allowed,
        state: state.to_string(),
        basis,
        since,
    };
    if flags.erased {
        return answer(false, "erased");
    }
    if !known_subject {
        return Decision {
            allowed: false,
            state: "none".into(),
            basis,
            since: None,
        };
    }
    if flags.restricted {
        return answer(false, "restricted");
    }
    if purpose.marketing && flags.objected_to_marketing {
        return answer(false, "objected");
    }
    match (purpose.legal_basis, state.map(|(s, _)| s)) {
        (_, Some(ConsentState::Objected)) => answer(false, "objected"),
        (LegalBasis::Consent, Some(ConsentState::Granted)) => answer(true, "granted"),
        (LegalBasis::Consent, Some(s)) => answer(false, s.as_str()),
        (LegalBasis::Consent, None) => answer(false, "none"),
        (_, _) => answer(true, "not_required"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::purpose::PurposeInput;

    fn purpose(key: &str, basis: &str) -> Purpose {
        let mut json = serde_json::json!({"key": key, "legal_basis": basis, "retention_days": 30,
            "title": "t", "description": "d"});
        if basis == "legitimate_interest" {
            json["legitimate_interest"] = "answering".into();
        }
        serde_json::from_value::<PurposeInput>(json)
            .unwrap()
            .validate(Utc::now())
            .unwrap()
    }

    fn event(action: ConsentAction) -> NewConsentEvent {
        NewConsentEvent {
            event_id: Uuid::now_v7(),
            subject_id: Uuid::now_v7(),
            purpose: Some("newsletter".into()),
            action,
            source: ConsentSource::Form,
            touchpoint: Some("newsletter".into()),
            notice_version: Some("sha256:00".into()),
            provenance: None,
            occurred_at: None,
        }
    }

    /// The documented encoding, built the obvious way: the fast writer must match it.
    fn reference_hash(e: &ConsentEvent) -> String {
        let canonical = serde_json::json!([
            e.seq,
            e.event_id.to_string(),
            canonical_time(e.recorded_at),
            canonical_time(e.occurred_at),
            e.subject_id.to_string(),
            e.purpose,
            e.action.as_str(),
            e.source.as_str(),
            e.touchpoint,
            e.notice_version,
            e.provenance,
            e.prev_hash
        ]);
        registre_crypto::sha256_hex(canonical.to_string().as_bytes())
    }

    #[test]
    fn the_hash_is_the_documented_encoding_whatever_the_text() {
        let odd = [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\u{1}\u{7f}",
            "é ü 漢字 🙂",
            "</script>",
            "",
        ];
        for (i, text) in odd.iter().enumerate() {
            let mut e = ConsentEvent::chain(
                &event(ConsentAction::Grant),
                Utc::now(),
                i as i64 * 1_000_000_007,
                GENESIS_HASH,
            );
            e.provenance = Some(text.to_string());
            e.touchpoint = if i % 2 == 0 {
                None
            } else {
                Some(text.to_string())
            };
            e.prev_hash = text.to_string();
            assert_eq!(e.compute_hash(), reference_hash(&e), "{text:?}");
            let mut scratch = Vec::new();
            assert!(!e.hash_matches(&e.compute_hash().to_uppercase(), &mut scratch));
            assert!(!e.hash_matches("", &mut scratch));
            assert!(e.hash_matches(&reference_hash(&e), &mut scratch));
        }
        let instants = [
            "0001-01-01T00:00:00Z",
            "1999-12-31T23:59:59.999999Z",
            "2024-02-29T12:00:00.000001Z",
            "9999-12-31T23:59:59Z",
            "2016-12-31T23:59:60.5Z",
        ];
        for raw in instants {
            let mut e =
                ConsentEvent::chain(&event(ConsentAction::Grant), Utc::now(), 0, GENESIS_HASH);
            e.occurred_at = DateTime::parse_from_rfc3339(raw)
                .unwrap()
                .with_timezone(&Utc);
            e.recorded_at = e.occurred_at;
            assert_eq!(e.compute_hash(), reference_hash(&e), "{raw}");
        }
    }

    #[test]
    fn events_chain_and_a_changed_byte_is_detected() {
        let first = ConsentEvent::chain(&event(ConsentAction::Grant), Utc::now(), 0, GENESIS_HASH);
        assert_eq!(first.prev_hash, GENESIS_HASH);
        assert_eq!(first.hash, first.compute_hash());
        let mut tampered = first.clone();
        tampered.action = ConsentAction::Withdraw;
        assert_ne!(tampered.compute_hash(), first.hash);
    }

    #[test]
    fn a_visitor_who_ticked_only_the_newsletter_is_not_sent_offers() {
        let newsletter = purpose("newsletter", "consent");
        let offers = purpose("promotional_offers", "consent");
        let now = Utc::now();
        let granted = Some((ConsentState::Granted, now));
        assert!(decide(&newsletter, SubjectFlags::default(), granted, true).allowed);
        let d = decide(&offers, SubjectFlags::default(), None, true);
        assert_eq!((d.allowed, d.state.as_str()), (false, "none"));
    }

    #[test]
    fn erasure_restriction_and_objection_override_consent() {
        let newsletter = purpose("newsletter", "consent");
        let support = purpose("support_handling", "contract");
        let contact = purpose("contact_handling", "legitimate_interest");
        let granted = Some((ConsentState::Granted, Utc::now()));
        let erased = SubjectFlags {
            erased: true,
            ..Default::default()
        };
        assert_eq!(decide(&newsletter, erased, granted, true).state, "erased");
        assert_eq!(decide(&newsletter, erased, None, false).state, "erased");
        let restricted = SubjectFlags {
            restricted: true,
            ..Default::default()
        };
        assert_eq!(decide(&support, restricted, None, true).state, "restricted");
        let objected = SubjectFlags {
            objected_to_marketing: true,
            ..Default::default()
        };
        assert_eq!(
            decide(&newsletter, objected, granted, true).state,
            "objected"
        );
        assert!(decide(&support, objected, None, true).allowed);
        let d = decide(
            &contact,
            SubjectFlags::default(),
            Some((ConsentState::Objected, Utc::now())),
            true,
        );
        assert_eq!((d.allowed, d.state.as_str()), (false, "objected"));
        assert_eq!(
            decide(&contact, SubjectFlags::default(), None, true).state,
            "not_required"
        );
        assert_eq!(
            decide(&contact, SubjectFlags::default(), None, false).state,
            "none"
        );
    }

    #[test]
    fn a_withdrawal_does_not_lift_an_objection_but_a_fresh_grant_answers_for_the_purpose() {
        let objected = ConsentState::None.after(ConsentAction::Object);
        assert_eq!(
            objected.after(ConsentAction::Withdraw),
            ConsentState::Objected
        );
        assert_eq!(objected.after(ConsentAction::Grant), ConsentState::Granted);
    }

    #[test]
    fn only_a_fresh_explicit_consent_brings_an_erased_person_back() {
        use ConsentAction::*;
        for action in [Withdraw, Object, Restrict, LiftRestriction, Expire, Erase] {
            assert!(
                !opens_subject(action, ConsentSource::Api, true),
                "{action:?}"
            );
        }
        assert!(opens_subject(Grant, ConsentSource::Form, true));
        assert!(!opens_subject(Grant, ConsentSource::Import, true));
        assert!(!opens_subject(Grant, ConsentSource::System, true));
        assert!(opens_subject(Withdraw, ConsentSource::Import, false));
        assert!(opens_subject(Object, ConsentSource::System, false));
    }

    #[test]
    fn a_pending_grant_is_not_consent_until_confirmed() {
        assert_eq!(
            ConsentState::None.after(ConsentAction::GrantPending),
            ConsentState::Pending
        );
        assert_eq!(
            ConsentState::Pending.after(ConsentAction::Expire),
            ConsentState::Expired
        );
        assert_eq!(
            ConsentState::Granted.after(ConsentAction::GrantPending),
            ConsentState::Granted
        );
        assert_eq!(
            ConsentState::Granted.after(ConsentAction::Expire),
            ConsentState::Granted
        );
    }
}
