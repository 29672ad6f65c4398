//! verkstall's demo municipality: a realistic synthetic history of decisions as events,
//! generated deterministically from a seed.
//!
//! [`generate`] returns a run whole, [`stream`] hands it out event by event without holding it,
//! and [`fill`] imports it into an empty [`store::EventStore`] in chunks of
//! [`IMPORT_CHUNK_EVENTS`], keeping `recorded_at`. This crate sits above `domain` and `store`
//! and knows nothing of the command line, HTTP or projections.
//!
//! # Guarantees
//!
//! - **Deterministic.** The same [`DemoOptions`] give the same events, byte for byte, with the
//!   same `event_id`s and decision ids. Each decision slot draws from its own ChaCha8 stream of
//!   the seed, so a slot can be generated alone, in any order or on any thread.
//! - **Valid at every moment.** Every stream obeys the §6 rules of `domain::rules`, and so does
//!   every prefix of it in recorded order: imported whole, in chunks, or read *as of* any moment,
//!   the store sees a stream that made sense then.
//! - **In order, up to "now".** Events come in `recorded_at` order (ties in a fixed order);
//!   nothing occurs or is recorded after `until`; `occurred_on` is never after the business
//!   date it is recorded on; a retraction comes after its target, a decline after its offer,
//!   and a decision that `replaces` another after it.
//! - **Exactly `decisions` decisions**, replacing decisions included.
//! - **No real people.** Persons carry IVO reserve numbers only (`YYYYMMDD-TNNN`, or
//!   `YYYYMMDD-TFNN` with `protected: true`) — never a personnummer, which might be someone's.
//!   Actors are user ids (`handlaggare.anna`, `utforare.boendeteamet`, `ivo.rapportor`); places
//!   and providers are invented.
//! - **Large runs are cheap.** 1 000 000 decisions (≈ 6 million events) stream in well under
//!   a minute in release with under 300 MiB of memory; collected whole they take about 2 GiB.
//!
//! # Proportions, and where they come from
//!
//! The seeds are in `shared/seeds/`: 001 is a municipality's LSS routine, 002 IVO's FAQ, 003
//! IVO's 2015 report on five municipalities, 004 a council report. The municipality is one like
//! those IVO inspected in 003 — chosen because they reported many decisions — so waits are
//! common enough for every report to have something to show.
//!
//! | what | chosen | source |
//! |---|---|---|
//! | when decisions are made | every working day from 1 January of `first_year` to the day before `until`; 7 % more each year, July half as many, August and December 15 % fewer | more recent years slightly more: 003's municipalities plan for "ökningen av antalet äldre och äldre-äldre" |
//! | law | 60 % SoL, 40 % LSS | the brief |
//! | SoL insatser (‰) | hemtjänst 300, särskilt boende 130, boendestöd 100, kontaktperson 90, korttidsvistelse 70, kontaktfamilj 50, öppenvård 50, dagverksamhet 40, bostad med särskild service 40, avlösning 30, sysselsättning 25, familjehem 20, HVB 20, ledsagning 20, övrigt 15 | 003 tables 1–2 (elderly care, disability support, children and young people) |
//! | LSS insatser (‰) | 9§4 kontaktperson 200, 9§10 daglig verksamhet 180, 9§9 bostad 150, 9§6 korttidsvistelse 140, 9§3 90, 9§2 60, 9§5 60, 9§7 60, 9§8 60 | 001 (9§2–10, Boendeteamet for 9§8–9, Centralen for 9§10) |
//! | förhandsbesked | ≈ 5 %: 20 % of 9§9, 15 % of SoL bostad, 10 % of särskilt boende and 9§10, 5 % of 9§8, 3 % of the rest | 002: a förhandsbesked counts as a decision; 001's title "Förhandsbesked" |
//! | person | reserve numbers, 2 % protected (`-TF`); the sex digit uniform 0–9, so ≈ 50/50; ages by insats: 65–98 for särskilt boende, mostly 67–97 for hemtjänst, 4–17 for 9§6, 2–14 for kontaktfamilj, 8–19 for 9§8, 19–64 for 9§9–10, … | 002: "ÅÅÅÅMMDD-T123 alternativt ÅÅÅÅMMDD-TF10", even digit woman, odd man |
//! | not executed within three months | by insats: 9§9 40 %, SoL bostad 35 %, kontaktperson and kontaktfamilj 35 %, särskilt boende and 9§8 30 %, 9§6 18 %, 9§10 15 %, familjehem 15 %, 9§3/9§5/9§7/sysselsättning 10 %, hemtjänst 3 %, … — 16–18 % of decisions have a reportable episode | 003: "svårast att verkställa beslut när det gäller boende samt kontaktperson och kontaktfamilj" |
//! | how long they wait | past the reference date: up to 3 months 50 %, 3–9 months 35 %, 9–21 months 15 % (housing 40/40/20); then 78 % executed, the rest ended | 004: a contact person waiting 277 days |
//! | why they wait | housing: no place 70 %; contact persons: recruiting 75 %; korttids: recruiting (stödfamilj) 50 %, no place 30 %; daily activity: no place 55 %, staff 25 %; hours of help: staff 55 % — the rest individual wishes, unreachable, other | 003: no long-term housing plans, hard to recruit and match contact persons and families |
//! | offers while waiting | 0–3 offers (35/40/20/5 %), each declined ≥ 80 % (the last, accepted, before execution); 92 % of declines name the offer; half are followed by a delay reason `declined_offer` or `individual_wishes`; 35 % get a compensating offer, 40 % of those declined | 003: the elderly decline places outside town, wishes about a contact person's age, sex and interests; 004: kontaktfamilj offered while waiting for a kontaktperson, declined; 001: korttidsenhet while waiting for a stödfamilj; 002: a decline does not end the decision |
//! | documentation | contact within two weeks after two months (8 % later), then each quarter; the utförare's summary by the last working day before each reference date (7 % missing); impact 60 %, planning 45 % | 001's routine; 002: what a yttrande must show |
//! | partial execution | hours insatser (hemtjänst, boendestöd, 9§2, 9§5, SoL avlösning): 65 % of long waits and 8 % of quick ones start in part, then in full | 002: "två av fem beviljade timmar hemtjänst" |
//! | interruptions | 1–10 % of executed decisions by insats (contact persons 10 %); a new order the next day; 35 % not resumed within three months | 003: volunteers end their assignments; 001: a new order from the interruption's first day |
//! | expiry and replacement | time-limited decisions (SoL kontaktperson, kontaktfamilj, ledsagning, avlösning, 9§5, 9§6: 12 months; SoL korttidsvistelse, öppenvård: 6) still waiting at their end expire; 75 % are replaced the next day by a decision that `replaces` them | 001: "Om ett beslut som ej varit verkställt löper ut och nytt beslut beviljas …" |
//! | endings | 3.5 % end before execution; 5–50 % of executed decisions end later (särskilt boende 50 %, mostly deceased) | 002: withdrawn, need ceased |
//! | reports to IVO | every report the §6 worklist makes due, for its quarter and reference date, by `ivo.rapportor` in the three weeks before the quarter's due date (Q2 in August); 3.5 % missed on purpose | 001: reporting in January, April, July–August, October; spec §6 |
//! | cost | 75 % of long waits near the reference date, 8 % of others at the decision; SEK a month by insats (särskilt boende 60–85 000, 9§9 70–110 000, kontaktperson 2 000–4 500, …) | 002: the särskild avgift builds on the municipality's cost |
//! | late registration | 2 % of decisions registered 1–3 weeks late, 6 % of executions 1–5 weeks late, 5 % of notes 1–4 weeks late; 15 % of other events the next working day | 002: report the right date, "gärna redan dagen för verkställighet" |
//! | mistakes | 0.6 % of decisions get a note or an offer meant for another decision, retracted 1–14 days later | spec §3 `EventRetracted` |
//!
//! A default run (3 000 decisions) holds about 6 events per decision, every event type, some
//! 20 retractions, 80–90 interruptions and about 10 replacing decisions.

mod case;
mod catalogue;
mod days;
mod dice;
mod fill;
mod stream;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::NewEvent;

pub use fill::{DemoError, DemoSummary, IMPORT_CHUNK_EVENTS, fill};
pub use stream::DemoStream;

/// Decisions in a default run: a mid-sized municipality's four years or so.
pub const DEFAULT_DECISIONS: u32 = 3000;
/// How many years before `until` a default run begins.
pub const DEFAULT_YEARS_BACK: i32 = 4;
/// Years a run must keep from the calendar's last year, so every drawn date has working days.
const CALENDAR_MARGIN_YEARS: i32 = 10;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoOptions {
    /// The seed: the same options give the same events, byte for byte.
    pub seed: u64,
    /// How many decisions (streams), replacing decisions included.
    pub decisions: u32,
    /// The first year decisions are made in (from 1 January).
    pub first_year: i32,
    /// "Now": nothing occurs or is recorded after it. Decisions are made up to the day before.
    pub until: DateTime<Utc>,
}

impl DemoOptions {
    /// The default run up to `until`: [`DEFAULT_DECISIONS`] decisions from 1 January
    /// [`DEFAULT_YEARS_BACK`] years before `until`'s year (in Stockholm).
    pub fn new(seed: u64, until: DateTime<Utc>) -> DemoOptions {
        DemoOptions {
            seed,
            decisions: DEFAULT_DECISIONS,
            first_year: domain::time::business_date(until).year() - DEFAULT_YEARS_BACK,
            until,
        }
    }

    /// Whether these options can make a demo: `first_year` no later than `until`'s year, and
    /// both well inside the working-day calendar's years.
    ///
    /// # Errors
    /// [`DemoError::Options`] saying what is wrong.
    pub fn check(&self) -> Result<(), DemoError> {
        let until_year = domain::time::business_date(self.until).year();
        let (lowest, highest) = (
            domain::time::FIRST_YEAR,
            domain::time::LAST_YEAR - CALENDAR_MARGIN_YEARS,
        );
        if !(lowest..=highest).contains(&until_year) {
            return Err(DemoError::Options(format!(
                "`until` must fall within {lowest}–{highest}"
            )));
        }
        if !(lowest..=until_year).contains(&self.first_year) {
            return Err(DemoError::Options(format!(
                "the first year must be within {lowest}–{until_year} (the year of `until`)"
            )));
        }
        Ok(())
    }

    fn world(&self) -> case::World {
        self.check()
            .unwrap_or_else(|error| panic!("invalid demo options: {error}"));
        let first = NaiveDate::from_ymd_opt(self.first_year, 1, 1)
            .expect("1 January of a checked year exists");
        let last = domain::time::business_date(self.until)
            .pred_opt()
            .expect("a checked date has a day before it");
        case::World::new(
            self.seed,
            u64::from(self.decisions),
            first,
            last,
            self.until,
        )
    }
}

/// The whole demo of `options`: every event with a deterministic `event_id` and its
/// `recorded_at`, in recorded order (never going back), ready for one historical import.
///
/// # Panics
/// When [`DemoOptions::check`] refuses the options.
pub fn generate(options: &DemoOptions) -> Vec<NewEvent> {
    stream(options).collect()
}

/// The events of [`generate`], one at a time, holding only the decisions under way in memory:
/// for runs too large to hold, or to write out as they come.
///
/// # Panics
/// When [`DemoOptions::check`] refuses the options.
pub fn stream(options: &DemoOptions) -> DemoStream {
    DemoStream::new(options.world())
}

#[cfg(test)]
mod tests;
