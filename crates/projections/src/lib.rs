//! verkstall's projections: pure folds over the log. They know nothing of storage: they are fed
//! [`domain::RecordedEvent`]s in position order and answer questions about them.
//!
//! [`Projection`] keeps, per decision, a compact list of *facts* (what each event means for the
//! rules, with its position). Because `recorded_at` never goes backwards along positions, "as
//! known at moment T" is "the facts up to the last position recorded by T": every question can
//! be asked *as of* any past moment from the same in-memory state, without replaying the log, and
//! the answer cannot change when later events arrive.
//!
//! The rules of spec §6 that turn facts into answers live here, one function each:
//! [`episodes::episodes`], [`worklist::classify`], the worklist, council statistics, open cases,
//! deadlines and exposure. Rendering them (JSON, CSV, Markdown, HTML) is another crate's job.

pub mod council;
pub mod deadlines;
pub mod dossier;
pub mod episodes;
pub mod exposure;
pub mod facts;
pub mod open_cases;
pub mod stored;
pub mod worklist;

pub use episodes::{Episode, EpisodeKind, Outcome};
pub use facts::{
    DecisionFacts, DecisionView, Fact, FactKind, Grant, OpenEpisode, OpenEpisodes, Projection,
    ProjectionError, ProjectionParts,
};
pub use stored::FoldEvent;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod properties;
