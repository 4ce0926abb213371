//! [`NonceStore`] on PostgreSQL: the `nonces` table.
//!
//! The check is one `INSERT ... ON CONFLICT DO UPDATE ... WHERE` whose
//! affected-row count is the verdict. Racers on one key serialise on the
//! unique index: the first inserts; each later one waits for it to commit,
//! then re-evaluates the `WHERE` against the committed row, finds it live
//! and changes nothing. An expired row is replaced the same way, so of any
//! number of racers on any number of nodes exactly one gets `Fresh`.

/// The nonce upsert with its four parameters (scope, nonce, first seen,
/// expiry): a row comes back (and one row is affected) exactly when the
/// nonce is fresh. Shared with the data plane's combined window write.
macro_rules! upsert_nonce {
    ($scope:literal, $nonce:literal, $first_seen:literal, $expires_at:literal) => {
        concat!(
            "INSERT INTO nonces (scope, nonce, first_seen, expires_at) VALUES (",
            $scope,
            ", ",
            $nonce,
            ", ",
            $first_seen,
            ", ",
            $expires_at,
            ") ON CONFLICT (scope, nonce) DO UPDATE \
             SET first_seen = EXCLUDED.first_seen, expires_at = EXCLUDED.expires_at \
             WHERE nonces.expires_at <= EXCLUDED.first_seen"
        )
    };
}

use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;

use super::{DELETE_BATCH, PgStore};
use crate::error::StoreError;
use crate::instant::to_offset;
use crate::model::{MAX_NONCE_LEN, MAX_SCOPE_LEN, NonceClaim, check_len};
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
        let stored = sqlx::query(upsert_nonce!("$1", "$2", "$3", "$4"))
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
        .bind(to_offset(now))
        .fetch_one(self.pool())
        .await?;
        Ok(remembered)
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

/// Forgets `claim` if it is still the row that claim wrote (same first
/// sighting and expiry): the undo of a claim whose window write did not
/// happen.
pub(super) async fn release(pool: &sqlx::PgPool, claim: &NonceClaim<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM nonces WHERE scope = $1 AND nonce = $2 AND first_seen = $3 AND expires_at = $4",
    )
    .bind(claim.scope)
    .bind(claim.nonce)
    .bind(to_offset(claim.now))
    .bind(to_offset(claim.expires_at))
    .execute(pool)
    .await?;
    Ok(())
}
