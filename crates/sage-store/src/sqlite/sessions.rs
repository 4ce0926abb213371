//! [`SessionStore`] on SQLite: the `sessions` table.
//!
//! Writes go through the single writer connection; each write is one
//! statement, conditioned on the row `version` where replay state moves.
//! Times are INTEGER microseconds (see [`crate::instant`]).

use std::sync::Arc;

use sage_core::did::Did;
use sage_core::replay::ReplayVerdict;
use sage_core::session::{Session, SessionId};
use sage_core::time::Timestamp;
use sqlx::Row;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::{DELETE_BATCH, SqliteStore};
use crate::error::StoreError;
use crate::instant::{from_micros, to_micros};
use crate::model::{
    ClaimedWrite, NonceClaim, Page, PageRequest, SessionCursor, SessionProgress, SessionRecord,
    StoredSession, to_db_u64,
};
use crate::row::{ProgressRow, RawSessionRecord, SessionRow};
use crate::seal::Sealer;
use crate::traits::{NonceStore as _, SessionStore};

/// The clear columns, in [`record_of`]'s order.
macro_rules! columns {
    () => {
        "sid, kid, peer_did, role, created_at, last_activity, expires_at, idle_expires_at, \
         message_count, send_seq, replay_window, version"
    };
}

/// Rows not expired at the instant `$now` (strictly past a limit is expired).
macro_rules! live {
    ($now:literal) => {
        concat!(
            "(expires_at IS NULL OR expires_at >= ",
            $now,
            ") AND (idle_expires_at IS NULL OR idle_expires_at >= ",
            $now,
            ")"
        )
    };
}

/// `idle_expires_at` after activity at `$act`: the later of stored and new
/// activity, plus the idle timeout, clamped to the largest stored instant.
macro_rules! idle_after {
    ($act:literal) => {
        concat!(
            "CASE WHEN idle_timeout_us > 0 THEN MIN(MAX(last_activity, ",
            $act,
            ") + idle_timeout_us, 253402300799999999) END"
        )
    };
}

/// Sessions on SQLite, sealing under one key-encryption key. Cloning is
/// cheap.
#[derive(Debug, Clone)]
pub struct SqliteSessions {
    store: SqliteStore,
    sealer: Arc<Sealer>,
}

impl SqliteSessions {
    pub(super) fn new(store: SqliteStore, sealer: Arc<Sealer>) -> Self {
        Self { store, sealer }
    }

    /// Restores the live session `sql` selects (with the clear columns
    /// and `sealed_snapshot`) by `key` at `now`; the snapshot is opened
    /// with the row's own session id as AAD.
    async fn load_one(
        &self,
        sql: &'static str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<StoredSession>, StoreError> {
        let Some(row) = self.fetch_row(sql, key, now).await? else {
            return Ok(None);
        };
        let sealed: Vec<u8> = row.try_get("sealed_snapshot")?;
        crate::restore::stored_session(&self.sealer, record_of(&row)?, &sealed).map(Some)
    }

    async fn fetch_one_record(
        &self,
        query: &'static str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let row = self.fetch_row(query, key, now).await?;
        row.as_ref().map(record_of).transpose()
    }

    /// The row `query` selects with `key` as `$1` and `now` as `$2`.
    async fn fetch_row(
        &self,
        query: &'static str,
        key: &str,
        now: Timestamp,
    ) -> Result<Option<SqliteRow>, StoreError> {
        Ok(sqlx::query(query)
            .bind(key)
            .bind(to_micros(now))
            .fetch_optional(self.store.reader())
            .await?)
    }
}

fn record_of(row: &SqliteRow) -> Result<SessionRecord, StoreError> {
    RawSessionRecord {
        sid: row.try_get("sid")?,
        kid: row.try_get("kid")?,
        peer_did: row.try_get("peer_did")?,
        role: row.try_get("role")?,
        created_at: from_micros(row.try_get("created_at")?),
        last_activity: from_micros(row.try_get("last_activity")?),
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(from_micros),
        idle_expires_at: row
            .try_get::<Option<i64>, _>("idle_expires_at")?
            .map(from_micros),
        message_count: row.try_get("message_count")?,
        send_seq: row.try_get("send_seq")?,
        window: row.try_get("replay_window")?,
        version: row.try_get("version")?,
    }
    .validate()
}

impl SessionStore for SqliteSessions {
    async fn create(
        &self,
        session: &Session,
        kid: &str,
        peer: &Did,
    ) -> Result<SessionRecord, StoreError> {
        let row = SessionRow::new(session, kid, peer, &self.sealer)?;
        let inserted = sqlx::query(concat!(
            "INSERT INTO sessions (sid, kid, peer_did, role, created_at, last_activity, \
             expires_at, idle_timeout_us, idle_expires_at, message_count, send_seq, \
             replay_window, sealed_snapshot, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1) \
             ON CONFLICT DO NOTHING RETURNING ",
            columns!()
        ))
        .bind(&row.sid)
        .bind(&row.kid)
        .bind(&row.peer_did)
        .bind(row.role)
        .bind(to_micros(row.created_at))
        .bind(to_micros(row.last_activity))
        .bind(row.expires_at.map(to_micros))
        .bind(row.idle_timeout_us)
        .bind(row.idle_expires_at.map(to_micros))
        .bind(row.progress.message_count)
        .bind(row.progress.send_seq)
        .bind(&row.progress.window)
        .bind(&row.sealed_snapshot)
        .fetch_optional(self.store.writer())
        .await?;
        match inserted {
            Some(inserted) => record_of(&inserted),
            None => Err(StoreError::DuplicateSession { sid: row.sid }),
        }
    }

    async fn get(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.fetch_one_record(
            concat!(
                "SELECT ",
                columns!(),
                " FROM sessions WHERE sid = $1 AND ",
                live!("$2")
            ),
            sid.as_str(),
            now,
        )
        .await
    }

    async fn get_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.fetch_one_record(
            concat!(
                "SELECT ",
                columns!(),
                " FROM sessions WHERE kid = $1 AND ",
                live!("$2")
            ),
            kid,
            now,
        )
        .await
    }

    async fn load(
        &self,
        sid: &SessionId,
        now: Timestamp,
    ) -> Result<Option<StoredSession>, StoreError> {
        self.load_one(
            concat!(
                "SELECT ",
                columns!(),
                ", sealed_snapshot FROM sessions WHERE sid = $1 AND ",
                live!("$2")
            ),
            sid.as_str(),
            now,
        )
        .await
    }

    async fn load_by_kid(
        &self,
        kid: &str,
        now: Timestamp,
    ) -> Result<Option<StoredSession>, StoreError> {
        self.load_one(
            concat!(
                "SELECT ",
                columns!(),
                ", sealed_snapshot FROM sessions WHERE kid = $1 AND ",
                live!("$2")
            ),
            kid,
            now,
        )
        .await
    }

    async fn update(&self, session: &Session, expected_version: u64) -> Result<bool, StoreError> {
        let snapshot = session.export_snapshot().map_err(StoreError::Session)?;
        let sealed = self.sealer.seal(session.id(), &snapshot.to_bytes())?;
        let progress = ProgressRow::new(&SessionProgress::of(session));
        let updated = sqlx::query(concat!(
            "UPDATE sessions SET last_activity = MAX(last_activity, $3), idle_expires_at = ",
            idle_after!("$3"),
            ", message_count = $4, send_seq = $5, replay_window = $6, sealed_snapshot = $7, \
             version = version + 1 WHERE sid = $1 AND version = $2"
        ))
        .bind(session.id().as_str())
        .bind(to_db_u64(expected_version))
        .bind(to_micros(progress.last_activity))
        .bind(progress.message_count)
        .bind(progress.send_seq)
        .bind(&progress.window)
        .bind(&sealed)
        .execute(self.store.writer())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn update_window(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
    ) -> Result<bool, StoreError> {
        let progress = ProgressRow::new(progress);
        let updated = sqlx::query(concat!(
            "UPDATE sessions SET last_activity = MAX(last_activity, $3), idle_expires_at = ",
            idle_after!("$3"),
            ", message_count = $4, send_seq = $5, replay_window = $6, version = version + 1 \
             WHERE sid = $1 AND version = $2"
        ))
        .bind(sid.as_str())
        .bind(to_db_u64(expected_version))
        .bind(to_micros(progress.last_activity))
        .bind(progress.message_count)
        .bind(progress.send_seq)
        .bind(&progress.window)
        .execute(self.store.writer())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn update_window_claiming(
        &self,
        sid: &SessionId,
        expected_version: u64,
        progress: &SessionProgress,
        claim: &NonceClaim<'_>,
    ) -> Result<ClaimedWrite, StoreError> {
        // The claim goes through the batched nonce writer (one statement
        // for every check waiting, the reason that writer exists), the
        // window write follows, and a claim whose window write did not
        // happen is undone: a lost race (several processes on one file) or
        // a failed write leaves the nonce unrecorded, as on PostgreSQL.
        let verdict = self
            .store
            .check_and_store(claim.scope, claim.nonce, claim.now, claim.expires_at)
            .await?;
        if verdict == ReplayVerdict::Replayed {
            return Ok(ClaimedWrite::NonceReplayed);
        }
        match self.update_window(sid, expected_version, progress).await {
            Ok(true) => Ok(ClaimedWrite::Written),
            Ok(false) => {
                super::nonces::release(self.store.writer(), claim).await?;
                Ok(ClaimedWrite::VersionChanged)
            }
            Err(error) => {
                if let Err(release) = super::nonces::release(self.store.writer(), claim).await {
                    tracing::warn!(%release, "a nonce claim could not be undone after a failed window write");
                }
                Err(error)
            }
        }
    }

    async fn touch(&self, sid: &SessionId, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(concat!(
            "UPDATE sessions SET last_activity = MAX(last_activity, $2), idle_expires_at = ",
            idle_after!("$2"),
            " WHERE sid = $1 AND ",
            live!("$2")
        ))
        .bind(sid.as_str())
        .bind(to_micros(now))
        .execute(self.store.writer())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn delete(&self, sid: &SessionId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE sid = $1")
            .bind(sid.as_str())
            .execute(self.store.writer())
            .await?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn list_by_peer(
        &self,
        peer: &Did,
        now: Timestamp,
        page: &PageRequest<SessionCursor>,
    ) -> Result<Page<SessionRecord, SessionCursor>, StoreError> {
        let limit = page.checked_limit()?;
        let rows = match &page.after {
            None => {
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM sessions WHERE peer_did = $1 AND ",
                    live!("$2"),
                    " ORDER BY created_at DESC, sid DESC LIMIT $3"
                ))
                .bind(peer.as_str())
                .bind(to_micros(now))
                .bind(limit)
                .fetch_all(self.store.reader())
                .await?
            }
            Some(after) => {
                sqlx::query(concat!(
                    "SELECT ",
                    columns!(),
                    " FROM sessions WHERE peer_did = $1 AND ",
                    live!("$2"),
                    " AND (created_at, sid) < ($4, $5) \
                     ORDER BY created_at DESC, sid DESC LIMIT $3"
                ))
                .bind(peer.as_str())
                .bind(to_micros(now))
                .bind(limit)
                .bind(to_micros(after.created_at))
                .bind(after.sid.as_str())
                .fetch_all(self.store.reader())
                .await?
            }
        };
        let items = rows.iter().map(record_of).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::new(items, page.limit, SessionCursor::of))
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        count(self.store.reader(), now).await
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        delete_expired(self.store.writer(), now).await
    }
}

pub(super) async fn count(pool: &SqlitePool, now: Timestamp) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM sessions WHERE ", live!("$1")))
        .bind(to_micros(now))
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn delete_expired(pool: &SqlitePool, now: Timestamp) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        // The outer condition repeats the inner one so that a row changed
        // between the two (on engines that allow it) is judged as it is now.
        let deleted = sqlx::query(
            "DELETE FROM sessions WHERE (expires_at < $1 OR idle_expires_at < $1) \
             AND sid IN (SELECT sid FROM sessions \
                         WHERE expires_at < $1 OR idle_expires_at < $1 LIMIT $2)",
        )
        .bind(to_micros(now))
        .bind(DELETE_BATCH)
        .execute(pool)
        .await?
        .rows_affected();
        total += deleted;
        if deleted < DELETE_BATCH.cast_unsigned() {
            return Ok(total);
        }
    }
}
