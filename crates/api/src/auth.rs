//! API tokens and roles: who may do what.
//!
//! A token is shown once, when it is created ([`create_token`], `verkstall token create`);
//! the data directory keeps only its SHA-256 hash, with a name and a role, in [`TOKENS_FILE_NAME`].
//! The file is replaced atomically (written beside, synced, renamed, the directory synced), so a
//! crash leaves the old list or the new one, never half of either. A running server notices a
//! changed file and reads it again, so a new token works, and a revoked one ([`revoke_token`],
//! `verkstall token revoke`) stops working, without a restart.
//!
//! What each role may do is one table, [`Role::may`].

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The file of token hashes in the data directory.
pub const TOKENS_FILE_NAME: &str = "api-tokens.json";
/// What every token starts with, so one found in a log or a paste can be recognised.
pub const TOKEN_PREFIX: &str = "vks_";
/// Characters of a token's name, at most.
pub const TOKEN_NAME_CHARS_MAX: usize = 100;
/// A token file changed this recently is read again on every request: two changes within one
/// tick of the file system's clock (same time, same length) are then never taken for one.
pub const TOKENS_FRESH_MAX: Duration = Duration::from_secs(2);

/// A role: what a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Appends events (a case system); reads a decision's state to know its version.
    Registrar,
    /// Reads reports, dossiers and worklists.
    Reporter,
    /// Reads everything, writes nothing.
    Auditor,
    /// Reads the log (a data warehouse, a follower).
    Integrator,
    /// Everything.
    Admin,
}

/// What a request does, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Append events to a decision's stream.
    Append,
    /// Read a decision's state (status, episodes, version; no identity).
    ReadState,
    /// Read a decision's events as stored (personal data).
    ReadStream,
    /// Read reports, worklists, open cases, deadlines and dossiers.
    ReadReports,
    /// Read the global log.
    ReadLog,
    /// Read the access log.
    ReadAccessLog,
    /// See protected persons' identity numbers (skyddade personuppgifter) unmasked.
    ReadProtected,
    /// Register, list and remove webhook subscribers of the log.
    ManageWebhooks,
}

impl Action {
    /// The permission's name, as the access log gives it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Append => "append",
            Action::ReadState => "read_state",
            Action::ReadStream => "read_stream",
            Action::ReadReports => "read_reports",
            Action::ReadLog => "read_log",
            Action::ReadAccessLog => "read_access_log",
            Action::ReadProtected => "read_protected",
            Action::ManageWebhooks => "manage_webhooks",
        }
    }
}

impl Role {
    /// Every role, as listed to users.
    pub const ALL: [Role; 5] = [
        Role::Registrar,
        Role::Reporter,
        Role::Auditor,
        Role::Integrator,
        Role::Admin,
    ];

    /// The role's name: `registrar`, `reporter`, `auditor`, `integrator`, `admin`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Registrar => "registrar",
            Role::Reporter => "reporter",
            Role::Auditor => "auditor",
            Role::Integrator => "integrator",
            Role::Admin => "admin",
        }
    }

    /// Whether the role may do `action`: the one table of permissions.
    pub const fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Registrar => matches!(action, Append | ReadState),
            Role::Reporter => matches!(action, ReadState | ReadReports),
            Role::Auditor => matches!(action, ReadState | ReadStream | ReadReports | ReadLog),
            Role::Integrator => matches!(action, ReadStream | ReadLog | ManageWebhooks),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(text: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text)
            .ok_or_else(|| {
                "unknown role: expected registrar, reporter, auditor, integrator or admin"
                    .to_owned()
            })
    }
}

/// One token as stored: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Who or what it was given to.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Lowercase hex SHA-256 of the token.
    pub sha256: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokensFile {
    tokens: Vec<StoredToken>,
}

/// Why the tokens could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a token list.
    #[error("{path} is not a token list: {detail}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The request makes no sense (an empty or taken name).
    #[error("{0}")]
    Invalid(String),
    /// No token has the name given.
    #[error("{0}")]
    NotFound(String),
}

/// The lowercase hex SHA-256 of a token.
pub fn token_hash(token: &str) -> String {
    store::encode_hex(&Sha256::digest(token.as_bytes()))
}

/// The token file of a data directory.
pub fn tokens_path(data_dir: &Path) -> PathBuf {
    data_dir.join(TOKENS_FILE_NAME)
}

/// The stored tokens (none when the file does not exist).
pub fn read_tokens(data_dir: &Path) -> Result<Vec<StoredToken>, TokenError> {
    let path = tokens_path(data_dir);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(TokenError::Io { path, source }),
    };
    let file: TokensFile = serde_json::from_str(&text).map_err(|e| TokenError::Damaged {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    Ok(file.tokens)
}

/// Creates a token named `name` with `role` in the data directory (which must exist), stores its
/// hash, and returns the token: the only time it is ever shown.
pub fn create_token(
    data_dir: &Path,
    role: Role,
    name: &str,
    now: DateTime<Utc>,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > TOKEN_NAME_CHARS_MAX {
        return Err(TokenError::Invalid(format!(
            "a token's name is 1–{TOKEN_NAME_CHARS_MAX} characters"
        )));
    }
    let mut tokens = read_tokens(data_dir)?;
    if tokens.iter().any(|t| t.name == name) {
        return Err(TokenError::Invalid(format!(
            "there is already a token named {:?}",
            domain::redact::redact_identity_like(name)
        )));
    }
    let token = random_secret(TOKEN_PREFIX);
    tokens.push(StoredToken {
        name: name.to_owned(),
        role,
        sha256: token_hash(&token),
        created_at: now,
    });
    write_tokens(data_dir, &TokensFile { tokens })?;
    Ok(token)
}

/// Removes the token named `name` from the data directory and returns what was stored of it.
/// A running server refuses the token from its next request on.
pub fn revoke_token(data_dir: &Path, name: &str) -> Result<StoredToken, TokenError> {
    let name = name.trim();
    let mut tokens = read_tokens(data_dir)?;
    let Some(index) = tokens.iter().position(|t| t.name == name) else {
        return Err(TokenError::NotFound(format!(
            "there is no token named {:?}; `verkstall token list` shows the names",
            domain::redact::redact_identity_like(name)
        )));
    };
    let revoked = tokens.remove(index);
    write_tokens(data_dir, &TokensFile { tokens })?;
    Ok(revoked)
}

/// `prefix` and 256 random bits from the operating system (two version 4 UUIDs carry 244), in
/// hex: a token or a webhook's secret.
pub(crate) fn random_secret(prefix: &str) -> String {
    let mut secret = prefix.to_owned();
    for _ in 0..2 {
        secret.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    secret
}

/// Replaces the token file atomically. The scratch file is created exclusively, so two
/// commands at once cannot lose each other's token: the second is refused.
fn write_tokens(data_dir: &Path, file: &TokensFile) -> Result<(), TokenError> {
    let mut text = serde_json::to_string_pretty(file).expect("tokens always serialise");
    text.push('\n');
    replace_file(data_dir, TOKENS_FILE_NAME, text.as_bytes()).map_err(|e| match e {
        ReplaceError::Busy(scratch) => TokenError::Invalid(format!(
            "{} exists: another token command is running, or one was interrupted (then \
             remove the file and try again)",
            scratch.display()
        )),
        ReplaceError::Io { path, source } => TokenError::Io { path, source },
    })
}

/// Why [`replace_file`] did not replace the file.
#[derive(Debug)]
pub(crate) enum ReplaceError {
    /// The scratch file exists: another writer is at work, or one was interrupted.
    Busy(PathBuf),
    /// Writing, syncing or renaming failed.
    Io {
        /// The file written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// The scratch file [`replace_file`] writes before renaming it over `file_name`.
pub(crate) fn scratch_path(data_dir: &Path, file_name: &str) -> PathBuf {
    data_dir.join(format!("{file_name}.new"))
}

/// Replaces `data_dir/file_name` with `bytes` atomically: written beside (created exclusively,
/// readable by the owner only), synced, renamed over, the directory synced. A crash leaves the
/// old file or the new one, never half of either.
pub(crate) fn replace_file(
    data_dir: &Path,
    file_name: &str,
    bytes: &[u8],
) -> Result<(), ReplaceError> {
    let path = data_dir.join(file_name);
    let scratch = scratch_path(data_dir, file_name);
    let io = |source| ReplaceError::Io {
        path: scratch.clone(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = match options.open(&scratch) {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ReplaceError::Busy(scratch));
        }
        Err(e) => return Err(io(e)),
    };
    let written = out
        .write_all(bytes)
        .and_then(|()| out.sync_all())
        .and_then(|()| fs::rename(&scratch, &path))
        .and_then(|()| fs::File::open(data_dir)?.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&scratch);
        return Err(io(e));
    }
    Ok(())
}

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
}

/// The known tokens, read again whenever the file changes.
#[derive(Debug)]
pub struct Tokens {
    data_dir: PathBuf,
    loaded: RwLock<Loaded>,
}

#[derive(Debug, Default)]
struct Loaded {
    /// The file's modification time and length when read.
    stamp: Option<(SystemTime, u64)>,
    by_hash: HashMap<String, Caller>,
}

impl Tokens {
    /// The tokens of `data_dir`, read now.
    pub fn open(data_dir: &Path) -> Result<Tokens, TokenError> {
        let tokens = Tokens {
            data_dir: data_dir.to_path_buf(),
            loaded: RwLock::new(Loaded::default()),
        };
        tokens.refresh()?;
        Ok(tokens)
    }

    fn stamp(&self) -> Option<(SystemTime, u64)> {
        let meta = fs::metadata(tokens_path(&self.data_dir)).ok()?;
        Some((meta.modified().ok()?, meta.len()))
    }

    /// Reads the file again if it changed since it was last read, or changed so recently that
    /// a second change could hide behind the same stamp ([`TOKENS_FRESH_MAX`]).
    fn refresh(&self) -> Result<(), TokenError> {
        let stamp = self.stamp();
        let settled = stamp.is_some_and(|(modified, _)| {
            modified.elapsed().is_ok_and(|age| age >= TOKENS_FRESH_MAX)
        });
        if settled && self.loaded.read().is_ok_and(|l| l.stamp == stamp) {
            return Ok(());
        }
        let by_hash = read_tokens(&self.data_dir)?
            .into_iter()
            .map(|t| {
                let caller = Caller {
                    name: t.name,
                    role: t.role,
                };
                (t.sha256, caller)
            })
            .collect();
        let mut loaded = self
            .loaded
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *loaded = Loaded { stamp, by_hash };
        Ok(())
    }

    /// Who holds `token`, if anyone. A token file that cannot be read now keeps the list last
    /// read (and says why in the log).
    pub fn caller(&self, token: &str) -> Option<Caller> {
        if let Err(error) = self.refresh() {
            tracing::error!(%error, "cannot read the token file again; keeping the tokens last read");
        }
        let hash = token_hash(token);
        self.loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_hash
            .get(&hash)
            .cloned()
    }

    /// The caller named `name`, if a token of that name is known now (a webhook acts for the
    /// token that registered it, as long as that token is not revoked).
    pub fn holder(&self, name: &str) -> Option<Caller> {
        if let Err(error) = self.refresh() {
            tracing::error!(%error, "cannot read the token file again; keeping the tokens last read");
        }
        self.loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .by_hash
            .values()
            .find(|c| c.name == name)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_permission_table() {
        use Action::*;
        let allowed = |action| -> Vec<&str> {
            Role::ALL
                .into_iter()
                .filter(|r| r.may(action))
                .map(Role::as_str)
                .collect()
        };
        assert_eq!(allowed(Append), ["registrar", "admin"]);
        assert_eq!(
            allowed(ReadState),
            ["registrar", "reporter", "auditor", "admin"]
        );
        assert_eq!(allowed(ReadStream), ["auditor", "integrator", "admin"]);
        assert_eq!(allowed(ReadReports), ["reporter", "auditor", "admin"]);
        assert_eq!(allowed(ReadLog), ["auditor", "integrator", "admin"]);
        assert_eq!(allowed(ReadAccessLog), ["admin"]);
        assert_eq!(allowed(ReadProtected), ["admin"]);
        assert_eq!(allowed(ManageWebhooks), ["integrator", "admin"]);
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_token_is_stored_only_as_its_hash_and_is_known_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tokens = Tokens::open(dir.path()).expect("no file is no tokens");
        let token =
            create_token(dir.path(), Role::Auditor, "revisorn", Utc::now()).expect("created");
        assert!(token.starts_with(TOKEN_PREFIX) && token.len() == TOKEN_PREFIX.len() + 64);
        let file = fs::read_to_string(tokens_path(dir.path())).expect("written");
        assert!(!file.contains(&token[TOKEN_PREFIX.len()..]), "{file}");
        assert!(file.contains(&token_hash(&token)), "{file}");
        let caller = tokens.caller(&token).expect("known without a restart");
        assert_eq!(
            (caller.name.as_str(), caller.role),
            ("revisorn", Role::Auditor)
        );
        assert_eq!(tokens.caller("vks_guess"), None);
        assert!(!dir.path().join(format!("{TOKENS_FILE_NAME}.new")).exists());
    }

    #[test]
    fn a_revoked_token_is_refused_at_once_and_the_others_still_work() {
        let dir = tempfile::tempdir().expect("temp dir");
        let tokens = Tokens::open(dir.path()).expect("no file is no tokens");
        let kept =
            create_token(dir.path(), Role::Reporter, "nämnden", Utc::now()).expect("created");
        let gone =
            create_token(dir.path(), Role::Integrator, "lagret", Utc::now()).expect("created");
        assert!(tokens.caller(&gone).is_some());
        assert!(tokens.holder("lagret").is_some());
        let revoked = revoke_token(dir.path(), " lagret ").expect("revoked");
        assert_eq!(
            (revoked.name.as_str(), revoked.role),
            ("lagret", Role::Integrator)
        );
        // Within the same tick of the file's clock, and with a name of the same length created
        // at once: the file's stamp may not tell the change, its age does.
        create_token(dir.path(), Role::Integrator, "lagreT", Utc::now()).expect("created");
        assert_eq!(tokens.caller(&gone), None);
        assert_eq!(tokens.holder("lagret"), None);
        assert!(tokens.caller(&kept).is_some());
        let missing = revoke_token(dir.path(), "lagret");
        assert!(
            matches!(missing, Err(TokenError::NotFound(_))),
            "{missing:?}"
        );
        let names: Vec<String> = read_tokens(dir.path())
            .expect("readable")
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, ["nämnden", "lagreT"]);
    }

    #[test]
    fn names_are_unique_and_a_second_writer_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        create_token(dir.path(), Role::Admin, "drift", Utc::now()).expect("created");
        let taken = create_token(dir.path(), Role::Reporter, "drift", Utc::now());
        assert!(matches!(taken, Err(TokenError::Invalid(_))), "{taken:?}");
        fs::write(dir.path().join(format!("{TOKENS_FILE_NAME}.new")), "").expect("scratch");
        let busy = create_token(dir.path(), Role::Reporter, "nämnden", Utc::now());
        assert!(matches!(busy, Err(TokenError::Invalid(_))), "{busy:?}");
        assert_eq!(read_tokens(dir.path()).expect("readable").len(), 1);
    }
}
