//! Registre's integration tests: one binary, a real server per test, on both stores.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod access;
mod api_contract;
mod audit_form;
mod breaches;
mod catalogue;
mod checkpoints;
mod consents;
mod console;
mod design;
mod forms;
mod hardening;
mod ledger;
mod operations;
mod portal;
mod processors;
mod public;
mod requests;
mod retention;
mod ropa;
mod webhooks;
