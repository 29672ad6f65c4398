//! What the probes share: their command-line arguments, and the engines they run on.

use kv::{EngineKind, KvEngine};

/// The `index`th argument as a number, else `default`; `name` says which in the panic.
pub fn number_arg<T: std::str::FromStr>(index: usize, default: T, name: &str) -> T {
    std::env::args().nth(index).map_or(default, |text| {
        text.parse()
            .unwrap_or_else(|_| panic!("{name}: a number, not {text}"))
    })
}

/// Each engine compiled in (or only the one the `index`th argument names), opened in a fresh
/// temporary directory, which it is handed with.
pub fn engines(
    index: usize,
) -> impl Iterator<Item = (EngineKind, Box<dyn KvEngine>, tempfile::TempDir)> {
    let only: Option<EngineKind> = std::env::args()
        .nth(index)
        .map(|name| name.parse().expect("engine: redb or sled"));
    EngineKind::ALL
        .into_iter()
        .filter(move |kind| kind.is_compiled() && only.is_none_or(|only| only == *kind))
        .map(|kind| {
            let dir = tempfile::tempdir().expect("temporary directory");
            let engine = kv::open(kind, dir.path()).expect("open");
            (kind, engine, dir)
        })
}
