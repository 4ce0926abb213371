//! [`NonceStore`] on PostgreSQL: the `nonces` table.
//!
//! The check is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` whose
//! affected-row count is the verdict. Racers on one key serialise on the
//! unique index: the first inserts; each later one waits for it to commit,
//! then re-evaluates the `WHERE` against the committed row, finds it live
//! and changes nothing. An expired row is replaced the same way, so of any
//! number of racers on any number of nodes exactly one gets `Fresh`.

use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;

use super::{DELETE_BATCH, PgStore};
use crate::error::StoreError;
use crate::instant::to_offset;
use crate::model::{MAX_NONCE_LEN, MAX_SCOPE_LEN, check_len};
use crate::traits::NonceStore;

impl NonceStore for PgStore {
    async fn check_and_store(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, StoreError> {
        check_len("nonce scope", scope, MAX_SCOPE_LEN)?;
        check_len("nonce", nonce, MAX_NONCE_LEN)?;
        let stored = sqlx::query(
            "INSERT INTO nonces (scope, nonce, first_seen, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope, nonce) DO UPDATE \
             SET first_seen = EXCLUDED.first_seen, expires_at = EXCLUDED.expires_at \
             WHERE nonces.expires_at <= EXCLUDED.first_seen",
        )
        .bind(scope)
        .bind(nonce)
        .bind(to_offset(now))
        .bind(to_offset(expires_at))
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(if stored == 1 {
            ReplayVerdict::Fresh
        } else {
            ReplayVerdict::Replayed
        })
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nonces WHERE expires_at > $1")
            .bind(to_offset(now))
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            // The outer `expires_at <= $1` is re-checked on a row that a
            // concurrent check_and_store just replaced (made live again),
            // so a live nonce is never deleted.
            let deleted = sqlx::query(
                "DELETE FROM nonces WHERE expires_at <= $1 AND (scope, nonce) IN \
                 (SELECT scope, nonce FROM nonces WHERE expires_at <= $1 LIMIT $2)",
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
