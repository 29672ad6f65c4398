//! The server the tool starts when given no `--url`: `verkstall demo` into a fresh data
//! directory on a real disk, a registrar and an auditor token from `verkstall token create`,
//! then `verkstall serve` as a child process — the command line linked into this binary and
//! run as `bench-http verkstall …`, so it is the very code of the `verkstall` binary, in a
//! process of its own. It is stopped with SIGTERM (a graceful shutdown) at the end.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use verkstall::scheduling::Scheduling;

/// The first argument that makes this binary run the `verkstall` command line.
pub const CHILD_MODE: &str = "verkstall";
/// How long the server may take to shut down gracefully before it is killed.
const SHUTDOWN_WAIT_MAX: Duration = Duration::from_secs(60);

/// A server started here.
pub struct Started {
    /// `127.0.0.1:PORT`.
    pub authority: String,
    /// A registrar token.
    pub registrar: String,
    /// An auditor token.
    pub reader: String,
    /// What `verkstall demo` said.
    pub demo: String,
    child: Child,
    /// Removed when dropped, after the child.
    _root: tempfile::TempDir,
}

/// Runs the `verkstall` command line in this process, returning its standard output.
fn verkstall(args: &[&str]) -> Result<String, String> {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = verkstall::run(
        std::iter::once("verkstall").chain(args.iter().copied()),
        verkstall::Console {
            input: &mut std::io::empty(),
            out: &mut out,
            err: &mut err,
            progress: false,
        },
    );
    if exit != verkstall::Exit::Done {
        return Err(format!(
            "`verkstall {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&err).trim()
        ));
    }
    String::from_utf8(out).map_err(|_| format!("`verkstall {}` printed non-UTF-8", args.join(" ")))
}

/// Where the data directory goes: `--dir`, else `/var/tmp` (a disk, so appends are durable as
/// in production), else the current directory.
fn base(dir: Option<&Path>) -> PathBuf {
    match dir {
        Some(dir) => dir.to_path_buf(),
        None if Path::new("/var/tmp").is_dir() => PathBuf::from("/var/tmp"),
        None => PathBuf::from("."),
    }
}

/// Fills a demo municipality of `decisions` decisions, makes the tokens, starts the server.
pub fn start(
    dir: Option<&Path>,
    decisions: u32,
    scheduling: Scheduling,
) -> Result<Started, String> {
    let base = base(dir);
    let root = tempfile::Builder::new()
        .prefix("bench-http-")
        .tempdir_in(&base)
        .map_err(|e| format!("cannot make a data directory in {}: {e}", base.display()))?;
    let data_dir = root.path().join("data");
    let data = data_dir
        .to_str()
        .ok_or("the data directory's path is not UTF-8")?
        .to_owned();
    let demo = verkstall(&[
        "--data",
        &data,
        "demo",
        "--decisions",
        &decisions.to_string(),
    ])?;
    let token = |role: &str| {
        verkstall(&[
            "--data",
            &data,
            "token",
            "create",
            "--role",
            role,
            "--name",
            &format!("bench-http {role}"),
        ])
        .map(|t| t.trim().to_owned())
    };
    let registrar = token("registrar")?;
    let reader = token("auditor")?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let mut child = Command::new(exe)
        .args([
            CHILD_MODE,
            "--data",
            &data,
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--scheduling",
            scheduling.as_str(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start `verkstall serve`: {e}"))?;
    let stdout = child.stdout.take().ok_or("the server's output")?;
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let authority = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(str::to_owned);
    let Some(authority) = authority.filter(|_| read.is_ok()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "`verkstall serve` did not say where it listens (it printed {:?})",
            line.trim()
        ));
    };
    Ok(Started {
        authority,
        registrar,
        reader,
        demo: demo.trim().to_owned(),
        child,
        _root: root,
    })
}

impl Started {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with SIGTERM and waits for its graceful shutdown; its exit status.
    pub fn stop(mut self) -> Result<ExitStatus, String> {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .map_err(|e| format!("cannot run kill: {e}"))?;
        if !sent.success() {
            return Err(format!("kill -TERM {pid} failed"));
        }
        let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Ok(None) => {
                    return Err(format!(
                        "the server did not shut down within {} s of SIGTERM",
                        SHUTDOWN_WAIT_MAX.as_secs()
                    ));
                }
                Err(e) => return Err(format!("waiting for the server: {e}")),
            }
        }
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        // After `stop` the child has exited and this does nothing; on any early return it
        // makes sure no server outlives the tool.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Runs the `verkstall` command line with `args` (after [`CHILD_MODE`]) in this process, with
/// the process's standard streams; returns its exit code.
pub fn run_child(args: Vec<String>) -> u8 {
    let stdin = std::io::stdin();
    let exit = verkstall::run(
        std::iter::once("verkstall".to_owned()).chain(args),
        verkstall::Console {
            input: &mut stdin.lock(),
            out: &mut std::io::stdout(),
            err: &mut std::io::stderr(),
            progress: false,
        },
    );
    exit.as_u8()
}
