//! The same random sequences as the domain's `consent_rules` property, run through the
//! application on the SQLite store (ledger fold in SQL, requests, erasure, suppression) and
//! answered by `App::check`: always the answer the law's rules give. Fewer cases than the
//! domain's property, as each one writes to a real database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../registre-domain/tests/support/law.rs"]
mod law;

use law::{Act, Basis, PURPOSES, Person};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use registre_app::{App, ConsentRequest, FulfilInput, NewRequest, Principal, SubjectRef};
use registre_domain::Email;
use registre_domain::purpose::PurposeInput;
use registre_testkit::{Backend, spawn_app_with};
use uuid::Uuid;

fn act() -> impl Strategy<Value = Act> {
    let n = PURPOSES.len();
    prop_oneof![
        3 => (0..n).prop_map(Act::Grant),
        2 => (0..n).prop_map(Act::Withdraw),
        1 => Just(Act::Restrict),
        1 => Just(Act::LiftRestriction),
        1 => Just(Act::ObjectToMarketing),
        1 => (0..n).prop_map(Act::ObjectTo),
        1 => Just(Act::Erase),
    ]
}

/// One person's acts carried out through the app, as an agent or the person would.
struct Runner<'a> {
    app: &'a App,
    email: String,
    /// Completed restriction requests not lifted yet (forgotten on erasure).
    restrictions: Vec<Uuid>,
}

impl Runner<'_> {
    async fn request(&self, kind: &str, input: FulfilInput) -> Option<Uuid> {
        let by = Principal::cli();
        let new = NewRequest {
            request_type: kind.into(),
            email: self.email.clone(),
            details: None,
            identity_verified: true,
            identity_verification: Some("test".into()),
            language: None,
            received_at: None,
            marketing: input.marketing,
        };
        let request = self.app.create_request(&by, new, "api").await.ok()?;
        self.app
            .fulfil_request(&by, request.id, input)
            .await
            .ok()
            .map(|r| r.id)
    }

    /// Carries `act` out; refusals are expected (the model knows which), so only the checks
    /// after each act decide.
    async fn act(&mut self, act: Act) {
        let by = Principal::cli();
        let consent = |purpose: usize, action: &str| ConsentRequest {
            subject: SubjectRef {
                email: Some(self.email.clone()),
                external_id: None,
            },
            purpose: PURPOSES[purpose].key.into(),
            action: action.into(),
            source: Some("api".into()),
            touchpoint: None,
            notice_version: None,
            occurred_at: None,
            provenance: None,
        };
        match act {
            Act::Grant(i) => drop(self.app.record_consent(&by, consent(i, "grant")).await),
            Act::Withdraw(i) => drop(self.app.record_consent(&by, consent(i, "withdraw")).await),
            Act::Restrict => {
                if let Some(id) = self.request("restriction", FulfilInput::default()).await {
                    self.restrictions.push(id);
                }
            }
            Act::LiftRestriction => {
                // Every open restriction is lifted, as the law's lift does.
                for id in std::mem::take(&mut self.restrictions) {
                    self.app.lift_restriction(&by, id).await.unwrap();
                }
            }
            Act::ObjectToMarketing => {
                let input = FulfilInput {
                    marketing: Some(true),
                    purposes: Some(vec![]),
                    ..Default::default()
                };
                self.request("objection", input).await;
            }
            Act::ObjectTo(i) => {
                let input = FulfilInput {
                    marketing: Some(false),
                    purposes: Some(vec![PURPOSES[i].key.into()]),
                    ..Default::default()
                };
                self.request("objection", input).await;
            }
            Act::Erase => {
                // Erasure forgets the person's requests too, even when nothing else was held
                // on them (a restriction asked by someone unknown).
                let email = Email::parse(&self.email).unwrap();
                if self.app.erase_person(&by, &email, None).await.is_ok() {
                    self.restrictions.clear();
                }
            }
        }
    }
}

#[test]
fn every_sequence_of_acts_gets_the_answer_the_law_gives_through_the_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let test = runtime
        .block_on(spawn_app_with(Backend::Sqlite, false))
        .unwrap();
    let app = &test.app;
    runtime.block_on(async {
        for purpose in PURPOSES {
            let mut json = serde_json::json!({"key": purpose.key, "legal_basis": purpose.basis.as_str(),
                "retention_days": 30, "title": "t", "description": "d", "marketing": purpose.marketing});
            if purpose.basis == Basis::LegitimateInterest {
                json["legitimate_interest"] = "answering".into();
            }
            let input: PurposeInput = serde_json::from_value(json).unwrap();
            app.create_purpose(&Principal::cli(), input).await.unwrap();
        }
    });
    // REGISTRE_PROPERTY_CASES=5000 for a longer hunt; every run draws new sequences.
    let cases = std::env::var("REGISTRE_PROPERTY_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(128);
    let mut runner = TestRunner::new(Config {
        cases,
        ..Config::default()
    });
    runner
        .run(&prop::collection::vec(act(), 0..12), |acts| {
            runtime.block_on(async {
                // A new person per case: one database serves them all.
                let mut person = Person::default();
                let mut run = Runner {
                    app,
                    email: format!("p-{}@example.org", Uuid::now_v7().simple()),
                    restrictions: vec![],
                };
                for (step, act) in acts.iter().enumerate() {
                    person.act(*act);
                    run.act(*act).await;
                    for purpose in PURPOSES {
                        let decision = app
                            .check(&Principal::cli(), &run.email, purpose.key)
                            .await
                            .unwrap();
                        prop_assert_eq!(
                            (decision.allowed, decision.state.as_str()),
                            person.check(purpose),
                            "purpose {} after step {} of {:?}",
                            purpose.key,
                            step,
                            acts
                        );
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn a_withdrawal_for_an_erased_person_does_not_bring_them_back_through_the_app() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let test = spawn_app_with(Backend::Sqlite, true).await.unwrap();
        let app = &test.app;
        let mut run = Runner {
            app,
            email: "erased@example.org".into(),
            restrictions: vec![],
        };
        let newsletter = law::LawPurpose {
            key: "newsletter",
            basis: Basis::Consent,
            marketing: true,
        };
        let mut person = Person::default();
        for act in [
            Act::Grant(0),
            Act::Erase,
            Act::Withdraw(0),
            Act::ObjectToMarketing,
        ] {
            person.act(act);
            run.act(act).await;
        }
        let decision = app
            .check(&Principal::cli(), &run.email, "newsletter")
            .await
            .unwrap();
        assert_eq!(
            (decision.allowed, decision.state.as_str()),
            person.check(newsletter)
        );
        assert_eq!(decision.state, "erased");
    });
}
