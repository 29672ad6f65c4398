//! verkstall's black-box tests: one test binary, one module per concern.

#![allow(clippy::unwrap_used)]

mod calendar;
mod crash;
mod disk_full;
mod events;
mod golden;
mod import;
mod layering;
mod migrate;
mod pg;
mod redaction;
mod reports;
mod schema;
mod store_conformance;
mod tamper;
mod verify;
