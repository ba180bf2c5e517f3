//! Copying the write-ahead log back into the database file, beside the writer rather than
//! inside its commits.
//!
//! By default SQLite checkpoints in the connection that commits, once the log passes 1,000
//! pages: that commit, and every ledger append waiting behind it, then waits for a few
//! megabytes of random writes and an fsync of the database file. Here the writer only
//! checkpoints as a backstop ([`WRITER_BACKSTOP_PAGES`], should this thread fall behind or
//! stop), and a thread of its own runs a passive checkpoint every [`PERIOD`] on its own
//! connection. A passive checkpoint never blocks the writer nor the readers: it copies the
//! frames already committed. The writer starts the log again from its beginning only once
//! every frame was copied, which a steady stream of commits never lets a checkpoint from
//! outside see; so the writer's own checkpoint stays, past [`WRITER_BACKSTOP_PAGES`], and
//! finds most of the work done. (A restarting checkpoint from here would wait for a gap
//! between two commits and keep the passive ones from running meanwhile.)
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Weak;
use std::time::Duration;

/// How often the log is copied back.
const PERIOD: Duration = Duration::from_millis(50);

/// Log pages past which the writer checkpoints in its own commit, and then starts the log
/// again (40 MiB of 4 KiB pages).
pub(crate) const WRITER_BACKSTOP_PAGES: &str = "10000";

/// Checkpoints the database at `path` every [`PERIOD`] for as long as `alive` can be
/// upgraded (the store is open).
pub(crate) fn spawn<T: Send + Sync + 'static>(path: &Path, alive: Weak<T>) -> std::io::Result<()> {
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("sqlite-checkpointer".into())
        .spawn(move || {
            let connection = match open(&path) {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::error!(%error, "cannot open the checkpoint connection; the writer checkpoints alone");
                    return;
                }
            };
            // Said once per spell of failures, not every round.
            let mut failing = false;
            while alive.strong_count() > 0 {
                std::thread::sleep(PERIOD);
                match checkpoint(&connection) {
                    Ok(()) => failing = false,
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, "background checkpoints fail; the writer checkpoints alone until they work again");
                    }
                    Err(_) => {}
                }
            }
        })?;
    Ok(())
}

/// One passive checkpoint. Its answer (busy, pages in the log, pages copied) says nothing
/// to act on: busy only means the writer's own checkpoint ran at the same time.
fn checkpoint(connection: &Connection) -> rusqlite::Result<()> {
    connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
}

fn open(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(Duration::from_secs(5))?;
    // Durable as the writer is: the database file is synced before the log is reused.
    connection.pragma_update(None, "synchronous", "FULL")?;
    Ok(connection)
}
