//! The background sweeper: deletes what expired, counts what it deleted.
//!
//! Layer: runtime (tokio). A [`Sweeper`] runs [`Store::sweep`] every
//! `interval` on a tokio task until its [`SweeperHandle`] is shut down
//! (or dropped). What it deletes, as of the [`Clock`]'s `now`:
//!
//! - sessions past their absolute expiry or their idle expiry;
//! - nonces whose `expires_at <= now`;
//! - positive DID records whose TTL ran out (tombstones stay).
//!
//! Nothing depends on the sweep for correctness: every read already treats
//! expired rows as gone. The sweep only bounds the tables' size. Several
//! nodes may sweep one PostgreSQL at once; deletes are idempotent.
//!
//! [`SweepStats`] is what the metrics layer reads: atomics, so reading
//! never blocks the sweep.

use core::time::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use sage_core::time::Timestamp;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::StoreError;
use crate::instant::{Clock, from_micros, to_micros};
use crate::model::SweepReport;
use crate::store::Store;

/// Counters of every sweep so far. Shared (`Arc`) between the sweeper and
/// whoever reports metrics.
#[derive(Debug, Default)]
pub struct SweepStats {
    runs: AtomicU64,
    failures: AtomicU64,
    sessions_deleted: AtomicU64,
    nonces_deleted: AtomicU64,
    dids_deleted: AtomicU64,
    /// Microseconds since the epoch of the last finished run; `i64::MIN`
    /// before the first.
    last_run_micros: AtomicI64,
    last_duration_micros: AtomicU64,
}

/// A consistent-enough copy of [`SweepStats`] (each field is read
/// atomically; fields may be one sweep apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepSnapshot {
    /// Sweeps that finished (successfully or not).
    pub runs: u64,
    /// Sweeps that failed.
    pub failures: u64,
    /// Sessions deleted, in total.
    pub sessions_deleted: u64,
    /// Nonces deleted, in total.
    pub nonces_deleted: u64,
    /// DID records deleted, in total.
    pub dids_deleted: u64,
    /// When the last sweep finished (by the sweeper's clock).
    pub last_run: Option<Timestamp>,
    /// How long the last sweep took.
    pub last_duration: Duration,
}

impl SweepStats {
    /// Fresh counters.
    pub fn new() -> Self {
        Self {
            last_run_micros: AtomicI64::new(i64::MIN),
            ..Self::default()
        }
    }

    /// The current counters.
    pub fn snapshot(&self) -> SweepSnapshot {
        let last = self.last_run_micros.load(Ordering::Relaxed);
        SweepSnapshot {
            runs: self.runs.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            sessions_deleted: self.sessions_deleted.load(Ordering::Relaxed),
            nonces_deleted: self.nonces_deleted.load(Ordering::Relaxed),
            dids_deleted: self.dids_deleted.load(Ordering::Relaxed),
            last_run: (last != i64::MIN).then(|| from_micros(last)),
            last_duration: Duration::from_micros(self.last_duration_micros.load(Ordering::Relaxed)),
        }
    }

    fn record(&self, finished: Timestamp, took: Duration, outcome: Result<&SweepReport, ()>) {
        match outcome {
            Ok(report) => {
                self.sessions_deleted
                    .fetch_add(report.sessions, Ordering::Relaxed);
                self.nonces_deleted
                    .fetch_add(report.nonces, Ordering::Relaxed);
                self.dids_deleted.fetch_add(report.dids, Ordering::Relaxed);
            }
            Err(()) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.last_duration_micros.store(
            u64::try_from(took.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.last_run_micros
            .store(to_micros(finished), Ordering::Relaxed);
        self.runs.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sweeps one store on a schedule.
pub struct Sweeper {
    store: Store,
    clock: Arc<dyn Clock>,
    interval: Duration,
    stats: Arc<SweepStats>,
}

impl core::fmt::Debug for Sweeper {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sweeper")
            .field("store", &self.store.engine())
            .field("interval", &self.interval)
            .field("stats", &self.stats.snapshot())
            .finish_non_exhaustive()
    }
}

impl Sweeper {
    /// A sweeper of `store` every `interval` (at least one second), reading
    /// `now` from `clock`.
    pub fn new(store: Store, clock: Arc<dyn Clock>, interval: Duration) -> Self {
        Self {
            store,
            clock,
            interval: interval.max(Duration::from_secs(1)),
            stats: Arc::new(SweepStats::new()),
        }
    }

    /// The counters this sweeper updates.
    pub fn stats(&self) -> Arc<SweepStats> {
        Arc::clone(&self.stats)
    }

    /// Sweeps once now and records it in the stats.
    ///
    /// # Errors
    /// [`StoreError::Database`] (also counted as a failure).
    pub async fn run_once(&self) -> Result<SweepReport, StoreError> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let outcome = self.store.sweep(now).await;
        let took = started.elapsed();
        self.stats
            .record(self.clock.now(), took, outcome.as_ref().map_err(|_| ()));
        outcome
    }

    /// Runs the sweeper on the current tokio runtime: a first sweep at
    /// once, then one per interval (a sweep that overruns delays the next,
    /// it never overlaps it). Failures are logged and counted, never fatal.
    pub fn spawn(self) -> SweeperHandle {
        let (shutdown, mut stop) = watch::channel(false);
        let stats = self.stats();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    biased;
                    // A send of `true` or a dropped handle both end the loop.
                    _ = stop.changed() => break,
                    _ = ticks.tick() => {
                        if let Err(error) = self.run_once().await {
                            tracing::warn!(%error, "sage-store sweep failed");
                        }
                    }
                }
            }
        });
        SweeperHandle {
            shutdown,
            task,
            stats,
        }
    }
}

/// Controls a running sweeper. Dropping it stops the sweeper too (after
/// the sweep in progress, if any).
#[derive(Debug)]
pub struct SweeperHandle {
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
    stats: Arc<SweepStats>,
}

impl SweeperHandle {
    /// The sweeper's counters.
    pub fn stats(&self) -> Arc<SweepStats> {
        Arc::clone(&self.stats)
    }

    /// Stops the sweeper and waits for it (a sweep in progress finishes
    /// first).
    ///
    /// # Errors
    /// The task's [`tokio::task::JoinError`] if it panicked.
    pub async fn shutdown(self) -> Result<(), tokio::task::JoinError> {
        // Fails only when the task already ended, which is what we want.
        let _ = self.shutdown.send(true);
        self.task.await
    }
}
