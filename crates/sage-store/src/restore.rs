//! Rebuilding a live session from its sealed snapshot and its clear
//! progress columns.
//!
//! The sealed snapshot is written when a session is created (or fully
//! updated); the hot path, [`update_window`](crate::SessionStore::update_window),
//! moves only the clear columns. Restoring therefore starts from the sealed
//! snapshot and applies the newer clear progress to it, by rewriting the
//! progress fields of the snapshot's documented byte form (format 1 of
//! `sage_core::session::SessionSnapshot`, offsets below), and then lets the
//! core parse and validate the result.
//!
//! Every field only moves one way, and the restore keeps the *later* of the
//! two values, so nothing a node accepted or sent before can be accepted or
//! sent again: the higher send counter (or "exhausted"), the higher message
//! count, the later activity, and the union of both replay windows (the
//! core's merge only adds rejections).

use sage_core::session::{Session, SessionId, SessionSnapshot, WindowState};
use sage_core::time::Timestamp;
use zeroize::Zeroizing;

use crate::error::StoreError;
use crate::model::{SessionProgress, SessionRecord, StoredSession};
use crate::seal::Sealer;

// Offsets of snapshot format 1 (see `sage_core::session::snapshot`).
const FORMAT_AT: usize = 0;
const FORMAT_V1: u8 = 1;
const SEND_STATE_AT: usize = 57;
const SEND_SEQ_AT: usize = 58;
const WINDOW_AT: usize = 66;
const WINDOW_END: usize = WINDOW_AT + WindowState::ENCODED_LEN;
const LAST_ACTIVITY_AT: usize = 216;
const MESSAGE_COUNT_AT: usize = 228;

const BAD: StoreError = StoreError::corrupt("sessions", "sealed snapshot is not format 1");

/// The session a stored row holds: its clear `record`, and `sealed`, its
/// sealed snapshot, opened under `sealer` (the row's own session id is the
/// AAD) with the record's clear progress applied. One procedure for every
/// engine.
pub(crate) fn stored_session(
    sealer: &Sealer,
    record: SessionRecord,
    sealed: &[u8],
) -> Result<StoredSession, StoreError> {
    let snapshot = sealer.open(&record.sid, sealed)?;
    let progress = SessionProgress {
        next_send_seq: record.next_send_seq,
        message_count: record.message_count,
        last_activity: record.last_activity,
        window: record.window,
    };
    let session = restore(&record.sid, snapshot, &progress)?;
    Ok(StoredSession { record, session })
}

/// The session of `snapshot` (opened plaintext) with `progress` applied.
pub(crate) fn restore(
    sid: &SessionId,
    mut snapshot: Zeroizing<Vec<u8>>,
    progress: &SessionProgress,
) -> Result<Session, StoreError> {
    if snapshot.len() != SessionSnapshot::ENCODED_LEN || snapshot.get(FORMAT_AT) != Some(&FORMAT_V1)
    {
        return Err(BAD);
    }
    let sealed_window = WindowState::from_bytes(snapshot.get(WINDOW_AT..WINDOW_END).ok_or(BAD)?)
        .map_err(|_| BAD)?;

    let send_seq = later_send_seq(read_send_seq(&snapshot)?, progress.next_send_seq);
    let (state, seq) = match send_seq {
        Some(seq) => (1u8, seq),
        None => (0u8, 0),
    };
    write(&mut snapshot, SEND_STATE_AT, &[state])?;
    write(&mut snapshot, SEND_SEQ_AT, &seq.to_be_bytes())?;
    write(&mut snapshot, WINDOW_AT, &progress.window.to_bytes())?;

    let sealed_activity = read_timestamp(&snapshot, LAST_ACTIVITY_AT)?;
    let activity = sealed_activity.max(progress.last_activity);
    write(
        &mut snapshot,
        LAST_ACTIVITY_AT,
        &activity.unix_seconds().to_be_bytes(),
    )?;
    write(
        &mut snapshot,
        LAST_ACTIVITY_AT + 8,
        &activity.subsec_nanos().to_be_bytes(),
    )?;

    let count = read_u64(&snapshot, MESSAGE_COUNT_AT)?.max(progress.message_count);
    write(&mut snapshot, MESSAGE_COUNT_AT, &count.to_be_bytes())?;

    let parsed = SessionSnapshot::from_bytes(&snapshot).map_err(|_| BAD)?;
    if parsed.session_id() != sid {
        return Err(StoreError::corrupt(
            "sessions",
            "sealed snapshot names another session",
        ));
    }
    let version = parsed.version();
    let mut session = Session::from_snapshot(version, parsed).map_err(|_| BAD)?;
    session.merge_replay_window(&sealed_window);
    Ok(session)
}

/// `None` is "every sequence number used", the latest state of all.
fn later_send_seq(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

fn read_send_seq(snapshot: &[u8]) -> Result<Option<u64>, StoreError> {
    match snapshot.get(SEND_STATE_AT) {
        Some(1) => Ok(Some(read_u64(snapshot, SEND_SEQ_AT)?)),
        Some(0) => Ok(None),
        _ => Err(BAD),
    }
}

fn read_u64(snapshot: &[u8], at: usize) -> Result<u64, StoreError> {
    let bytes = snapshot.get(at..at + 8).ok_or(BAD)?;
    Ok(u64::from_be_bytes(bytes.try_into().map_err(|_| BAD)?))
}

fn read_timestamp(snapshot: &[u8], at: usize) -> Result<Timestamp, StoreError> {
    let secs = read_u64(snapshot, at)?.cast_signed();
    let nanos = snapshot.get(at + 8..at + 12).ok_or(BAD)?;
    let nanos = u32::from_be_bytes(nanos.try_into().map_err(|_| BAD)?);
    Ok(Timestamp::new(secs, nanos))
}

fn write(snapshot: &mut [u8], at: usize, bytes: &[u8]) -> Result<(), StoreError> {
    snapshot
        .get_mut(at..at + bytes.len())
        .ok_or(BAD)?
        .copy_from_slice(bytes);
    Ok(())
}

#[cfg(test)]
mod tests {
    use sage_core::session::{Role, SessionConfig, SessionSeed};
    use sage_core::version::ProtocolVersion;

    use super::*;

    struct CountingRng(u8);

    impl rand_core::TryRng for CountingRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            self.0 = self.0.wrapping_add(1);
            Ok(u32::from(self.0))
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 = self.0.wrapping_add(1);
            Ok(u64::from(self.0))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
            Ok(())
        }
    }

    impl rand_core::TryCryptoRng for CountingRng {}

    fn pair(now: Timestamp) -> (Session, Session) {
        let v = ProtocolVersion::V1Draft1;
        let seed = [9u8; 32];
        (
            Session::from_handshake_seed(
                v,
                Role::Initiator,
                SessionSeed::from_bytes(seed),
                SessionConfig::default(),
                now,
            ),
            Session::from_handshake_seed(
                v,
                Role::Responder,
                SessionSeed::from_bytes(seed),
                SessionConfig::default(),
                now,
            ),
        )
    }

    #[test]
    fn restored_session_keeps_the_newer_progress_and_rejects_replays() {
        let now = Timestamp::from_unix_seconds(1_767_225_600);
        let (mut alice, mut bob) = pair(now);
        let snapshot = bob.export_snapshot().unwrap().to_bytes();
        let mut rng = CountingRng(0);
        let records: Vec<_> = (0..3)
            .map(|_| alice.encrypt(&mut rng, now, b"hi").unwrap())
            .collect();
        for record in &records {
            bob.decrypt(now.add_seconds(1), record).unwrap();
        }
        bob.encrypt(&mut rng, now.add_seconds(1), b"reply").unwrap();

        let mut restored = restore(bob.id(), snapshot, &SessionProgress::of(&bob)).unwrap();
        assert_eq!(restored.next_send_seq(), Some(1));
        assert_eq!(restored.message_count(), 4);
        assert_eq!(restored.last_activity(), now.add_seconds(1));
        assert!(restored.decrypt(now.add_seconds(2), &records[1]).is_err());
        let fresh = alice.encrypt(&mut rng, now, b"new").unwrap();
        assert_eq!(
            restored.decrypt(now.add_seconds(2), &fresh).unwrap(),
            b"new"
        );
    }

    #[test]
    fn older_progress_never_rolls_the_snapshot_back() {
        let now = Timestamp::from_unix_seconds(1_767_225_600);
        let (mut alice, mut bob) = pair(now);
        let stale = SessionProgress::of(&bob);
        let mut rng = CountingRng(0);
        let record = alice.encrypt(&mut rng, now, b"x").unwrap();
        bob.decrypt(now, &record).unwrap();
        bob.encrypt(&mut rng, now, b"y").unwrap();
        let snapshot = bob.export_snapshot().unwrap().to_bytes();
        let mut restored = restore(bob.id(), snapshot, &stale).unwrap();
        assert_eq!(restored.next_send_seq(), Some(1));
        assert_eq!(restored.message_count(), 2);
        assert!(restored.decrypt(now, &record).is_err());
    }

    #[test]
    fn snapshot_of_another_session_or_format_is_corrupt() {
        let now = Timestamp::from_unix_seconds(1_767_225_600);
        let (alice, bob) = pair(now);
        let snapshot = bob.export_snapshot().unwrap().to_bytes();
        let other: SessionId = "AAAAAAAAAAAAAAAAAAAAAA".parse().unwrap();
        assert!(restore(&other, snapshot.clone(), &SessionProgress::of(&alice)).is_err());
        let mut wrong_format = snapshot;
        wrong_format[0] = 2;
        assert!(restore(bob.id(), wrong_format, &SessionProgress::of(&bob)).is_err());
    }
}
