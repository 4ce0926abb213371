//! [`NonceStore`] on SQLite: the `nonces` table.
//!
//! The check is one upsert per nonce: a new `(scope, nonce)` inserts, an
//! expired one is replaced, a live one is left alone; the rows it wrote are
//! the `Fresh` verdicts. SQLite runs one writer at a time, and the
//! statement is atomic, so exactly one of any number of racers wins.
//! Concurrent checks share one statement (`nonce_writer`).

use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;

use super::{DELETE_BATCH, SqliteStore};
use crate::error::StoreError;
use crate::instant::to_micros;
use crate::model::{MAX_NONCE_LEN, MAX_SCOPE_LEN, NonceClaim, check_len};
use crate::traits::NonceStore;

impl NonceStore for SqliteStore {
    async fn check_and_store(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<ReplayVerdict, StoreError> {
        check_len("nonce scope", scope, MAX_SCOPE_LEN)?;
        check_len("nonce", nonce, MAX_NONCE_LEN)?;
        self.nonce_writer()
            .check(scope, nonce, to_micros(now), to_micros(expires_at))
            .await
    }

    async fn is_remembered(
        &self,
        scope: &str,
        nonce: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        check_len("nonce scope", scope, MAX_SCOPE_LEN)?;
        check_len("nonce", nonce, MAX_NONCE_LEN)?;
        let remembered: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM nonces WHERE scope = $1 AND nonce = $2 AND expires_at > $3)",
        )
        .bind(scope)
        .bind(nonce)
        .bind(to_micros(now))
        .fetch_one(self.reader())
        .await?;
        Ok(remembered)
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nonces WHERE expires_at > $1")
            .bind(to_micros(now))
            .fetch_one(self.reader())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let deleted = sqlx::query(
                "DELETE FROM nonces WHERE expires_at <= $1 AND (scope, nonce) IN \
                 (SELECT scope, nonce FROM nonces WHERE expires_at <= $1 LIMIT $2)",
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

/// Forgets `claim` if it is still the row that claim wrote (same first
/// sighting and expiry): the undo of a claim whose window write did not
/// happen.
pub(super) async fn release(
    writer: &sqlx::SqlitePool,
    claim: &NonceClaim<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM nonces WHERE scope = $1 AND nonce = $2 AND first_seen = $3 AND expires_at = $4",
    )
    .bind(claim.scope)
    .bind(claim.nonce)
    .bind(to_micros(claim.now))
    .bind(to_micros(claim.expires_at))
    .execute(writer)
    .await?;
    Ok(())
}
