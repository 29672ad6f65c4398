//! verkstall's HTTP API (`verkstall serve`, spec §8 and issue 5), on axum. The only crate that
//! knows HTTP.
//!
//! - [`query`]: the questions every front end asks (parsing `as_of`, `on`, `quarter`, the
//!   defaults, each report from the projection), shared with the command line.
//! - [`problem`]: the one error type, answered as `application/problem+json` (RFC 9457).
//! - [`auth`]: tokens (stored as SHA-256 hashes) and the roles' permissions.
//! - [`access`]: the access log of every read of personal data.
//! - [`webhooks`]: webhook subscribers, each delivering the log to a URL, signed.
//! - [`timeout`]: the bound on how long a request may take.

pub mod access;
pub mod auth;
pub mod problem;
pub mod query;
pub mod timeout;
pub mod webhooks;

mod answers;
mod decisions;
mod health;
mod log;
mod masking;
mod metrics;
mod reports;
mod routes;
mod server;

pub use decisions::{AppendResponse, AppendedEventBody};
pub use health::Health;
pub use routes::openapi;
pub use server::{
    BODY_BYTES_MAX, Config, PROJECTION_WAIT_MAX, READY_LAG_EVENTS_MAX, SNAPSHOT_EVERY_EVENTS,
    ServeError, Server, serve, shutdown_signal,
};
