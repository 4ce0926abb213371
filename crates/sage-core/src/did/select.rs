//! Which keys of a registry record may be used (PROTOCOL.md §8.4, §8.5).
//!
//! Layer: identifier, on top of the record and the proof of possession.
//!
//! Key selection is the Go core's (the \[L\] spec is silent):
//!
//! 1. reject the record if it is not active;
//! 2. skip keys that are not verified;
//! 3. signing key = the first verified secp256k1 ("ECDSA") key, otherwise
//!    the first verified Ed25519 key — secp256k1 wins even when an Ed25519
//!    key comes earlier; no signing key is an error;
//! 4. KEM key = `public_kem_key` when present, otherwise the first verified
//!    X25519 key of exactly 32 bytes; a record without one can verify
//!    signatures but cannot open sessions.
//!
//! The `#key-n` fragment of a `keyid` does not pick a key in \[L\].
//!
//! "Verified" is a flag the registry sets. [`AgentRecord::select_keys`]
//! trusts it, as the Go core does. [`AgentRecord::select_proven_keys`]
//! additionally re-checks every proof of possession, so that a key whose
//! proof fails never counts as verified (§8.5 MUST); prefer it whenever the
//! record did not come straight from the contract.

use crate::primitives::{KeyType, VerifyingKey, X25519PublicKey};
use crate::version::Labels;

use super::error::{PopError, RecordError};
use super::pop::verify_pop;
use super::record::{AgentKey, AgentRecord};

/// The keys a verifier uses for an agent, chosen by §8.4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedKeys {
    signing: VerifyingKey,
    signing_index: usize,
    kem: Option<X25519PublicKey>,
}

impl SelectedKeys {
    /// The key that verifies the agent's signatures.
    pub fn signing(&self) -> &VerifyingKey {
        &self.signing
    }

    /// Index of the signing key in the record's `keys[]`.
    pub fn signing_index(&self) -> usize {
        self.signing_index
    }

    /// The HPKE KEM key, if the record has one.
    pub fn kem(&self) -> Option<&X25519PublicKey> {
        self.kem.as_ref()
    }
}

/// What re-checking one key's proof of possession found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopOutcome {
    /// The proof verifies for the record's DID and the key bytes.
    Proven,
    /// An X25519 key: key agreement only, no proof exists (§8.5).
    NotApplicable,
    /// The proof does not hold; the key must not count as verified.
    Failed(PopError),
}

/// The outcome of re-checking every key's proof of possession, in registry
/// order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopReport {
    outcomes: Vec<PopOutcome>,
}

impl PopReport {
    /// One outcome per key, in the order of the record's `keys[]`.
    pub fn outcomes(&self) -> &[PopOutcome] {
        &self.outcomes
    }

    /// The keys whose proof failed: `(index in keys[], cause)`.
    pub fn failures(&self) -> impl Iterator<Item = (usize, PopError)> + '_ {
        self.outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, outcome)| match outcome {
                PopOutcome::Failed(e) => Some((i, *e)),
                _ => None,
            })
    }

    /// True when no key's proof failed.
    pub fn all_hold(&self) -> bool {
        self.failures().next().is_none()
    }

    /// True unless key `index` has a failed proof (an X25519 key holds by
    /// having none). An index past the end does not hold.
    pub fn holds(&self, index: usize) -> bool {
        matches!(
            self.outcomes.get(index),
            Some(PopOutcome::Proven | PopOutcome::NotApplicable)
        )
    }
}

impl AgentRecord {
    /// Selects the signing and KEM keys by §8.4, trusting the `verified`
    /// flags as the Go core does.
    ///
    /// # Errors
    /// [`RecordError::Inactive`], [`RecordError::NoSigningKey`],
    /// [`RecordError::InvalidKey`] when the chosen signing key's bytes are
    /// not a valid key (selection does not fall back past it), and
    /// [`RecordError::InvalidKemKey`] when `public_kem_key` is not 32 bytes.
    pub fn select_keys(&self) -> Result<SelectedKeys, RecordError> {
        self.select_where(|_, key| key.verified)
    }

    /// As [`AgentRecord::select_keys`], but a key counts as verified only if
    /// its flag is set *and* its proof of possession holds for this DID.
    ///
    /// # Errors
    /// As [`AgentRecord::select_keys`]; a record whose only signing keys
    /// have failing proofs gives [`RecordError::NoSigningKey`].
    pub fn select_proven_keys(&self, labels: &Labels) -> Result<SelectedKeys, RecordError> {
        if !self.is_active {
            return Err(RecordError::Inactive);
        }
        let report = self.verify_pops(labels);
        self.select_where(|index, key| key.verified && report.holds(index))
    }

    /// Re-checks the proof of possession of every key against this record's
    /// DID (§8.5), whatever its `verified` flag says.
    pub fn verify_pops(&self, labels: &Labels) -> PopReport {
        let outcomes = self
            .keys
            .iter()
            .map(|key| match key_pop(labels, self, key) {
                Ok(outcome) => outcome,
                Err(e) => PopOutcome::Failed(e),
            })
            .collect();
        PopReport { outcomes }
    }

    fn select_where(
        &self,
        usable: impl Fn(usize, &AgentKey) -> bool,
    ) -> Result<SelectedKeys, RecordError> {
        if !self.is_active {
            return Err(RecordError::Inactive);
        }
        let first_usable = |key_type: KeyType| {
            self.keys
                .iter()
                .enumerate()
                .find(|&(i, key)| key.key_type == key_type && usable(i, key))
        };
        let (signing_index, key) = first_usable(KeyType::Secp256k1)
            .or_else(|| first_usable(KeyType::Ed25519))
            .ok_or(RecordError::NoSigningKey)?;
        let signing = VerifyingKey::from_bytes(key.key_type, &key.key_data).map_err(|cause| {
            RecordError::InvalidKey {
                index: signing_index,
                cause,
            }
        })?;
        let kem = match &self.public_kem_key {
            Some(bytes) => {
                Some(X25519PublicKey::from_slice(bytes).map_err(|_| RecordError::InvalidKemKey)?)
            }
            None => self
                .keys
                .iter()
                .enumerate()
                .filter(|&(i, key)| key.key_type == KeyType::X25519 && usable(i, key))
                .find_map(|(_, key)| X25519PublicKey::from_slice(&key.key_data).ok()),
        };
        Ok(SelectedKeys {
            signing,
            signing_index,
            kem,
        })
    }
}

fn key_pop(labels: &Labels, record: &AgentRecord, key: &AgentKey) -> Result<PopOutcome, PopError> {
    if key.key_type == KeyType::X25519 {
        return Ok(PopOutcome::NotApplicable);
    }
    let public =
        VerifyingKey::from_bytes(key.key_type, &key.key_data).map_err(PopError::InvalidKey)?;
    verify_pop(labels, &public, &record.did, &key.signature)?;
    Ok(PopOutcome::Proven)
}
