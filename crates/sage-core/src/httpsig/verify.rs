//! Verifying request and response signatures (PROTOCOL.md §5.5).
//!
//! Layer: RFC 9421, the verifier side, sans-IO in two steps so the caller
//! can resolve the key in between:
//!
//! 1. [`ParsedSignature::from_request`] / [`ParsedSignature::from_response`]
//!    parse `Signature-Input` and `Signature` for one label (the caller's,
//!    else the lexicographically first) and expose `keyid`, its DID, `alg`,
//!    `created`, `nonce` and the covered components;
//! 2. [`ParsedSignature::verify`] checks everything against the resolved
//!    [`VerifyingKey`], the [`VerifyOptions`], the caller's `now` and a
//!    [`ReplayStore`], and returns a [`VerifiedSignature`], which nothing
//!    else can construct.
//!
//! Order of checks (each failure is final): body size; `alg` against the
//! key; coverage (required components, `nonce`); freshness; sender
//! identity (`X-SAGE-DID`, expected DID / key id / authority);
//! `Content-Digest`; rebuilding the base; the signature; and only then the
//! nonce in the replay store, so that a message refused for any other
//! reason never burns a nonce. As in the Go core, digest and identity come
//! before the signature; the outcome is the same as in the §5.5 text order.

use core::time::Duration;

use super::base::signature_base;
use super::component::{ComponentId, DerivedComponent};
use super::digest::{MAX_BODY_LEN, verify_content_digest};
use super::error::{BaseError, HttpSigError, Malformed, Staleness};
use super::message::{HttpRequest, HttpResponse, Message, field};
use super::params::ReceivedParams;
use super::sfdict::{DictError, parse_members};
use super::uri::TargetUri;
use crate::primitives::{KeyType, SignatureEncoding, VerifyingKey};
use crate::replay::{ReplayStore, ReplayVerdict};
use crate::time::Timestamp;

/// What a verifier requires beyond a valid signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Largest accepted `now − created`; `None` or zero disables the check
    /// (the vectors need that: their `created` is fixed). Default 300 s.
    pub max_age: Option<Duration>,
    /// How far `created` may lie in the future. Default 300 s.
    pub max_clock_skew: Duration,
    /// Whether a `nonce` parameter is required. Default `true` for
    /// requests; [`VerifyOptions::for_response`] sets `false` (§18.7).
    pub require_nonce: bool,
    /// Strict mode (default `true`): a message with a body must cover
    /// `content-digest`, and the default response set includes the request
    /// binding (§5.4).
    pub strict: bool,
    /// Components that must be covered. `None` (default) means the profile
    /// set: for a request `@method @target-uri @authority`, plus
    /// `content-digest` when it has a body; for a response `@status`, and in
    /// strict mode `@method;req @target-uri;req @authority;req`, plus
    /// `content-digest;req` when the given request had a body.
    pub required_components: Option<Vec<ComponentId>>,
    /// The sender DID the `keyid` must name.
    pub expected_did: Option<String>,
    /// The exact `keyid` required.
    pub expected_key_id: Option<String>,
    /// Accepted `@authority` values of the request (case-insensitive, in
    /// `@authority` form: port only when not the default). Empty: any.
    pub expected_authorities: Vec<String>,
    /// Largest body buffered and hashed. Default [`MAX_BODY_LEN`] (16 MiB).
    pub max_body_len: usize,
    /// How long a nonce is remembered when `max_age` is disabled. Default
    /// 300 s. (With `max_age`, nonces live until `created + max_age`.)
    pub replay_lifetime: Duration,
}

impl VerifyOptions {
    /// The default maximum age and clock skew: 300 s (§5.5 step 3).
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

    /// Defaults for verifying a request (the same as [`Default`]).
    #[must_use]
    pub fn for_request() -> Self {
        Self {
            max_age: Some(Self::DEFAULT_WINDOW),
            max_clock_skew: Self::DEFAULT_WINDOW,
            require_nonce: true,
            strict: true,
            required_components: None,
            expected_did: None,
            expected_key_id: None,
            expected_authorities: Vec::new(),
            max_body_len: MAX_BODY_LEN,
            replay_lifetime: Self::DEFAULT_WINDOW,
        }
    }

    /// Defaults for verifying a response: as for a request, but no nonce is
    /// required, since `;req` binds a response to its request (§18.7).
    #[must_use]
    pub fn for_response() -> Self {
        Self {
            require_nonce: false,
            ..Self::for_request()
        }
    }
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self::for_request()
    }
}

/// A signature parsed from a message, waiting for its key.
#[derive(Debug, Clone)]
pub struct ParsedSignature<'m> {
    message: Message<'m>,
    related_request: Option<&'m HttpRequest>,
    params: ReceivedParams,
    signature: Vec<u8>,
}

/// A signature that passed every check but the replay store. Only
/// [`ParsedSignature::verify_unrecorded`] builds one; only
/// [`UnrecordedSignature::record`] turns it into a [`VerifiedSignature`].
#[derive(Debug, Clone)]
pub struct UnrecordedSignature {
    verified: VerifiedSignature,
    keep_until: Timestamp,
}

impl UnrecordedSignature {
    /// What to check and record, when the signature carries a nonce:
    /// `(scope = keyid, nonce, keep until)` (§5.5 step 5: entries live for
    /// MaxAge, and at least as long as the signature could still pass).
    pub fn nonce_claim(&self) -> Option<(&str, &str, Timestamp)> {
        self.verified
            .nonce
            .as_deref()
            .map(|nonce| (self.verified.keyid.as_str(), nonce, self.keep_until))
    }

    /// The verified signature, given the replay store's verdict on
    /// [`Self::nonce_claim`] (give [`ReplayVerdict::Fresh`] when there is
    /// no nonce).
    ///
    /// # Errors
    /// [`HttpSigError::Replayed`] when `verdict` is
    /// [`ReplayVerdict::Replayed`].
    pub fn record(self, verdict: ReplayVerdict) -> Result<VerifiedSignature, HttpSigError> {
        match verdict {
            ReplayVerdict::Fresh => Ok(self.verified),
            ReplayVerdict::Replayed => Err(HttpSigError::Replayed),
        }
    }
}

/// Proof that a signature verified under a key and the options given. Only
/// [`ParsedSignature::verify`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    label: String,
    keyid: String,
    did: String,
    key_type: KeyType,
    created: Timestamp,
    expires: Option<Timestamp>,
    nonce: Option<String>,
}

impl<'m> ParsedSignature<'m> {
    /// Parses the signature labelled `label` (else the lexicographically
    /// first label) of `request`.
    ///
    /// # Errors
    /// [`HttpSigError::MissingSignature`], [`HttpSigError::Malformed`],
    /// [`HttpSigError::UnknownLabel`], or [`HttpSigError::BaseMismatch`]
    /// for an unsupported component or a `;req` component (§5.4: only
    /// responses may bind to a request).
    pub fn from_request(
        request: &'m HttpRequest,
        label: Option<&str>,
    ) -> Result<Self, HttpSigError> {
        let parsed = Self::parse(Message::Request(request), None, label)?;
        if parsed.params.covered.iter().any(ComponentId::is_req) {
            return Err(BaseError::RequestBindingInRequest.into());
        }
        Ok(parsed)
    }

    /// Parses the signature labelled `label` (else the lexicographically
    /// first label) of `response`; `request` is the request it answers,
    /// needed for `;req` components.
    ///
    /// # Errors
    /// As [`ParsedSignature::from_request`], without the `;req` rule.
    pub fn from_response(
        response: &'m HttpResponse,
        request: Option<&'m HttpRequest>,
        label: Option<&str>,
    ) -> Result<Self, HttpSigError> {
        Self::parse(Message::Response(response), request, label)
    }

    fn parse(
        message: Message<'m>,
        related_request: Option<&'m HttpRequest>,
        label: Option<&str>,
    ) -> Result<Self, HttpSigError> {
        let input_field = message
            .header(field::SIGNATURE_INPUT)
            .filter(|v| !v.is_empty())
            .ok_or(HttpSigError::MissingSignature)?;
        let signature_field = message
            .header(field::SIGNATURE)
            .filter(|v| !v.is_empty())
            .ok_or(HttpSigError::MissingSignature)?;
        let inputs = parse_members(&input_field)
            .map_err(|e| dictionary_error(e, Malformed::SignatureInput))?;
        let signatures = parse_members(&signature_field)
            .map_err(|e| dictionary_error(e, Malformed::Signature))?;
        let input = match label {
            Some(l) => inputs.iter().find(|m| m.name == l),
            None => inputs.iter().min_by(|a, b| a.name.cmp(b.name)),
        }
        .ok_or(HttpSigError::UnknownLabel)?;
        let signature = signatures
            .iter()
            .find(|m| m.name == input.name)
            .ok_or(HttpSigError::UnknownLabel)?;
        let sfv::ListEntry::Item(signature_item) = &signature.entry else {
            return Err(Malformed::Signature.into());
        };
        let sfv::BareItem::ByteSequence(signature_bytes) = &signature_item.bare_item else {
            return Err(Malformed::Signature.into());
        };
        let params = ReceivedParams::from_member(input.name, input.value_text, &input.entry)?;
        Ok(Self {
            message,
            related_request,
            params,
            signature: signature_bytes.clone(),
        })
    }

    /// The label of this signature.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.params.label
    }

    /// The `keyid` parameter.
    #[must_use]
    pub fn keyid(&self) -> &str {
        &self.params.keyid
    }

    /// The signer's DID: `keyid` up to its first `#` (§5.3).
    #[must_use]
    pub fn did(&self) -> &str {
        did_of(&self.params.keyid)
    }

    /// The `alg` parameter, if present.
    #[must_use]
    pub fn alg(&self) -> Option<&str> {
        self.params.alg.as_deref()
    }

    /// The `created` parameter.
    #[must_use]
    pub fn created(&self) -> Timestamp {
        self.params.created
    }

    /// The `expires` parameter, if present.
    #[must_use]
    pub fn expires(&self) -> Option<Timestamp> {
        self.params.expires
    }

    /// The `nonce` parameter, if present.
    #[must_use]
    pub fn nonce(&self) -> Option<&str> {
        self.params.nonce.as_deref()
    }

    /// The `tag` parameter, if present (no meaning in this profile).
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.params.tag.as_deref()
    }

    /// The covered components, in base order.
    #[must_use]
    pub fn covered(&self) -> &[ComponentId] {
        &self.params.covered
    }

    /// The `Signature-Input` member value exactly as received.
    #[must_use]
    pub fn signature_params(&self) -> &str {
        &self.params.raw_value
    }

    /// Rebuilds the signature base from the message as received.
    ///
    /// # Errors
    /// [`HttpSigError::BaseMismatch`] when a covered component cannot be
    /// taken from the message.
    pub fn signature_base(&self) -> Result<String, HttpSigError> {
        signature_base(
            &self.params.covered,
            self.message,
            self.related_request,
            &self.params.raw_value,
        )
    }

    /// Verifies this signature with `key` (resolved from [`Self::keyid`]),
    /// at time `now`, recording the nonce in `replay` on success.
    ///
    /// # Errors
    /// Every §5.5 rejection, with its §13.6 code via
    /// [`HttpSigError::code`]: [`HttpSigError::BodyTooLarge`],
    /// [`HttpSigError::AlgMismatch`], [`HttpSigError::NotCovered`],
    /// [`HttpSigError::Unbound`], [`HttpSigError::MissingNonce`],
    /// [`HttpSigError::Stale`], [`HttpSigError::SenderMismatch`],
    /// [`HttpSigError::UnexpectedDid`], [`HttpSigError::UnexpectedKeyId`],
    /// [`HttpSigError::UnexpectedAuthority`], the digest errors,
    /// [`HttpSigError::BaseMismatch`], [`HttpSigError::BadSignature`],
    /// [`HttpSigError::Replayed`] and
    /// [`HttpSigError::ReplayStoreUnavailable`].
    pub fn verify<R: ReplayStore + ?Sized>(
        &self,
        key: &VerifyingKey,
        options: &VerifyOptions,
        now: Timestamp,
        replay: &mut R,
    ) -> Result<VerifiedSignature, HttpSigError> {
        let unrecorded = self.verify_unrecorded(key, options, now)?;
        let verdict = match unrecorded.nonce_claim() {
            Some((scope, nonce, keep_until)) => {
                replay.check_and_store(scope, nonce, now, keep_until)?
            }
            None => ReplayVerdict::Fresh,
        };
        unrecorded.record(verdict)
    }

    /// Every check of [`Self::verify`] except the replay store (§5.5 steps
    /// 1–4, 6, 7), for callers whose replay memory is asynchronous (a
    /// database): check and record [`UnrecordedSignature::nonce_claim`],
    /// then pass the verdict to [`UnrecordedSignature::record`].
    ///
    /// # Errors
    /// As [`Self::verify`], except the two replay errors.
    pub fn verify_unrecorded(
        &self,
        key: &VerifyingKey,
        options: &VerifyOptions,
        now: Timestamp,
    ) -> Result<UnrecordedSignature, HttpSigError> {
        let body = self.message.body();
        if body.len() > options.max_body_len {
            return Err(HttpSigError::BodyTooLarge {
                limit: options.max_body_len,
            });
        }
        self.check_alg(key)?;
        self.check_coverage(options)?;
        self.check_freshness(options, now)?;
        self.check_identity(options)?;
        if self.covers_field(field::CONTENT_DIGEST) {
            let digest = self
                .message
                .header(field::CONTENT_DIGEST)
                .ok_or(HttpSigError::DigestMissing)?;
            verify_content_digest(&digest, body, options.max_body_len)?;
        }
        let base = self.signature_base()?;
        // §5.5 step 4: Ed25519 and P-256 take 64 raw bytes only; secp256k1
        // takes 65 or 64 bytes or DER.
        let encoding = match key.key_type() {
            KeyType::Secp256k1 => SignatureEncoding::Any,
            _ => SignatureEncoding::Raw,
        };
        key.verify_with(base.as_bytes(), &self.signature, encoding)
            .map_err(|_| HttpSigError::BadSignature)?;
        let keep_until = self.replay_expiry(options, now);
        Ok(UnrecordedSignature {
            verified: VerifiedSignature {
                label: self.params.label.clone(),
                keyid: self.params.keyid.clone(),
                did: self.did().to_owned(),
                key_type: key.key_type(),
                created: self.params.created,
                expires: self.params.expires,
                nonce: self.params.nonce.clone(),
            },
            keep_until,
        })
    }

    fn check_alg(&self, key: &VerifyingKey) -> Result<(), HttpSigError> {
        match self.params.alg.as_deref() {
            Some(alg) if KeyType::from_rfc9421_alg(alg) != Some(key.key_type()) => {
                Err(HttpSigError::AlgMismatch)
            }
            _ => Ok(()),
        }
    }

    fn check_coverage(&self, options: &VerifyOptions) -> Result<(), HttpSigError> {
        let required = match &options.required_components {
            Some(list) => list.clone(),
            None => self.profile_required(options.strict),
        };
        for component in required {
            if !self.params.covered.contains(&component) {
                return Err(if component.is_req() {
                    HttpSigError::Unbound(component)
                } else {
                    HttpSigError::NotCovered(component)
                });
            }
        }
        if options.strict
            && !self.message.body().is_empty()
            && !self.covers_field(field::CONTENT_DIGEST)
        {
            return Err(HttpSigError::NotCovered(ComponentId::known_field(
                field::CONTENT_DIGEST,
            )));
        }
        if options.require_nonce && self.params.nonce.is_none() {
            return Err(HttpSigError::MissingNonce);
        }
        Ok(())
    }

    /// The §5.3 / §5.4 required set for this message.
    fn profile_required(&self, strict: bool) -> Vec<ComponentId> {
        let digest = || ComponentId::known_field(field::CONTENT_DIGEST);
        match self.message {
            Message::Request(request) => {
                let mut set = vec![
                    ComponentId::derived(DerivedComponent::Method),
                    ComponentId::derived(DerivedComponent::TargetUri),
                    ComponentId::derived(DerivedComponent::Authority),
                ];
                if !request.body.is_empty() {
                    set.push(digest());
                }
                set
            }
            Message::Response(_) => {
                let mut set = vec![ComponentId::derived(DerivedComponent::Status)];
                if strict {
                    for d in [
                        DerivedComponent::Method,
                        DerivedComponent::TargetUri,
                        DerivedComponent::Authority,
                    ] {
                        set.push(ComponentId::derived(d).with_req());
                    }
                    if self.related_request.is_some_and(|r| !r.body.is_empty()) {
                        set.push(digest().with_req());
                    }
                }
                set
            }
        }
    }

    fn check_freshness(&self, options: &VerifyOptions, now: Timestamp) -> Result<(), HttpSigError> {
        let now_ns = now.unix_nanos();
        let created_ns = self.params.created.unix_nanos();
        if let Some(max_age) = enabled_max_age(options)
            && now_ns.saturating_sub(created_ns) > nanos(max_age)
        {
            return Err(HttpSigError::Stale(Staleness::TooOld));
        }
        if created_ns > now_ns.saturating_add(nanos(options.max_clock_skew)) {
            return Err(HttpSigError::Stale(Staleness::InFuture));
        }
        if self.params.expires.is_some_and(|expires| now > expires) {
            return Err(HttpSigError::Stale(Staleness::Expired));
        }
        Ok(())
    }

    fn check_identity(&self, options: &VerifyOptions) -> Result<(), HttpSigError> {
        let did = self.did();
        if self
            .message
            .header(field::X_SAGE_DID)
            .is_some_and(|sender| sender != did)
        {
            return Err(HttpSigError::SenderMismatch);
        }
        if options.expected_did.as_deref().is_some_and(|e| e != did) {
            return Err(HttpSigError::UnexpectedDid);
        }
        if options
            .expected_key_id
            .as_deref()
            .is_some_and(|e| e != self.params.keyid)
        {
            return Err(HttpSigError::UnexpectedKeyId);
        }
        if !options.expected_authorities.is_empty() {
            let request = match self.message {
                Message::Request(r) => Some(r),
                Message::Response(_) => self.related_request,
            };
            let authority = request
                .and_then(|r| TargetUri::parse(&r.target_uri))
                .map(|u| u.authority())
                .ok_or(HttpSigError::UnexpectedAuthority)?;
            if !options
                .expected_authorities
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&authority))
            {
                return Err(HttpSigError::UnexpectedAuthority);
            }
        }
        Ok(())
    }

    fn covers_field(&self, name: &str) -> bool {
        self.params
            .covered
            .iter()
            .any(|c| !c.is_req() && c.is_field(name))
    }

    /// Until when the nonce must be remembered: as long as the message
    /// could pass the freshness check, `max(now, created) + max_age`; with
    /// `max_age` disabled, `now + replay_lifetime`.
    fn replay_expiry(&self, options: &VerifyOptions, now: Timestamp) -> Timestamp {
        let now_ns = now.unix_nanos();
        let until = match enabled_max_age(options) {
            Some(max_age) => now_ns
                .max(self.params.created.unix_nanos())
                .saturating_add(nanos(max_age)),
            None => now_ns.saturating_add(nanos(options.replay_lifetime)),
        };
        timestamp_from_nanos(until)
    }
}

impl VerifiedSignature {
    /// The label that verified.
    #[must_use]
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The `keyid` of the signature.
    #[must_use]
    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    /// The signer's DID (`keyid` up to its first `#`).
    #[must_use]
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The type of the key that verified.
    #[must_use]
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The `created` parameter.
    #[must_use]
    pub fn created(&self) -> Timestamp {
        self.created
    }

    /// The `expires` parameter, if present.
    #[must_use]
    pub fn expires(&self) -> Option<Timestamp> {
        self.expires
    }

    /// The `nonce` parameter, if present (now recorded as used).
    #[must_use]
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }
}

/// The DID part of a key id: everything before the first `#`.
fn did_of(keyid: &str) -> &str {
    keyid.split_once('#').map_or(keyid, |(did, _)| did)
}

fn dictionary_error(e: DictError, invalid: Malformed) -> HttpSigError {
    match e {
        DictError::DuplicateName => Malformed::DuplicateLabel.into(),
        DictError::Invalid => invalid.into(),
    }
}

fn enabled_max_age(options: &VerifyOptions) -> Option<Duration> {
    options.max_age.filter(|d| !d.is_zero())
}

fn nanos(d: Duration) -> i128 {
    i128::try_from(d.as_nanos()).unwrap_or(i128::MAX)
}

fn timestamp_from_nanos(ns: i128) -> Timestamp {
    let secs = ns.div_euclid(1_000_000_000);
    let sub = ns.rem_euclid(1_000_000_000);
    match (i64::try_from(secs), u32::try_from(sub)) {
        (Ok(s), Ok(n)) => Timestamp::new(s, n),
        _ => Timestamp::from_unix_seconds(if secs < 0 { i64::MIN } else { i64::MAX }),
    }
}
