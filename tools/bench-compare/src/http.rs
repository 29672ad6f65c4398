//! HTTP mixed load against `verkstall serve`, by the `bench-http` tool run as a subprocess.
//!
//! The contract with `bench-http`: `bench-http --url URL --registrar-token T --reader-token T
//! --duration SECS --connections N --json` prints one JSON object with the fields of
//! [`HttpFigures`]. When either binary is missing, the table says so; no figure is made up.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Error;

/// How long the server may take to load or rebuild its projection before it is ready.
const SERVE_READY_WAIT_MAX: Duration = Duration::from_secs(3600);
/// How long the server may take to finish its requests after SIGTERM.
const SERVE_STOP_WAIT_MAX: Duration = Duration::from_secs(60);
/// Between two looks at `/readyz`.
const READY_POLL_INTERVAL: Duration = Duration::from_millis(250);

/// One run of `bench-http`, as it reports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HttpFigures {
    /// Appends per second.
    pub appends_per_s: f64,
    /// Reads per second.
    pub reads_per_s: f64,
    /// Requests (appends and reads) per second.
    pub requests_per_s: f64,
    /// Median latency of all requests, ms.
    pub p50_ms: f64,
    /// 99th percentile latency of all requests, ms.
    pub p99_ms: f64,
    /// Median latency of appends, ms.
    pub append_p50_ms: f64,
    /// 99th percentile latency of appends, ms.
    pub append_p99_ms: f64,
    /// Median latency of reads, ms.
    pub read_p50_ms: f64,
    /// 99th percentile latency of reads, ms.
    pub read_p99_ms: f64,
    /// Requests that failed.
    pub errors: f64,
}

impl HttpFigures {
    /// Parses `bench-http --json`'s output: its last non-empty line, one JSON object, every
    /// field a number. The error names the missing or wrong field.
    pub fn parse(output: &str) -> Result<HttpFigures, String> {
        let line = output
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .ok_or("bench-http printed nothing")?;
        let value: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("bench-http's output is not one JSON object: {e}"))?;
        let field = |name: &str| {
            value
                .get(name)
                .and_then(serde_json::Value::as_f64)
                .ok_or_else(|| {
                    format!("bench-http's output: field `{name}` missing or not a number")
                })
        };
        Ok(HttpFigures {
            appends_per_s: field("appends_per_s")?,
            reads_per_s: field("reads_per_s")?,
            requests_per_s: field("requests_per_s")?,
            p50_ms: field("p50_ms")?,
            p99_ms: field("p99_ms")?,
            append_p50_ms: field("append_p50_ms")?,
            append_p99_ms: field("append_p99_ms")?,
            read_p50_ms: field("read_p50_ms")?,
            read_p99_ms: field("read_p99_ms")?,
            errors: field("errors")?,
        })
    }
}

/// A binary: `explicit` if given (it must exist), else `name` beside this program, else (when
/// `search_path`) on the PATH. `Err` says, in plain words, where it was looked for.
pub fn locate(explicit: Option<&Path>, name: &str, search_path: bool) -> Result<PathBuf, String> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(format!("{} does not exist", path.display()))
        };
    }
    let mut looked = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        let beside = dir.join(name);
        if beside.is_file() {
            return Ok(beside);
        }
        looked.push(dir.display().to_string());
    }
    if search_path {
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
        looked.push("the PATH".to_owned());
    }
    Err(format!("no {name} binary in {}", looked.join(" or ")))
}

/// `verkstall serve` on a data directory, stopped (SIGTERM, then waited for) when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A token of the role `registrar` (appends).
    pub registrar_token: String,
    /// A token of the role `auditor` (reads everything, writes nothing).
    pub reader_token: String,
}

impl Server {
    /// Makes the two tokens, starts the server on a free loopback port with its output in
    /// `log`, and waits until `/readyz` answers 200 (its projection caught up).
    pub fn start(verkstall: &Path, data: &Path, log: &Path) -> Result<Server, Error> {
        let token = |role: &str| -> Result<String, Error> {
            let output = Command::new(verkstall)
                .arg("--data")
                .arg(data)
                .args(["token", "create", "--role", role, "--name"])
                .arg(format!("bench-compare-{role}"))
                .output()?;
            if !output.status.success() {
                return Err(format!(
                    "verkstall token create --role {role} failed: {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                )
                .into());
            }
            Ok(String::from_utf8(output.stdout)?.trim().to_owned())
        };
        let registrar_token = token("registrar")?;
        let reader_token = token("auditor")?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(verkstall)
            .arg("--data")
            .arg(data)
            .args(["serve", "--addr", &addr])
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(log.with_extension("out"))?)
            .stderr(std::fs::File::create(log)?)
            .spawn()?;
        let mut server = Server {
            child,
            url: format!("http://{addr}"),
            registrar_token,
            reader_token,
        };
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                return Err(format!(
                    "verkstall serve exited ({status}) before it was ready; its log: {}",
                    log.display()
                )
                .into());
            }
            if ready(&addr) {
                return Ok(server);
            }
            if started.elapsed() > SERVE_READY_WAIT_MAX {
                return Err(format!(
                    "verkstall serve was not ready after {} s; its log: {}",
                    SERVE_READY_WAIT_MAX.as_secs(),
                    log.display()
                )
                .into());
            }
            std::thread::sleep(READY_POLL_INTERVAL);
        }
    }

    /// Runs `bench-http` against the server once.
    pub fn load(
        &self,
        bench_http: &Path,
        seconds: u64,
        connections: usize,
    ) -> Result<HttpFigures, Error> {
        let output = Command::new(bench_http)
            .args(["--url", &self.url])
            .args(["--registrar-token", &self.registrar_token])
            .args(["--reader-token", &self.reader_token])
            .args(["--duration", &seconds.to_string()])
            .args(["--connections", &connections.to_string()])
            .arg("--json")
            .stdin(Stdio::null())
            .output()?;
        // bench-http exits 1 when any request failed, and still prints its figures: they
        // stand, with the failures counted in `errors`.
        match HttpFigures::parse(&String::from_utf8_lossy(&output.stdout)) {
            Ok(figures) => Ok(figures),
            Err(why) => Err(format!(
                "bench-http ({}): {why}; its errors: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into()),
        }
    }
}

impl Drop for Server {
    /// SIGTERM (the server finishes the requests under way), then at most
    /// [`SERVE_STOP_WAIT_MAX`] before SIGKILL.
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while started.elapsed() < SERVE_STOP_WAIT_MAX {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(READY_POLL_INTERVAL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /readyz` answers 200.
fn ready(addr: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &str = r#""appends_per_s": 100.5, "reads_per_s": 900, "requests_per_s": 1000.5, "p50_ms": 1.5, "p99_ms": 9, "append_p50_ms": 2, "append_p99_ms": 10, "read_p50_ms": 1, "read_p99_ms": 8"#;

    #[test]
    fn the_last_line_is_the_figures() {
        let output = format!("warming up\n{{{FIELDS}, \"errors\": 0}}\n\n");
        let figures = HttpFigures::parse(&output).expect("parses");
        assert_eq!(figures.requests_per_s, 1000.5);
        assert_eq!(figures.read_p99_ms, 8.0);
        assert_eq!(figures.errors, 0.0);
    }

    #[test]
    fn a_missing_or_wrong_field_is_named() {
        let missing = HttpFigures::parse(&format!("{{{FIELDS}}}")).expect_err("no errors field");
        assert!(missing.contains("`errors`"), "{missing}");
        let wrong = HttpFigures::parse(&format!("{{{FIELDS}, \"errors\": \"none\"}}"))
            .expect_err("a string");
        assert!(wrong.contains("`errors`"), "{wrong}");
        assert!(HttpFigures::parse("").is_err());
    }

    #[test]
    fn an_explicit_binary_must_exist() {
        let error = locate(
            Some(Path::new("/nonexistent/bench-http")),
            "bench-http",
            true,
        )
        .expect_err("absent");
        assert!(error.contains("/nonexistent/bench-http"), "{error}");
        let error = locate(None, "no-such-binary-here", true).expect_err("absent");
        assert!(
            error.contains("no no-such-binary-here binary in"),
            "{error}"
        );
    }
}
