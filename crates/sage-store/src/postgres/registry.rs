//! [`RegistryStore`] on PostgreSQL: `registry_records`, `registry_keys`,
//! `registry_history`.
//!
//! Writes run in one READ COMMITTED transaction whose first statement is
//! the version check, `UPDATE ... WHERE did = $1 AND version = $2`: it locks
//! the record's row until commit, and a concurrent writer of the same record
//! waits for that lock and then re-evaluates its `WHERE` against the
//! committed row, finding the version moved (zero rows: it writes nothing).
//! So of several nodes that read one version, exactly one writes the next.
//! `INSERT ... ON CONFLICT (did) DO NOTHING` decides creation the same way.
//! Reads run in a REPEATABLE READ, READ ONLY transaction, so a record and
//! its keys come from one snapshot.

use sage_core::did::Did;
use sage_core::primitives::KeyType;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::PgStore;
use crate::error::StoreError;
use crate::instant::{from_offset, to_offset};
use crate::model::{DidCursor, MAX_PAGE_LIMIT, Page, PageRequest, owner_key, to_db_u64};
use crate::registry::{
    RegistryChange, RegistryHistoryEntry, RegistryKeyRow, RegistryRow, RegistryStore, attach_keys,
    check_row, endorser_column, endorser_of_column, key_code, key_type_of_code, parse_registry_did,
    position_column, state_code, state_of_code, version_of_column,
};

/// The columns [`record_of`] reads.
macro_rules! record_columns {
    () => {
        "did, owner, state, version, name, description, endpoint, capabilities, \
         created_at, updated_at"
    };
}

/// The columns [`key_of`] reads.
macro_rules! key_columns {
    () => {
        "did, position, key_type, key_data, proof, endorsed_by, added_at, revoked_at"
    };
}

fn record_of(row: &PgRow) -> Result<RegistryRow, StoreError> {
    Ok(RegistryRow {
        did: parse_registry_did(&row.try_get::<String, _>("did")?, "registry_records")?,
        owner: row.try_get("owner")?,
        state: state_of_code(row.try_get("state")?)?,
        version: version_of_column(row.try_get("version")?, "registry_records")?,
        name: row.try_get("name")?,
        description: row.try_get("description")?,
        endpoint: row.try_get("endpoint")?,
        capabilities: row.try_get("capabilities")?,
        keys: Vec::new(),
        created_at: from_offset(row.try_get("created_at")?),
        updated_at: from_offset(row.try_get("updated_at")?),
    })
}

fn key_of(row: &PgRow) -> Result<(String, i32, RegistryKeyRow), StoreError> {
    Ok((
        row.try_get("did")?,
        row.try_get("position")?,
        RegistryKeyRow {
            key_type: key_type_of_code(row.try_get("key_type")?)?,
            key_data: row.try_get("key_data")?,
            proof: row.try_get("proof")?,
            endorsed_by: endorser_of_column(row.try_get("endorsed_by")?)?,
            added_at: from_offset(row.try_get("added_at")?),
            revoked_at: row
                .try_get::<Option<OffsetDateTime>, _>("revoked_at")?
                .map(from_offset),
        },
    ))
}

/// Writes every key of `row`: new positions are inserted, existing ones
/// only get a revocation time they did not have.
async fn write_keys(tx: &mut sqlx::PgConnection, row: &RegistryRow) -> Result<(), StoreError> {
    for (position, key) in row.keys.iter().enumerate() {
        sqlx::query(
            "INSERT INTO registry_keys (did, position, key_type, key_data, proof, endorsed_by, \
             added_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (did, position) DO UPDATE SET revoked_at = excluded.revoked_at \
             WHERE registry_keys.revoked_at IS NULL AND excluded.revoked_at IS NOT NULL",
        )
        .bind(row.did.as_str())
        .bind(position_column(position)?)
        .bind(key_code(key.key_type)?)
        .bind(&key.key_data)
        .bind(&key.proof)
        .bind(endorser_column(key.endorsed_by)?)
        .bind(to_offset(key.added_at))
        .bind(key.revoked_at.map(to_offset))
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

async fn write_history(
    tx: &mut sqlx::PgConnection,
    row: &RegistryRow,
    change: &RegistryChange<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registry_history (did, version, operation, request, signature, snapshot, \
         recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.did.as_str())
    .bind(to_db_u64(row.version))
    .bind(change.operation)
    .bind(change.request)
    .bind(change.signature)
    .bind(change.snapshot)
    .bind(to_offset(row.updated_at))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A transaction that reads one snapshot and writes nothing.
async fn read_transaction(
    store: &PgStore,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    let mut tx = store.pool().begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

impl RegistryStore for PgStore {
    async fn insert_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> Result<bool, StoreError> {
        check_row(row, change)?;
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO registry_records (did, owner, state, version, name, description, \
             endpoint, capabilities, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (did) DO NOTHING",
        )
        .bind(row.did.as_str())
        .bind(owner_key(&row.owner))
        .bind(state_code(row.state))
        .bind(to_db_u64(row.version))
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.endpoint)
        .bind(&row.capabilities)
        .bind(to_offset(row.created_at))
        .bind(to_offset(row.updated_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Ok(false);
        }
        write_keys(&mut tx, row).await?;
        write_history(&mut tx, row, change).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn update_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> Result<bool, StoreError> {
        check_row(row, change)?;
        let Some(expected) = row.version.checked_sub(1).filter(|v| *v >= 1) else {
            return Ok(false);
        };
        let mut tx = self.pool().begin().await?;
        let updated = sqlx::query(
            "UPDATE registry_records SET state = $3, version = $4, name = $5, \
             description = $6, endpoint = $7, capabilities = $8, updated_at = $9 \
             WHERE did = $1 AND version = $2",
        )
        .bind(row.did.as_str())
        .bind(to_db_u64(expected))
        .bind(state_code(row.state))
        .bind(to_db_u64(row.version))
        .bind(&row.name)
        .bind(&row.description)
        .bind(&row.endpoint)
        .bind(&row.capabilities)
        .bind(to_offset(row.updated_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated != 1 {
            return Ok(false);
        }
        write_keys(&mut tx, row).await?;
        write_history(&mut tx, row, change).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record(&self, did: &Did) -> Result<Option<RegistryRow>, StoreError> {
        let mut tx = read_transaction(self).await?;
        let Some(row) = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM registry_records WHERE did = $1"
        ))
        .bind(did.as_str())
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(None);
        };
        let mut records = vec![record_of(&row)?];
        let keys = sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM registry_keys WHERE did = $1 ORDER BY position"
        ))
        .bind(did.as_str())
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        attach_keys(
            &mut records,
            keys.iter().map(key_of).collect::<Result<_, _>>()?,
        )?;
        Ok(records.pop())
    }

    async fn records_by_owner(
        &self,
        owner: &str,
        page: &PageRequest<DidCursor>,
    ) -> Result<Page<RegistryRow, DidCursor>, StoreError> {
        let limit = page.checked_limit()?;
        let after = page.after.as_ref().map_or("", |c| c.did.as_str());
        let owner = owner_key(owner);
        let mut tx = read_transaction(self).await?;
        let rows = sqlx::query(concat!(
            "SELECT ",
            record_columns!(),
            " FROM registry_records WHERE owner = $1 AND did > $2 ORDER BY did LIMIT $3"
        ))
        .bind(&owner)
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut records = rows.iter().map(record_of).collect::<Result<Vec<_>, _>>()?;
        if let Some(last) = records.last() {
            let keys = sqlx::query(
                "SELECT k.did, k.position, k.key_type, k.key_data, k.proof, k.endorsed_by, \
                 k.added_at, k.revoked_at FROM registry_keys k \
                 JOIN registry_records r ON r.did = k.did \
                 WHERE r.owner = $1 AND r.did > $2 AND r.did <= $3 ORDER BY k.did, k.position",
            )
            .bind(&owner)
            .bind(after)
            .bind(last.did.as_str())
            .fetch_all(&mut *tx)
            .await?;
            attach_keys(
                &mut records,
                keys.iter().map(key_of).collect::<Result<_, _>>()?,
            )?;
        }
        tx.commit().await?;
        Ok(Page::new(records, page.limit, |r| DidCursor {
            did: r.did.as_str().to_owned(),
        }))
    }

    async fn records_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
    ) -> Result<Vec<Did>, StoreError> {
        let rows = sqlx::query(
            "SELECT DISTINCT did FROM registry_keys WHERE key_type = $1 AND key_data = $2 \
             ORDER BY did LIMIT $3",
        )
        .bind(key_code(key_type)?)
        .bind(key_data)
        .bind(i64::from(MAX_PAGE_LIMIT))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| parse_registry_did(&row.try_get::<String, _>("did")?, "registry_keys"))
            .collect()
    }

    async fn history(
        &self,
        did: &Did,
        page: &PageRequest<u64>,
    ) -> Result<Page<RegistryHistoryEntry, u64>, StoreError> {
        let limit = page.checked_limit()?;
        let after = page.after.map_or(0, to_db_u64);
        let rows = sqlx::query(
            "SELECT version, operation, request, signature, snapshot, recorded_at \
             FROM registry_history WHERE did = $1 AND version > $2 ORDER BY version LIMIT $3",
        )
        .bind(did.as_str())
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let entries = rows
            .iter()
            .map(|row| {
                Ok(RegistryHistoryEntry {
                    version: version_of_column(row.try_get("version")?, "registry_history")?,
                    operation: row.try_get("operation")?,
                    request: row.try_get("request")?,
                    signature: row.try_get("signature")?,
                    snapshot: row.try_get("snapshot")?,
                    recorded_at: from_offset(row.try_get("recorded_at")?),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page::new(entries, page.limit, |e| e.version))
    }
}
