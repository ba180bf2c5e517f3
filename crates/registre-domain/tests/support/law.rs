//! The law's rules on "may we process this person's data for this purpose now?", written
//! straight from PRODUCT.md and the GDPR, independently of the code under test: the oracle of
//! the `consent_rules` property tests (the domain's and the app's).
//!
//! - Art. 6(1): consent is one lawful basis among six; the other five do not depend on it.
//! - Art. 7(3): consent can be withdrawn at any time; afterwards it no longer counts.
//! - Art. 17 and PRODUCT.md "Erasure": an erased person stays erased; nothing but a fresh,
//!   explicit consent from them later starts a new subject, with nothing of the old one.
//! - Art. 18: while processing is restricted, nothing is processed (storage only), until lifted.
//! - Art. 21(1): an objection to a legitimate-interest purpose stops it; a withdrawal of consent
//!   does not undo it. Art. 21(3): an objection to direct marketing stops every marketing
//!   purpose, for good (even a later grant does not undo it).
//!   A later explicit consent to one purpose is a new, freely given basis for that purpose
//!   (Art. 6(1)(a)), so it answers for it (never for direct marketing objected to as a whole).
#![allow(dead_code)]
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    Consent,
    Contract,
    LegalObligation,
    VitalInterests,
    PublicTask,
    LegitimateInterest,
}

impl Basis {
    pub const ALL: [Basis; 6] = [
        Basis::Consent,
        Basis::Contract,
        Basis::LegalObligation,
        Basis::VitalInterests,
        Basis::PublicTask,
        Basis::LegitimateInterest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::Contract => "contract",
            Basis::LegalObligation => "legal_obligation",
            Basis::VitalInterests => "vital_interests",
            Basis::PublicTask => "public_task",
            Basis::LegitimateInterest => "legitimate_interest",
        }
    }
}

/// A purpose as the law sees it: its basis, and whether it is direct marketing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LawPurpose {
    pub key: &'static str,
    pub basis: Basis,
    pub marketing: bool,
}

/// The purposes the tests play with: one per basis, and marketing both ways.
pub const PURPOSES: [LawPurpose; 8] = [
    LawPurpose {
        key: "newsletter",
        basis: Basis::Consent,
        marketing: true,
    },
    LawPurpose {
        key: "whitepaper_delivery",
        basis: Basis::Consent,
        marketing: false,
    },
    LawPurpose {
        key: "account_management",
        basis: Basis::Contract,
        marketing: false,
    },
    LawPurpose {
        key: "invoicing",
        basis: Basis::LegalObligation,
        marketing: false,
    },
    LawPurpose {
        key: "emergency_contact",
        basis: Basis::VitalInterests,
        marketing: false,
    },
    LawPurpose {
        key: "census",
        basis: Basis::PublicTask,
        marketing: false,
    },
    LawPurpose {
        key: "contact_handling",
        basis: Basis::LegitimateInterest,
        marketing: false,
    },
    LawPurpose {
        key: "customer_offers",
        basis: Basis::LegitimateInterest,
        marketing: true,
    },
];

/// What a person (or an agent for them) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// A fresh, explicit consent given by the person (form, portal, API).
    Grant(usize),
    Withdraw(usize),
    Restrict,
    LiftRestriction,
    /// Art. 21(3): objection to direct marketing as a whole.
    ObjectToMarketing,
    /// Art. 21(1)/(2): objection to one purpose.
    ObjectTo(usize),
    Erase,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Consent {
    Given,
    Withdrawn,
}

/// One person, as the law sees them.
#[derive(Clone, Debug, Default)]
pub struct Person {
    /// We hold something on them (any act about them but a restriction or erasure).
    known: bool,
    erased: bool,
    restricted: bool,
    objected_to_marketing: bool,
    objected: BTreeSet<&'static str>,
    consents: BTreeMap<&'static str, Consent>,
}

impl Person {
    /// The person after `act`; an act the law (or the product) refuses changes nothing.
    pub fn act(&mut self, act: Act) {
        match act {
            Act::Grant(i) => {
                let purpose = PURPOSES[i];
                if purpose.basis != Basis::Consent {
                    return; // nothing to grant: the purpose does not rest on consent
                }
                if self.erased {
                    *self = Person::default(); // a new subject, nothing of the old one
                }
                self.known = true;
                self.objected.remove(purpose.key);
                self.consents.insert(purpose.key, Consent::Given);
            }
            _ if self.erased => {} // only a fresh consent brings an erased person back
            Act::Withdraw(i) => {
                self.known = true;
                self.consents.insert(PURPOSES[i].key, Consent::Withdrawn);
            }
            Act::Restrict if self.known => self.restricted = true,
            Act::LiftRestriction if self.known => self.restricted = false,
            Act::Restrict | Act::LiftRestriction => {} // nothing held: nothing to restrict
            Act::ObjectToMarketing => {
                self.known = true;
                self.objected_to_marketing = true;
            }
            Act::ObjectTo(i) => {
                let purpose = PURPOSES[i];
                if purpose.basis != Basis::LegitimateInterest && !purpose.marketing {
                    return; // Art. 21 covers legitimate interest and direct marketing only
                }
                self.known = true;
                self.objected.insert(purpose.key);
            }
            Act::Erase if self.known => {
                *self = Person {
                    erased: true,
                    ..Person::default()
                }
            }
            Act::Erase => {}
        }
    }

    /// The check's answer: (allowed, state).
    pub fn check(&self, purpose: LawPurpose) -> (bool, &'static str) {
        if self.erased {
            return (false, "erased");
        }
        if !self.known {
            return (false, "none");
        }
        if self.restricted {
            return (false, "restricted");
        }
        if purpose.marketing && self.objected_to_marketing {
            return (false, "objected");
        }
        if self.objected.contains(purpose.key) {
            return (false, "objected");
        }
        if purpose.basis != Basis::Consent {
            return (true, "not_required");
        }
        match self.consents.get(purpose.key) {
            Some(Consent::Given) => (true, "granted"),
            Some(Consent::Withdrawn) => (false, "withdrawn"),
            None => (false, "none"),
        }
    }
}
