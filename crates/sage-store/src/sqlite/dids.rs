//! [`DidStore`] on SQLite: the `dids` and `did_keys` tables.
//!
//! A record is written in one transaction (the entry, then its keys), and
//! only if it was fetched no earlier than the cached one, so that a slow
//! resolver cannot overwrite a newer record with an older one.

use core::time::Duration;

use sage_core::did::{AgentRecord, Did};
use sage_core::primitives::KeyType;
use sage_core::time::Timestamp;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{DELETE_BATCH, SqliteStore};
use crate::error::StoreError;
use crate::instant::{from_micros, to_micros};
use crate::model::{CachedDid, DidCursor, MAX_PAGE_LIMIT, Page, PageRequest, owner_key};
use crate::row::{DidRow, key_type_code, parse_did, parse_record};
use crate::traits::DidStore;

/// Entries served at the instant `$now`: tombstones, and positive entries not yet stale.
macro_rules! served {
    ($now:literal) => {
        concat!("(revoked = 1 OR stale_at > ", $now, ")")
    };
}

/// The columns [`entry_of`] reads.
macro_rules! columns {
    () => {
        "did, revoked, revoked_at, record_json, fetched_at, stale_at"
    };
}

fn entry_of(row: &SqliteRow) -> Result<CachedDid, StoreError> {
    let json: String = row.try_get("record_json")?;
    Ok(CachedDid {
        record: parse_record(&json)?,
        revoked: row.try_get("revoked")?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros),
        fetched_at: from_micros(row.try_get("fetched_at")?),
        stale_at: from_micros(row.try_get("stale_at")?),
    })
}

impl DidStore for SqliteStore {
    async fn put(
        &self,
        record: &AgentRecord,
        fetched_at: Timestamp,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let row = DidRow::new(record, fetched_at, ttl)?;
        let mut tx = self.writer().begin().await?;
        let written = sqlx::query(
            "INSERT INTO dids (did, owner, is_active, kem_key, record_json, fetched_at, stale_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (did) DO UPDATE SET owner = excluded.owner, \
             is_active = excluded.is_active, kem_key = excluded.kem_key, \
             record_json = excluded.record_json, fetched_at = excluded.fetched_at, \
             stale_at = excluded.stale_at \
             WHERE dids.fetched_at <= excluded.fetched_at",
        )
        .bind(&row.did)
        .bind(&row.owner)
        .bind(row.is_active)
        .bind(&row.kem_key)
        .bind(&row.record_json)
        .bind(to_micros(row.fetched_at))
        .bind(to_micros(row.stale_at))
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
        .bind(to_micros(now))
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(entry_of).transpose()
    }

    async fn revoke(&self, did: &Did, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE dids SET revoked = 1, revoked_at = COALESCE(revoked_at, $2) WHERE did = $1",
        )
        .bind(did.as_str())
        .bind(to_micros(now))
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn invalidate(&self, did: &Did) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM dids WHERE did = $1 AND revoked = 0")
            .bind(did.as_str())
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn delete(&self, did: &Did) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM dids WHERE did = $1")
            .bind(did.as_str())
            .execute(self.writer())
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
        .bind(to_micros(now))
        .bind(after)
        .bind(limit)
        .fetch_all(self.reader())
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
             WHERE k.key_type = $1 AND k.key_data = $2 AND (d.revoked = 1 OR d.stale_at > $3) \
             ORDER BY d.did LIMIT $4",
        )
        .bind(code)
        .bind(key_data)
        .bind(to_micros(now))
        .bind(i64::from(MAX_PAGE_LIMIT))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|row| parse_did(&row.try_get::<String, _>("did")?, "did_keys"))
            .collect()
    }

    async fn delete_stale(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM dids WHERE revoked = 0 AND stale_at <= $1 AND did IN \
                 (SELECT did FROM dids WHERE revoked = 0 AND stale_at <= $1 LIMIT $2)",
            )
            .bind(to_micros(now))
            .bind(DELETE_BATCH)
            .execute(self.writer())
            .await?
            .rows_affected();
            total += deleted;
            if deleted < DELETE_BATCH.cast_unsigned() {
                return Ok(total);
            }
        }
    }
}
