//! The `verkstall` binary: parses the command line and runs it (see the library crate).

use std::io::IsTerminal;
use std::process::ExitCode;

/// mimalloc rather than the system allocator: reading and folding the log allocates and frees
/// a few small strings per event, on several threads (ARCHITECTURE.md, "Performance").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    // Standard error is not locked for the whole run: progress bars draw on it from their own
    // thread, and would wait for the lock forever.
    let mut stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    let code = verkstall::run(
        std::env::args_os(),
        verkstall::Console {
            input: &mut stdin.lock(),
            out: &mut stdout.lock(),
            err: &mut stderr,
            progress,
        },
    );
    ExitCode::from(code.as_u8())
}
