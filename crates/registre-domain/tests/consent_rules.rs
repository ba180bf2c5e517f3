//! Random sequences of grant / withdraw / restrict / lift / object / erase, folded the way the
//! stores fold the ledger and answered by the domain's `decide`, always give the answer the
//! law's rules give (the independent model in `support/law.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use registre_domain::ledger::{self, ConsentAction, ConsentSource, ConsentState, SubjectFlags};
use registre_domain::purpose::{Purpose, PurposeInput};
use std::collections::BTreeMap;
use support::law::{Act, Basis, LawPurpose, PURPOSES, Person};

fn domain_purpose(law: LawPurpose) -> Purpose {
    let mut json = serde_json::json!({"key": law.key, "legal_basis": law.basis.as_str(),
        "retention_days": 30, "title": "t", "description": "d", "marketing": law.marketing});
    if law.basis == Basis::LegitimateInterest {
        json["legitimate_interest"] = "answering".into();
    }
    serde_json::from_value::<PurposeInput>(json)
        .unwrap()
        .validate(Utc::now())
        .unwrap()
}

type States = BTreeMap<String, (ConsentState, DateTime<Utc>)>;

/// What the stores keep for one person: the subject's flags and per-purpose states (as
/// `fold_into_state` does), or nothing and perhaps a suppression once erased.
#[derive(Default)]
struct Folded {
    subject: Option<(SubjectFlags, States)>,
    suppressed: bool,
}

impl Folded {
    fn apply(&mut self, action: ConsentAction, purpose: Option<&str>, source: ConsentSource) {
        if action == ConsentAction::Erase {
            if self.subject.take().is_some() {
                self.suppressed = true;
            }
            return;
        }
        if self.subject.is_none() {
            if !ledger::opens_subject(action, source, self.suppressed) {
                return;
            }
            self.subject = Some(Default::default());
        }
        let Some((flags, states)) = self.subject.as_mut() else {
            return;
        };
        match (action, purpose) {
            (ConsentAction::Restrict, _) => flags.restricted = true,
            (ConsentAction::LiftRestriction, _) => flags.restricted = false,
            (ConsentAction::Object, None) => flags.objected_to_marketing = true,
            (action, Some(purpose)) => {
                let previous = states
                    .get(purpose)
                    .map(|(s, _)| *s)
                    .unwrap_or(ConsentState::None);
                states.insert(purpose.to_string(), (previous.after(action), Utc::now()));
            }
            (_, None) => panic!("a {action:?} event needs a purpose"),
        }
    }

    fn check(&self, purpose: &Purpose) -> (bool, String) {
        let decision = match &self.subject {
            Some((flags, states)) => ledger::decide(
                purpose,
                *flags,
                states.get(purpose.key.as_str()).copied(),
                true,
            ),
            None => ledger::decide(
                purpose,
                SubjectFlags {
                    erased: self.suppressed,
                    ..Default::default()
                },
                None,
                false,
            ),
        };
        (decision.allowed, decision.state)
    }
}

/// The ledger events the application records for `act` (acts it refuses are not generated here:
/// the app-level test covers those).
fn events_of(act: Act) -> Vec<(ConsentAction, Option<&'static str>)> {
    match act {
        Act::Grant(i) => vec![(ConsentAction::Grant, Some(PURPOSES[i].key))],
        Act::Withdraw(i) => vec![(ConsentAction::Withdraw, Some(PURPOSES[i].key))],
        Act::Restrict => vec![(ConsentAction::Restrict, None)],
        Act::LiftRestriction => vec![(ConsentAction::LiftRestriction, None)],
        Act::ObjectToMarketing => vec![(ConsentAction::Object, None)],
        Act::ObjectTo(i) => vec![(ConsentAction::Object, Some(PURPOSES[i].key))],
        Act::Erase => vec![(ConsentAction::Erase, None)],
    }
}

fn act() -> impl Strategy<Value = Act> {
    let n = PURPOSES.len();
    prop_oneof![
        (0..n)
            .prop_filter("grant needs a consent purpose", |i| PURPOSES[*i].basis
                == Basis::Consent)
            .prop_map(Act::Grant),
        (0..n).prop_map(Act::Withdraw),
        Just(Act::Restrict),
        Just(Act::LiftRestriction),
        Just(Act::ObjectToMarketing),
        (0..n)
            .prop_filter("objection covers legitimate interest and marketing", |i| {
                PURPOSES[*i].basis == Basis::LegitimateInterest || PURPOSES[*i].marketing
            })
            .prop_map(Act::ObjectTo),
        Just(Act::Erase),
    ]
}

fn source() -> impl Strategy<Value = ConsentSource> {
    prop_oneof![
        Just(ConsentSource::Form),
        Just(ConsentSource::Portal),
        Just(ConsentSource::Api),
        Just(ConsentSource::EmailLink),
    ]
}

/// Runs `acts` through the model and the domain, comparing every purpose after every step.
fn compare(acts: &[(Act, ConsentSource)]) -> Result<(), TestCaseError> {
    let purposes: Vec<Purpose> = PURPOSES.iter().map(|p| domain_purpose(*p)).collect();
    let mut person = Person::default();
    let mut folded = Folded::default();
    for (step, (act, source)) in acts.iter().enumerate() {
        person.act(*act);
        for (action, purpose) in events_of(*act) {
            // The app records objections, restrictions and erasures as system events.
            let source = if matches!(action, ConsentAction::Grant | ConsentAction::Withdraw) {
                *source
            } else {
                ConsentSource::System
            };
            folded.apply(action, purpose, source);
        }
        for (law, purpose) in PURPOSES.iter().zip(&purposes) {
            let (allowed, state) = folded.check(purpose);
            let expected = person.check(*law);
            prop_assert_eq!(
                (allowed, state.as_str()),
                expected,
                "purpose {} ({:?}) after step {} of {:?}",
                law.key,
                law.basis,
                step,
                acts
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_sequence_of_acts_gets_the_answer_the_law_gives(
        acts in prop::collection::vec((act(), source()), 0..24)
    ) {
        compare(&acts)?;
    }
}

// The minimal counterexamples found by the property above, kept as plain stories.

#[test]
fn a_withdrawal_does_not_lift_an_objection() {
    let contact = PURPOSES
        .iter()
        .position(|p| p.key == "contact_handling")
        .unwrap();
    compare(&[
        (Act::ObjectTo(contact), ConsentSource::Portal),
        (Act::Withdraw(contact), ConsentSource::Api),
    ])
    .unwrap();
}

#[test]
fn a_withdrawal_or_objection_for_an_erased_person_does_not_bring_them_back() {
    for act in [Act::Withdraw(0), Act::ObjectToMarketing, Act::ObjectTo(6)] {
        compare(&[
            (Act::Grant(0), ConsentSource::Form),
            (Act::Erase, ConsentSource::Api),
            (act, ConsentSource::Api),
        ])
        .unwrap();
    }
}

#[test]
fn a_fresh_consent_after_erasure_starts_a_new_subject() {
    compare(&[
        (Act::Restrict, ConsentSource::Api),
        (Act::Grant(1), ConsentSource::Form),
        (Act::Restrict, ConsentSource::Api),
        (Act::ObjectToMarketing, ConsentSource::Api),
        (Act::Erase, ConsentSource::Api),
        (Act::Grant(0), ConsentSource::Portal),
    ])
    .unwrap();
}
