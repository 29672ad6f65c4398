//! The questions every front end asks the projections, written once: parsing `as_of`, `on`,
//! `quarter`, a decision id and a format from text, the defaults (now, today, this quarter), and
//! each report built from the projection. The command line (`verkstall report …`) and the HTTP
//! API both call these, so the same question gets the same JSON, byte for byte.
//!
//! Nothing here knows HTTP or the command line: values come in parsed, time comes in as `now`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{DecisionId, Quarter, RecordedEvent};
use projections::Projection;
use projections::council::CouncilReport;
use projections::deadlines::Deadlines;
use projections::dossier::Dossier;
use projections::open_cases::OpenCases;
use projections::worklist::Worklist;
use store::{EventStore, StoreError};

/// Parses an `as_of`: RFC 3339 (`2023-07-31T12:00:00Z`), or a date, meaning the end of that day
/// in Stockholm. The message never repeats the text.
pub fn parse_as_of(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    let date = domain::event::parse_date(text).map_err(|e| format!("{e}; or an RFC 3339 time"))?;
    domain::time::end_of_business_day(date).ok_or_else(|| "the date is out of range".to_owned())
}

/// Parses a date, `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    domain::event::parse_date(text)
}

/// Parses a quarter, `2023Q2`.
pub fn parse_quarter(text: &str) -> Result<Quarter, String> {
    text.parse()
        .map_err(|e: domain::quarter::QuarterError| e.to_string())
}

/// Parses a decision id (a UUID).
pub fn parse_decision(text: &str) -> Result<DecisionId, String> {
    text.parse()
        .map_err(|_| "expected a decision id (a UUID)".to_owned())
}

/// Parses an output format: `json`, `csv`, `md` or `html`.
pub fn parse_format(text: &str) -> Result<render::Format, String> {
    text.parse()
        .map_err(|e: render::UnknownFormat| e.to_string())
}

/// Today in Stockholm, at `now`.
pub fn today(now: DateTime<Utc>) -> NaiveDate {
    domain::time::business_date(now)
}

/// Why a question cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The question makes no sense (`to` before `from`, say); names the parameter.
    #[error("{0}")]
    Invalid(String),
    /// There is no such decision as of the moment asked.
    #[error("{0}")]
    NotFound(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A quarter's report: the IVO worklist or the council's statistics.
#[derive(Debug, Clone, Copy, Default)]
pub struct QuarterQuery {
    /// The quarter (default: the one containing today in Stockholm).
    pub quarter: Option<Quarter>,
    /// Count days waiting to this date (default: the quarter's last day).
    pub on: Option<NaiveDate>,
    /// Only what was recorded by then (default: now).
    pub as_of: Option<DateTime<Utc>>,
}

impl QuarterQuery {
    /// The quarter and the as-of moment, with their defaults at `now`.
    pub fn resolve(&self, now: DateTime<Utc>) -> (Quarter, DateTime<Utc>) {
        let quarter = self
            .quarter
            .unwrap_or_else(|| Quarter::containing(today(now)));
        (quarter, self.as_of.unwrap_or(now))
    }
}

/// The quarter's IVO worklist (spec §6).
pub fn ivo_worklist(projection: &Projection, query: &QuarterQuery, now: DateTime<Utc>) -> Worklist {
    let (quarter, as_of) = query.resolve(now);
    projections::worklist::ivo_worklist(projection, quarter, query.on, as_of)
}

/// The council's statistics for the quarter (spec §6).
pub fn council(projection: &Projection, query: &QuarterQuery, now: DateTime<Utc>) -> CouncilReport {
    let (quarter, as_of) = query.resolve(now);
    projections::council::council_report(projection, quarter, query.on, as_of)
}

/// The date and the as-of moment of an open-cases question, with their defaults at `now`
/// (today in Stockholm, now).
pub fn resolve_open_cases(
    on: Option<NaiveDate>,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> (NaiveDate, DateTime<Utc>) {
    (on.unwrap_or_else(|| today(now)), as_of.unwrap_or(now))
}

/// Open cases on a date (default today), as of a moment (default now).
pub fn open_cases(
    projection: &Projection,
    on: Option<NaiveDate>,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> OpenCases {
    let (on, as_of) = resolve_open_cases(on, as_of, now);
    projections::open_cases::open_cases(projection, on, as_of)
}

/// Refuses a range whose last date (`to`) is before its first (`from`).
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), QueryError> {
    if to < from {
        return Err(QueryError::Invalid(format!(
            "the last date (to) {to} is before the first (from) {from}"
        )));
    }
    Ok(())
}

/// Deadlines falling due from `from` to `to` (both included); `to` before `from` is refused.
pub fn deadlines(
    projection: &Projection,
    from: NaiveDate,
    to: NaiveDate,
    as_of: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Deadlines, QueryError> {
    check_range(from, to)?;
    Ok(projections::deadlines::deadlines(
        projection,
        from,
        to,
        as_of.unwrap_or(now),
    ))
}

/// A dossier question, with its defaults resolved: as of `now`, days counted to the as-of date
/// (never after today).
#[derive(Debug, Clone, Copy)]
pub struct DossierQuery {
    /// The decision.
    pub decision_id: DecisionId,
    /// The date days are counted to.
    pub on: NaiveDate,
    /// Only what was recorded by then.
    pub as_of: DateTime<Utc>,
}

impl DossierQuery {
    /// Resolves the defaults of `on` and `as_of` at `now`.
    pub fn new(
        decision_id: DecisionId,
        on: Option<NaiveDate>,
        as_of: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> DossierQuery {
        let as_of = as_of.unwrap_or(now);
        let on = on.unwrap_or_else(|| domain::time::business_date(as_of).min(today(now)));
        DossierQuery {
            decision_id,
            on,
            as_of,
        }
    }

    fn not_found(&self) -> QueryError {
        QueryError::NotFound(format!(
            "there is no decision {} (as of {})",
            self.decision_id,
            domain::event::format_instant(&self.as_of)
        ))
    }
}

/// What a dossier needs from the log besides the projection: the decision's events recorded by
/// the as-of moment, and the log's last position then with its hash.
#[derive(Debug, Clone)]
pub struct DossierInputs {
    stream: Vec<RecordedEvent>,
    log_head: (u64, Option<String>),
}

impl DossierInputs {
    /// The decision's stream version as of the query's moment (0 when it had no events yet).
    pub fn version(&self) -> u64 {
        self.stream.last().map_or(0, |e| e.version)
    }
}

/// Where the log stood at `as_of` as the projection knows it: the position
/// (`position_as_of`), and its event's hash when that is the projection's head (the hash of any
/// other position is read from the store by [`read_dossier_inputs`]).
pub fn log_point(projection: &Projection, as_of: DateTime<Utc>) -> (u64, Option<String>) {
    let position = projection.position_as_of(as_of);
    let hash =
        (position > 0 && position == projection.head()).then(|| projection.head_hash().to_owned());
    (position, hash)
}

/// Reads the dossier's inputs at `point`, the projection's [`log_point`] of `query.as_of`.
/// Done apart from [`dossier`] so a server never holds the projection across a read.
pub async fn read_dossier_inputs(
    store: &dyn EventStore,
    query: &DossierQuery,
    point: (u64, Option<String>),
) -> Result<DossierInputs, QueryError> {
    let (position, hash) = point;
    let stream = read_stream_upto(store, query, position).await?;
    let hash = match hash {
        Some(hash) => Some(hash),
        None if position == 0 => None,
        None => store
            .read_all(position - 1, 1, None)
            .await?
            .into_iter()
            .next()
            .map(|e| e.hash),
    };
    Ok(DossierInputs {
        stream,
        log_head: (position, hash),
    })
}

/// Reads what a decision's state needs: the inputs of its dossier without the log's hash at
/// `position` (a state shows no hashes; the dossier built from these has none).
pub async fn read_state_inputs(
    store: &dyn EventStore,
    query: &DossierQuery,
    position: u64,
) -> Result<DossierInputs, QueryError> {
    Ok(DossierInputs {
        stream: read_stream_upto(store, query, position).await?,
        log_head: (position, None),
    })
}

/// The decision's events at or below `position`: those recorded by the query's moment, since
/// `recorded_at` never goes backwards along positions. Cutting at the projection's position
/// (rather than asking the store to search for the moment again) keeps the stream and the
/// projection's view of it at the same point of the log.
async fn read_stream_upto(
    store: &dyn EventStore,
    query: &DossierQuery,
    position: u64,
) -> Result<Vec<RecordedEvent>, QueryError> {
    let mut stream = store.read_stream(query.decision_id, None).await?;
    stream.retain(|e| e.position <= position);
    Ok(stream)
}

/// One decision's dossier (spec §7).
pub fn dossier(
    projection: &Projection,
    query: &DossierQuery,
    inputs: DossierInputs,
) -> Result<Dossier, QueryError> {
    let facts = projection
        .decision(query.decision_id)
        .ok_or_else(|| query.not_found())?;
    projections::dossier::dossier(
        facts,
        &inputs.stream,
        projection,
        query.on,
        query.as_of,
        inputs.log_head,
    )
    .ok_or_else(|| query.not_found())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_as_of_date_means_the_end_of_that_day_in_stockholm() {
        let summer = parse_as_of("2023-06-30").expect("a date");
        assert_eq!(
            domain::event::format_instant(&summer),
            domain::event::format_instant(
                &DateTime::parse_from_rfc3339("2023-06-30T21:59:59.999999999Z")
                    .expect("valid")
                    .with_timezone(&Utc)
            )
        );
        assert!(parse_as_of("2023-06-31").is_err());
        assert!(parse_as_of("yesterday").is_err());
    }

    #[test]
    fn parse_errors_never_repeat_the_text() {
        let secret = "19121212-1212";
        for error in [
            parse_as_of(secret).expect_err("not a time"),
            parse_quarter(secret).expect_err("not a quarter"),
            parse_decision(secret).expect_err("not a uuid"),
            parse_format(secret).expect_err("not a format"),
        ] {
            assert!(!error.contains("1212"), "{error}");
        }
    }

    #[test]
    fn deadlines_refuse_a_range_that_ends_before_it_starts() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 1, d).expect("valid");
        let error =
            deadlines(&Projection::new(), day(2), day(1), None, Utc::now()).expect_err("backwards");
        assert!(matches!(error, QueryError::Invalid(_)), "{error}");
        assert!(deadlines(&Projection::new(), day(1), day(1), None, Utc::now()).is_ok());
    }

    #[tokio::test]
    async fn the_log_point_at_the_head_has_the_hash_the_store_has_there() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store =
            store::EmbeddedStore::open(dir.path(), None, store::system_clock()).expect("opens");
        let until: DateTime<Utc> = "2024-11-20T12:00:00Z".parse().expect("a time");
        let mut options = demo::DemoOptions::new(3, until);
        options.decisions = 50;
        demo::fill(&store, &options, &mut |_, _| {})
            .await
            .expect("filled");
        let mut projection = Projection::new();
        live::catch_up(&store, &mut projection, &mut |_, _| {})
            .await
            .expect("folded");
        let head = projection.head();
        let stored = store.read_all(head - 1, 1, None).await.expect("read");
        assert_eq!(
            log_point(&projection, until),
            (head, Some(stored[0].hash.clone()))
        );
        let earlier = until - chrono::Duration::days(400);
        let (position, hash) = log_point(&projection, earlier);
        assert!(position < head && hash.is_none(), "{position} {hash:?}");
        assert_eq!(log_point(&Projection::new(), until), (0, None));
    }
}
