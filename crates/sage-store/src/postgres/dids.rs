//! [`DidStore`] on PostgreSQL: the `dids` and `did_keys` tables.
//!
//! A record is written in one transaction (the entry, then its keys), and
//! only if it was fetched no earlier than the cached one, so that a slow
//! resolver cannot overwrite a newer record with an older one. The upsert
//! locks the entry's row until commit, so concurrent writers of one DID
//! replace its keys one after the other.

use core::time::Duration;

use sage_core::did::{AgentRecord, Did};
use sage_core::primitives::KeyType;
use sage_core::time::Timestamp;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

use super::{DELETE_BATCH, PgStore};
use crate::error::StoreError;
use crate::instant::{from_offset, to_offset};
use crate::model::{CachedDid, DidCursor, MAX_PAGE_LIMIT, Page, PageRequest, owner_key};
use crate::row::{DidRow, key_type_code, parse_did, parse_record};
use crate::traits::DidStore;

/// The columns [`entry_of`] reads.
macro_rules! columns {
    () => {
        "did, revoked, revoked_at, record_json, fetched_at, stale_at"
    };
}

/// Entries served at the instant `$now`: tombstones, and positive entries
/// not yet stale.
macro_rules! served {
    ($now:literal) => {
        concat!("(revoked OR stale_at > ", $now, ")")
    };
}

fn entry_of(row: &PgRow) -> Result<CachedDid, StoreError> {
    let json: String = row.try_get("record_json")?;
    Ok(CachedDid {
        record: parse_record(&json)?,
        revoked: row.try_get("revoked")?,
        revoked_at: row
            .try_get::<Option<OffsetDateTime>, _>("revoked_at")?
            .map(from_offset),
        fetched_at: from_offset(row.try_get("fetched_at")?),
        stale_at: from_offset(row.try_get("stale_at")?),
    })
}

impl DidStore for PgStore {
    async fn put(
        &self,
        record: &AgentRecord,
        fetched_at: Timestamp,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let row = DidRow::new(record, fetched_at, ttl)?;
        let mut tx = self.pool().begin().await?;
        let written = sqlx::query(
            "INSERT INTO dids (did, owner, is_active, kem_key, record_json, fetched_at, stale_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (did) DO UPDATE SET owner = EXCLUDED.owner, \
             is_active = EXCLUDED.is_active, kem_key = EXCLUDED.kem_key, \
             record_json = EXCLUDED.record_json, fetched_at = EXCLUDED.fetched_at, \
             stale_at = EXCLUDED.stale_at \
             WHERE dids.fetched_at <= EXCLUDED.fetched_at",
        )
        .bind(&row.did)
        .bind(&row.owner)
        .bind(row.is_active)
        .bind(&row.kem_key)
        .bind(&row.record_json)
        .bind(to_offset(row.fetched_at))
        .bind(to_offset(row.stale_at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if written == 1 {
            sqlx::query("DELETE FROM did_keys WHERE did = $1")
                .bind(&row.did)
                .execute(&mut *tx)
                .await?;
            for key in &row.keys {
                sqlx::query(
                    "INSERT INTO did_keys (did, position, key_type, key_data, verified) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&row.did)
                .bind(key.position)
                .bind(key.key_type)
                .bind(&key.key_data)
                .bind(key.verified)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn get(&self, did: &Did, now: Timestamp) -> Result<Option<CachedDid>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM dids WHERE did = $1 AND ",
            served!("$2")
        ))
        .bind(did.as_str())
        .bind(to_offset(now))
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn revoke(&self, did: &Did, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE dids SET revoked = TRUE, revoked_at = COALESCE(revoked_at, $2) WHERE did = $1",
        )
        .bind(did.as_str())
        .bind(to_offset(now))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn invalidate(&self, did: &Did) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM dids WHERE did = $1 AND NOT revoked")
            .bind(did.as_str())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn delete(&self, did: &Did) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM dids WHERE did = $1")
            .bind(did.as_str())
            .execute(self.pool())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        now: Timestamp,
        page: &PageRequest<DidCursor>,
    ) -> Result<Page<CachedDid, DidCursor>, StoreError> {
        let limit = page.checked_limit()?;
        let after = page.after.as_ref().map_or("", |c| c.did.as_str());
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM dids WHERE owner = $1 AND ",
            served!("$2"),
            " AND did > $3 ORDER BY did LIMIT $4"
        ))
        .bind(owner_key(owner))
        .bind(to_offset(now))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        let items = rows.iter().map(entry_of).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::new(items, page.limit, DidCursor::of))
    }

    async fn find_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
        now: Timestamp,
    ) -> Result<Vec<Did>, StoreError> {
        let Some(code) = key_type_code(key_type) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(
            "SELECT DISTINCT d.did FROM did_keys k JOIN dids d ON d.did = k.did \
             WHERE k.key_type = $1 AND k.key_data = $2 AND (d.revoked OR d.stale_at > $3) \
             ORDER BY d.did LIMIT $4",
        )
        .bind(code)
        .bind(key_data)
        .bind(to_offset(now))
        .bind(i64::from(MAX_PAGE_LIMIT))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| parse_did(&row.try_get::<String, _>("did")?, "did_keys"))
            .collect()
    }

    async fn delete_stale(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            // The outer conditions are re-checked on a row a concurrent
            // `put` refreshed or `revoke` turned into a tombstone.
            let deleted = sqlx::query(
                "DELETE FROM dids WHERE NOT revoked AND stale_at <= $1 AND did IN \
                 (SELECT did FROM dids WHERE NOT revoked AND stale_at <= $1 LIMIT $2)",
            )
            .bind(to_offset(now))
            .bind(DELETE_BATCH)
            .execute(self.pool())
            .await?
            .rows_affected();
            total += deleted;
            if deleted < DELETE_BATCH.cast_unsigned() {
                return Ok(total);
            }
        }
    }
}
