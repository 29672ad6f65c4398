//! Helpers of the tests that run on PostgreSQL: a scratch database, and an edit of a stored
//! line behind the store's back.

use store_postgres::ScratchDatabase;

/// A runtime and a fresh database on the test server (`VERKSTALL_TEST_POSTGRES`, else
/// `store_postgres::TEST_SERVER_DEFAULT`), dropped with it.
pub(crate) fn scratch_database() -> (tokio::runtime::Runtime, ScratchDatabase) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let database = runtime
        .block_on(ScratchDatabase::create())
        .unwrap_or_else(|e| panic!("creating a scratch database (is PostgreSQL running?): {e}"));
    (runtime, database)
}

/// Replaces `from` by `to` in the stored line at `position`, with SQL, as someone with access
/// to the database could; returns the rows changed (1, or 0 when there is no such position).
pub(crate) async fn replace_in_stored_line(
    database: &ScratchDatabase,
    position: u64,
    from: &str,
    to: &str,
) -> u64 {
    let quote = |text: &str| text.replace('\'', "''");
    database
        .execute(&format!(
            "UPDATE verkstall.events
             SET line = convert_to(replace(convert_from(line, 'UTF8'), '{}', '{}'), 'UTF8')
             WHERE position = {position}",
            quote(from),
            quote(to)
        ))
        .await
        .unwrap()
}
