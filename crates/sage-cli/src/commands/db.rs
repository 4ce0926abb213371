//! `sage db`: the store's database tools (sage-store).
//!
//! `migrate up|down [N]|status`, `seed`, `backup FILE` and `restore FILE`
//! against the database of the node configuration: the same layers and
//! flags as `sage config` (`--env`, `--config`, `--config-dir`, `--set`;
//! `SAGE_<SECTION>__<KEY>` variables), with `--database-url` as the
//! highest-priority override of `database.url`. The pool settings come from
//! `database.pool` (see [`crate::store_options`]).
//!
//! Each command prints what it did. Each refuses to run when the loaded
//! configuration's environment is `production` unless `--yes` is given;
//! the refusal comes before anything is created or opened. A SQLite
//! database is created when missing, with its directory. Database URLs
//! are printed with their password redacted.
//!
//! The CLI is synchronous: each command runs on a single-threaded tokio
//! runtime built for it.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use sage_store::backup::{RestoreReport, restore};
use sage_store::seed::seed;
use sage_store::{
    Environment, FileAction, MigrationReport, MigrationStatus, Store, StoreError, StoreOptions,
};

use crate::cli::ConfigArgs;
use crate::commands::config::load_config;
use crate::error::{CliError, IoAction};
use crate::files::create_private_dir;
use crate::output::Output;
use crate::runtime::block_on;
use crate::store_options::{store_environment, store_settings};

/// Options of every `sage db` command.
#[derive(Debug, Args)]
pub(crate) struct DbArgs {
    /// Which configuration: environment, files, overrides. `seed` takes its
    /// data set from the environment.
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// The database, above every configuration source (database.url):
    /// sqlite://FILE or postgres://USER:PASSWORD@HOST:PORT/DB.
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) database_url: Option<String>,
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
    /// Write the seed agents of the environment (development or local: four
    /// agents, one revoked; staging: two) into the DID cache: real keys,
    /// valid proofs of possession. Production has no seed data.
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
    let flags = args
        .database_url
        .iter()
        .map(|url| ("database.url".to_owned(), url.clone()))
        .collect();
    let loaded = load_config(&args.config, flags)?;
    let environment = store_environment(loaded.environment);
    if environment.is_production() && !args.yes {
        return Err(CliError::NotConfirmed {
            environment: environment.name(),
        });
    }
    let settings = store_settings(&loaded.config);
    if let Some(dir) = &settings.sqlite_dir {
        create_private_dir(dir)?;
    }
    let mut output = Output::new();
    let url_origin = loaded
        .sources
        .get("database.url")
        .map_or_else(|| "default".to_owned(), ToString::to_string);
    output
        .line(format!("database: {} ({url_origin})", settings.shown_url))
        .json("database", settings.shown_url.as_str())
        .json("database_source", url_origin)
        .field("environment", "environment", environment.name());
    for warning in &loaded.warnings {
        output.note(format!("warning: {warning}"));
    }
    block_on(async {
        execute(&args.command, &settings.options, environment, &mut output)
            .await
            .map_err(|error| store_failure(error, &settings.shown_url))
    })?;
    Ok(output)
}

/// A failure of a `sage db` command as the CLI reports it.
fn store_failure(error: StoreError, database: &str) -> CliError {
    match error {
        // A backup or restore file, not the database: named by its path.
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
        error => CliError::Store {
            database: database.to_owned(),
            error,
        },
    }
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
