//! The simulated clients: each holds one HTTP/1.1 keep-alive connection (reopened only after
//! the server drops it, which is counted), sends one request at a time, and times it from
//! sending to the last byte of the answer.
//!
//! A connection is a bare `TcpStream` that writes each request whole and parses the answer
//! with `httparse` (hyper's own parser). The load generator shares the machine's cores with the
//! server it measures, so it does as little as it can per request: no connection task, no
//! channel between it and the client, one write and as few reads as the answer needs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::NaiveDate;
use http::{HeaderValue, Method, StatusCode};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
/// Header lines an answer may have, at most.
const ANSWER_HEADERS_MAX: usize = 32;
/// Bytes of an answer's head (status line and headers), at most.
const ANSWER_HEAD_BYTES_MAX: usize = 64 * 1024;
/// Bytes asked of the socket at a time, at least.
const READ_BYTES_MIN: usize = 16 * 1024;

/// One connection to the server.
pub struct Connection {
    authority: String,
    stream: Option<TcpStream>,
    /// The request being written, kept for its capacity.
    request: Vec<u8>,
    /// Bytes read from the socket and not yet taken by an answer.
    received: Vec<u8>,
}

/// An answer: status, `ETag`, body.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The `ETag`, if any.
    pub etag: Option<HeaderValue>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// How an answer's body ends.
enum Framing {
    /// After this many bytes.
    Length(usize),
    /// In chunks, the last of size 0.
    Chunked,
    /// When the server closes the connection.
    Close,
}

/// An answer's head, as parsed.
struct Head {
    status: StatusCode,
    etag: Option<HeaderValue>,
    framing: Framing,
    /// The server closes the connection after this answer.
    closes: bool,
    /// Bytes of the head.
    length: usize,
}

impl Connection {
    /// A connection to `authority`, opened on first use.
    pub fn new(authority: &str) -> Connection {
        Connection {
            authority: authority.to_owned(),
            stream: None,
            request: Vec::new(),
            received: Vec::new(),
        }
    }

    async fn open(&self) -> Result<TcpStream, String> {
        let tcp = TcpStream::connect(&self.authority)
            .await
            .map_err(|e| format!("cannot connect to {}: {e}", self.authority))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("TCP_NODELAY: {e}"))?;
        Ok(tcp)
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
        self.write_request(&method, path, token, if_match, &body);
        if self.stream.is_none() {
            self.received.clear();
            self.stream = Some(self.open().await?);
        }
        let answer = self.exchange(&method).await;
        match answer {
            Ok((answer, closes)) => {
                if closes {
                    self.stream = None;
                }
                Ok(answer)
            }
            Err(e) => {
                self.stream = None;
                Err(format!("the connection failed: {e}"))
            }
        }
    }

    fn write_request(
        &mut self,
        method: &Method,
        path: &str,
        token: &HeaderValue,
        if_match: Option<u64>,
        body: &[u8],
    ) {
        let request = &mut self.request;
        request.clear();
        for part in [
            method.as_str(),
            " ",
            path,
            " HTTP/1.1\r\nhost: ",
            &self.authority,
        ] {
            request.extend_from_slice(part.as_bytes());
        }
        request.extend_from_slice(b"\r\nauthorization: ");
        request.extend_from_slice(token.as_bytes());
        if let Some(version) = if_match {
            request.extend_from_slice(
                format!("\r\nif-match: \"{version}\"\r\ncontent-type: application/json").as_bytes(),
            );
        }
        if !body.is_empty() || method == Method::POST {
            request.extend_from_slice(format!("\r\ncontent-length: {}", body.len()).as_bytes());
        }
        request.extend_from_slice(b"\r\n\r\n");
        request.extend_from_slice(body);
    }

    /// Writes the request and reads its answer; says whether the server closes the connection.
    async fn exchange(&mut self, method: &Method) -> Result<(Answer, bool), String> {
        let Some(stream) = self.stream.as_mut() else {
            return Err("not connected".to_owned());
        };
        stream
            .write_all(&self.request)
            .await
            .map_err(|e| format!("writing the request: {e}"))?;
        let head = loop {
            if let Some(head) = parse_head(&self.received, method)? {
                break head;
            }
            if self.received.len() > ANSWER_HEAD_BYTES_MAX {
                return Err(format!(
                    "the answer's head is longer than {ANSWER_HEAD_BYTES_MAX} bytes"
                ));
            }
            if !read_more(stream, &mut self.received).await? {
                return Err("the server closed the connection before answering".to_owned());
            }
        };
        self.received.drain(..head.length);
        let body = match head.framing {
            Framing::Length(length) => {
                while self.received.len() < length {
                    if !read_more(stream, &mut self.received).await? {
                        return Err(format!(
                            "the server closed the connection {} bytes into a body of {length}",
                            self.received.len()
                        ));
                    }
                }
                self.received.drain(..length).collect()
            }
            Framing::Chunked => read_chunked(stream, &mut self.received).await?,
            Framing::Close => {
                while read_more(stream, &mut self.received).await? {}
                std::mem::take(&mut self.received)
            }
        };
        let closes = head.closes || matches!(head.framing, Framing::Close);
        Ok((
            Answer {
                status: head.status,
                etag: head.etag,
                body,
            },
            closes,
        ))
    }
}

/// Reads what the socket has into `received`; false at its end.
async fn read_more(stream: &mut TcpStream, received: &mut Vec<u8>) -> Result<bool, String> {
    received.reserve(READ_BYTES_MIN);
    let read = stream
        .read_buf(received)
        .await
        .map_err(|e| format!("reading the answer: {e}"))?;
    Ok(read > 0)
}

/// The answer's head, once `received` holds all of it.
fn parse_head(received: &[u8], method: &Method) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; ANSWER_HEADERS_MAX];
    let mut response = httparse::Response::new(&mut headers);
    let length = match response.parse(received) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP/1.1 answer: {e}")),
    };
    let code = response.code.unwrap_or_default();
    let status = StatusCode::from_u16(code).map_err(|_| format!("the status {code} is not one"))?;
    let mut etag = None;
    let mut content_length = None;
    let mut chunked = false;
    let mut closes = response.version == Some(0);
    for header in response.headers.iter() {
        let name = header.name;
        if name.eq_ignore_ascii_case("etag") {
            etag = Some(
                HeaderValue::from_bytes(header.value)
                    .map_err(|_| "the ETag is not a header value".to_owned())?,
            );
        } else if name.eq_ignore_ascii_case("content-length") {
            let text = std::str::from_utf8(header.value).unwrap_or_default();
            content_length = Some(
                text.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("the Content-Length {text:?} is not a length"))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            closes = header.value.trim_ascii().eq_ignore_ascii_case(b"close");
        }
    }
    let bodiless = method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = if bodiless {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        Framing::Close
    };
    Ok(Some(Head {
        status,
        etag,
        framing,
        closes,
        length,
    }))
}

/// Reads a chunked body from `received` (and the socket), leaving what follows it.
async fn read_chunked(stream: &mut TcpStream, received: &mut Vec<u8>) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let (start, size) = loop {
            match httparse::parse_chunk_size(received) {
                Ok(httparse::Status::Complete((start, size))) => break (start, size),
                Ok(httparse::Status::Partial) => {
                    if !read_more(stream, received).await? {
                        return Err("the server closed the connection inside a chunk".to_owned());
                    }
                }
                Err(_) => return Err("a chunk's size is not one".to_owned()),
            }
        };
        let size = usize::try_from(size).map_err(|_| "a chunk is too large".to_owned())?;
        if size == 0 {
            // The last chunk: no trailers are sent, so an empty line ends the body.
            while received.len() < start + 2 {
                if !read_more(stream, received).await? {
                    return Err("the server closed the connection after the last chunk".to_owned());
                }
            }
            received.drain(..start + 2);
            return Ok(body);
        }
        while received.len() < start + size + 2 {
            if !read_more(stream, received).await? {
                return Err("the server closed the connection inside a chunk".to_owned());
            }
        }
        body.extend_from_slice(&received[start..start + size]);
        received.drain(..start + size + 2);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncBufReadExt, BufReader};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    /// A request as the mock server saw it: the connection it came on, its head and its body.
    #[derive(Debug)]
    struct Seen {
        connection: usize,
        head: String,
        body: Vec<u8>,
    }

    /// A server on loopback that answers the requests on each connection with the next of
    /// `answers` (each written in the pieces given), and reports every request it read.
    async fn mock(answers: Vec<Vec<&'static [u8]>>) -> (String, mpsc::UnboundedReceiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port on loopback");
        let authority = listener.local_addr().expect("its address").to_string();
        let (seen, reports) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut answers = answers.into_iter();
            let mut connection = 0;
            loop {
                let (socket, _) = listener.accept().await.expect("a connection");
                connection += 1;
                let (read, mut write) = socket.into_split();
                let mut read = BufReader::new(read);
                loop {
                    let mut head = String::new();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        if read
                            .read_line(&mut line)
                            .await
                            .expect("a line of the request")
                            == 0
                        {
                            break;
                        }
                        if let Some(value) =
                            line.to_ascii_lowercase().strip_prefix("content-length:")
                        {
                            length = value.trim().parse().expect("a length");
                        }
                        head.push_str(&line);
                        if line == "\r\n" {
                            break;
                        }
                    }
                    if head.is_empty() {
                        break;
                    }
                    let mut body = vec![0; length];
                    read.read_exact(&mut body).await.expect("the body");
                    seen.send(Seen {
                        connection,
                        head,
                        body,
                    })
                    .expect("the test listening");
                    let Some(pieces) = answers.next() else { return };
                    let closes = pieces.iter().any(|p| {
                        String::from_utf8_lossy(p)
                            .to_ascii_lowercase()
                            .contains("connection: close")
                    });
                    let cut = pieces.last().is_some_and(|p| p.is_empty());
                    for piece in pieces {
                        write.write_all(piece).await.expect("the answer written");
                        write.flush().await.expect("the answer sent");
                        tokio::task::yield_now().await;
                    }
                    if closes || cut {
                        break;
                    }
                }
            }
        });
        (authority, reports)
    }

    fn token() -> HeaderValue {
        HeaderValue::from_static("Bearer secret")
    }

    #[tokio::test]
    async fn keeps_the_connection_and_frames_answers_by_length_and_by_chunks() {
        let (authority, mut seen) = mock(vec![
            vec![
                b"HTTP/1.1 201 Created\r\nETag: \"7\"\r\nContent-Length: 5\r\n\r\nhel",
                b"lo",
            ],
            vec![
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwo",
                b"rl\r\n2\r\nd!\r\n",
                b"0\r\n\r\n",
            ],
            vec![b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"],
        ])
        .await;
        let mut connection = Connection::new(&authority);
        let answer = connection
            .send(
                Method::POST,
                "/v1/decisions/d/events",
                &token(),
                Some(6),
                b"{}".to_vec(),
            )
            .await
            .expect("an answer");
        assert_eq!(answer.status, StatusCode::CREATED);
        assert_eq!(answer.etag.expect("an ETag"), "\"7\"");
        assert_eq!(answer.body, b"hello");
        let answer = connection
            .send(Method::GET, "/v1/open-cases", &token(), None, Vec::new())
            .await
            .expect("an answer");
        assert_eq!(
            (answer.status, answer.body.as_slice()),
            (StatusCode::OK, &b"world!"[..])
        );
        assert!(answer.etag.is_none());
        let answer = connection
            .send(Method::GET, "/v1/nowhere", &token(), None, Vec::new())
            .await
            .expect("an answer");
        assert_eq!(
            (answer.status, answer.body.len()),
            (StatusCode::NOT_FOUND, 0)
        );

        let post = seen.recv().await.expect("a request seen");
        assert!(
            post.head
                .starts_with("POST /v1/decisions/d/events HTTP/1.1\r\n"),
            "{}",
            post.head
        );
        for line in [
            &format!("host: {authority}\r\n"),
            "authorization: Bearer secret\r\n",
            "if-match: \"6\"\r\n",
            "content-type: application/json\r\n",
            "content-length: 2\r\n",
        ] {
            assert!(
                post.head.contains(line),
                "{line:?} missing from {}",
                post.head
            );
        }
        assert_eq!(post.body, b"{}");
        let get = seen.recv().await.expect("a request seen");
        assert!(
            get.head.starts_with("GET /v1/open-cases HTTP/1.1\r\n"),
            "{}",
            get.head
        );
        assert!(!get.head.contains("if-match") && !get.head.contains("content-length"));
        let last = seen.recv().await.expect("a request seen");
        assert_eq!(
            (post.connection, get.connection, last.connection),
            (1, 1, 1),
            "one keep-alive connection"
        );
    }

    #[tokio::test]
    async fn reopens_after_the_server_closes_or_breaks_the_connection() {
        let (authority, mut seen) = mock(vec![
            vec![b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"],
            // A body cut off: the last, empty piece makes the mock drop the connection.
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", b""],
            vec![b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nback"],
        ])
        .await;
        let mut connection = Connection::new(&authority);
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(
                connection
                    .send(Method::GET, "/v1/log", &token(), None, Vec::new())
                    .await,
            );
        }
        let bodies: Vec<Result<&[u8], &str>> = answers
            .iter()
            .map(|a| {
                a.as_ref()
                    .map(|a| a.body.as_slice())
                    .map_err(String::as_str)
            })
            .collect();
        assert_eq!(bodies[0], Ok(&b"ok"[..]));
        let error = bodies[1].expect_err("a body cut off");
        assert!(
            error.starts_with("the connection failed")
                && error.contains("5 bytes into a body of 10"),
            "{error}"
        );
        assert_eq!(bodies[2], Ok(&b"back"[..]));
        let connections: Vec<usize> = [
            seen.recv().await.expect("a request seen"),
            seen.recv().await.expect("a request seen"),
            seen.recv().await.expect("a request seen"),
        ]
        .iter()
        .map(|s| s.connection)
        .collect();
        assert_eq!(connections, [1, 2, 3]);
    }

    #[test]
    fn a_head_that_is_not_http_is_refused() {
        let error = parse_head(b"SSH-2.0-OpenSSH\r\n\r\n", &Method::GET)
            .err()
            .expect("refused");
        assert!(error.starts_with("not an HTTP/1.1 answer"), "{error}");
        assert!(
            parse_head(b"HTTP/1.1 200 OK\r\nContent-Le", &Method::GET)
                .expect("no error yet")
                .is_none()
        );
        let error = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Length: many\r\n\r\n",
            &Method::GET,
        )
        .err()
        .expect("refused");
        assert!(error.contains("\"many\" is not a length"), "{error}");
    }
}
