//! Key rotation of one record stream (PROTOCOL.md §7.1.5).
//!
//! Record `seq` of a stream uses generation `g = ⌊seq / R⌋` (`R = 0`
//! disables rotation, §18.2): the stream's base key for `g = 0`, and for
//! `g > 0` the rekey key `HKDF(…, "sage-session-rekey-v1" ‖ dir ‖ be64(g))`.
//! The receiver derives the generation from the received `seq`, so records
//! reordered across a boundary still open.
//!
//! Deriving costs two HMACs per generation; a small cache keeps the two
//! highest generations seen (the Go core keeps `g − 1` and `g`), so steady
//! traffic derives once per `R` records. Every key in the cache is wiped on
//! eviction and on drop.

use core::fmt;

use super::derive::{KeySchedule, SEED_LEN, SessionKey};
use crate::version::Labels;

/// The generation of record `seq` under rekey interval `interval`.
pub(crate) const fn generation(seq: u64, interval: u64) -> u64 {
    match interval {
        0 => 0,
        r => seq / r,
    }
}

/// One cached rotated key.
struct CachedGeneration {
    generation: u64,
    key: SessionKey,
}

/// The keys of one record stream: its base key, its rekey `dir` string and
/// the cache of rotated keys.
pub(crate) struct StreamKeys {
    dir: &'static str,
    base: SessionKey,
    // Two slots. A slot holding generation 0 is free: generation 0 always
    // uses `base` and is never looked up here.
    recent: [CachedGeneration; 2],
}

impl StreamKeys {
    pub(crate) fn new(dir: &'static str, base: SessionKey) -> Self {
        let free = || CachedGeneration {
            generation: 0,
            key: SessionKey::new([0; SEED_LEN]),
        };
        Self {
            dir,
            base,
            recent: [free(), free()],
        }
    }

    /// The AEAD key of `generation`, derived and cached on a miss.
    pub(crate) fn key(
        &mut self,
        schedule: &KeySchedule,
        labels: &Labels,
        generation: u64,
    ) -> &[u8; SEED_LEN] {
        if generation == 0 {
            return &self.base;
        }
        let [a, b] = &mut self.recent;
        let slot = if a.generation == generation {
            a
        } else if b.generation == generation {
            b
        } else {
            // Replace the lower generation (a free slot first).
            let victim = if a.generation <= b.generation { a } else { b };
            victim.generation = generation;
            victim.key = schedule.rekey_key(labels, self.dir, generation);
            victim
        };
        &slot.key
    }
}

impl fmt::Debug for StreamKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamKeys")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}
