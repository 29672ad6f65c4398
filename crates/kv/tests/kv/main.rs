//! The kv crate's one integration-test binary: the conformance suite (written once, run on every
//! compiled engine), the model test against a `BTreeMap` with reopen steps, and the crash tests
//! that SIGKILL a child process (this same binary) while it commits.

// Test code: a panic is the failure report.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod conformance;
mod crash;
mod model;
