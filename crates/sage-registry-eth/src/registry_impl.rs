//! [`EthRegistry`]: the chain-neutral [`Registry`] of `sage-registry` on
//! an `AgentCardRegistry` deployment (PROTOCOL.md §8.2–§8.4, §9.3, §9.5).
//!
//! Layer: registry backend, an adapter over [`EthRegistryClient`]. It maps
//! the §9.3 operations onto the contract and reads records into the
//! [`ResolvedRecord`] every backend returns:
//!
//! | operation | contract |
//! |---|---|
//! | register | `commitRegistration`, wait, `registerAgentWithParams` (§8.3); [`EthRegistry::commit`] and [`EthRegistry::reveal`] split it for callers that show progress or drive the chain's clock |
//! | activate | `activateAgent` (after the registry's activation delay) |
//! | add key | `addKey` (the chain checks a secp256k1 PoP and key lengths) |
//! | revoke key | `revokeKey(keccak256(key))` |
//! | update | `updateAgent` (endpoint and capabilities; name and description cannot change on chain → `registry.unsupported`) |
//! | deactivate | `deactivateAgent` |
//! | resolve | `getAgentByDID` at one block, plus `agentState` for an inactive record |
//! | list by owner | `getAgentsByOwner` then `getAgent` per record |
//!
//! Authorisation: on chain the transaction's sender (the record's owner
//! account) is the authority, and the contract enforces it. The adapter
//! still checks each request's signature against the controller key, as
//! the local registry does (the first signing key of a registration; the
//! record's first accepted signing key otherwise), so a request means the
//! same on every backend. Nonces, timestamps and versions are not checked:
//! the chain orders transactions itself and records carry no version.
//!
//! Reading: an inactive record is `deactivated` only when the registry's
//! `agentState` extension says so; otherwise (or on a registry without the
//! extension) it is `created` — never the reverse, since a deactivated
//! answer may be cached forever. A KEM key the contract keeps apart from
//! `keys[]` is reported as `public_kem_key` unless an accepted X25519 entry
//! already carries it. Capabilities that are not a JSON object read as
//! empty: they are advisory (§9.2). Key names follow registry positions, so
//! they are stable on our contract, which keeps revoked entries; a deployed
//! registry that drops them renumbers later keys.
//!
//! A node that cannot be reached is `record.unreachable`, never an older
//! answer (the client has no cache).

use core::time::Duration;

use sage_core::did::{AgentKey, AgentRecord, Did};
use sage_core::encoding::hex_encode;
use sage_core::jcs::canonicalize_serde;
use sage_core::primitives::KeyType;
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::model::key_position;
use sage_registry::{
    Activate, AddKey, Deactivate, ListRequest, Listing, Operation, RecordState, Register, Registry,
    RegistryError, RequestBody, ResolvedRecord, RevokeKey, SignedRequest, Source, Unreachable,
    Update,
};
use serde_json::Value;

use crate::client::EthRegistryClient;
use crate::commit::{COMMIT_MIN_DELAY_SECS, key_hash};
use crate::error::EthRegistryError;
use crate::types::{
    AgentState, Committed, NewKey, OnChainAgent, RegistrationRequest, RegistryKeyType,
};

/// The backend name in errors.
pub const BACKEND: &str = "ethereum";

/// Settings of the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EthRegistryOptions {
    /// How long [`Registry::register`] waits between the commit and the
    /// reveal (default: the registry's minimum delay plus 5 s, for the next
    /// block's timestamp).
    pub reveal_wait: Duration,
    /// The profile whose labels (key names) apply.
    pub protocol: ProtocolVersion,
}

impl Default for EthRegistryOptions {
    fn default() -> Self {
        Self {
            reveal_wait: Duration::from_secs(COMMIT_MIN_DELAY_SECS + 5),
            protocol: ProtocolVersion::V1Draft1,
        }
    }
}

impl EthRegistryOptions {
    /// The defaults with another reveal wait.
    pub fn with_reveal_wait(reveal_wait: Duration) -> Self {
        Self {
            reveal_wait,
            ..Self::default()
        }
    }
}

/// A committed registration waiting for its reveal (§8.3 step 1 done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRegistration {
    request: RegistrationRequest,
    committed: Committed,
}

impl PendingRegistration {
    /// The commitment transaction.
    pub fn committed(&self) -> &Committed {
        &self.committed
    }

    /// The DID being registered.
    pub fn did(&self) -> &str {
        &self.request.did
    }
}

/// A [`Registry`] on one `AgentCardRegistry` deployment.
#[derive(Debug)]
pub struct EthRegistry {
    client: EthRegistryClient,
    options: EthRegistryOptions,
}

impl EthRegistry {
    /// The adapter over `client` (which needs a sender for writes).
    pub fn new(client: EthRegistryClient, options: EthRegistryOptions) -> Self {
        Self { client, options }
    }

    /// The client.
    pub fn client(&self) -> &EthRegistryClient {
        &self.client
    }

    fn labels(&self) -> &'static Labels {
        self.options.protocol.labels()
    }

    /// §8.3 step 1: checks the registration (controller signature) and
    /// commits to it with a fresh random salt. Reveal with
    /// [`EthRegistry::reveal`] after the registry's minimum delay.
    ///
    /// # Errors
    /// [`RegistryError::Unauthorized`], [`RegistryError::InvalidRequest`]
    /// for a key type the chain cannot hold, and the mapped client errors.
    pub async fn commit(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<PendingRegistration, RegistryError> {
        let body = request.body();
        let controller = body
            .keys
            .iter()
            .find(|k| matches!(k.key_type, KeyType::Ed25519 | KeyType::Secp256k1))
            .ok_or(sage_registry::RequestProblem::NoSigningKey)?;
        let controller = sage_core::primitives::VerifyingKey::from_bytes(
            controller.key_type,
            &controller.key_data,
        )
        .map_err(|_| RegistryError::Unauthorized)?;
        request
            .verify(&controller)
            .map_err(|_| RegistryError::Unauthorized)?;
        let keys = body
            .keys
            .iter()
            .map(|k| {
                Ok(NewKey {
                    key_type: chain_key_type(k.key_type)?,
                    key_data: k.key_data.clone(),
                    // \[L\] X25519 keys carry no proof on chain.
                    proof: if k.key_type == KeyType::X25519 {
                        Vec::new()
                    } else {
                        k.proof.clone()
                    },
                })
            })
            .collect::<Result<Vec<_>, RegistryError>>()?;
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|_| RegistryError::Rejected {
            backend: BACKEND,
            reason: "the operating system RNG is unavailable".to_owned(),
        })?;
        let registration = RegistrationRequest {
            did: request.header().did.as_str().to_owned(),
            name: body.name.clone(),
            description: body.description.clone(),
            endpoint: body.endpoint.clone(),
            capabilities: capabilities_text(&body.capabilities),
            keys,
            salt,
        };
        let committed = self
            .client
            .commit(&registration)
            .await
            .map_err(|e| from_chain(e, Operation::Register))?;
        Ok(PendingRegistration {
            request: registration,
            committed,
        })
    }

    /// §8.3 step 2: reveals a committed registration (the record is then
    /// `created`; activate it after the registry's activation delay).
    ///
    /// # Errors
    /// The mapped client errors (a reveal too early is
    /// [`RegistryError::Rejected`] with the reason `RevealTooEarly`).
    pub async fn reveal(
        &self,
        pending: &PendingRegistration,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.client
            .register(&pending.request)
            .await
            .map_err(|e| from_chain(e, Operation::Register))?;
        let did = Did::parse(&pending.request.did)?;
        self.read(&did).await
    }

    /// The record of `did`, as the chain holds it now.
    async fn read(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        let agent = self
            .client
            .get_agent_by_did(did.as_str())
            .await
            .map_err(|e| from_chain(e, Operation::Register))?;
        if agent.did != did.as_str() {
            return Err(RegistryError::InvalidRecord(
                "the chain answered with another DID",
            ));
        }
        let state = self.state_of(&agent).await?;
        Ok(ResolvedRecord {
            record: agent_record(&agent)?,
            state,
            version: None,
            observed_at: now(),
            source: Source::Registry,
        })
    }

    async fn state_of(&self, agent: &OnChainAgent) -> Result<RecordState, RegistryError> {
        if agent.is_active {
            return Ok(RecordState::Active);
        }
        match self.client.agent_state(agent.agent_id).await {
            Ok(AgentState::Deactivated) => Ok(RecordState::Deactivated),
            Ok(_) => Ok(RecordState::Created),
            Err(e @ EthRegistryError::Unreachable(_)) => Err(from_chain(e, Operation::Register)),
            // A registry without the extension: inactive is all we know.
            Err(_) => Ok(RecordState::Created),
        }
    }

    /// Reads the record, checks the request against its controller, and
    /// returns the record's chain id.
    async fn authorise<B: RequestBody>(
        &self,
        request: &SignedRequest<B>,
    ) -> Result<([u8; 32], sage_registry::ResolvedRecord), RegistryError> {
        let did = &request.header().did;
        let agent_id = self
            .client
            .agent_id_of(did.as_str())
            .await
            .map_err(|e| from_chain(e, B::OPERATION))?;
        let current = self.read(did).await?;
        let controller = current
            .record
            .keys
            .iter()
            .filter(|k| k.verified)
            .find_map(|k| {
                sage_core::primitives::VerifyingKey::from_bytes(k.key_type, &k.key_data).ok()
            })
            .ok_or(RegistryError::Unauthorized)?;
        request
            .verify(&controller)
            .map_err(|_| RegistryError::Unauthorized)?;
        Ok((agent_id, current))
    }
}

impl Registry for EthRegistry {
    async fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let pending = self.commit(request).await?;
        tokio::time::sleep(self.options.reveal_wait).await;
        self.reveal(&pending).await
    }

    async fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let (agent_id, _) = self.authorise(request).await?;
        self.client
            .activate(agent_id)
            .await
            .map_err(|e| from_chain(e, Operation::Activate))?;
        self.read(&request.header().did).await
    }

    async fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let (agent_id, _) = self.authorise(request).await?;
        let key = &request.body().key;
        let new_key = NewKey {
            key_type: chain_key_type(key.key_type)?,
            key_data: key.key_data.clone(),
            proof: if key.key_type == KeyType::X25519 {
                Vec::new()
            } else {
                key.proof.clone()
            },
        };
        self.client
            .add_key(agent_id, &new_key)
            .await
            .map_err(|e| from_chain(e, Operation::AddKey))?;
        self.read(&request.header().did).await
    }

    async fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let (agent_id, current) = self.authorise(request).await?;
        let key = key_position(self.labels(), &request.body().key)
            .and_then(|position| current.record.keys.get(position))
            .ok_or(RegistryError::KeyNotInRecord)?;
        self.client
            .revoke_key(agent_id, key_hash(&key.key_data))
            .await
            .map_err(|e| from_chain(e, Operation::RevokeKey))?;
        self.read(&request.header().did).await
    }

    async fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let body = request.body();
        if body.name.is_some() || body.description.is_some() {
            return Err(RegistryError::Unsupported {
                operation: Operation::Update,
            });
        }
        let (agent_id, current) = self.authorise(request).await?;
        let endpoint = body.endpoint.as_ref().unwrap_or(&current.record.endpoint);
        let capabilities = capabilities_text(
            body.capabilities
                .as_ref()
                .unwrap_or(&current.record.capabilities),
        );
        self.client
            .update_agent(agent_id, endpoint, &capabilities)
            .await
            .map_err(|e| from_chain(e, Operation::Update))?;
        self.read(&request.header().did).await
    }

    async fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let (agent_id, _) = self.authorise(request).await?;
        self.client
            .deactivate(agent_id)
            .await
            .map_err(|e| from_chain(e, Operation::Deactivate))?;
        self.read(&request.header().did).await
    }

    async fn resolve(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        self.read(did).await
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> Result<Listing, RegistryError> {
        let limit = usize::try_from(page.checked_limit()?).unwrap_or(usize::MAX);
        let address = parse_address(owner).ok_or(sage_registry::RequestProblem::BadOwner)?;
        let ids = self
            .client
            .agents_by_owner(address)
            .await
            .map_err(|e| from_chain(e, Operation::Register))?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let agent = self
                .client
                .get_agent(id)
                .await
                .map_err(|e| from_chain(e, Operation::Register))?;
            let state = self.state_of(&agent).await?;
            items.push(ResolvedRecord {
                record: agent_record(&agent)?,
                state,
                version: None,
                observed_at: now(),
                source: Source::Registry,
            });
        }
        items.sort_by(|a, b| a.record.did.as_str().cmp(b.record.did.as_str()));
        items.retain(|r| {
            page.after
                .as_deref()
                .is_none_or(|after| r.record.did.as_str() > after)
        });
        let full = items.len() > limit;
        items.truncate(limit);
        let next = items.last().filter(|_| full).map(|last| ListRequest {
            limit: page.limit,
            after: Some(last.record.did.as_str().to_owned()),
        });
        Ok(Listing { items, next })
    }
}

/// The wall clock (the observation time of a read).
fn now() -> Timestamp {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Timestamp::new(
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            d.subsec_nanos(),
        ),
        Err(_) => Timestamp::default(),
    }
}

fn chain_key_type(key_type: KeyType) -> Result<RegistryKeyType, RegistryError> {
    match key_type {
        KeyType::Secp256k1 => Ok(RegistryKeyType::Secp256k1),
        KeyType::Ed25519 => Ok(RegistryKeyType::Ed25519),
        KeyType::X25519 => Ok(RegistryKeyType::X25519),
        other => Err(sage_registry::RequestProblem::UnsupportedKeyType(other.name()).into()),
    }
}

fn capabilities_text(capabilities: &serde_json::Map<String, Value>) -> String {
    String::from_utf8_lossy(&canonicalize_serde(&Value::Object(capabilities.clone()))).into_owned()
}

/// `0x` and 40 hex digits, either case.
fn parse_address(text: &str) -> Option<[u8; 20]> {
    let digits = text.strip_prefix("0x")?;
    let bytes = sage_core::encoding::hex_decode(digits).ok()?;
    bytes.try_into().ok()
}

/// An on-chain record in the \[L\] AgentMetadataV4 shape.
fn agent_record(agent: &OnChainAgent) -> Result<AgentRecord, RegistryError> {
    let time = |seconds: u64| {
        i64::try_from(seconds)
            .map(Timestamp::from_unix_seconds)
            .map_err(|_| RegistryError::InvalidRecord("a time out of range"))
    };
    let keys = agent
        .keys
        .iter()
        .map(|k| {
            let key_type = match k.kind() {
                Some(RegistryKeyType::Secp256k1) => KeyType::Secp256k1,
                Some(RegistryKeyType::Ed25519) => KeyType::Ed25519,
                Some(RegistryKeyType::X25519) => KeyType::X25519,
                _ => return Err(RegistryError::InvalidRecord("an unknown key type")),
            };
            Ok(AgentKey {
                key_type,
                key_data: k.key_data.clone(),
                signature: k.signature.clone(),
                verified: k.verified,
                created_at: time(k.created_at)?,
            })
        })
        .collect::<Result<Vec<_>, RegistryError>>()?;
    let separate_kem = agent.public_kem_key.filter(|kem| {
        !keys
            .iter()
            .any(|k| k.verified && k.key_type == KeyType::X25519 && k.key_data == kem)
    });
    let capabilities = match serde_json::from_str::<Value>(&agent.capabilities) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    Ok(AgentRecord {
        did: Did::parse(&agent.did)
            .map_err(|_| RegistryError::InvalidRecord("the chain's DID does not parse"))?,
        name: agent.name.clone(),
        description: agent.description.clone(),
        endpoint: agent.endpoint.clone(),
        keys,
        capabilities,
        owner: format!("0x{}", hex_encode(&agent.owner)),
        is_active: agent.is_active,
        public_kem_key: separate_kem.map(|kem| kem.to_vec()),
        created_at: time(agent.created_at)?,
        updated_at: time(agent.updated_at)?,
    })
}

/// A client error as a registry error. Transport failures are
/// `record.unreachable`; the contract's custom errors map to the registry
/// codes they mean; anything else is `registry.rejected` with its reason.
fn from_chain(error: EthRegistryError, operation: Operation) -> RegistryError {
    let unreachable = |error: &EthRegistryError| {
        let detail = match std::error::Error::source(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => error.to_string(),
        };
        RegistryError::Unreachable(Unreachable::Remote {
            backend: BACKEND,
            detail,
        })
    };
    match error {
        EthRegistryError::NotFound => RegistryError::NotFound,
        EthRegistryError::Malformed { what } => RegistryError::InvalidRecord(what),
        EthRegistryError::Reverted { reason, .. } => match reason.as_str() {
            "NotAgentOwner" | "DidNotOwnedBySender" => RegistryError::Unauthorized,
            "InvalidProof" => RegistryError::BadPop {
                key: "a key of the request".to_owned(),
            },
            "AgentIsDeactivated" => RegistryError::ForbiddenTransition {
                operation,
                state: RecordState::Deactivated,
            },
            "AlreadyActive" => RegistryError::ForbiddenTransition {
                operation,
                state: RecordState::Active,
            },
            "LastSigningKey" => RegistryError::LastSigningKey,
            "KeyNotFound" => RegistryError::KeyNotInRecord,
            "KeyAlreadyRevoked" => RegistryError::KeyRevoked,
            _ => RegistryError::Rejected {
                backend: BACKEND,
                reason,
            },
        },
        e @ (EthRegistryError::Unreachable(_)
        | EthRegistryError::NoContract
        | EthRegistryError::ChainIdMismatch { .. }
        | EthRegistryError::ReceiptTimeout) => unreachable(&e),
        other => RegistryError::Rejected {
            backend: BACKEND,
            reason: other.to_string(),
        },
    }
}
