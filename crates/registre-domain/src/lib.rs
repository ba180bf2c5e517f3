//! Registre's domain: the words of PRODUCT.md as types, and the rules of the GDPR as plain
//! functions. Nothing here knows of HTTP or SQL; time comes from an injected [`Clock`].
//!
//! Wire data becomes domain data through `parse`/`validate` functions that return a
//! [`DomainError`] naming the field at fault, so that every layer above can trust a value
//! once it holds one.

pub mod audit;
pub mod breach;
pub mod checkpoint_log;
pub mod clock;
pub mod email;
pub mod error;
pub mod keys;
pub mod ledger;
pub mod localised;
pub mod merkle;
pub mod note;
pub mod notice;
pub mod organisation;
pub mod policy;
pub mod processor;
pub mod proof;
pub mod purpose;
pub mod receipt_check;
pub mod request;
pub mod retention;
pub mod role;
pub mod ropa;
pub mod submission;
pub mod touchpoint;
pub mod witness;
pub mod words;

pub use clock::{Clock, FixedClock, SystemClock};
pub use email::Email;
pub use error::DomainError;
pub use keys::Key;
pub use localised::{Language, LocalisedText};
pub use role::Role;
