//! [`SessionStore`] on PostgreSQL: the `sessions` table.
//!
//! Each write is one statement. Writes that move replay state carry
//! `WHERE version = $n`: of two nodes updating from the same version, the
//! second waits for the first to commit, re-checks, finds the new version
//! and changes nothing (0 rows, `Ok(false)`).

use std::sync::Arc;

use sage_core::did::Did;
use sage_core::session::{Session, SessionId};
use sage_core::time::Timestamp;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgRow};
use time::OffsetDateTime;

use super::{DELETE_BATCH, PgStore};
use crate::error::StoreError;
use crate::instant::{from_offset, to_offset};
use crate::model::{
    ClaimedWrite, MAX_NONCE_LEN, MAX_SCOPE_LEN, NonceClaim, Page, PageRequest, SessionCursor,
    SessionProgress, SessionRecord, StoredSession, check_len, to_db_u64,
};
use crate::row::{ProgressRow, RawSessionRecord, SessionRow};
use crate::seal::Sealer;
use crate::traits::SessionStore;

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
            "CASE WHEN idle_timeout_us > 0 THEN LEAST(GREATEST(last_activity, ",
            $act,
            ") + idle_timeout_us * INTERVAL '1 microsecond', \
             TIMESTAMPTZ '9999-12-31 23:59:59.999999+00') END"
        )
    };
}

/// The window write with its six parameters (sid, expected version,
/// activity, message count, send sequence, window), shared by
/// `update_window` and the data plane's combined write.
macro_rules! update_window_where_version {
    () => {
        concat!(
            "UPDATE sessions SET last_activity = GREATEST(last_activity, $3), idle_expires_at = ",
            idle_after!("$3"),
            ", message_count = $4, send_seq = $5, replay_window = $6, version = version + 1 \
             WHERE sid = $1 AND version = $2"
        )
    };
}

/// Sessions on PostgreSQL, sealing under one key-encryption key. Cloning
/// is cheap.
#[derive(Debug, Clone)]
pub struct PgSessions {
    store: PgStore,
    sealer: Arc<Sealer>,
}

impl PgSessions {
    pub(super) fn new(store: PgStore, sealer: Arc<Sealer>) -> Self {
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
    ) -> Result<Option<PgRow>, StoreError> {
        Ok(sqlx::query(query)
            .bind(key)
            .bind(to_offset(now))
            .fetch_optional(self.store.pool())
            .await?)
    }
}

fn record_of(row: &PgRow) -> Result<SessionRecord, StoreError> {
    RawSessionRecord {
        sid: row.try_get("sid")?,
        kid: row.try_get("kid")?,
        peer_did: row.try_get("peer_did")?,
        role: row.try_get("role")?,
        created_at: from_offset(row.try_get("created_at")?),
        last_activity: from_offset(row.try_get("last_activity")?),
        expires_at: row
            .try_get::<Option<OffsetDateTime>, _>("expires_at")?
            .map(from_offset),
        idle_expires_at: row
            .try_get::<Option<OffsetDateTime>, _>("idle_expires_at")?
            .map(from_offset),
        message_count: row.try_get("message_count")?,
        send_seq: row.try_get("send_seq")?,
        window: row.try_get("replay_window")?,
        version: row.try_get("version")?,
    }
    .validate()
}

impl SessionStore for PgSessions {
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
        .bind(to_offset(row.created_at))
        .bind(to_offset(row.last_activity))
        .bind(row.expires_at.map(to_offset))
        .bind(row.idle_timeout_us)
        .bind(row.idle_expires_at.map(to_offset))
        .bind(row.progress.message_count)
        .bind(row.progress.send_seq)
        .bind(&row.progress.window)
        .bind(&row.sealed_snapshot)
        .fetch_optional(self.store.pool())
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
            "UPDATE sessions SET last_activity = GREATEST(last_activity, $3), idle_expires_at = ",
            idle_after!("$3"),
            ", message_count = $4, send_seq = $5, replay_window = $6, sealed_snapshot = $7, \
             version = version + 1 WHERE sid = $1 AND version = $2"
        ))
        .bind(session.id().as_str())
        .bind(to_db_u64(expected_version))
        .bind(to_offset(progress.last_activity))
        .bind(progress.message_count)
        .bind(progress.send_seq)
        .bind(&progress.window)
        .bind(&sealed)
        .execute(self.store.pool())
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
        let updated = sqlx::query(update_window_where_version!())
            .bind(sid.as_str())
            .bind(to_db_u64(expected_version))
            .bind(to_offset(progress.last_activity))
            .bind(progress.message_count)
            .bind(progress.send_seq)
            .bind(&progress.window)
            .execute(self.store.pool())
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
        check_len("nonce scope", claim.scope, MAX_SCOPE_LEN)?;
        check_len("nonce", claim.nonce, MAX_NONCE_LEN)?;
        let progress = ProgressRow::new(progress);
        // The window write depends on the claim, in one statement: a
        // replayed nonce writes nothing. A claim whose window write found
        // another version is undone below (rare: a lost race between
        // nodes), so that the caller can reload and claim again.
        let (claimed, written): (bool, bool) = sqlx::query_as(concat!(
            "WITH claimed AS (",
            upsert_nonce!("$7", "$8", "$9", "$10"),
            " RETURNING 1), written AS (",
            update_window_where_version!(),
            " AND EXISTS (SELECT 1 FROM claimed) RETURNING 1) \
             SELECT EXISTS (SELECT 1 FROM claimed), EXISTS (SELECT 1 FROM written)"
        ))
        .bind(sid.as_str())
        .bind(to_db_u64(expected_version))
        .bind(to_offset(progress.last_activity))
        .bind(progress.message_count)
        .bind(progress.send_seq)
        .bind(&progress.window)
        .bind(claim.scope)
        .bind(claim.nonce)
        .bind(to_offset(claim.now))
        .bind(to_offset(claim.expires_at))
        .fetch_one(self.store.pool())
        .await?;
        Ok(match (claimed, written) {
            (false, _) => ClaimedWrite::NonceReplayed,
            (true, true) => ClaimedWrite::Written,
            (true, false) => {
                super::nonces::release(self.store.pool(), claim).await?;
                ClaimedWrite::VersionChanged
            }
        })
    }

    async fn touch(&self, sid: &SessionId, now: Timestamp) -> Result<bool, StoreError> {
        let updated = sqlx::query(concat!(
            "UPDATE sessions SET last_activity = GREATEST(last_activity, $2), idle_expires_at = ",
            idle_after!("$2"),
            " WHERE sid = $1 AND ",
            live!("$2")
        ))
        .bind(sid.as_str())
        .bind(to_offset(now))
        .execute(self.store.pool())
        .await?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn delete(&self, sid: &SessionId) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM sessions WHERE sid = $1")
            .bind(sid.as_str())
            .execute(self.store.pool())
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
                .bind(to_offset(now))
                .bind(limit)
                .fetch_all(self.store.pool())
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
                .bind(to_offset(now))
                .bind(limit)
                .bind(to_offset(after.created_at))
                .bind(after.sid.as_str())
                .fetch_all(self.store.pool())
                .await?
            }
        };
        let items = rows.iter().map(record_of).collect::<Result<Vec<_>, _>>()?;
        Ok(Page::new(items, page.limit, SessionCursor::of))
    }

    async fn count(&self, now: Timestamp) -> Result<u64, StoreError> {
        count(self.store.pool(), now).await
    }

    async fn delete_expired(&self, now: Timestamp) -> Result<u64, StoreError> {
        delete_expired(self.store.pool(), now).await
    }
}

pub(super) async fn count(pool: &PgPool, now: Timestamp) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*) FROM sessions WHERE ", live!("$1")))
        .bind(to_offset(now))
        .fetch_one(pool)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn delete_expired(pool: &PgPool, now: Timestamp) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        // The outer condition repeats the inner one: when a concurrent
        // writer changed a selected row, PostgreSQL re-evaluates the outer
        // WHERE on the new row version (not the subquery), so a row that
        // is no longer expired survives.
        let deleted = sqlx::query(
            "DELETE FROM sessions WHERE (expires_at < $1 OR idle_expires_at < $1) \
             AND sid IN (SELECT sid FROM sessions \
                         WHERE expires_at < $1 OR idle_expires_at < $1 LIMIT $2)",
        )
        .bind(to_offset(now))
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
