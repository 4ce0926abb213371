//! The local registry's authoritative records: [`RegistryStore`] and the
//! rows it reads and writes (migration `0002_registry`).
//!
//! Layer: store API, no SQL (the statements live in `sqlite/registry.rs`
//! and `postgres/registry.rs`). This is persistence for the embedded
//! registry of `sage-registry`, which owns the model, the state machine and
//! the authorisation of every change; the store only guarantees what a
//! database can:
//!
//! - **one writer per version**: [`RegistryStore::update_record`] writes a
//!   record only if the stored one is still at `row.version - 1`, in one
//!   transaction with its keys and its history entry. Of two writers (on any
//!   number of nodes sharing one PostgreSQL) that read the same version,
//!   exactly one succeeds; the other gets `Ok(false)` and changes nothing;
//! - **identifiers are never reassigned**: nothing deletes a record, and
//!   [`RegistryStore::insert_record`] refuses a DID that exists, whatever
//!   its state;
//! - **keys are append-only**: a key's type, bytes, proof and endorsement
//!   never change once written, and a revocation time, once set, is never
//!   cleared or moved;
//! - **consistent reads**: a record and its keys are read in one snapshot
//!   (a read transaction; REPEATABLE READ on PostgreSQL), so a reader never
//!   sees the keys of one version with the record of another.
//!
//! What it does not do: check proofs, signatures, nonces or transitions,
//! or interpret `capabilities` and the history's JSON (they are stored as
//! the registry wrote them). Request nonces go through [`crate::NonceStore`].

use core::future::Future;

use sage_core::did::Did;
use sage_core::primitives::KeyType;
use sage_core::time::Timestamp;

use crate::error::StoreError;
use crate::model::{DidCursor, MAX_DID_LEN, Page, PageRequest, check_len};
use crate::store::Store;

/// Longest owner label stored, in bytes.
pub const MAX_OWNER_LEN: usize = 256;
/// Longest operation name stored in the history, in bytes.
pub const MAX_OPERATION_LEN: usize = 32;

/// A record's lifecycle state (PROTOCOL.md §9.3), stored as 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistryState {
    /// Registered, not yet usable.
    Created,
    /// Usable.
    Active,
    /// Terminal; the record stays readable.
    Deactivated,
}

/// One key of a stored record. Its position in [`RegistryRow::keys`] is its
/// registry position (0-based), fixed forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryKeyRow {
    /// Key type (a type with a registry integer: secp256k1, Ed25519, X25519).
    pub key_type: KeyType,
    /// Raw public key bytes (PROTOCOL.md §3.1).
    pub key_data: Vec<u8>,
    /// The proof of possession of a signing key, or the endorsement of an
    /// X25519 key.
    pub proof: Vec<u8>,
    /// For an endorsed X25519 key: the position of the signing key that
    /// made the endorsement.
    pub endorsed_by: Option<u32>,
    /// When the key was added.
    pub added_at: Timestamp,
    /// When the key was revoked; `None` while it is accepted.
    pub revoked_at: Option<Timestamp>,
}

/// A stored registry record with all its keys, revoked ones included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRow {
    /// The agent's DID (primary key).
    pub did: Did,
    /// Owner label (stored lower-cased, compared case-insensitively).
    pub owner: String,
    /// Lifecycle state.
    pub state: RegistryState,
    /// Version: 1 at creation, plus one per change.
    pub version: u64,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Capabilities, JSON text as the registry wrote it.
    pub capabilities: String,
    /// Every key the record ever had, in registry order.
    pub keys: Vec<RegistryKeyRow>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Time of the last change (the history entry's time).
    pub updated_at: Timestamp,
}

/// What caused a version: kept in the record's history next to the record
/// as it became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryChange<'a> {
    /// The operation (`register`, `activate`, ...), 1 to
    /// [`MAX_OPERATION_LEN`] bytes.
    pub operation: &'a str,
    /// The authorising request, canonical JSON.
    pub request: &'a str,
    /// The controller's signature over `request`.
    pub signature: &'a [u8],
    /// The record after the change, JSON.
    pub snapshot: &'a str,
}

/// One version of a record, from its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryHistoryEntry {
    /// The version this entry created.
    pub version: u64,
    /// The operation.
    pub operation: String,
    /// The authorising request, canonical JSON.
    pub request: String,
    /// The signature over `request`.
    pub signature: Vec<u8>,
    /// The record after the change, JSON.
    pub snapshot: String,
    /// When the change was applied.
    pub recorded_at: Timestamp,
}

/// The authoritative records of the embedded registry.
pub trait RegistryStore: Send + Sync {
    /// Creates `row` (at `row.version`, normally 1) with its keys and its
    /// first history entry, in one transaction. `Ok(false)` when a record
    /// with this DID exists, in any state: identifiers are never reassigned.
    ///
    /// # Errors
    /// [`StoreError::TooLong`] for a DID, owner or operation over its
    /// limit; [`StoreError::Record`] for a key type without a registry
    /// integer; database errors.
    fn insert_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Replaces the record `row.did` with `row`, only if the stored record
    /// is at `row.version - 1`; appends the keys it does not have yet,
    /// records revocations, and appends the history entry — all in one
    /// transaction. `Ok(false)`, with nothing written, when the record is
    /// missing or at another version (another writer got there first).
    ///
    /// `owner` and `created_at` never change, and neither does anything of
    /// an existing key but its revocation time, which is written only if
    /// it was not set.
    ///
    /// # Errors
    /// As [`RegistryStore::insert_record`].
    fn update_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The record of `did` with all its keys, read in one snapshot.
    ///
    /// # Errors
    /// Database errors; [`StoreError::CorruptRow`].
    fn record(
        &self,
        did: &Did,
    ) -> impl Future<Output = Result<Option<RegistryRow>, StoreError>> + Send;

    /// The records whose owner is `owner` (compared case-insensitively), by
    /// DID, in any state.
    ///
    /// # Errors
    /// [`StoreError::BadPageLimit`]; database errors;
    /// [`StoreError::CorruptRow`].
    fn records_by_owner(
        &self,
        owner: &str,
        page: &PageRequest<DidCursor>,
    ) -> impl Future<Output = Result<Page<RegistryRow, DidCursor>, StoreError>> + Send;

    /// The DIDs of records that hold (or held: revoked keys count) the key
    /// `key_data` of type `key_type`, by DID, at most
    /// [`MAX_PAGE_LIMIT`](crate::MAX_PAGE_LIMIT).
    ///
    /// # Errors
    /// Database errors; [`StoreError::CorruptRow`].
    fn records_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
    ) -> impl Future<Output = Result<Vec<Did>, StoreError>> + Send;

    /// The history of `did`, oldest version first, continuing after the
    /// cursor's version.
    ///
    /// # Errors
    /// [`StoreError::BadPageLimit`]; database errors.
    fn history(
        &self,
        did: &Did,
        page: &PageRequest<u64>,
    ) -> impl Future<Output = Result<Page<RegistryHistoryEntry, u64>, StoreError>> + Send;
}

/// Forwards a call to the engine's store.
macro_rules! forward {
    ($self:expr, $store:ident => $call:expr) => {
        match $self {
            Store::Sqlite($store) => $call,
            Store::Postgres($store) => $call,
        }
    };
}

impl RegistryStore for Store {
    async fn insert_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> Result<bool, StoreError> {
        forward!(self, s => s.insert_record(row, change).await)
    }

    async fn update_record(
        &self,
        row: &RegistryRow,
        change: &RegistryChange<'_>,
    ) -> Result<bool, StoreError> {
        forward!(self, s => s.update_record(row, change).await)
    }

    async fn record(&self, did: &Did) -> Result<Option<RegistryRow>, StoreError> {
        forward!(self, s => s.record(did).await)
    }

    async fn records_by_owner(
        &self,
        owner: &str,
        page: &PageRequest<DidCursor>,
    ) -> Result<Page<RegistryRow, DidCursor>, StoreError> {
        forward!(self, s => s.records_by_owner(owner, page).await)
    }

    async fn records_by_key(
        &self,
        key_type: KeyType,
        key_data: &[u8],
    ) -> Result<Vec<Did>, StoreError> {
        forward!(self, s => s.records_by_key(key_type, key_data).await)
    }

    async fn history(
        &self,
        did: &Did,
        page: &PageRequest<u64>,
    ) -> Result<Page<RegistryHistoryEntry, u64>, StoreError> {
        forward!(self, s => s.history(did, page).await)
    }
}

// ---------------------------------------------------------------------------
// Engine-neutral values the engines bind and read back.

const TABLE: &str = "registry_records";
const KEYS_TABLE: &str = "registry_keys";

/// Checks what the schema's constraints would refuse less helpfully.
pub(crate) fn check_row(row: &RegistryRow, change: &RegistryChange<'_>) -> Result<(), StoreError> {
    check_len("DID", row.did.as_str(), MAX_DID_LEN)?;
    check_len("owner", &row.owner, MAX_OWNER_LEN)?;
    check_len("operation", change.operation, MAX_OPERATION_LEN)?;
    for key in &row.keys {
        key_code(key.key_type)?;
    }
    Ok(())
}

pub(crate) const fn state_code(state: RegistryState) -> i16 {
    match state {
        RegistryState::Created => 0,
        RegistryState::Active => 1,
        RegistryState::Deactivated => 2,
    }
}

pub(crate) fn state_of_code(code: i16) -> Result<RegistryState, StoreError> {
    match code {
        0 => Ok(RegistryState::Created),
        1 => Ok(RegistryState::Active),
        2 => Ok(RegistryState::Deactivated),
        _ => Err(StoreError::corrupt(TABLE, "state is not 0, 1 or 2")),
    }
}

/// The registry integer of a key type.
pub(crate) fn key_code(key_type: KeyType) -> Result<i16, StoreError> {
    crate::row::key_type_code(key_type).ok_or(StoreError::Record(
        sage_core::did::RecordError::NoRegistryCode,
    ))
}

pub(crate) fn key_type_of_code(code: i16) -> Result<KeyType, StoreError> {
    u8::try_from(code)
        .ok()
        .and_then(KeyType::from_registry_code)
        .ok_or(StoreError::corrupt(KEYS_TABLE, "key_type is not 0, 1 or 2"))
}

/// A key position (or endorser position) as an `INTEGER` column.
pub(crate) fn position_column(position: usize) -> Result<i32, StoreError> {
    i32::try_from(position).map_err(|_| StoreError::TooLong {
        field: "keys",
        max: usize::try_from(i32::MAX).unwrap_or(usize::MAX),
    })
}

pub(crate) fn endorser_column(endorsed_by: Option<u32>) -> Result<Option<i32>, StoreError> {
    endorsed_by
        .map(|p| position_column(usize::try_from(p).unwrap_or(usize::MAX)))
        .transpose()
}

pub(crate) fn endorser_of_column(column: Option<i32>) -> Result<Option<u32>, StoreError> {
    column
        .map(|p| {
            u32::try_from(p).map_err(|_| StoreError::corrupt(KEYS_TABLE, "endorsed_by is negative"))
        })
        .transpose()
}

pub(crate) fn version_of_column(version: i64, table: &'static str) -> Result<u64, StoreError> {
    u64::try_from(version).map_err(|_| StoreError::corrupt(table, "version is negative"))
}

pub(crate) fn parse_registry_did(text: &str, table: &'static str) -> Result<Did, StoreError> {
    crate::row::parse_did(text, table)
}

/// Attaches keys (`(did, position, key)` in DID then position order) to
/// their records; a record must get positions 0, 1, 2, ... without gaps.
pub(crate) fn attach_keys(
    records: &mut [RegistryRow],
    keys: Vec<(String, i32, RegistryKeyRow)>,
) -> Result<(), StoreError> {
    for (did, position, key) in keys {
        let record = records
            .iter_mut()
            .find(|r| r.did.as_str() == did)
            .ok_or(StoreError::corrupt(KEYS_TABLE, "key of no listed record"))?;
        if usize::try_from(position).ok() != Some(record.keys.len()) {
            return Err(StoreError::corrupt(KEYS_TABLE, "key positions have a gap"));
        }
        record.keys.push(key);
    }
    Ok(())
}
