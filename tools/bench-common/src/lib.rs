//! What the benchmark tools under `tools/` share, so that each is written once: what the machine
//! is and who else used it ([`machine`]), where data directories go and what they take on disk
//! ([`disk`]), how runs become figures ([`figures`]), the command line a table's header
//! repeats ([`command`]), where the table goes ([`output`]), and how the tools' own command
//! lines are parsed ([`args`]).
//!
//! Not part of the product: no product crate depends on this one.

pub mod args;
pub mod command;
pub mod disk;
pub mod figures;
pub mod machine;
pub mod output;
