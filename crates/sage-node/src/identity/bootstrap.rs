//! The node's DID, and its record in the registry on start.
//!
//! Layer: node, wiring between the key files ([`super::keystore`]) and the
//! registry (sage-registry). It decides which DID the node is, then makes
//! sure the registry agrees that the node's keys are that DID's keys:
//!
//! - **DID**: `identity.did` when configured; otherwise the chain address
//!   the signing key implies. For secp256k1 that is `sage did register`'s
//!   rule, `did:sage:ethereum:<lower-case address>` (PROTOCOL.md §8.1);
//!   for Ed25519 it is `did:sage:solana:<base58 public key>`, because a
//!   Solana address *is* the base58 Ed25519 public key (the form of the
//!   §8.1 `solana` example). The DID is a function of the key, so a
//!   restart finds the same one.
//! - **local registry**: on first start the record is registered with the
//!   signing key (its SAGE-PoP, §8.5) and the KEM key endorsed by it
//!   (sage-registry `endorse`), then activated. On later starts nothing is
//!   written, unless the record lacks the KEM key (added, endorsed) or
//!   names another endpoint (updated). Each write is signed by the node's
//!   key and goes through the caching resolver, so the cache follows.
//! - **Ethereum registry**: nothing is written (registration costs gas
//!   and waits out a commit-reveal). The record must already be active and
//!   hold both keys; otherwise start fails with what to run.
//!
//! Invariants: the node never starts as a DID whose active record does not
//! list its signing key and its KEM key as accepted; a deactivated record
//! is never revived (§9.3).

use core::fmt;

use sage_core::did::{AgentRecord, Chain, Did, DidError};
use sage_core::encoding::b58_encode;
use sage_core::primitives::{KeyType, SigningKey, VerifyingKey, X25519PublicKey};
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::model::key_name;
use sage_registry::{
    Activate, AddKey, NewKey, RecordState, Register, Registry, RegistryError, RegistryRecord,
    Request, RequestBody, RequestHeader, SignedRequest, Update,
};

use super::NodeIdentity;
use super::keystore::{KeyRole, LoadedKeys};
use crate::registry::{AnyRegistry, NodeResolver};

/// Most writes one start makes (register, activate, add the KEM key,
/// update the endpoint); a loop that needs more is a bug or a race.
const MAX_WRITES: usize = 4;

/// Why the node's identity could not be established.
#[derive(Debug)]
#[non_exhaustive]
pub enum BootstrapError {
    /// `identity.did` does not parse.
    BadDid(DidError),
    /// No DID is configured and the signing key implies none (P-256).
    NoDerivableDid,
    /// The registry failed or refused a request.
    Registry(RegistryError),
    /// The Ethereum registry has no record for the DID.
    NotRegistered {
        /// The DID.
        did: Did,
    },
    /// The record exists but is not active.
    NotActive {
        /// The DID.
        did: Did,
        /// Its state.
        state: RecordState,
    },
    /// The active record does not list one of the node's keys as accepted.
    KeyNotInRecord {
        /// The DID.
        did: Did,
        /// Which key.
        role: KeyRole,
    },
    /// The record kept changing under the node during start.
    Unsettled {
        /// The DID.
        did: Did,
    },
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadDid(e) => write!(f, "identity.did is not a did:sage DID: {e}"),
            Self::NoDerivableDid => f.write_str(
                "identity.did is not set and the signing key implies no DID \
                 (only Ed25519 and secp256k1 keys do)",
            ),
            Self::Registry(e) => write!(f, "registry: {e}"),
            Self::NotRegistered { did } => write!(
                f,
                "{did} is not registered in the Ethereum registry; the node does not register \
                 on chain by itself. Register and activate it first, with the node's key files: \
                 `sage did register --registry ethereum --did {did} --key <identity.signing_key> \
                 --kem-key <identity.kem_key> --name NAME --endpoint URL`, then \
                 `sage did activate --registry ethereum {did} --key <identity.signing_key>` \
                 (or set identity.did to the DID the node's keys are registered under)"
            ),
            Self::NotActive { did, state } => match state {
                RecordState::Deactivated => write!(
                    f,
                    "{did} is deactivated, for good; give the node another identity.did \
                     or other key files"
                ),
                _ => write!(
                    f,
                    "{did} is {state}, not active: run `sage did activate --registry ethereum \
                     {did} --key <identity.signing_key>`"
                ),
            },
            Self::KeyNotInRecord { did, role } => write!(
                f,
                "the record of {did} does not list the node's {role} as an accepted key \
                 (other key files than the ones registered?); add it with `sage did add-key`"
            ),
            Self::Unsettled { did } => write!(
                f,
                "the record of {did} kept changing while the node started; try again"
            ),
        }
    }
}

impl std::error::Error for BootstrapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::BadDid(e) => Some(e),
            Self::Registry(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RegistryError> for BootstrapError {
    fn from(e: RegistryError) -> Self {
        Self::Registry(e)
    }
}

/// What the registry record of a new node says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// The URL other agents reach the node at.
    pub endpoint: String,
}

/// The established identity and its active record.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The node's identity.
    pub identity: NodeIdentity,
    /// Its active record (AgentMetadataV4), as the registry answered.
    pub record: AgentRecord,
    /// Whether this start registered the DID.
    pub registered: bool,
}

/// The node's DID: `configured` when given, else the one `key` implies
/// (see the module doc).
///
/// # Errors
/// [`BootstrapError::BadDid`] for a configured DID that does not parse;
/// [`BootstrapError::NoDerivableDid`] for a key type without an address.
pub fn node_did(configured: Option<&str>, key: &VerifyingKey) -> Result<Did, BootstrapError> {
    if let Some(text) = configured {
        return Did::parse(text).map_err(BootstrapError::BadDid);
    }
    match key.key_type() {
        KeyType::Secp256k1 => {
            let address = key
                .ethereum_address()
                .ok_or(BootstrapError::NoDerivableDid)?;
            Did::new(Chain::Ethereum, &address).map_err(BootstrapError::BadDid)
        }
        KeyType::Ed25519 => {
            Did::new(Chain::Solana, &b58_encode(&key.to_bytes())).map_err(BootstrapError::BadDid)
        }
        _ => Err(BootstrapError::NoDerivableDid),
    }
}

/// Establishes the node's identity for `keys` in the configured registry
/// (see the module doc for what each backend does).
///
/// # Errors
/// Any [`BootstrapError`].
pub async fn bootstrap(
    resolver: &NodeResolver,
    keys: LoadedKeys,
    configured_did: Option<&str>,
    profile: &Profile,
) -> Result<Bootstrapped, BootstrapError> {
    let did = node_did(configured_did, &keys.signing.verifying_key())?;
    let registered = match resolver.registry() {
        AnyRegistry::Local(local) => {
            settle_local(
                resolver,
                local,
                &did,
                &keys.signing,
                &keys.kem.public_key(),
                profile,
            )
            .await?
        }
        AnyRegistry::Ethereum(_) => false,
    };
    // Read past the cache: the state the node starts on is the registry's.
    let resolved = match resolver.registry().resolve(&did).await {
        Err(RegistryError::NotFound) => return Err(BootstrapError::NotRegistered { did }),
        Err(RegistryError::Inactive { state }) => {
            return Err(BootstrapError::NotActive { did, state });
        }
        other => other?,
    };
    if resolved.state != RecordState::Active {
        return Err(BootstrapError::NotActive {
            did,
            state: resolved.state,
        });
    }
    let record = resolved.record;
    let signing = keys.signing.verifying_key().to_bytes();
    let kem = keys.kem.public_key();
    let lists = |key_type: KeyType, bytes: &[u8]| {
        record
            .keys
            .iter()
            .any(|k| k.verified && k.key_type == key_type && k.key_data == bytes)
    };
    if !lists(keys.signing.key_type(), &signing) {
        return Err(BootstrapError::KeyNotInRecord {
            did,
            role: KeyRole::Signing,
        });
    }
    if !lists(KeyType::X25519, kem.as_bytes()) {
        return Err(BootstrapError::KeyNotInRecord {
            did,
            role: KeyRole::Kem,
        });
    }
    Ok(Bootstrapped {
        identity: NodeIdentity::new(did, keys.signing, keys.kem),
        record,
        registered,
    })
}

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn signed<B: RequestBody>(did: &Did, version: u64, body: B, key: &SigningKey) -> SignedRequest<B> {
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let header = RequestHeader::new(
        did.clone(),
        version,
        sage_store::instant::system_now(),
        &mut rng,
    );
    Request::new(header, body).sign(key)
}

/// Brings the local record of `did` to active with both keys and the
/// endpoint; returns whether it registered the DID.
async fn settle_local(
    resolver: &NodeResolver,
    local: &sage_registry::LocalRegistry<sage_store::Store>,
    did: &Did,
    signing: &SigningKey,
    kem: &X25519PublicKey,
    profile: &Profile,
) -> Result<bool, BootstrapError> {
    let mut registered = false;
    for _ in 0..MAX_WRITES {
        let record = match local.record(did).await {
            Err(RegistryError::NotFound) => {
                let keys = vec![
                    NewKey::signing(labels(), signing, did)
                        .map_err(|_| BootstrapError::NoDerivableDid)?,
                    NewKey::kem(labels(), did, kem, signing, &key_name(labels(), 0)),
                ];
                let body = Register {
                    name: profile.name.clone(),
                    description: profile.description.clone(),
                    endpoint: profile.endpoint.clone(),
                    capabilities: serde_json::Map::new(),
                    keys,
                };
                resolver.register(&signed(did, 0, body, signing)).await?;
                tracing::info!(%did, "registered the node's DID in the local registry");
                registered = true;
                continue;
            }
            other => other?,
        };
        match next_step(&record, signing, kem, profile) {
            Step::Done => return Ok(registered),
            Step::Refuse(error) => return Err(error),
            Step::Activate => {
                resolver
                    .activate(&signed(did, record.version, Activate, signing))
                    .await?;
                tracing::info!(%did, "activated the node's DID");
            }
            Step::AddKem { endorser } => {
                let key = NewKey::kem(labels(), did, kem, signing, &endorser);
                resolver
                    .add_key(&signed(did, record.version, AddKey { key }, signing))
                    .await?;
                tracing::info!(%did, "added the node's KEM key to its record");
            }
            Step::UpdateEndpoint => {
                let body = Update {
                    name: None,
                    description: None,
                    endpoint: Some(profile.endpoint.clone()),
                    capabilities: None,
                };
                resolver
                    .update(&signed(did, record.version, body, signing))
                    .await?;
                tracing::info!(%did, endpoint = %profile.endpoint, "updated the node's endpoint");
            }
        }
    }
    Err(BootstrapError::Unsettled { did: did.clone() })
}

/// What a local record still needs.
enum Step {
    Done,
    Activate,
    AddKem { endorser: String },
    UpdateEndpoint,
    Refuse(BootstrapError),
}

fn next_step(
    record: &RegistryRecord,
    signing: &SigningKey,
    kem: &X25519PublicKey,
    profile: &Profile,
) -> Step {
    let did = record.did.clone();
    let signing_bytes = signing.verifying_key().to_bytes();
    let own_signing = record
        .keys
        .iter()
        .find(|k| k.is_signing() && k.is_accepted() && k.key_data == signing_bytes);
    let Some(own_signing) = own_signing else {
        return Step::Refuse(BootstrapError::KeyNotInRecord {
            did,
            role: KeyRole::Signing,
        });
    };
    match record.state {
        RecordState::Deactivated => Step::Refuse(BootstrapError::NotActive {
            did,
            state: record.state,
        }),
        RecordState::Created => Step::Activate,
        _ => {
            let has_kem = record.keys.iter().any(|k| {
                k.key_type == KeyType::X25519 && k.is_accepted() && k.key_data == kem.as_bytes()
            });
            if !has_kem {
                Step::AddKem {
                    endorser: own_signing.name.clone(),
                }
            } else if record.endpoint != profile.endpoint {
                Step::UpdateEndpoint
            } else {
                Step::Done
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> impl sage_core::rand_core::CryptoRng {
        getrandom::rand_core::UnwrapErr(getrandom::SysRng)
    }

    #[test]
    fn an_ed25519_key_implies_its_solana_address_and_always_the_same_one() {
        let key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
        let did = node_did(None, &key.verifying_key()).unwrap();
        assert_eq!(did.chain(), Chain::Solana);
        assert_eq!(
            did.identifier(),
            b58_encode(&key.verifying_key().to_bytes())
        );
        assert_eq!(node_did(None, &key.verifying_key()).unwrap(), did);
    }

    #[test]
    fn a_secp256k1_key_implies_its_ethereum_address_as_the_cli_does() {
        let key = SigningKey::generate(KeyType::Secp256k1, &mut rng()).unwrap();
        let did = node_did(None, &key.verifying_key()).unwrap();
        let address = key.verifying_key().ethereum_address().unwrap();
        assert_eq!(did.as_str(), format!("did:sage:ethereum:{address}"));
    }

    #[test]
    fn a_configured_did_wins_and_a_malformed_one_is_refused() {
        let key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
        let did = node_did(Some("did:sage:ethereum:node-one"), &key.verifying_key()).unwrap();
        assert_eq!(did.as_str(), "did:sage:ethereum:node-one");
        assert!(matches!(
            node_did(Some("did:web:example.com"), &key.verifying_key()),
            Err(BootstrapError::BadDid(_))
        ));
    }
}
