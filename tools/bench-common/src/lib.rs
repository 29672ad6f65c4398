//! What the benchmark tools under `tools/` share, so that each is written once: what the machine
//! is and who else used it ([`machine`]), where data directories go and what they take on disk
//! ([`disk`]), how runs become figures ([`figures`]), and the command line a table's header
//! repeats ([`command`]).
//!
//! Not part of the product: no product crate depends on this one.

pub mod command;
pub mod disk;
pub mod figures;
pub mod machine;
