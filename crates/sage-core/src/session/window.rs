//! The inbound replay window (PROTOCOL.md §7.1.4).
//!
//! A 1024-slot bitmap plus the highest sequence number accepted. Slot
//! `seq mod 1024` remembers whether `seq` was accepted, for the 1024 values
//! `highest − 1023 ..= highest`. The session checks a record against the
//! window *before* it opens the record, and records it *only after* the
//! open succeeded, so forged headers cannot move the window.
//!
//! The state is plain data ([`WindowState`]) so that a service can persist
//! it and still reject, after a restart, a record accepted before. It has a
//! fixed, versioned byte form; imports are validated, and merging an
//! imported state into a live one can only add rejections, never remove
//! them. This module knows nothing of keys or records.

use super::error::SessionError;

/// Number of sequence numbers the window covers below and including the
/// highest accepted one.
pub const REPLAY_WINDOW_SIZE: u64 = 1024;

const WORDS: usize = 16;
const WORD_BITS: u64 = 64;

/// Exported state of a replay window: the highest sequence number accepted
/// (if any) and the 1024-bit map of accepted values, bit `seq mod 1024`
/// stored as bit `(seq mod 1024) mod 64` of word `(seq mod 1024) / 64`.
///
/// Invariants (checked by every constructor): with nothing accepted the map
/// is empty; otherwise the bit of `highest` is set and no bit stands for a
/// sequence number below zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WindowState {
    highest: Option<u64>,
    bitmap: [u64; WORDS],
}

impl WindowState {
    /// Length of [`WindowState::to_bytes`].
    pub const ENCODED_LEN: usize = 1 + 1 + 8 + WORDS * 8;
    /// Format version written as the first byte.
    pub const FORMAT_VERSION: u8 = 1;

    /// Builds a state from its parts, as stored by a service.
    ///
    /// # Errors
    /// [`SessionError::InvalidWindowState`] when the parts break the
    /// invariants above.
    pub fn from_parts(highest: Option<u64>, bitmap: [u64; WORDS]) -> Result<Self, SessionError> {
        let state = Self { highest, bitmap };
        if state.is_consistent() {
            Ok(state)
        } else {
            Err(SessionError::InvalidWindowState)
        }
    }

    /// The highest sequence number accepted, if any.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// The bitmap words.
    pub fn bitmap(&self) -> &[u64; WORDS] {
        &self.bitmap
    }

    /// The stable byte form:
    /// `version(1) ‖ has_highest(1: 0 or 1) ‖ be64(highest or 0) ‖ 16 × be64(word)`.
    pub fn to_bytes(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[0] = Self::FORMAT_VERSION;
        out[1] = u8::from(self.highest.is_some());
        out[2..10].copy_from_slice(&self.highest.unwrap_or(0).to_be_bytes());
        for (chunk, word) in out[10..].chunks_exact_mut(8).zip(self.bitmap) {
            chunk.copy_from_slice(&word.to_be_bytes());
        }
        out
    }

    /// Parses [`WindowState::to_bytes`] output.
    ///
    /// # Errors
    /// [`SessionError::InvalidWindowState`] on a wrong length, an unknown
    /// version, a flag other than 0 or 1, a non-zero `highest` with the flag
    /// clear, or parts that break the invariants.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        let bytes: &[u8; Self::ENCODED_LEN] = bytes
            .try_into()
            .map_err(|_| SessionError::InvalidWindowState)?;
        let (header, words) = bytes.split_at(10);
        let [version, flag, h @ ..] = header else {
            return Err(SessionError::InvalidWindowState);
        };
        if *version != Self::FORMAT_VERSION {
            return Err(SessionError::InvalidWindowState);
        }
        let raw_highest =
            u64::from_be_bytes(h.try_into().map_err(|_| SessionError::InvalidWindowState)?);
        let highest = match (flag, raw_highest) {
            (0, 0) => None,
            (1, value) => Some(value),
            _ => return Err(SessionError::InvalidWindowState),
        };
        let mut bitmap = [0u64; WORDS];
        for (word, chunk) in bitmap.iter_mut().zip(words.chunks_exact(8)) {
            *word = u64::from_be_bytes(
                chunk
                    .try_into()
                    .map_err(|_| SessionError::InvalidWindowState)?,
            );
        }
        Self::from_parts(highest, bitmap)
    }

    /// Whether `seq` may be opened: `Ok` if it is new, [`SessionError::Stale`]
    /// if it fell out of the window, [`SessionError::Replayed`] if accepted
    /// before. Changes nothing.
    pub(crate) fn check(&self, seq: u64) -> Result<(), SessionError> {
        match self.highest {
            None => Ok(()),
            Some(highest) if seq > highest => Ok(()),
            Some(highest) if highest - seq >= REPLAY_WINDOW_SIZE => Err(SessionError::Stale),
            Some(_) if self.bit(seq) => Err(SessionError::Replayed),
            Some(_) => Ok(()),
        }
    }

    /// Records `seq` as accepted. Call only after [`WindowState::check`]
    /// passed and the record authenticated.
    pub(crate) fn accept(&mut self, seq: u64) {
        match self.highest {
            Some(highest) if seq <= highest => {}
            Some(highest) if seq - highest >= REPLAY_WINDOW_SIZE => {
                self.bitmap = [0; WORDS];
                self.highest = Some(seq);
            }
            Some(highest) => {
                // The slots of highest+1 ..= seq held values that now leave
                // the window.
                for passed in highest + 1..=seq {
                    self.set_bit(passed, false);
                }
                self.highest = Some(seq);
            }
            None => self.highest = Some(seq),
        }
        self.set_bit(seq, true);
    }

    /// Adds every sequence number `other` accepted that still lies within
    /// this window after the merge. Afterwards this window rejects
    /// everything either window rejected (values pushed out of the merged
    /// window are rejected as stale).
    pub(crate) fn merge(&mut self, other: &Self) {
        for seq in other.accepted() {
            if self.check(seq).is_ok() {
                self.accept(seq);
            }
        }
    }

    /// The sequence numbers whose bits are set.
    fn accepted(&self) -> impl Iterator<Item = u64> + '_ {
        let highest = self.highest;
        (0..REPLAY_WINDOW_SIZE).filter_map(move |slot| {
            let highest = highest?;
            if !self.slot_bit(slot) {
                return None;
            }
            let behind =
                (highest % REPLAY_WINDOW_SIZE + REPLAY_WINDOW_SIZE - slot) % REPLAY_WINDOW_SIZE;
            highest.checked_sub(behind)
        })
    }

    fn is_consistent(&self) -> bool {
        match self.highest {
            None => self.bitmap == [0; WORDS],
            Some(highest) => {
                // Below 1023, slots above `highest` would stand for negative
                // sequence numbers.
                let impossible = highest < REPLAY_WINDOW_SIZE
                    && (highest + 1..REPLAY_WINDOW_SIZE).any(|slot| self.slot_bit(slot));
                self.bit(highest) && !impossible
            }
        }
    }

    fn bit(&self, seq: u64) -> bool {
        self.slot_bit(seq % REPLAY_WINDOW_SIZE)
    }

    fn slot_bit(&self, slot: u64) -> bool {
        let (word, mask) = word_and_mask(slot);
        self.bitmap.get(word).is_some_and(|w| w & mask != 0)
    }

    fn set_bit(&mut self, seq: u64, value: bool) {
        let (word, mask) = word_and_mask(seq % REPLAY_WINDOW_SIZE);
        if let Some(w) = self.bitmap.get_mut(word) {
            if value {
                *w |= mask;
            } else {
                *w &= !mask;
            }
        }
    }
}

/// Word index and bit mask of a slot (`slot < 1024`, so the index is < 16).
fn word_and_mask(slot: u64) -> (usize, u64) {
    let word = usize::try_from(slot / WORD_BITS).unwrap_or(usize::MAX);
    (word, 1u64 << (slot % WORD_BITS))
}
