//! `server backup` and `server restore` for the SQLite database. A backup is a consistent copy
//! taken while the server runs (`VACUUM INTO` reads one snapshot; bookings go on meanwhile),
//! checked before it is given its name. A restore checks the copy, refuses while any process
//! has the database open, and keeps the database it replaces beside it.
//!
//! PostgreSQL has its own tools (`pg_dump`, continuous archiving); both commands say so.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

const POSTGRES: &str = "this database is PostgreSQL: back it up with pg_dump (or continuous archiving for point-in-time recovery) and restore with pg_restore; see the README";

/// What a checked database file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub bytes: u64,
    pub migration: i64,
    pub appointments: i64,
}

/// The file of a `sqlite:` URL, or why there is none.
fn database_file(url: &str) -> Result<PathBuf, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(POSTGRES.into());
    }
    let options = SqliteConnectOptions::from_str(url).map_err(|e| format!("DATABASE_URL: {e}"))?;
    let file = options.get_filename().to_path_buf();
    if file.as_os_str().is_empty() || file.as_os_str() == ":memory:" {
        return Err("DATABASE_URL names no database file".into());
    }
    Ok(file)
}

/// Opens `file` read-only and checks that it is a whole, sound database of this server.
pub async fn check(file: &Path) -> Result<Checked, String> {
    let bytes = std::fs::metadata(file).map_err(|e| format!("{}: {e}", file.display()))?.len();
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .connect()
        .await
        .map_err(|e| format!("{}: cannot open: {e}", file.display()))?;
    let verdict: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .map_err(|e| format!("{}: not a database: {e}", file.display()))?;
    if verdict != ["ok"] {
        return Err(format!("{}: integrity check failed: {}", file.display(), verdict.join("; ")));
    }
    let migration: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| format!("{}: not a database of this server (no migrations)", file.display()))?;
    let appointments: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointments")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| format!("{}: not a database of this server (no appointments)", file.display()))?;
    conn.close().await.ok();
    Ok(Checked { bytes, migration: migration.unwrap_or(0), appointments })
}

/// Writes a consistent copy of the database of `url` to `to`, which must not exist yet. Safe
/// while servers run on the database: the copy is one read snapshot, and writers go on.
pub async fn backup(url: &str, to: &Path) -> Result<Checked, String> {
    let file = database_file(url)?;
    if !file.is_file() {
        return Err(format!("{}: no such database", file.display()));
    }
    if to.exists() {
        return Err(format!("{} exists; a backup never overwrites a file", to.display()));
    }
    let partial = sibling(to, &format!("partial-{}", std::process::id()));
    let _ = std::fs::remove_file(&partial);
    let mut conn = SqliteConnectOptions::new()
        .filename(&file)
        .busy_timeout(Duration::from_secs(30))
        .connect()
        .await
        .map_err(|e| format!("{}: cannot open: {e}", file.display()))?;
    let target = partial.to_str().ok_or_else(|| format!("{}: the path is not UTF-8", partial.display()))?;
    let copied = sqlx::query("VACUUM INTO $1").bind(target).execute(&mut conn).await;
    conn.close().await.ok();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(format!("cannot write {}: {e}", to.display()));
    }
    let checked = match check(&partial).await {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    std::fs::rename(&partial, to).map_err(|e| format!("cannot name the backup {}: {e}", to.display()))?;
    Ok(checked)
}

/// What `restore` did.
#[derive(Debug)]
pub struct Restored {
    pub checked: Checked,
    pub database: PathBuf,
    /// Where the database that was replaced now is.
    pub replaced: Option<PathBuf>,
}

/// Makes the database of `url` the backup `from`. An existing database is replaced only with
/// `replace`, and only when no process has it open; it is kept as `<name>.replaced-<time>`.
pub async fn restore(url: &str, from: &Path, replace: bool, known_migration: i64, stamp: &str) -> Result<Restored, String> {
    let file = database_file(url)?;
    let checked = check(from).await?;
    if checked.migration > known_migration {
        return Err(format!(
            "{}: made by a newer server (migration {} of this build's {}); restore it with that version",
            from.display(),
            checked.migration,
            known_migration
        ));
    }
    let mut replaced = None;
    if file.exists() {
        if !replace {
            return Err(format!(
                "{} exists; give --replace to replace it (it is kept beside the restored one)",
                file.display()
            ));
        }
        close_in_use(&file).await?;
        let kept = sibling(&file, &format!("replaced-{stamp}"));
        std::fs::rename(&file, &kept).map_err(|e| format!("cannot move {} aside: {e}", file.display()))?;
        replaced = Some(kept);
    }
    for leftover in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(&file, leftover));
    }
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let incoming = sibling(&file, &format!("restoring-{}", std::process::id()));
    std::fs::copy(from, &incoming).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    std::fs::File::open(&incoming).and_then(|f| f.sync_all()).map_err(|e| format!("{}: {e}", incoming.display()))?;
    std::fs::rename(&incoming, &file).map_err(|e| format!("cannot name {}: {e}", file.display()))?;
    Ok(Restored { checked, database: file, replaced })
}

/// Fails when another process has `file` open (a server still running on it); otherwise
/// folds its write-ahead log into it, so that the file alone is the whole database.
async fn close_in_use(file: &Path) -> Result<(), String> {
    let busy = || format!("{} is in use (is a server running on it?): stop every process using it first", file.display());
    let mut conn = SqliteConnectOptions::new()
        .filename(file)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(Duration::ZERO)
        .pragma("locking_mode", "EXCLUSIVE")
        .connect()
        .await
        .map_err(|_| busy())?;
    // In exclusive locking mode a WAL database's lock is refused while any other connection,
    // even an idle one, has it open.
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await.map_err(|_| busy())?;
    sqlx::query("COMMIT").execute(&mut conn).await.map_err(|e| e.to_string())?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut conn).await.map_err(|e| e.to_string())?;
    conn.close().await.map_err(|e| e.to_string())?;
    Ok(())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn sibling(file: &Path, tag: &str) -> PathBuf {
    with_suffix(file, &format!(".{tag}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_lead_to_postgres_tools() {
        let refused = database_file("postgres://u:p@db/booking").unwrap_err();
        assert!(refused.contains("pg_dump"), "{refused}");
    }

    #[test]
    fn the_file_of_a_sqlite_url_is_its_path() {
        assert_eq!(database_file("sqlite://data/booking.db?mode=rwc").unwrap(), PathBuf::from("data/booking.db"));
    }

    #[test]
    fn kept_files_sit_beside_the_database() {
        assert_eq!(sibling(Path::new("data/booking.db"), "replaced-x"), PathBuf::from("data/booking.db.replaced-x"));
    }
}
