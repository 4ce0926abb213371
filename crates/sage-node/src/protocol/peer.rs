//! The sender of a message: its DID resolved, its signing key selected,
//! and the checks that need them (docs/PROTOCOL-PROFILE.md §2, §3 steps
//! 4–5; PROTOCOL.md §5.5, §8.4, §10).
//!
//! Layer: node, protocol endpoints, over the shared caching resolver and
//! the shared nonce store. A sender must resolve to an active record with
//! a proven, unrevoked signing key. A signature that fails under the
//! selected key but verifies under a key the record revoked is reported as
//! `key.revoked` (the sender is using a revoked key) instead of `sig.bad`.

use std::time::Instant;

use sage_core::did::Did;
use sage_core::httpsig::{HttpSigError, ParsedSignature, UnrecordedSignature, VerifyOptions};
use sage_core::primitives::VerifyingKey;
use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;
use sage_registry::{RegistryError, ResolvedRecord, Source};
use sage_store::{NonceStore as _, Store, StoreError};

use super::reject::{self, Rejection};
use super::selection::KeySelections;
use crate::metrics::{self, NonceStatus, ResolutionResult};
use crate::registry::NodeResolver;

/// A resolved, active sender.
#[derive(Debug)]
pub(crate) struct Peer {
    /// Its DID.
    pub(crate) did: Did,
    /// Its record as resolved.
    pub(crate) record: ResolvedRecord,
    /// The signing key selected from the record (§8.4).
    pub(crate) key: VerifyingKey,
}

impl Peer {
    /// Resolves `did` (through the shared cache) and selects its key
    /// (through `selections`).
    ///
    /// # Errors
    /// A rejection with `id.*`, `record.not-found`, `record.inactive`,
    /// `key.revoked` (no proven, unrevoked signing key left) or, when the
    /// registry cannot be read, `record.unreachable` (HTTP 503).
    pub(crate) async fn resolve(
        resolver: &NodeResolver,
        selections: &KeySelections,
        did: &str,
    ) -> Result<Self, Rejection> {
        let did = Did::parse(did).map_err(|e| Rejection::auth(e.code()))?;
        let started = Instant::now();
        let resolved = resolver.resolve_cached(&did).await;
        let result = match &resolved {
            Ok(record) => match record.source {
                Source::Cache { .. } => ResolutionResult::Hit,
                _ => ResolutionResult::Miss,
            },
            Err(_) => ResolutionResult::Error,
        };
        metrics::did_resolution(result, started.elapsed());
        let record = resolved.map_err(resolution_rejection)?;
        let selected = selections.select(&record).map_err(resolution_rejection)?;
        let key = *selected.signing();
        Ok(Self { did, record, key })
    }

    /// Whether a key the record holds but no longer accepts (revoked, or
    /// never proven) passes `verifies`.
    pub(crate) fn revoked_key_passes(&self, verifies: impl Fn(&VerifyingKey) -> bool) -> bool {
        self.record
            .record
            .keys
            .iter()
            .filter(|key| !key.verified && key.key_type.can_sign())
            .filter_map(|key| VerifyingKey::from_bytes(key.key_type, &key.key_data).ok())
            .any(|key| key != self.key && verifies(&key))
    }

    /// The algorithm name of the selected key, for the crypto metrics.
    pub(crate) fn algorithm(&self) -> &'static str {
        self.key.key_type().name()
    }

    /// Verifies the RFC 9421 signature `parsed` under this sender's key with
    /// `options`, then checks and records its nonce (scope: the `keyid`) in
    /// the shared nonce store.
    ///
    /// # Errors
    /// As [`Self::verify_http_signature_unrecorded`] and
    /// [`nonce_verdict`]; HTTP 503 when the nonce store cannot answer.
    pub(crate) async fn verify_http_signature(
        &self,
        parsed: &ParsedSignature<'_>,
        options: &VerifyOptions,
        nonces: &Store,
        now: Timestamp,
    ) -> Result<(), Rejection> {
        let unrecorded = self.verify_http_signature_unrecorded(parsed, options, now)?;
        let verdict = match unrecorded.nonce_claim() {
            None => ReplayVerdict::Fresh,
            Some((scope, nonce, keep_until)) => nonces
                .check_and_store(scope, nonce, now, keep_until)
                .await
                .map_err(nonce_store_rejection)?,
        };
        nonce_verdict(unrecorded, verdict)
    }

    /// Verifies the RFC 9421 signature `parsed` under this sender's key with
    /// `options`, leaving its nonce to the caller (the data plane decides it
    /// in the same write as the record's window).
    ///
    /// # Errors
    /// A rejection with the signature's §13.6 code (`sig.*`, `digest.*`,
    /// `size.exceeded`) or `key.revoked`.
    pub(crate) fn verify_http_signature_unrecorded(
        &self,
        parsed: &ParsedSignature<'_>,
        options: &VerifyOptions,
        now: Timestamp,
    ) -> Result<UnrecordedSignature, Rejection> {
        match parsed.verify_unrecorded(&self.key, options, now) {
            Ok(unrecorded) => {
                metrics::crypto_operation("verify", self.algorithm(), true);
                Ok(unrecorded)
            }
            Err(error) => {
                if matches!(
                    error,
                    HttpSigError::BadSignature | HttpSigError::AlgMismatch
                ) {
                    metrics::crypto_operation("verify", self.algorithm(), false);
                    if self.revoked_key_passes(|key| {
                        parsed.verify_unrecorded(key, options, now).is_ok()
                    }) {
                        return Err(Rejection::auth("key.revoked"));
                    }
                }
                if matches!(error, HttpSigError::Stale(_)) {
                    metrics::nonce_validation(NonceStatus::Expired);
                }
                Err(Rejection::auth(error.code()))
            }
        }
    }
}

/// Completes `unrecorded` with the nonce store's `verdict` on its nonce,
/// counting the validation.
///
/// # Errors
/// `sig.replay` for a nonce seen before.
pub(crate) fn nonce_verdict(
    unrecorded: UnrecordedSignature,
    verdict: ReplayVerdict,
) -> Result<(), Rejection> {
    let has_nonce = unrecorded.nonce_claim().is_some();
    match unrecorded.record(verdict) {
        Ok(_) => {
            if has_nonce {
                metrics::nonce_validation(NonceStatus::Valid);
            }
            Ok(())
        }
        Err(error) => {
            metrics::nonce_validation(NonceStatus::Invalid);
            metrics::replay_detected();
            Err(Rejection::auth(error.code()))
        }
    }
}

/// A nonce the store refuses for its length is the sender's fault; any
/// other store failure is the node's (fail closed, 503: the client may
/// retry the same bytes, whose nonce was not recorded).
pub(crate) fn nonce_store_rejection(error: StoreError) -> Rejection {
    match error {
        StoreError::TooLong { .. } => Rejection::auth("size.exceeded"),
        error => {
            tracing::warn!(%error, "the nonce store cannot answer");
            Rejection::unavailable(reject::STORE_UNAVAILABLE)
        }
    }
}

fn resolution_rejection(error: RegistryError) -> Rejection {
    match error {
        RegistryError::Unreachable(cause) => {
            tracing::warn!(error = %cause, "the registry cannot be read");
            Rejection::unavailable("record.unreachable")
        }
        // The record has no proven, unrevoked signing key left: the one the
        // sender registered was revoked.
        RegistryError::KeyNotInRecord | RegistryError::KeyRevoked => Rejection::auth("key.revoked"),
        other => Rejection::auth(other.code()),
    }
}
