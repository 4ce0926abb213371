//! Backup and restore, on each engine.
//!
//! **SQLite.** Backup is `VACUUM INTO 'FILE'`: SQLite's supported online
//! copy, a consistent snapshot of the database written while the store
//! keeps serving (it reads through one snapshot, so concurrent writers
//! neither block it nor tear it). Restore works inside SQLite too, online:
//! it checks the backup (`PRAGMA integrity_check`, the migrations it
//! records), brings an empty target to the backup's schema version,
//! refuses a target at another version, then `ATTACH`es the backup and,
//! in one `BEGIN IMMEDIATE` transaction, empties every store table and
//! copies the backup's rows in. Nodes using the file keep running: they
//! wait on `busy_timeout` while the transaction holds the write lock, and
//! then see the restored rows. We chose this over copying the file into
//! place because a file swap under an open connection silently loses that
//! connection's later writes (it keeps writing to the unlinked file), and a
//! stale `-wal` file next to a swapped-in database corrupts it; the
//! transaction has neither failure mode and is crash-safe.
//!
//! **PostgreSQL.** Backup runs `pg_dump` (plain SQL, `--clean --if-exists
//! --no-owner --no-privileges`) of the store's schema (`current_schema()`)
//! into `FILE.partial` and renames it to `FILE` when complete. Restore runs
//! `psql --single-transaction -v ON_ERROR_STOP=1 -f FILE`: it drops and
//! recreates the schema's objects and reloads their rows, all or nothing.
//! Nodes should be stopped first: their prepared statements refer to the
//! dropped tables and fail once. Connection settings reach the tools
//! through libpq's environment variables (`PGHOST`, `PGPASSWORD`, ...), so
//! the password never appears on a command line.
//!
//! Neither backup overwrites an existing file.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::str::FromStr;

use sqlx::Connection;
use sqlx::migrate::Migrate;
use sqlx::postgres::{PgConnectOptions, PgSslMode};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::io::AsyncBufReadExt;

use crate::error::{FileAction, StoreError};
use crate::options::{Engine, StoreOptions};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::store::Store;

/// Rows per table after a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreReport {
    /// The engine restored into.
    pub engine: Engine,
    /// `(table, rows)` for every store table, by name.
    pub tables: Vec<(String, u64)>,
}

/// Writes a backup of `store` to `file`; returns its size in bytes.
///
/// # Errors
/// [`StoreError::BackupExists`]; [`StoreError::InMemory`];
/// [`StoreError::ToolMissing`] / [`StoreError::ToolFailed`] for `pg_dump`;
/// [`StoreError::Io`]; [`StoreError::Database`].
pub async fn backup(store: &Store, file: &Path) -> Result<u64, StoreError> {
    match store {
        Store::Sqlite(s) => s.backup(file).await,
        Store::Postgres(s) => pg_backup(s, file).await,
    }
}

/// Restores the backup `file` into the database `options` names (see the
/// module docs for what each engine does and requires).
///
/// # Errors
/// [`StoreError::NotABackup`]; [`StoreError::InMemory`];
/// [`StoreError::SchemaMismatch`]; [`StoreError::Migrate`];
/// [`StoreError::ToolMissing`] / [`StoreError::ToolFailed`] for `psql`;
/// [`StoreError::Io`]; [`StoreError::Database`].
pub async fn restore(options: &StoreOptions, file: &Path) -> Result<RestoreReport, StoreError> {
    if !tokio::fs::try_exists(file).await.unwrap_or(false) {
        return Err(StoreError::Io {
            action: FileAction::Read,
            path: file.to_path_buf(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    match options.engine()? {
        Engine::Sqlite => sqlite_restore(options, file).await,
        Engine::Postgres => pg_restore(options, file).await,
    }
}

// ---------------------------------------------------------------- SQLite

/// A store table name as found in `sqlite_master`, checked to be a plain
/// identifier before it is spliced into SQL.
fn plain_identifier(name: &str) -> Option<&str> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')).then_some(name)
}

async fn sqlite_tables(
    conn: &mut SqliteConnection,
    schema: &'static str,
) -> Result<Vec<String>, StoreError> {
    let query = match schema {
        "backup" => {
            "SELECT name FROM backup.sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name"
        }
        _ => {
            "SELECT name FROM main.sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name"
        }
    };
    let names: Vec<String> = sqlx::query_scalar(query).fetch_all(&mut *conn).await?;
    Ok(names)
}

/// `tables` ordered so that every table comes after the tables its foreign
/// keys reference (parents are copied before children).
async fn parents_first(
    conn: &mut SqliteConnection,
    tables: Vec<String>,
) -> Result<Vec<String>, StoreError> {
    let mut pending = Vec::with_capacity(tables.len());
    for table in &tables {
        let referenced: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list($1)")
                .bind(table)
                .fetch_all(&mut *conn)
                .await?;
        // Only references to other store tables order anything.
        let parents: Vec<String> = referenced
            .into_iter()
            .filter(|parent| parent != table && tables.contains(parent))
            .collect();
        pending.push((table.clone(), parents));
    }
    let mut ordered: Vec<String> = Vec::with_capacity(tables.len());
    while !pending.is_empty() {
        let before = pending.len();
        let (ready, rest): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(_, parents)| parents.iter().all(|p| ordered.contains(p)));
        ordered.extend(ready.into_iter().map(|(name, _)| name));
        pending = rest;
        if pending.len() == before {
            // A cycle (no store schema has one): keep the remaining order.
            ordered.extend(pending.drain(..).map(|(name, _)| name));
        }
    }
    Ok(ordered)
}

async fn sqlite_restore(options: &StoreOptions, file: &Path) -> Result<RestoreReport, StoreError> {
    let not_a_backup = |reason| StoreError::NotABackup {
        path: file.to_path_buf(),
        reason,
    };
    // 1. The backup must be an intact SQLite file with store migrations
    //    this build knows, unchanged.
    let mut source = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(file)
            .read_only(true)
            .create_if_missing(false),
    )
    .await
    .map_err(|_| not_a_backup("not a SQLite database"))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut source)
        .await
        .map_err(|_| not_a_backup("not a SQLite database"))?;
    if integrity != "ok" {
        return Err(not_a_backup("fails PRAGMA integrity_check"));
    }
    let applied = source
        .list_applied_migrations(crate::migrate::TABLE)
        .await
        .map_err(|_| not_a_backup("has no sage-store migrations table"))?;
    source.close().await?;
    let backup_status = crate::migrate::status(&crate::sqlite::MIGRATOR, &applied, None);
    if applied.is_empty()
        || backup_status
            .migrations
            .iter()
            .any(|m| m.applied && !m.checksum_ok)
    {
        return Err(not_a_backup("its migrations are unknown to this build"));
    }
    let backup_version = backup_status.current_version();

    // 2. The target must be at the backup's schema version; an empty one
    //    is migrated there.
    let store = SqliteStore::connect(options).await?;
    if store.file().is_none() {
        store.close().await;
        return Err(StoreError::InMemory);
    }
    let target = store.migration_status().await?;
    if target.current_version() == 0 {
        crate::sqlite::MIGRATOR
            .run_to(backup_version, store.writer())
            .await?;
    } else if target.current_version() != backup_version {
        store.close().await;
        return Err(StoreError::SchemaMismatch {
            backup: backup_version,
            target: target.current_version(),
        });
    }

    // 3. One transaction replaces every row of every store table.
    let result = sqlite_copy_rows(&store, file).await;
    store.close().await;
    let tables = result?;
    Ok(RestoreReport {
        engine: Engine::Sqlite,
        tables,
    })
}

async fn sqlite_copy_rows(
    store: &SqliteStore,
    file: &Path,
) -> Result<Vec<(String, u64)>, StoreError> {
    let file_text = file.to_str().ok_or_else(|| StoreError::NonUtf8Path {
        path: file.to_path_buf(),
    })?;
    let mut conn = store.writer().acquire().await?;
    sqlx::query("ATTACH DATABASE $1 AS backup")
        .bind(file_text)
        .execute(&mut *conn)
        .await?;
    let copied = async {
        let tables: Vec<String> = sqlite_tables(&mut conn, "main")
            .await?
            .into_iter()
            .filter_map(|t| plain_identifier(&t).map(str::to_owned))
            .collect();
        let in_backup = sqlite_tables(&mut conn, "backup").await?;
        let tables = parents_first(&mut conn, tables).await?;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        // Children before parents, so that no cascade runs into rows
        // that are about to be deleted anyway.
        for table in tables.iter().rev() {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM main.\"{table}\"")))
                .execute(&mut *tx)
                .await?;
        }
        let mut counts = Vec::with_capacity(tables.len());
        for table in &tables {
            let rows = if in_backup.contains(table) {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "INSERT INTO main.\"{table}\" SELECT * FROM backup.\"{table}\""
                )))
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                0
            };
            counts.push((table.clone(), rows));
        }
        tx.commit().await?;
        counts.sort();
        Ok::<_, StoreError>(counts)
    }
    .await;
    let detached = sqlx::query("DETACH DATABASE backup")
        .execute(&mut *conn)
        .await;
    let counts = copied?;
    detached?;
    Ok(counts)
}

// ------------------------------------------------------------ PostgreSQL

/// libpq environment variables for the database `url` names, as sqlx
/// reads it (so `pg_dump` and `psql` reach the same server and schema).
fn libpq_env(url: &str) -> Result<Vec<(&'static str, String)>, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(|_| StoreError::InvalidUrl)?;
    let mut env = Vec::new();
    match options.get_socket() {
        Some(socket) => env.push(("PGHOST", socket.display().to_string())),
        None => env.push(("PGHOST", options.get_host().to_owned())),
    }
    env.push(("PGPORT", options.get_port().to_string()));
    env.push(("PGUSER", options.get_username().to_owned()));
    if let Some(database) = options.get_database() {
        env.push(("PGDATABASE", database.to_owned()));
    }
    if let Some(pg_options) = options.get_options() {
        env.push(("PGOPTIONS", pg_options.to_owned()));
    }
    env.push((
        "PGSSLMODE",
        match options.get_ssl_mode() {
            PgSslMode::Disable => "disable",
            PgSslMode::Allow => "allow",
            PgSslMode::Prefer => "prefer",
            PgSslMode::Require => "require",
            PgSslMode::VerifyCa => "verify-ca",
            PgSslMode::VerifyFull => "verify-full",
        }
        .to_owned(),
    ));
    if let Some(password) = url_password(url) {
        env.push(("PGPASSWORD", password));
    }
    Ok(env)
}

/// The password of the URL's user-info or `password` parameter, decoded.
fn url_password(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    if let Some(password) = parsed.password() {
        return percent_encoding::percent_decode_str(password)
            .decode_utf8()
            .ok()
            .map(|p| p.into_owned());
    }
    parsed
        .query_pairs()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.into_owned())
}

async fn run_tool(
    tool: &'static str,
    args: &[&std::ffi::OsStr],
    env: &[(&'static str, String)],
) -> Result<(), StoreError> {
    let output = tokio::process::Command::new(tool)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|source| StoreError::ToolMissing { tool, source })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(StoreError::ToolFailed {
            tool,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn partial_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

async fn pg_backup(store: &PgStore, file: &Path) -> Result<u64, StoreError> {
    if tokio::fs::try_exists(file).await.unwrap_or(true) {
        return Err(StoreError::BackupExists {
            path: file.to_path_buf(),
        });
    }
    let schema = store.schema().await?;
    let env = libpq_env(&store.options().url)?;
    let partial = partial_path(file);
    let schema_arg = format!("--schema={schema}");
    let mut file_arg = std::ffi::OsString::from("--file=");
    file_arg.push(&partial);
    let args: [&std::ffi::OsStr; 7] = [
        "--format=plain".as_ref(),
        "--clean".as_ref(),
        "--if-exists".as_ref(),
        "--no-owner".as_ref(),
        "--no-privileges".as_ref(),
        schema_arg.as_ref(),
        file_arg.as_ref(),
    ];
    if let Err(e) = run_tool("pg_dump", &args, &env).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    tokio::fs::rename(&partial, file)
        .await
        .map_err(|source| StoreError::Io {
            action: FileAction::Create,
            path: file.to_path_buf(),
            source,
        })?;
    let size = tokio::fs::metadata(file)
        .await
        .map_err(|source| StoreError::Io {
            action: FileAction::Read,
            path: file.to_path_buf(),
            source,
        })?
        .len();
    Ok(size)
}

/// Checks that `file` is a plain `pg_dump` that holds a store schema.
async fn pg_check_dump(file: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        action: FileAction::Read,
        path: file.to_path_buf(),
        source,
    };
    let reader = tokio::fs::File::open(file).await.map_err(io)?;
    let mut lines = tokio::io::BufReader::new(reader).lines();
    let mut header = false;
    let mut migrations = false;
    let mut read = 0usize;
    while let Some(line) = lines.next_line().await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::InvalidData {
            StoreError::NotABackup {
                path: file.to_path_buf(),
                reason: "not text",
            }
        } else {
            io(e)
        }
    })? {
        read += 1;
        if read <= 10 && line.starts_with("-- PostgreSQL database dump") {
            header = true;
        }
        if line.starts_with("CREATE TABLE ") && line.contains("._sqlx_migrations") {
            migrations = true;
            break;
        }
    }
    match (header, migrations) {
        (true, true) => Ok(()),
        (false, _) => Err(StoreError::NotABackup {
            path: file.to_path_buf(),
            reason: "not a plain-format pg_dump",
        }),
        (true, false) => Err(StoreError::NotABackup {
            path: file.to_path_buf(),
            reason: "holds no sage-store migrations table",
        }),
    }
}

async fn pg_restore(options: &StoreOptions, file: &Path) -> Result<RestoreReport, StoreError> {
    pg_check_dump(file).await?;
    let env = libpq_env(&options.url)?;
    let mut file_arg = std::ffi::OsString::from("--file=");
    file_arg.push(file);
    let args: [&std::ffi::OsStr; 6] = [
        "--no-psqlrc".as_ref(),
        "--quiet".as_ref(),
        "--single-transaction".as_ref(),
        "--set=ON_ERROR_STOP=1".as_ref(),
        "--output=/dev/null".as_ref(),
        file_arg.as_ref(),
    ];
    run_tool("psql", &args, &env).await?;
    let store = PgStore::connect(options).await?;
    let counted = pg_count_rows(&store).await;
    store.close().await;
    Ok(RestoreReport {
        engine: Engine::Postgres,
        tables: counted?,
    })
}

async fn pg_count_rows(store: &PgStore) -> Result<Vec<(String, u64)>, StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> '_sqlx_migrations' ORDER BY table_name",
    )
    .fetch_all(store.pool())
    .await?;
    let mut counts = Vec::with_capacity(tables.len());
    for table in tables {
        let Some(name) = plain_identifier(&table) else {
            continue;
        };
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{name}\""
        )))
        .fetch_one(store.pool())
        .await?;
        counts.push((table.clone(), u64::try_from(n).unwrap_or(0)));
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_environment_carries_the_url_without_a_command_line_password() {
        let env = libpq_env(
            "postgres://sage:p%40ss@127.0.0.1:5433/sage_test?sslmode=disable&options=-c%20search_path%3Dt1",
        )
        .unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("PGHOST"), Some("127.0.0.1"));
        assert_eq!(get("PGPORT"), Some("5433"));
        assert_eq!(get("PGUSER"), Some("sage"));
        assert_eq!(get("PGDATABASE"), Some("sage_test"));
        assert_eq!(get("PGPASSWORD"), Some("p@ss"));
        assert_eq!(get("PGSSLMODE"), Some("disable"));
        assert_eq!(get("PGOPTIONS"), Some("-c search_path=t1"));
    }

    #[test]
    fn only_plain_identifiers_are_spliced() {
        assert_eq!(plain_identifier("did_keys"), Some("did_keys"));
        assert_eq!(plain_identifier("x\"; DROP TABLE y; --"), None);
        assert_eq!(plain_identifier("1abc"), None);
        assert_eq!(plain_identifier(""), None);
    }
}
