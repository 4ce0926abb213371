//! Between the registry model and the store's rows.
//!
//! Layer: local backend. Key names become positions (and back), the
//! capabilities object its canonical JSON text, states their stored
//! codes. A row that does not map back (a capabilities column that is not
//! a JSON object, an endorser that names no key) is a malformed record.

use sage_core::jcs::canonicalize_serde;
use sage_core::version::Labels;
use sage_store::registry::{RegistryKeyRow, RegistryRow, RegistryState};
use serde_json::Value;

use crate::error::RegistryError;
use crate::model::{KeyEntry, RecordState, RegistryRecord, key_name, key_position};

pub(super) fn to_row(labels: &Labels, record: &RegistryRecord) -> RegistryRow {
    RegistryRow {
        did: record.did.clone(),
        owner: record.owner.clone(),
        state: match record.state {
            RecordState::Created => RegistryState::Created,
            RecordState::Active => RegistryState::Active,
            RecordState::Deactivated => RegistryState::Deactivated,
        },
        version: record.version,
        name: record.name.clone(),
        description: record.description.clone(),
        endpoint: record.endpoint.clone(),
        capabilities: canonical_text(&Value::Object(record.capabilities.clone())),
        keys: record
            .keys
            .iter()
            .map(|k| RegistryKeyRow {
                key_type: k.key_type,
                key_data: k.key_data.clone(),
                proof: k.proof.clone(),
                endorsed_by: k
                    .endorsed_by
                    .as_deref()
                    .and_then(|name| key_position(labels, name))
                    .and_then(|p| u32::try_from(p).ok()),
                added_at: k.added_at,
                revoked_at: k.revoked_at,
            })
            .collect(),
        created_at: record.created_at,
        updated_at: record.updated_at,
    }
}

pub(super) fn from_row(labels: &Labels, row: RegistryRow) -> Result<RegistryRecord, RegistryError> {
    let Ok(Value::Object(capabilities)) = serde_json::from_str::<Value>(&row.capabilities) else {
        return Err(RegistryError::InvalidRecord(
            "capabilities is not a JSON object",
        ));
    };
    let count = row.keys.len();
    let keys = row
        .keys
        .into_iter()
        .enumerate()
        .map(|(position, k)| {
            let endorsed_by = match k.endorsed_by {
                Some(p) if usize::try_from(p).is_ok_and(|p| p < count) => {
                    Some(key_name(labels, usize::try_from(p).unwrap_or(usize::MAX)))
                }
                Some(_) => {
                    return Err(RegistryError::InvalidRecord("endorsed_by names no key"));
                }
                None => None,
            };
            Ok(KeyEntry {
                name: key_name(labels, position),
                key_type: k.key_type,
                key_data: k.key_data,
                proof: k.proof,
                endorsed_by,
                added_at: k.added_at,
                revoked_at: k.revoked_at,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RegistryRecord {
        did: row.did,
        owner: row.owner,
        state: match row.state {
            RegistryState::Created => RecordState::Created,
            RegistryState::Active => RecordState::Active,
            RegistryState::Deactivated => RecordState::Deactivated,
            _ => return Err(RegistryError::InvalidRecord("unknown record state")),
        },
        version: row.version,
        name: row.name,
        description: row.description,
        endpoint: row.endpoint,
        capabilities,
        keys,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// Canonical JSON text (the serialiser writes UTF-8 only).
pub(super) fn canonical_text(value: &Value) -> String {
    String::from_utf8_lossy(&canonicalize_serde(value)).into_owned()
}
