//! `sage db`: the store's database tools (sage-store).
//!
//! `migrate up|down [N]|status`, `seed`, `backup FILE` and `restore FILE`
//! against the database `--database-url` names (SQLite or PostgreSQL).
//! Each prints what it did; each refuses to run when `--env` (default
//! `$SAGE_ENV`, else `local`) is `production`, unless `--yes` is given.
//! Database URLs are printed with their password redacted.
//!
//! The CLI is synchronous: each command runs on a single-threaded tokio
//! runtime built for it.

use std::io;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use sage_store::backup::{RestoreReport, restore};
use sage_store::seed::seed;
use sage_store::{
    Environment, FileAction, MigrationReport, MigrationStatus, Store, StoreError, StoreOptions,
    redact_url,
};

use crate::error::{CliError, IoAction};
use crate::output::Output;

/// Options of every `sage db` command.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// The database: sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) database_url: Option<String>,
    /// The environment the database belongs to (local, development,
    /// staging, production). Default: $SAGE_ENV, else local. `seed` takes
    /// its data set from it.
    #[arg(long, value_name = "ENV", global = true)]
    pub(crate) env: Option<String>,
    /// Confirm a command against a production database.
    #[arg(long, global = true)]
    pub(crate) yes: bool,
    #[command(subcommand)]
    pub(crate) command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DbCommand {
    /// Schema migrations.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Write the seed agents of --env (development or local: four agents,
    /// one revoked; staging: two) into the DID cache: real keys, valid
    /// proofs of possession. Production has no seed data.
    Seed,
    /// Write a backup of the database to FILE (SQLite: VACUUM INTO, online;
    /// PostgreSQL: pg_dump of the store's schema). Never overwrites FILE.
    Backup(FileArg),
    /// Replace the database's rows with those of a backup made by `sage db
    /// backup` (SQLite: online, in one transaction; PostgreSQL: psql in one
    /// transaction; stop the nodes first).
    Restore(FileArg),
}

#[derive(Debug, Subcommand)]
pub(crate) enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// Revert the N most recently applied migrations (default 1).
    Down {
        /// How many to revert.
        #[arg(default_value_t = 1)]
        count: u32,
    },
    /// List the migrations and whether each is applied. Writes nothing.
    Status,
}

#[derive(Debug, Args)]
pub(crate) struct FileArg {
    /// The backup file.
    pub(crate) file: PathBuf,
}

/// `sage db ...`.
pub(crate) fn run(args: &DbArgs) -> Result<Output, CliError> {
    let environment = environment(args.env.as_deref())?;
    if environment.is_production() && !args.yes {
        return Err(CliError::BadArgument {
            argument: "--env",
            reason: "refusing to run against production without --yes".to_owned(),
        });
    }
    let url = args
        .database_url
        .clone()
        .ok_or_else(|| CliError::BadArgument {
            argument: "--database-url",
            reason: "no database given (sqlite://FILE or postgres://...)".to_owned(),
        })?;
    let options = StoreOptions::new(url);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Io {
            path: PathBuf::from(options.redacted_url()),
            action: IoAction::Create,
            source,
        })?;
    let mut output = Output::new();
    output
        .field("database", "database", options.redacted_url())
        .field("environment", "environment", environment.name());
    runtime
        .block_on(execute(&args.command, &options, environment, &mut output))
        .map_err(|e| store_error(&options, e))?;
    Ok(output)
}

fn environment(flag: Option<&str>) -> Result<Environment, CliError> {
    let from_env = std::env::var("SAGE_ENV").ok();
    let (name, argument) = match (flag, from_env.as_deref()) {
        (Some(name), _) => (name, "--env"),
        (None, Some(name)) if !name.is_empty() => (name, "SAGE_ENV"),
        _ => return Ok(Environment::Local),
    };
    name.parse().map_err(
        |e: sage_store::environment::UnknownEnvironment| CliError::BadArgument {
            argument,
            reason: e.to_string(),
        },
    )
}

async fn execute(
    command: &DbCommand,
    options: &StoreOptions,
    environment: Environment,
    output: &mut Output,
) -> Result<(), StoreError> {
    match command {
        // Restore opens no pool before it checked the backup.
        DbCommand::Restore(file) => {
            let report = restore(options, &file.file).await?;
            print_restore(output, &file.file, &report);
            return Ok(());
        }
        DbCommand::Migrate(_) | DbCommand::Seed | DbCommand::Backup(_) => {}
    }
    let store = Store::connect(options).await?;
    let result = match command {
        DbCommand::Migrate(MigrateCommand::Up) => store
            .migrate_up()
            .await
            .map(|report| print_migrations(output, "applied", &report)),
        DbCommand::Migrate(MigrateCommand::Down { count }) => store
            .migrate_down(*count)
            .await
            .map(|report| print_migrations(output, "reverted", &report)),
        DbCommand::Migrate(MigrateCommand::Status) => store
            .migration_status()
            .await
            .map(|status| print_status(output, &status)),
        DbCommand::Seed => {
            let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
            let now = sage_store::instant::system_now();
            seed(&store, environment, &mut rng, now)
                .await
                .map(|report| {
                    let mut agents = Vec::new();
                    for agent in &report.agents {
                        let keys: Vec<&str> = agent.key_types.iter().map(|k| k.name()).collect();
                        let state = match (agent.revoked, agent.active) {
                            (true, _) => "revoked",
                            (false, true) => "active",
                            (false, false) => "inactive",
                        };
                        output.line(format!(
                            "seeded {} ({}) {state}, owner {}",
                            agent.did,
                            keys.join(", "),
                            agent.owner
                        ));
                        agents.push(json!({
                            "did": agent.did.as_str(),
                            "key_types": keys,
                            "owner": agent.owner,
                            "active": agent.active,
                            "revoked": agent.revoked,
                        }));
                    }
                    output.json("seeded", Value::Array(agents));
                })
        }
        DbCommand::Backup(file) => store.backup(&file.file).await.map(|size| {
            output
                .line(format!(
                    "wrote backup {} ({size} bytes)",
                    file.file.display()
                ))
                .json("backup", file.file.display().to_string())
                .json("bytes", size);
        }),
        DbCommand::Restore(_) => Ok(()),
    };
    store.close().await;
    result
}

fn print_migrations(output: &mut Output, verb: &str, report: &MigrationReport) {
    if report.migrations.is_empty() {
        output.line(format!("nothing {verb}"));
    }
    for (version, description) in &report.migrations {
        output.line(format!("{verb} {version:04} {description}"));
    }
    output.json(
        verb,
        report
            .migrations
            .iter()
            .map(|(version, description)| json!({"version": version, "description": description}))
            .collect::<Vec<_>>(),
    );
}

fn print_status(output: &mut Output, status: &MigrationStatus) {
    for m in &status.migrations {
        let state = match (m.applied, m.checksum_ok) {
            (true, true) => "applied",
            (true, false) => "applied, CHANGED SINCE (checksum mismatch)",
            (false, _) => "pending",
        };
        output.line(format!("{:04} {} {state}", m.version, m.description));
    }
    if let Some(dirty) = status.dirty {
        output.line(format!(
            "migration {dirty:04} failed half-way: repair the database first"
        ));
    }
    output
        .field(
            "current version",
            "current_version",
            status.current_version(),
        )
        .field("pending", "pending", status.pending())
        .json(
            "migrations",
            status
                .migrations
                .iter()
                .map(|m| {
                    json!({
                        "version": m.version,
                        "description": m.description,
                        "applied": m.applied,
                        "checksum_ok": m.checksum_ok,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .json("dirty", status.dirty);
}

fn print_restore(output: &mut Output, file: &std::path::Path, report: &RestoreReport) {
    output.line(format!("restored {}", file.display()));
    for (table, rows) in &report.tables {
        output.line(format!("  {table}: {rows} rows"));
    }
    output.json("restored", file.display().to_string()).json(
        "tables",
        report
            .tables
            .iter()
            .map(|(table, rows)| json!({"table": table, "rows": rows}))
            .collect::<Vec<_>>(),
    );
}

/// A store failure as a CLI failure: refusals and bad input exit 2, file
/// and database failures exit 3 (named by the file, or by the redacted URL).
fn store_error(options: &StoreOptions, error: StoreError) -> CliError {
    match error {
        StoreError::BackupExists { path } => CliError::Io {
            path,
            action: IoAction::Create,
            source: io::Error::from(io::ErrorKind::AlreadyExists),
        },
        StoreError::Io {
            path,
            source,
            action,
        } => CliError::Io {
            path,
            action: match action {
                FileAction::Read => IoAction::Read,
                _ => IoAction::Create,
            },
            source,
        },
        StoreError::UnsupportedScheme { .. } | StoreError::InvalidUrl => CliError::BadArgument {
            argument: "--database-url",
            reason: error.to_string(),
        },
        StoreError::NotABackup { .. }
        | StoreError::NoSeedData { .. }
        | StoreError::ZeroMigrations
        | StoreError::SchemaMismatch { .. }
        | StoreError::NonUtf8Path { .. }
        | StoreError::InMemory => CliError::BadArgument {
            argument: "sage db",
            reason: error.to_string(),
        },
        other => CliError::Io {
            path: PathBuf::from(redact_url(&options.url)),
            action: IoAction::Write,
            source: io::Error::other(other),
        },
    }
}
