//! The embedded local registry: authoritative records in the node's own
//! database (SQLite or PostgreSQL through `sage-store`), the default
//! backend of `sage serve`, so that agents on one machine (or on nodes that
//! share one PostgreSQL) find each other with no chain.
//!
//! Layer: registry backend. Every operation is a [`SignedRequest`] and is
//! checked in this order:
//!
//! 1. **freshness**: the request's timestamp is within
//!    [`LocalRegistryOptions::request_window`] (default 300 s) of the
//!    registry's clock, either way → else `request.stale`;
//! 2. **controller signature** over the request's canonical JSON by the
//!    controller key → else `registry.unauthorized`. The controller is the
//!    record's first accepted signing key (see [`crate::model`]); for a
//!    registration, the first signing key of the request, after every
//!    key's proof has been checked (`pop.bad`);
//! 3. **nonce**: unseen for this DID within the window, stored until the
//!    window has passed (the store's `nonces` table, scope
//!    `sage-registry:<DID>`, so every node sharing the database sees it)
//!    → else `request.replayed`. It is consumed once the signature holds,
//!    whatever happens next, so a replay is always reported as one;
//! 4. **version**: the request names the version it was made against (0
//!    for a registration) → else `registry.version-conflict`;
//! 5. the **transition** ([`crate::transition`]): the state machine and the
//!    key rules;
//! 6. the **write**, conditional on the version read for step 4 and atomic
//!    with the keys and a history entry (the request, its signature and the
//!    record as it became). A writer that lost a race changes nothing and
//!    gets `registry.version-conflict`.
//!
//! Resolution reads the record in one snapshot. The registry keeps nothing
//! in memory between calls. Times are whole seconds of the injected clock.

mod row;

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use sage_core::did::Did;
use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_store::registry::{RegistryChange, RegistryHistoryEntry, RegistryStore};
use sage_store::{Clock, DidCursor, NonceStore, Page, PageRequest};

use crate::error::{RegistryError, RequestProblem};
use crate::model::RegistryRecord;
use crate::registry::{ListRequest, Listing, Registry, ResolvedRecord};
use crate::request::{
    Activate, AddKey, Deactivate, MAX_NONCE_LEN, MIN_NONCE_LEN, Register, RequestBody,
    RequestHeader, RevokeKey, SignedRequest, Update,
};
use crate::transition;

/// The nonce scope prefix of the registry's requests.
pub const NONCE_SCOPE_PREFIX: &str = "sage-registry:";
/// The default freshness window of a request.
pub const DEFAULT_REQUEST_WINDOW: Duration = Duration::from_secs(300);

/// Settings of the local registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalRegistryOptions {
    /// How far a request's timestamp may be from the registry's clock,
    /// either way (default [`DEFAULT_REQUEST_WINDOW`]).
    pub request_window: Duration,
    /// The profile whose labels (PoP prefix, key names) apply.
    pub protocol: ProtocolVersion,
}

impl Default for LocalRegistryOptions {
    fn default() -> Self {
        Self {
            request_window: DEFAULT_REQUEST_WINDOW,
            protocol: ProtocolVersion::V1Draft1,
        }
    }
}

impl LocalRegistryOptions {
    /// The defaults with another freshness window.
    pub fn with_request_window(request_window: Duration) -> Self {
        Self {
            request_window,
            ..Self::default()
        }
    }
}

/// The embedded registry on a store (normally [`sage_store::Store`]).
pub struct LocalRegistry<S> {
    store: S,
    clock: Arc<dyn Clock>,
    options: LocalRegistryOptions,
}

impl<S: fmt::Debug> fmt::Debug for LocalRegistry<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalRegistry")
            .field("store", &self.store)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<S: RegistryStore + NonceStore> LocalRegistry<S> {
    /// A registry on `store` with the default options. The store must be
    /// migrated (`0002_registry`).
    pub fn new(store: S, clock: Arc<dyn Clock>) -> Self {
        Self::with_options(store, clock, LocalRegistryOptions::default())
    }

    /// A registry with explicit options.
    pub fn with_options(store: S, clock: Arc<dyn Clock>, options: LocalRegistryOptions) -> Self {
        Self {
            store,
            clock,
            options,
        }
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The options.
    pub fn options(&self) -> &LocalRegistryOptions {
        &self.options
    }

    /// The full authoritative record of `did`: key names, states,
    /// endorsers, version.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`]; [`RegistryError::Unreachable`];
    /// [`RegistryError::InvalidRecord`].
    pub async fn record(&self, did: &Did) -> Result<RegistryRecord, RegistryError> {
        self.load(did).await?.ok_or(RegistryError::NotFound)
    }

    /// The versions of `did`, oldest first.
    ///
    /// # Errors
    /// [`RegistryError::InvalidRequest`] for a bad page limit;
    /// [`RegistryError::Unreachable`].
    pub async fn history(
        &self,
        did: &Did,
        page: &PageRequest<u64>,
    ) -> Result<Page<RegistryHistoryEntry, u64>, RegistryError> {
        self.store
            .history(did, page)
            .await
            .map_err(RegistryError::from_store)
    }

    fn labels(&self) -> &'static Labels {
        self.options.protocol.labels()
    }

    /// The registry's clock, in whole seconds (what every record time and
    /// every freshness check uses).
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.clock.now().unix_seconds())
    }

    async fn load(&self, did: &Did) -> Result<Option<RegistryRecord>, RegistryError> {
        match self.store.record(did).await {
            Ok(Some(row)) => row::from_row(self.labels(), row).map(Some),
            Ok(None) => Ok(None),
            Err(e) => Err(RegistryError::from_store(e)),
        }
    }

    /// Steps 1 and the nonce's shape.
    fn check_fresh(&self, header: &RequestHeader, now: Timestamp) -> Result<(), RegistryError> {
        let nonce_ok = (MIN_NONCE_LEN..=MAX_NONCE_LEN).contains(&header.nonce.len())
            && header
                .nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !nonce_ok {
            return Err(RequestProblem::BadNonce.into());
        }
        let skew = now.abs_diff_nanos(header.timestamp);
        if skew > self.options.request_window.as_nanos() {
            return Err(RegistryError::Stale);
        }
        Ok(())
    }

    /// Step 4: stores the nonce until the request can no longer be fresh.
    async fn consume_nonce(
        &self,
        header: &RequestHeader,
        now: Timestamp,
    ) -> Result<(), RegistryError> {
        let window = i64::try_from(self.options.request_window.as_secs()).unwrap_or(i64::MAX);
        let expires_at = header.timestamp.add_seconds(window.saturating_add(1));
        let scope = format!("{NONCE_SCOPE_PREFIX}{}", header.did);
        match self
            .store
            .check_and_store(&scope, &header.nonce, now, expires_at)
            .await
            .map_err(RegistryError::from_store)?
        {
            ReplayVerdict::Fresh => Ok(()),
            _ => Err(RegistryError::Replayed),
        }
    }

    /// Steps 1–6 for a change of an existing record (steps 1–3, the
    /// transition and the write for a registration are in `register`).
    async fn change<B: RequestBody>(
        &self,
        signed: &SignedRequest<B>,
        apply: impl FnOnce(&RegistryRecord, Timestamp) -> Result<RegistryRecord, RegistryError> + Send,
    ) -> Result<ResolvedRecord, RegistryError> {
        let header = signed.header();
        let now = self.now();
        self.check_fresh(header, now)?;
        let current = self
            .load(&header.did)
            .await?
            .ok_or(RegistryError::NotFound)?;
        let controller = current
            .controller()
            .and_then(|k| k.verifying_key())
            .ok_or(RegistryError::Unauthorized)?;
        signed
            .verify(&controller)
            .map_err(|_| RegistryError::Unauthorized)?;
        self.consume_nonce(header, now).await?;
        if header.version != current.version {
            return Err(RegistryError::VersionConflict {
                requested: header.version,
                current: current.version,
            });
        }
        let next = apply(&current, now)?;
        let change = self.change_of(signed, &next);
        let written = self
            .store
            .update_record(&row::to_row(self.labels(), &next), &change.as_change())
            .await
            .map_err(RegistryError::from_store)?;
        if !written {
            let current = self.record(&header.did).await?;
            return Err(RegistryError::VersionConflict {
                requested: header.version,
                current: current.version,
            });
        }
        Ok(ResolvedRecord::from_registry_record(&next, now))
    }

    fn change_of<'a, B: RequestBody>(
        &self,
        signed: &'a SignedRequest<B>,
        next: &RegistryRecord,
    ) -> OwnedChange<'a> {
        OwnedChange {
            operation: B::OPERATION.as_str(),
            request: String::from_utf8_lossy(&signed.request().canonical_bytes()).into_owned(),
            signature: signed.signature(),
            snapshot: row::canonical_text(&next.to_json_value()),
        }
    }
}

/// A history entry's texts, owned until the write.
struct OwnedChange<'a> {
    operation: &'static str,
    request: String,
    signature: &'a [u8],
    snapshot: String,
}

impl OwnedChange<'_> {
    fn as_change(&self) -> RegistryChange<'_> {
        RegistryChange {
            operation: self.operation,
            request: &self.request,
            signature: self.signature,
            snapshot: &self.snapshot,
        }
    }
}

impl<S: RegistryStore + NonceStore> Registry for LocalRegistry<S> {
    async fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let header = request.header();
        let now = self.now();
        self.check_fresh(header, now)?;
        if header.version != 0 {
            return Err(RequestProblem::RegistrationVersion.into());
        }
        let record = transition::register(self.labels(), &header.did, request.body(), now)?;
        let controller = record
            .controller()
            .and_then(|k| k.verifying_key())
            .ok_or(RequestProblem::NoSigningKey)?;
        request
            .verify(&controller)
            .map_err(|_| RegistryError::Unauthorized)?;
        self.consume_nonce(header, now).await?;
        let change = self.change_of(request, &record);
        let inserted = self
            .store
            .insert_record(&row::to_row(self.labels(), &record), &change.as_change())
            .await
            .map_err(RegistryError::from_store)?;
        if !inserted {
            return Err(RegistryError::AlreadyRegistered);
        }
        Ok(ResolvedRecord::from_registry_record(&record, now))
    }

    async fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.change(request, transition::activate).await
    }

    async fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let labels = self.labels();
        self.change(request, |record, now| {
            transition::add_key(labels, record, request.body(), now)
        })
        .await
    }

    async fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.change(request, |record, now| {
            transition::revoke_key(record, request.body(), now)
        })
        .await
    }

    async fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.change(request, |record, now| {
            transition::update(record, request.body(), now)
        })
        .await
    }

    async fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.change(request, transition::deactivate).await
    }

    async fn resolve(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        let record = self.record(did).await?;
        Ok(ResolvedRecord::from_registry_record(&record, self.now()))
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> Result<Listing, RegistryError> {
        let limit = page.checked_limit()?;
        let request = PageRequest {
            limit,
            after: page.after.clone().map(|did| DidCursor { did }),
        };
        let rows = self
            .store
            .records_by_owner(owner, &request)
            .await
            .map_err(RegistryError::from_store)?;
        let now = self.now();
        let items = rows
            .items
            .into_iter()
            .map(|row| {
                row::from_row(self.labels(), row)
                    .map(|record| ResolvedRecord::from_registry_record(&record, now))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Listing {
            items,
            next: rows.next.map(|next| ListRequest {
                limit: next.limit,
                after: next.after.map(|c| c.did),
            }),
        })
    }
}
