//! The simulated clients: each holds one HTTP/1.1 keep-alive connection (reopened only after
//! the server drops it, which is counted), sends one request at a time, and times it from
//! sending to the last byte of the answer.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::NaiveDate;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, ETAG, HOST, HeaderValue, IF_MATCH};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::workload::{self, Kind, OwnDecision};

/// The phase every client follows.
pub const WARMING_UP: u8 = 0;
/// Requests started now are counted.
pub const MEASURING: u8 = 1;
/// Clients finish the request under way and stop.
pub const STOPPING: u8 = 2;

/// A request's outcome when there was no HTTP status: the connection failed.
pub const TRANSPORT_ERROR: u16 = 0;

/// What the clients share.
pub struct Shared {
    /// `host:port`.
    pub authority: String,
    /// `Bearer <registrar token>`.
    pub registrar: HeaderValue,
    /// `Bearer <reader token>`.
    pub reader: HeaderValue,
    /// [`WARMING_UP`], [`MEASURING`] or [`STOPPING`].
    pub phase: AtomicU8,
    /// When measuring began.
    pub measuring_since: OnceLock<Instant>,
    /// Requests still to measure (`--requests`); negative when measuring by time.
    pub requests_left: AtomicI64,
    /// Percent of requests that are reads.
    pub read_percent: u32,
    /// How often each read is made, relative to the others.
    pub read_mix: Vec<(Kind, u32)>,
    /// Decisions found on the server before the run, for the reads.
    pub known: Vec<Uuid>,
    /// The latest date an event may carry (today; UTC is never ahead of Stockholm).
    pub today: NaiveDate,
}

/// What one client saw while measuring.
#[derive(Debug, Default)]
pub struct Record {
    /// Latencies in microseconds, by kind (index of [`Kind::ALL`]).
    pub latencies_us: [Vec<u32>; Kind::ALL.len()],
    /// Answers that were not 2xx, by kind and status ([`TRANSPORT_ERROR`] for none).
    pub errors: BTreeMap<(Kind, u16), u64>,
    /// When the last counted request was answered.
    pub last_done: Option<Instant>,
    /// The first few error answers, for the person running the tool.
    pub samples: Vec<String>,
}

/// Error answers kept as samples per client.
const SAMPLES_MAX: usize = 3;
/// Characters of an error answer kept in a sample.
const SAMPLE_CHARS_MAX: usize = 300;

/// One connection to the server.
pub struct Connection {
    authority: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

/// An answer: status, `ETag`, body.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The `ETag`, if any.
    pub etag: Option<HeaderValue>,
    /// The whole body.
    pub body: Bytes,
}

impl Connection {
    /// A connection to `authority`, opened on first use.
    pub fn new(authority: &str) -> Connection {
        Connection {
            authority: authority.to_owned(),
            sender: None,
        }
    }

    async fn open(&self) -> Result<SendRequest<Full<Bytes>>, String> {
        let tcp = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", self.authority))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| format!("HTTP handshake with {}: {e}", self.authority))?;
        tokio::spawn(async move {
            // Ends when the server closes the connection or the sender is dropped; a failure
            // shows as the next request's error.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// Sends one request and reads the whole answer. A failed connection is dropped, and the
    /// next request opens a new one.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: &HeaderValue,
        if_match: Option<u64>,
        body: Vec<u8>,
    ) -> Result<Answer, String> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.authority.as_str())
            .header(AUTHORIZATION, token.clone());
        if let Some(version) = if_match {
            request = request
                .header(IF_MATCH, format!("\"{version}\""))
                .header(CONTENT_TYPE, "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("building the request: {e}"))?;
        let sender = match &mut self.sender {
            Some(sender) => sender,
            None => self.sender.insert(self.open().await?),
        };
        let answer = async {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            let status = response.status();
            let etag = response.headers().get(ETAG).cloned();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Answer { status, etag, body })
        }
        .await;
        answer.map_err(|e| {
            self.sender = None;
            format!("the connection failed: {e}")
        })
    }
}

/// The first page of a `GET` with `token`, parsed as JSON; for finding decisions before the run.
pub async fn get_json(
    connection: &mut Connection,
    path: &str,
    token: &HeaderValue,
) -> Result<serde_json::Value, String> {
    let answer = connection
        .send(Method::GET, path, token, None, Vec::new())
        .await?;
    if !answer.status.is_success() {
        return Err(format!(
            "GET {path} answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        ));
    }
    serde_json::from_slice(&answer.body).map_err(|e| format!("GET {path}: not JSON: {e}"))
}

/// One simulated client: runs until the phase is [`STOPPING`] (or the requests are measured),
/// and returns what it saw while measuring.
pub async fn run(shared: Arc<Shared>, number: u64, seed: u64) -> Record {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ number.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut connection = Connection::new(&shared.authority);
    let mut own: Vec<OwnDecision> = Vec::new();
    let mut record = Record::default();
    loop {
        let phase = shared.phase.load(Ordering::Acquire);
        if phase == STOPPING {
            break;
        }
        let counted = phase == MEASURING;
        if counted
            && shared.requests_left.load(Ordering::Relaxed) >= 0
            && shared.requests_left.fetch_sub(1, Ordering::AcqRel) <= 0
        {
            shared.phase.store(STOPPING, Ordering::Release);
            break;
        }
        let read = workload::below(&mut rng, 100) < shared.read_percent;
        let started = Instant::now();
        let (kind, outcome) = if read {
            read_once(&shared, &mut connection, &mut rng, &own).await
        } else {
            append_once(&shared, &mut connection, &mut rng, &mut own).await
        };
        let elapsed = started.elapsed();
        if counted {
            let micros = u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX);
            record.latencies_us[kind.index()].push(micros);
            record.last_done = Some(Instant::now());
            if let Err((status, text)) = outcome {
                *record.errors.entry((kind, status)).or_default() += 1;
                if record.samples.len() < SAMPLES_MAX {
                    let text: String = text.chars().take(SAMPLE_CHARS_MAX).collect();
                    record.samples.push(format!("{}: {text}", kind.label()));
                }
            }
        }
    }
    record
}

type Outcome = Result<(), (u16, String)>;

fn failed(answer: Result<Answer, String>) -> Result<Answer, (u16, String)> {
    let answer = answer.map_err(|e| (TRANSPORT_ERROR, e))?;
    if answer.status.is_success() {
        Ok(answer)
    } else {
        Err((
            answer.status.as_u16(),
            format!(
                "{}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ),
        ))
    }
}

async fn read_once(
    shared: &Shared,
    connection: &mut Connection,
    rng: &mut ChaCha8Rng,
    own: &[OwnDecision],
) -> (Kind, Outcome) {
    let mut kind = workload::weighted(rng, &shared.read_mix);
    // Half the single-decision reads are of decisions this client recorded (the case officer
    // checks what was just recorded), half of those on the server before the run.
    let decision = if !own.is_empty() && (shared.known.is_empty() || workload::below(rng, 2) == 0) {
        Some(own[workload::below(rng, own.len() as u32) as usize].id)
    } else if !shared.known.is_empty() {
        Some(shared.known[workload::below(rng, shared.known.len() as u32) as usize])
    } else {
        None
    };
    let path = match (kind, decision) {
        (Kind::ReadState, Some(d)) => format!("/v1/decisions/{d}"),
        (Kind::ReadEvents, Some(d)) => format!("/v1/decisions/{d}/events"),
        (Kind::ReadDossier, Some(d)) => format!("/v1/decisions/{d}/dossier"),
        (Kind::ReadIvoWorklist, _) => "/v1/reports/ivo".to_owned(),
        // With no decision known yet (an empty store, no append made), the start page.
        _ => {
            kind = Kind::ReadOpenCases;
            "/v1/open-cases".to_owned()
        }
    };
    let answer = connection
        .send(Method::GET, &path, &shared.reader, None, Vec::new())
        .await;
    (kind, failed(answer).map(|_| ()))
}

async fn append_once(
    shared: &Shared,
    connection: &mut Connection,
    rng: &mut ChaCha8Rng,
    own: &mut Vec<OwnDecision>,
) -> (Kind, Outcome) {
    own.retain(OwnDecision::is_active);
    let new = own.is_empty()
        || (own.len() < workload::OWN_DECISIONS_MAX
            && workload::below(rng, 100) < workload::NEW_DECISION_PERCENT);
    let (kind, slot, append) = if new {
        (
            Kind::AppendDecision,
            None,
            workload::new_decision(rng, shared.today),
        )
    } else {
        let slot = workload::below(rng, own.len() as u32) as usize;
        (
            Kind::AppendFollowUp,
            Some(slot),
            workload::follow_up(rng, &own[slot], shared.today),
        )
    };
    let path = format!("/v1/decisions/{}/events", append.decision);
    let answer = connection
        .send(
            Method::POST,
            &path,
            &shared.registrar,
            Some(append.expected_version),
            append.body,
        )
        .await;
    let outcome = match failed(answer) {
        Ok(answer) => {
            let expected = format!("\"{}\"", append.after.version);
            if answer.status != StatusCode::CREATED
                || answer.etag.as_ref().and_then(|e| e.to_str().ok()) != Some(expected.as_str())
            {
                // The stream is no longer known exactly: follow it up no more.
                if let Some(slot) = slot {
                    own.swap_remove(slot);
                }
                Err((
                    answer.status.as_u16(),
                    format!(
                        "{} with ETag {:?}, expected 201 with ETag {expected}",
                        answer.status, answer.etag
                    ),
                ))
            } else {
                match slot {
                    Some(slot) => own[slot] = append.after,
                    None => own.push(append.after),
                }
                Ok(())
            }
        }
        Err(error) => {
            if let Some(slot) = slot {
                own.swap_remove(slot);
            }
            Err(error)
        }
    };
    (kind, outcome)
}
