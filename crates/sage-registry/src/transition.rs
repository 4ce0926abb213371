//! The state machine of §9.3 and the admission of keys (§8.5, §9.4), as
//! pure functions from a record and a request body to the next record.
//!
//! Layer: registry model, no I/O, no authorisation (the caller has checked
//! the controller's signature, the freshness, the nonce and the version).
//!
//! ```text
//! (absent) --register--> created --activate--> active
//!                           |                    |  add-key, revoke-key, update
//!                           +---deactivate---> deactivated <---deactivate---+
//! ```
//!
//! Every other (operation, state) pair is
//! [`RegistryError::ForbiddenTransition`]; deactivated is terminal. Each
//! change increases the version by exactly one and sets `updated_at`.
//!
//! Key admission: a key is accepted only if its bytes are a valid key of a
//! registrable type, appear nowhere else in the record (revoked keys
//! included: keys are never reused), and its proof holds — a signing key's
//! SAGE-PoP for the DID (§8.5), or an X25519 key's endorsement by an
//! accepted signing key of the same record ([`crate::endorse`]). Signing
//! keys are admitted before the X25519 keys of the same registration, so an
//! endorser may come later in the list. A record holds at most
//! [`MAX_KEYS`] entries over its life.

use sage_core::did::{Did, verify_pop};
use sage_core::jcs::canonicalize_serde;
use sage_core::primitives::{KeyType, VerifyingKey};
use sage_core::time::Timestamp;
use sage_core::version::Labels;
use serde_json::{Map, Value};

use crate::endorse::verify_kem_endorsement;
use crate::error::{RegistryError, RequestProblem};
use crate::model::{KeyEntry, RecordState, RegistryRecord, key_name, owner_label};
use crate::request::{AddKey, NewKey, Operation, Register, RevokeKey, Update};

/// Most key entries a record holds over its life (§9.3 \[N\]: 128).
pub const MAX_KEYS: usize = 128;
/// Longest DID the registry accepts, in bytes (§8.7 \[N\]: 256).
pub const MAX_DID_LEN: usize = 256;
/// Longest display name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest description, in bytes.
pub const MAX_DESCRIPTION_LEN: usize = 4096;
/// Longest endpoint URL, in bytes (§9.1 \[N\]: 2048).
pub const MAX_ENDPOINT_LEN: usize = 2048;
/// Largest capabilities object, in canonical JSON bytes.
pub const MAX_CAPABILITIES_LEN: usize = 16 * 1024;
/// Largest version: versions are stored in signed 64-bit columns.
pub const MAX_VERSION: u64 = i64::MAX.cast_unsigned();

/// A new record in state `created` at version 1.
pub(crate) fn register(
    labels: &Labels,
    did: &Did,
    body: &Register,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    check_did(did)?;
    check_name(&body.name)?;
    check_description(&body.description)?;
    check_endpoint(&body.endpoint)?;
    check_capabilities(&body.capabilities)?;
    if body.keys.len() > MAX_KEYS {
        return Err(RequestProblem::TooManyKeys { max: MAX_KEYS }.into());
    }
    let mut keys: Vec<KeyEntry> = Vec::with_capacity(body.keys.len());
    for (position, key) in body.keys.iter().enumerate() {
        let name = key_name(labels, position);
        let key_data = canonical_key_bytes(&name, key)?;
        if keys.iter().any(|k| k.key_data == key_data) {
            return Err(RequestProblem::DuplicateKey(name).into());
        }
        keys.push(KeyEntry {
            name,
            key_type: key.key_type,
            key_data,
            proof: key.proof.clone(),
            endorsed_by: key.endorsed_by.clone(),
            added_at: now,
            revoked_at: None,
        });
    }
    // Signing keys first: an X25519 key's endorser must already be proven.
    for key in keys.iter().filter(|k| k.is_signing()) {
        check_signing_proof(labels, did, key)?;
    }
    for key in keys.iter().filter(|k| !k.is_signing()) {
        check_endorsement(labels, did, &keys, key)?;
    }
    let controller = keys
        .iter()
        .find_map(KeyEntry::verifying_key)
        .ok_or(RequestProblem::NoSigningKey)?;
    Ok(RegistryRecord {
        did: did.clone(),
        owner: owner_label(&controller),
        state: RecordState::Created,
        version: 1,
        name: body.name.clone(),
        description: body.description.clone(),
        endpoint: body.endpoint.clone(),
        capabilities: body.capabilities.clone(),
        keys,
        created_at: now,
        updated_at: now,
    })
}

/// `created` → `active`.
pub(crate) fn activate(
    record: &RegistryRecord,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    require_state(record, Operation::Activate, &[RecordState::Created])?;
    let mut next = bump(record, now)?;
    next.state = RecordState::Active;
    Ok(next)
}

/// Appends a key to an active record.
pub(crate) fn add_key(
    labels: &Labels,
    record: &RegistryRecord,
    body: &AddKey,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    require_state(record, Operation::AddKey, &[RecordState::Active])?;
    if record.keys.len() >= MAX_KEYS {
        return Err(RequestProblem::TooManyKeys { max: MAX_KEYS }.into());
    }
    let name = key_name(labels, record.keys.len());
    let key_data = canonical_key_bytes(&name, &body.key)?;
    if record.keys.iter().any(|k| k.key_data == key_data) {
        return Err(RequestProblem::DuplicateKey(name).into());
    }
    let entry = KeyEntry {
        name,
        key_type: body.key.key_type,
        key_data,
        proof: body.key.proof.clone(),
        endorsed_by: body.key.endorsed_by.clone(),
        added_at: now,
        revoked_at: None,
    };
    if entry.is_signing() {
        check_signing_proof(labels, &record.did, &entry)?;
    } else {
        check_endorsement(labels, &record.did, &record.keys, &entry)?;
    }
    let mut next = bump(record, now)?;
    next.keys.push(entry);
    Ok(next)
}

/// Revokes a key of an active record; the entry stays.
pub(crate) fn revoke_key(
    record: &RegistryRecord,
    body: &RevokeKey,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    require_state(record, Operation::RevokeKey, &[RecordState::Active])?;
    let key = record.key(&body.key).ok_or(RegistryError::KeyNotInRecord)?;
    if !key.is_accepted() {
        return Err(RegistryError::KeyRevoked);
    }
    if key.is_signing() && record.accepted_signing_keys() <= 1 {
        return Err(RegistryError::LastSigningKey);
    }
    let mut next = bump(record, now)?;
    for entry in next.keys.iter_mut().filter(|k| k.name == body.key) {
        entry.revoked_at = Some(now);
    }
    Ok(next)
}

/// Changes descriptive fields of an active record.
pub(crate) fn update(
    record: &RegistryRecord,
    body: &Update,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    require_state(record, Operation::Update, &[RecordState::Active])?;
    if body.name.is_none()
        && body.description.is_none()
        && body.endpoint.is_none()
        && body.capabilities.is_none()
    {
        return Err(RequestProblem::EmptyUpdate.into());
    }
    let mut next = bump(record, now)?;
    if let Some(name) = &body.name {
        check_name(name)?;
        next.name.clone_from(name);
    }
    if let Some(description) = &body.description {
        check_description(description)?;
        next.description.clone_from(description);
    }
    if let Some(endpoint) = &body.endpoint {
        check_endpoint(endpoint)?;
        next.endpoint.clone_from(endpoint);
    }
    if let Some(capabilities) = &body.capabilities {
        check_capabilities(capabilities)?;
        next.capabilities.clone_from(capabilities);
    }
    Ok(next)
}

/// `created` or `active` → `deactivated`.
pub(crate) fn deactivate(
    record: &RegistryRecord,
    now: Timestamp,
) -> Result<RegistryRecord, RegistryError> {
    require_state(
        record,
        Operation::Deactivate,
        &[RecordState::Created, RecordState::Active],
    )?;
    let mut next = bump(record, now)?;
    next.state = RecordState::Deactivated;
    Ok(next)
}

fn require_state(
    record: &RegistryRecord,
    operation: Operation,
    allowed: &[RecordState],
) -> Result<(), RegistryError> {
    if allowed.contains(&record.state) {
        Ok(())
    } else {
        Err(RegistryError::ForbiddenTransition {
            operation,
            state: record.state,
        })
    }
}

/// The record at the next version, changed at `now`.
fn bump(record: &RegistryRecord, now: Timestamp) -> Result<RegistryRecord, RegistryError> {
    let version = record
        .version
        .checked_add(1)
        .filter(|v| *v <= MAX_VERSION)
        .ok_or(RequestProblem::VersionExhausted)?;
    let mut next = record.clone();
    next.version = version;
    next.updated_at = now;
    Ok(next)
}

/// The key's bytes in their canonical §3.1 form, after checking the type,
/// the bytes and the presence of `endorsed_by` exactly on X25519 keys.
fn canonical_key_bytes(name: &str, key: &NewKey) -> Result<Vec<u8>, RegistryError> {
    let invalid = |cause| RequestProblem::InvalidKey {
        name: name.to_owned(),
        cause,
    };
    match key.key_type {
        KeyType::Ed25519 | KeyType::Secp256k1 => {
            if key.endorsed_by.is_some() {
                return Err(RequestProblem::Endorsement(name.to_owned()).into());
            }
            let public = VerifyingKey::from_bytes(key.key_type, &key.key_data).map_err(invalid)?;
            Ok(public.to_bytes())
        }
        KeyType::X25519 => {
            if key.endorsed_by.is_none() {
                return Err(RequestProblem::Endorsement(name.to_owned()).into());
            }
            if key.key_data.len() != KeyType::X25519.public_key_len() {
                return Err(invalid(sage_core::primitives::KeyError::PublicKeyLength {
                    expected: KeyType::X25519.public_key_len(),
                    found: key.key_data.len(),
                })
                .into());
            }
            // The all-zero point makes every shared secret zero.
            if key.key_data.iter().all(|b| *b == 0) {
                return Err(invalid(sage_core::primitives::KeyError::InvalidPublicKey).into());
            }
            Ok(key.key_data.clone())
        }
        other => Err(RequestProblem::UnsupportedKeyType(other.name()).into()),
    }
}

fn check_signing_proof(labels: &Labels, did: &Did, key: &KeyEntry) -> Result<(), RegistryError> {
    let bad = || RegistryError::BadPop {
        key: key.name.clone(),
    };
    let public = key.verifying_key().ok_or_else(bad)?;
    verify_pop(labels, &public, did, &key.proof).map_err(|_| bad())
}

/// Checks an X25519 key's endorsement by the accepted signing key its
/// `endorsed_by` names among `keys`.
fn check_endorsement(
    labels: &Labels,
    did: &Did,
    keys: &[KeyEntry],
    key: &KeyEntry,
) -> Result<(), RegistryError> {
    let unknown = || RequestProblem::UnknownEndorser(key.name.clone());
    let signer_name = key.endorsed_by.as_deref().ok_or_else(unknown)?;
    let signer = keys
        .iter()
        .find(|k| k.name == signer_name && k.is_signing() && k.is_accepted())
        .and_then(KeyEntry::verifying_key)
        .ok_or_else(unknown)?;
    verify_kem_endorsement(labels, did, &key.key_data, &signer, &key.proof).map_err(|_| {
        RegistryError::BadPop {
            key: key.name.clone(),
        }
    })
}

fn check_did(did: &Did) -> Result<(), RegistryError> {
    check_len("did", did.as_str(), MAX_DID_LEN)
}

fn check_name(name: &str) -> Result<(), RegistryError> {
    if name.is_empty() {
        return Err(RequestProblem::Empty("name").into());
    }
    check_len("name", name, MAX_NAME_LEN)
}

fn check_description(description: &str) -> Result<(), RegistryError> {
    check_len("description", description, MAX_DESCRIPTION_LEN)
}

/// An absolute `http`/`https` URL with a host, no user information and no
/// fragment.
fn check_endpoint(endpoint: &str) -> Result<(), RegistryError> {
    if endpoint.is_empty() {
        return Err(RequestProblem::Empty("endpoint").into());
    }
    check_len("endpoint", endpoint, MAX_ENDPOINT_LEN)?;
    let url = url::Url::parse(endpoint).map_err(|_| RequestProblem::BadEndpoint)?;
    let acceptable = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|h| !h.is_empty())
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none();
    if acceptable {
        Ok(())
    } else {
        Err(RequestProblem::BadEndpoint.into())
    }
}

fn check_capabilities(capabilities: &Map<String, Value>) -> Result<(), RegistryError> {
    let size = canonicalize_serde(&Value::Object(capabilities.clone())).len();
    if size > MAX_CAPABILITIES_LEN {
        return Err(RequestProblem::TooLong {
            field: "capabilities",
            max: MAX_CAPABILITIES_LEN,
        }
        .into());
    }
    Ok(())
}

fn check_len(field: &'static str, value: &str, max: usize) -> Result<(), RegistryError> {
    if value.len() > max {
        Err(RequestProblem::TooLong { field, max }.into())
    } else {
        Ok(())
    }
}
