//! Building the \[L\] agent card from a registry record (PROTOCOL.md §11.1).
//!
//! Layer: agent card. [`AgentCard::from_record`] projects an AgentMetadataV4
//! record (§8.2) as the Go core's `GenerateA2ACard` does:
//!
//! - `publicKey[]`: the *verified* keys only, in registry order, each with
//!   `id` = `<DID>#key-<n>` where `n` is the registry index plus one, so
//!   ids may have gaps (an unverified second key leaves no `#key-2`);
//! - `service[]`: the record's endpoint as `MessageService`, then any
//!   `{type, uri}` objects with non-empty strings listed under
//!   `capabilities.endpoints`;
//! - `capabilities`: the strings of `capabilities.capabilities` if that is
//!   an array, otherwise of `capabilities.functions`, otherwise the
//!   profile's default pair (`message-signing`, `message-verification`);
//!   left out of the JSON when empty;
//! - `created` / `updated`: the record's timestamps.
//!
//! The card is unsigned; [`super::sign_card`] adds the proof. It does not
//! decide whether the record may be trusted (that is §8.4's job).

use crate::did::{AgentRecord, Did};
use crate::encoding::{b58_encode, hex_encode};
use crate::jcs::{Object, Value};
use crate::time::Timestamp;
use crate::version::Labels;

use super::error::CardError;
use super::vocab::key_type_name;

/// An unsigned \[L\] agent card, every member already in its wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentCard {
    /// `@context`.
    pub context: Vec<String>,
    /// `id`: the agent's DID.
    pub id: Did,
    /// `type`.
    pub types: Vec<String>,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `publicKey[]`.
    pub public_keys: Vec<CardPublicKey>,
    /// `service[]`.
    pub services: Vec<CardService>,
    /// `capabilities` (left out of the JSON when empty).
    pub capabilities: Vec<String>,
    /// `created`.
    pub created: Timestamp,
    /// `updated`.
    pub updated: Timestamp,
}

/// A `publicKey` entry of an [`AgentCard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPublicKey {
    /// `id`: `<DID>#key-<n>`.
    pub id: String,
    /// `type`, e.g. `Ed25519VerificationKey2020`.
    pub key_type: String,
    /// `controller`: the DID.
    pub controller: String,
    /// The raw key bytes, written as `publicKeyBase58` and `publicKeyHex`.
    pub key_data: Vec<u8>,
}

/// A `service` entry of an [`AgentCard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardService {
    /// `type`, e.g. `MessageService`.
    pub service_type: String,
    /// `uri`.
    pub uri: String,
}

impl AgentCard {
    /// Projects `record` into a card (see the module doc for the rules).
    ///
    /// # Errors
    /// [`CardError::UnsupportedKeyType`] if a verified key has no card type
    /// (P-256).
    pub fn from_record(labels: &Labels, record: &AgentRecord) -> Result<Self, CardError> {
        let public_keys = record
            .keys
            .iter()
            .enumerate()
            .filter(|(_, key)| key.verified)
            .map(|(index, key)| {
                Ok(CardPublicKey {
                    id: format!(
                        "{}#{}{}",
                        record.did,
                        labels.card_key_fragment_prefix,
                        index + 1
                    ),
                    key_type: key_type_name(labels, key.key_type)
                        .ok_or(CardError::UnsupportedKeyType)?
                        .to_owned(),
                    controller: record.did.to_string(),
                    key_data: key.key_data.clone(),
                })
            })
            .collect::<Result<Vec<_>, CardError>>()?;
        let mut services = vec![CardService {
            service_type: labels.card_service_type.to_owned(),
            uri: record.endpoint.clone(),
        }];
        services.extend(extra_services(&record.capabilities));
        Ok(Self {
            context: to_strings(labels.card_context),
            id: record.did.clone(),
            types: to_strings(labels.card_types),
            name: record.name.clone(),
            description: record.description.clone(),
            public_keys,
            services,
            capabilities: capability_names(labels, &record.capabilities),
            created: record.created_at,
            updated: record.updated_at,
        })
    }

    /// The card as a JSON value, members in the Go core's order.
    pub fn to_value(&self) -> Value {
        let mut card = Object::with_capacity(10);
        card.insert("@context", strings(&self.context));
        card.insert("id", self.id.as_str().into());
        card.insert("type", strings(&self.types));
        card.insert("name", self.name.as_str().into());
        card.insert("description", self.description.as_str().into());
        card.insert(
            "publicKey",
            Value::Array(
                self.public_keys
                    .iter()
                    .map(CardPublicKey::to_value)
                    .collect(),
            ),
        );
        card.insert(
            "service",
            Value::Array(self.services.iter().map(CardService::to_value).collect()),
        );
        if !self.capabilities.is_empty() {
            card.insert("capabilities", strings(&self.capabilities));
        }
        card.insert("created", self.created.to_rfc3339().into());
        card.insert("updated", self.updated.to_rfc3339().into());
        Value::Object(card)
    }

    /// The card's JSON text, in RFC 8785 canonical form (what
    /// [`super::sign_card`] takes).
    pub fn to_json(&self) -> String {
        canonical_text(&self.to_value())
    }
}

impl CardPublicKey {
    fn to_value(&self) -> Value {
        let mut entry = Object::with_capacity(5);
        entry.insert("id", self.id.as_str().into());
        entry.insert("type", self.key_type.as_str().into());
        entry.insert("controller", self.controller.as_str().into());
        entry.insert("publicKeyBase58", b58_encode(&self.key_data).into());
        entry.insert("publicKeyHex", hex_encode(&self.key_data).into());
        Value::Object(entry)
    }
}

impl CardService {
    fn to_value(&self) -> Value {
        let mut entry = Object::with_capacity(2);
        entry.insert("type", self.service_type.as_str().into());
        entry.insert("uri", self.uri.as_str().into());
        Value::Object(entry)
    }
}

/// The canonical JSON text of `value`. The serialiser writes UTF-8 only, so
/// the lossy conversion never replaces anything.
pub(super) fn canonical_text(value: &Value) -> String {
    String::from_utf8_lossy(&value.to_canonical_bytes()).into_owned()
}

fn to_strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| s.as_str().into()).collect())
}

/// Go's `extractCapabilities`.
fn capability_names(
    labels: &Labels,
    capabilities: &serde_json::Map<String, serde_json::Value>,
) -> Vec<String> {
    let names = |member: &str| {
        capabilities
            .get(member)
            .and_then(serde_json::Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
    };
    // An explicit `capabilities` array is taken as is, even when empty.
    if let Some(listed) = names("capabilities") {
        return listed;
    }
    match names("functions") {
        Some(functions) if !functions.is_empty() => functions,
        _ => to_strings(labels.card_default_capabilities),
    }
}

/// The `{type, uri}` objects of `capabilities.endpoints` with non-empty strings.
fn extra_services(capabilities: &serde_json::Map<String, serde_json::Value>) -> Vec<CardService> {
    capabilities
        .get("endpoints")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|endpoint| {
            let service_type = endpoint.get("type")?.as_str()?;
            let uri = endpoint.get("uri")?.as_str()?;
            (!service_type.is_empty() && !uri.is_empty()).then(|| CardService {
                service_type: service_type.to_owned(),
                uri: uri.to_owned(),
            })
        })
        .collect()
}
