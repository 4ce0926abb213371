//! Group commit for nonce checks on SQLite.
//!
//! SQLite itself checks a nonce in ~20 µs, but one round trip through the
//! driver (a channel to the connection's worker thread and back) costs
//! several times that, and concurrent callers queue for the one writer
//! connection. So nonce checks go to one writer task instead, which takes
//! every check waiting in its queue (up to [`MAX_BATCH`]) and decides them
//! in **one** upsert statement:
//!
//! ```sql
//! INSERT INTO nonces (scope, nonce, first_seen, expires_at)
//!   SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1) WHERE true
//! ON CONFLICT (scope, nonce) DO UPDATE SET ... WHERE nonces.expires_at <= excluded.first_seen
//! RETURNING scope, nonce
//! ```
//!
//! It is the same upsert as the single check, one row per check: a row
//! comes back exactly when its check inserted or replaced an expired
//! nonce, i.e. when it is `Fresh`. The statement is atomic, so the
//! guarantee is unchanged (and holds against other processes on the file
//! too). Within one statement the keys are distinct: a second check of the
//! same key in the queue waits for the next statement, so checks of one key
//! are decided one after the other, in arrival order. No check waits for a
//! batch to fill: a lone check is decided at once.
//!
//! If a batch fails, each of its checks is retried alone, so every caller
//! gets its own verdict or its own error.

use std::collections::HashSet;

use sage_core::replay::ReplayVerdict;
use sqlx::sqlite::SqlitePool;
use tokio::sync::{mpsc, oneshot};

use crate::error::StoreError;

/// Most checks decided by one statement.
pub(super) const MAX_BATCH: usize = 256;
/// Checks that may wait for the writer before callers wait to enqueue.
const QUEUE: usize = 4 * MAX_BATCH;

const BATCH_SQL: &str = "INSERT INTO nonces (scope, nonce, first_seen, expires_at) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each($1) WHERE true \
     ON CONFLICT (scope, nonce) DO UPDATE \
     SET first_seen = excluded.first_seen, expires_at = excluded.expires_at \
     WHERE nonces.expires_at <= excluded.first_seen \
     RETURNING scope, nonce";

const SINGLE_SQL: &str = "INSERT INTO nonces (scope, nonce, first_seen, expires_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (scope, nonce) DO UPDATE \
     SET first_seen = excluded.first_seen, expires_at = excluded.expires_at \
     WHERE nonces.expires_at <= excluded.first_seen";

/// One check, with where to send its verdict.
struct Check {
    scope: String,
    nonce: String,
    first_seen: i64,
    expires_at: i64,
    reply: oneshot::Sender<Result<ReplayVerdict, StoreError>>,
}

/// The handle callers use; the task ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct NonceWriter {
    queue: mpsc::Sender<Check>,
}

impl NonceWriter {
    /// Starts the writer task on the current tokio runtime.
    pub(super) fn spawn(pool: SqlitePool) -> Self {
        let (queue, checks) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, checks));
        Self { queue }
    }

    pub(super) async fn check(
        &self,
        scope: &str,
        nonce: &str,
        first_seen: i64,
        expires_at: i64,
    ) -> Result<ReplayVerdict, StoreError> {
        let (reply, verdict) = oneshot::channel();
        let check = Check {
            scope: scope.to_owned(),
            nonce: nonce.to_owned(),
            first_seen,
            expires_at,
            reply,
        };
        self.queue
            .send(check)
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        verdict.await.map_err(|_| StoreError::WriterStopped)?
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Check>) {
    let mut waiting = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut waiting, MAX_BATCH).await > 0 {
        // Let callers that are ready to send do so first: a larger batch
        // costs the same round trip.
        tokio::task::yield_now().await;
        while waiting.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(check) => waiting.push(check),
                Err(_) => break,
            }
        }
        let mut checks = std::mem::take(&mut waiting);
        while !checks.is_empty() {
            let (batch, later) = distinct_keys(checks);
            decide(&pool, batch).await;
            checks = later;
        }
    }
}

/// Splits `checks` into the first check of each key and the rest, both in
/// arrival order.
fn distinct_keys(checks: Vec<Check>) -> (Vec<Check>, Vec<Check>) {
    let mut seen = HashSet::with_capacity(checks.len());
    checks
        .into_iter()
        .partition(|c| seen.insert((c.scope.clone(), c.nonce.clone())))
}

async fn decide(pool: &SqlitePool, batch: Vec<Check>) {
    let rows = serde_json::Value::Array(
        batch
            .iter()
            .map(|c| serde_json::json!([c.scope, c.nonce, c.first_seen, c.expires_at]))
            .collect(),
    )
    .to_string();
    let stored: Result<Vec<(String, String)>, sqlx::Error> =
        sqlx::query_as(BATCH_SQL).bind(rows).fetch_all(pool).await;
    match stored {
        Ok(stored) => {
            let fresh: HashSet<(String, String)> = stored.into_iter().collect();
            for check in batch {
                let verdict = if fresh.contains(&(check.scope, check.nonce)) {
                    ReplayVerdict::Fresh
                } else {
                    ReplayVerdict::Replayed
                };
                // A caller that gave up no longer needs its verdict.
                let _ = check.reply.send(Ok(verdict));
            }
        }
        Err(_) => {
            for check in batch {
                let verdict = decide_one(pool, &check).await;
                let _ = check.reply.send(verdict);
            }
        }
    }
}

async fn decide_one(pool: &SqlitePool, check: &Check) -> Result<ReplayVerdict, StoreError> {
    let stored = sqlx::query(SINGLE_SQL)
        .bind(&check.scope)
        .bind(&check.nonce)
        .bind(check.first_seen)
        .bind(check.expires_at)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(if stored == 1 {
        ReplayVerdict::Fresh
    } else {
        ReplayVerdict::Replayed
    })
}
