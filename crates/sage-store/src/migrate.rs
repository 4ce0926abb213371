//! Schema migrations: what is applied, what `up` and `down` did.
//!
//! Each engine has its own numbered, reversible migrations
//! (`migrations/sqlite/NNNN_name.{up,down}.sql`,
//! `migrations/postgres/...`), embedded at build time by `sqlx::migrate!`
//! and recorded in the table `_sqlx_migrations` (version, checksum). The
//! two sets keep the same numbers and names: migration N means the same
//! schema change on both engines, written in each engine's types.
//!
//! Migrations are append-only once merged: a changed file no longer
//! matches the checksum recorded where it ran, and the store refuses to
//! migrate such a database ([`sqlx::migrate::MigrateError::VersionMismatch`]).
//!
//! This module turns the migrator's state into reports; running them is
//! the engines' job.

use std::collections::HashMap;

use sqlx::migrate::{AppliedMigration, Migrator};

use crate::error::StoreError;

/// The migrations table.
pub(crate) const TABLE: &str = "_sqlx_migrations";

/// One migration and its state in the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationState {
    /// Its number.
    pub version: i64,
    /// Its name (from the file name).
    pub description: String,
    /// Whether it is applied.
    pub applied: bool,
    /// For an applied migration: whether the file still matches what ran.
    pub checksum_ok: bool,
}

/// Every known migration (and any applied one this build does not know).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// Known migrations in order, then unknown applied ones.
    pub migrations: Vec<MigrationState>,
    /// A migration that failed half-way, if any (the database needs repair
    /// before anything else runs).
    pub dirty: Option<i64>,
}

impl MigrationStatus {
    /// The highest applied version, 0 when none is.
    pub fn current_version(&self) -> i64 {
        self.migrations
            .iter()
            .filter(|m| m.applied)
            .map(|m| m.version)
            .max()
            .unwrap_or(0)
    }

    /// How many known migrations are not applied.
    pub fn pending(&self) -> usize {
        self.migrations.iter().filter(|m| !m.applied).count()
    }
}

/// Migrations one `up` or `down` call applied or reverted, in the order it
/// ran them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MigrationReport {
    /// `(version, description)` of each.
    pub migrations: Vec<(i64, String)>,
}

pub(crate) fn status(
    migrator: &Migrator,
    applied: &[AppliedMigration],
    dirty: Option<i64>,
) -> MigrationStatus {
    let applied_by_version: HashMap<i64, &AppliedMigration> =
        applied.iter().map(|m| (m.version, m)).collect();
    let mut migrations: Vec<MigrationState> = migrator
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .map(|m| {
            let found = applied_by_version.get(&m.version);
            MigrationState {
                version: m.version,
                description: m.description.to_string(),
                applied: found.is_some(),
                checksum_ok: found.is_none_or(|a| a.checksum == m.checksum),
            }
        })
        .collect();
    for unknown in applied
        .iter()
        .filter(|a| !migrator.version_exists(a.version))
    {
        migrations.push(MigrationState {
            version: unknown.version,
            description: "(not in this build)".to_owned(),
            applied: true,
            checksum_ok: false,
        });
    }
    MigrationStatus { migrations, dirty }
}

/// The migrations of `migrator` that were not in `before` (after a
/// successful `run`, every one of them is applied).
pub(crate) fn applied_report(migrator: &Migrator, before: &[AppliedMigration]) -> MigrationReport {
    MigrationReport {
        migrations: migrator
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .filter(|m| !before.iter().any(|a| a.version == m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect(),
    }
}

/// The version to undo to so that the `count` newest applied migrations are
/// reverted.
pub(crate) fn undo_target(applied: &[AppliedMigration], count: u32) -> Result<i64, StoreError> {
    if count == 0 {
        return Err(StoreError::ZeroMigrations);
    }
    let mut versions: Vec<i64> = applied.iter().map(|m| m.version).collect();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    let keep = usize::try_from(count).unwrap_or(usize::MAX);
    Ok(versions.get(keep).copied().unwrap_or(0))
}

/// The applied migrations above `target`, newest first (what `undo` reverts).
pub(crate) fn reverted_report(
    migrator: &Migrator,
    applied: &[AppliedMigration],
    target: i64,
) -> MigrationReport {
    let mut versions: Vec<i64> = applied
        .iter()
        .map(|m| m.version)
        .filter(|v| *v > target)
        .collect();
    versions.sort_unstable_by(|a, b| b.cmp(a));
    MigrationReport {
        migrations: versions
            .into_iter()
            .map(|v| {
                let description = migrator
                    .iter()
                    .find(|m| m.version == v)
                    .map_or_else(String::new, |m| m.description.to_string());
                (v, description)
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    fn applied(versions: &[i64]) -> Vec<AppliedMigration> {
        versions
            .iter()
            .map(|&version| AppliedMigration {
                version,
                checksum: Cow::Owned(Vec::new()),
            })
            .collect()
    }

    #[test]
    fn undo_target_keeps_all_but_the_newest_count() {
        let a = applied(&[1, 2, 3]);
        assert_eq!(undo_target(&a, 1).unwrap(), 2);
        assert_eq!(undo_target(&a, 2).unwrap(), 1);
        assert_eq!(undo_target(&a, 3).unwrap(), 0);
        assert_eq!(undo_target(&a, 9).unwrap(), 0);
        assert!(matches!(
            undo_target(&a, 0),
            Err(StoreError::ZeroMigrations)
        ));
    }
}
