//! Engine-neutral row values: what a session or DID record becomes before
//! an engine binds it, and checks on what comes back.
//!
//! Layer: between the store API and the engines. Both engines bind the
//! same values (times as [`Timestamp`]s, converted per engine at the
//! binding), so the two schemas cannot drift in meaning.

use core::time::Duration;

use sage_core::did::{AgentRecord, Did};
use sage_core::primitives::KeyType;
use sage_core::session::{Session, SessionId, WindowState};
use sage_core::time::Timestamp;

use crate::error::StoreError;
use crate::instant::{duration_micros, from_micros, micros_after};
use crate::model::{
    MAX_DID_LEN, MAX_KID_LEN, SessionProgress, SessionRecord, check_len, owner_key, role_code,
    to_db_u64,
};
use crate::seal::Sealer;

/// Longest idle timeout stored (100 years), so that `last_activity +
/// idle_timeout` never overflows a column.
const MAX_IDLE_MICROS: i64 = 100 * 366 * 24 * 3600 * 1_000_000;

/// A session as its row holds it.
pub(crate) struct SessionRow {
    pub(crate) sid: String,
    pub(crate) kid: String,
    pub(crate) peer_did: String,
    pub(crate) role: i16,
    pub(crate) created_at: Timestamp,
    pub(crate) last_activity: Timestamp,
    pub(crate) expires_at: Option<Timestamp>,
    pub(crate) idle_timeout_us: i64,
    pub(crate) idle_expires_at: Option<Timestamp>,
    pub(crate) progress: ProgressRow,
    pub(crate) sealed_snapshot: Vec<u8>,
}

/// The columns [`SessionProgress`] moves.
pub(crate) struct ProgressRow {
    pub(crate) last_activity: Timestamp,
    pub(crate) message_count: i64,
    pub(crate) send_seq: Option<i64>,
    pub(crate) window: Vec<u8>,
}

impl ProgressRow {
    pub(crate) fn new(progress: &SessionProgress) -> Self {
        Self {
            last_activity: progress.last_activity,
            message_count: to_db_u64(progress.message_count),
            send_seq: progress.next_send_seq.map(to_db_u64),
            window: progress.window.to_bytes().to_vec(),
        }
    }
}

impl SessionRow {
    /// The row of a new (or fully rewritten) session: the snapshot sealed,
    /// the rest in clear.
    pub(crate) fn new(
        session: &Session,
        kid: &str,
        peer: &Did,
        sealer: &Sealer,
    ) -> Result<Self, StoreError> {
        check_len("kid", kid, MAX_KID_LEN)?;
        check_len("peer DID", peer.as_str(), MAX_DID_LEN)?;
        let snapshot = session.export_snapshot().map_err(StoreError::Session)?;
        let sealed_snapshot = sealer.seal(session.id(), &snapshot.to_bytes())?;
        let policy = session.config().policy;
        let created_at = session.created_at();
        let last_activity = session.last_activity();
        let limit = |d: Duration, since: Timestamp| {
            (!d.is_zero()).then(|| from_micros(micros_after(since, d)))
        };
        Ok(Self {
            sid: session.id().as_str().to_owned(),
            kid: kid.to_owned(),
            peer_did: peer.as_str().to_owned(),
            role: role_code(session.role()),
            created_at,
            last_activity,
            expires_at: limit(policy.max_age, created_at),
            idle_timeout_us: duration_micros(policy.idle_timeout).min(MAX_IDLE_MICROS),
            idle_expires_at: limit(policy.idle_timeout, last_activity),
            progress: ProgressRow::new(&SessionProgress::of(session)),
            sealed_snapshot,
        })
    }
}

/// The clear columns read back, before validation.
pub(crate) struct RawSessionRecord {
    pub(crate) sid: String,
    pub(crate) kid: String,
    pub(crate) peer_did: String,
    pub(crate) role: i16,
    pub(crate) created_at: Timestamp,
    pub(crate) last_activity: Timestamp,
    pub(crate) expires_at: Option<Timestamp>,
    pub(crate) idle_expires_at: Option<Timestamp>,
    pub(crate) message_count: i64,
    pub(crate) send_seq: Option<i64>,
    pub(crate) window: Vec<u8>,
    pub(crate) version: i64,
}

impl RawSessionRecord {
    pub(crate) fn validate(self) -> Result<SessionRecord, StoreError> {
        const T: &str = "sessions";
        Ok(SessionRecord {
            sid: self
                .sid
                .parse::<SessionId>()
                .map_err(|_| StoreError::corrupt(T, "sid is not a session id"))?,
            kid: self.kid,
            peer_did: Did::parse(&self.peer_did)
                .map_err(|_| StoreError::corrupt(T, "peer_did is not a did:sage DID"))?,
            role: crate::model::role_of_code(self.role)?,
            created_at: self.created_at,
            last_activity: self.last_activity,
            expires_at: self.expires_at,
            idle_expires_at: self.idle_expires_at,
            message_count: crate::model::from_db_u64(self.message_count),
            next_send_seq: self.send_seq.map(crate::model::from_db_u64),
            window: WindowState::from_bytes(&self.window)
                .map_err(|_| StoreError::corrupt(T, "replay_window is invalid"))?,
            version: u64::try_from(self.version)
                .map_err(|_| StoreError::corrupt(T, "version is negative"))?,
        })
    }
}

/// A DID record as its rows hold it.
pub(crate) struct DidRow {
    pub(crate) did: String,
    pub(crate) owner: String,
    pub(crate) is_active: bool,
    pub(crate) kem_key: Option<Vec<u8>>,
    pub(crate) record_json: String,
    pub(crate) fetched_at: Timestamp,
    pub(crate) stale_at: Timestamp,
    pub(crate) keys: Vec<KeyRow>,
}

/// One registered key.
pub(crate) struct KeyRow {
    pub(crate) position: i32,
    pub(crate) key_type: i16,
    pub(crate) key_data: Vec<u8>,
    pub(crate) verified: bool,
}

impl DidRow {
    pub(crate) fn new(
        record: &AgentRecord,
        fetched_at: Timestamp,
        ttl: Duration,
    ) -> Result<Self, StoreError> {
        check_len("DID", record.did.as_str(), MAX_DID_LEN)?;
        let record_json = record.to_json()?;
        let mut keys = Vec::with_capacity(record.keys.len());
        for (index, key) in record.keys.iter().enumerate() {
            keys.push(KeyRow {
                position: i32::try_from(index).map_err(|_| StoreError::TooLong {
                    field: "keys",
                    max: usize::try_from(i32::MAX).unwrap_or(usize::MAX),
                })?,
                // `to_json` succeeded, so every key type has a registry code.
                key_type: i16::from(key.key_type.registry_code().unwrap_or(u8::MAX)),
                key_data: key.key_data.clone(),
                verified: key.verified,
            });
        }
        Ok(Self {
            did: record.did.as_str().to_owned(),
            owner: owner_key(&record.owner),
            is_active: record.is_active,
            kem_key: kem_key(record),
            record_json,
            fetched_at,
            stale_at: from_micros(micros_after(fetched_at, ttl)),
            keys,
        })
    }
}

/// The HPKE KEM key §8.4 selects: `public_kem_key`, else the first verified
/// 32-byte X25519 key.
fn kem_key(record: &AgentRecord) -> Option<Vec<u8>> {
    record.public_kem_key.clone().or_else(|| {
        record
            .keys
            .iter()
            .find(|k| k.key_type == KeyType::X25519 && k.verified && k.key_data.len() == 32)
            .map(|k| k.key_data.clone())
    })
}

/// The registry integer of a key type, as stored in `did_keys.key_type`;
/// `None` for types the registry cannot hold (nothing is stored for them).
pub(crate) fn key_type_code(key_type: KeyType) -> Option<i16> {
    key_type.registry_code().map(i16::from)
}

/// Parses a cached record.
pub(crate) fn parse_record(json: &str) -> Result<AgentRecord, StoreError> {
    AgentRecord::from_json(json.as_bytes())
        .map_err(|_| StoreError::corrupt("dids", "record_json is not an AgentMetadataV4 record"))
}

pub(crate) fn parse_did(text: &str, table: &'static str) -> Result<Did, StoreError> {
    Did::parse(text).map_err(|_| StoreError::corrupt(table, "did is not a did:sage DID"))
}
