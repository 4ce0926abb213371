//! The \[L\] handshake key schedule as pure functions (PROTOCOL.md §6.1–§6.4).
//!
//! Layer: handshake, bottom. Everything here is a function of its inputs:
//! no state, no clock, and randomness only where HPKE needs it
//! ([`hpke_seal_export`]). The state machines in
//! [`Initiator`](super::Initiator) and [`Responder`](super::Responder) call
//! these, and so does the vector runner, which is why they are public.
//!
//! What it computes:
//! - §6.1 the `info` and `exportCtx` strings ([`info`], [`export_context`]);
//! - §6.1/§6.2 HPKE Base mode used only through its exporter
//!   ([`hpke_seal_export`], [`hpke_open_export`]);
//! - §6.2 the combiner of the HPKE exporter and the ephemeral X25519 secret
//!   ([`combine`]);
//! - §6.3 the HMAC counter expansion ([`counter_expand`]) and the traffic
//!   keys it yields ([`TrafficKeys`]), which nothing in \[L\] consumes;
//! - §6.4 the transcript hash, its element order as data
//!   ([`TRANSCRIPT_ORDER`]), and the acknowledgement tag ([`Transcript`],
//!   [`ack_tag`]).
//!
//! What it does not do: parse or build messages, compare tags (callers do
//! that in constant time), or decide anything.
//!
//! Invariant: every secret output (exporter, combiner seed, ack key, traffic
//! keys) is returned in a zeroizing type, and every intermediate secret
//! buffer is wiped before the function returns.

use core::fmt;

use hkdf::HkdfExtract;
use hmac::{Hmac, KeyInit as _, Mac as _};
use hpke::{Deserializable as _, Serializable as _};
use rand_core::CryptoRng;
use sha2::{Digest as _, Sha256};
use zeroize::{Zeroize as _, ZeroizeOnDrop, Zeroizing};

use super::error::HandshakeError;
use crate::primitives::{X25519PublicKey, X25519Secret};
use crate::version::Labels;

/// The HPKE suite of §6.1: DHKEM(X25519, HKDF-SHA256).
type Kem = hpke::kem::X25519HkdfSha256;
/// HKDF-SHA256.
type Kdf = hpke::kdf::HkdfSha256;
/// ChaCha20-Poly1305 (part of the suite id; never used to encrypt).
type Aead = hpke::aead::ChaCha20Poly1305;

/// Length of `enc`, of X25519 keys, of the exporter, of the seed and of the tag.
pub const KEY_LEN: usize = 32;

/// Length of the §6.3 traffic IVs.
pub const IV_LEN: usize = 12;

// The field separators of the §6.1 strings. They are the grammar of the two
// strings, not profile labels: the profile-specific parts (prefixes, suite
// and combiner names) come from `Labels`, and the [N] profile replaces the
// whole construction rather than these separators (§6.7 HPKE-02).
const COMBINER_FIELD: &str = "|combiner=";
const CTX_FIELD: &str = "|ctx=";
const INIT_FIELD: &str = "|init=";
const RESP_FIELD: &str = "|resp=";

/// The HPKE `info` string of §6.1:
/// `prefix ‖ suite ‖ "|combiner=" ‖ combiner ‖ "|ctx=" ‖ ctxID ‖ "|init=" ‖ initDID ‖ "|resp=" ‖ respDID`.
pub fn info(labels: &Labels, ctx_id: &str, init_did: &str, resp_did: &str) -> String {
    let mut out = export_like(labels.hpke_info_prefix, labels, ctx_id);
    out.reserve(INIT_FIELD.len() + init_did.len() + RESP_FIELD.len() + resp_did.len());
    out.push_str(INIT_FIELD);
    out.push_str(init_did);
    out.push_str(RESP_FIELD);
    out.push_str(resp_did);
    out
}

/// The HPKE exporter context of §6.1, which is also the combiner's salt:
/// `prefix ‖ suite ‖ "|combiner=" ‖ combiner ‖ "|ctx=" ‖ ctxID`.
pub fn export_context(labels: &Labels, ctx_id: &str) -> String {
    export_like(labels.hpke_export_prefix, labels, ctx_id)
}

/// The common head of both §6.1 strings under `prefix`.
fn export_like(prefix: &str, labels: &Labels, ctx_id: &str) -> String {
    let mut out = String::with_capacity(
        prefix.len()
            + labels.hpke_suite.len()
            + COMBINER_FIELD.len()
            + labels.hpke_combiner.len()
            + CTX_FIELD.len()
            + ctx_id.len(),
    );
    out.push_str(prefix);
    out.push_str(labels.hpke_suite);
    out.push_str(COMBINER_FIELD);
    out.push_str(labels.hpke_combiner);
    out.push_str(CTX_FIELD);
    out.push_str(ctx_id);
    out
}

/// The suite named by a received `info` or `exportCtx` string: the text
/// between `prefix` and the next `|`. `None` when the string does not start
/// with `prefix` or has no `|` after it. Lets a responder tell "suite not
/// allowed" (the one distinct error §6.5 permits) from any other mismatch.
pub(crate) fn named_suite<'a>(received: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = received.strip_prefix(prefix)?;
    rest.split_once('|').map(|(suite, _)| suite)
}

/// HPKE Base mode, sender side (§6.2 step 1): encapsulates to the
/// responder's static KEM key with `info`, and exports 32 bytes under
/// `export_ctx`. Returns `(enc, exporterHPKE)`.
///
/// # Errors
/// [`HandshakeError::HpkeEncapsulation`] when encapsulation fails, which
/// for X25519 means the peer key is of low order (an all-zero DH output).
pub fn hpke_seal_export<R: CryptoRng + ?Sized>(
    rng: &mut R,
    peer_kem_public: &X25519PublicKey,
    info: &[u8],
    export_ctx: &[u8],
) -> Result<([u8; KEY_LEN], Zeroizing<[u8; KEY_LEN]>), HandshakeError> {
    let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(peer_kem_public.as_bytes())
        .map_err(|_| HandshakeError::HpkeEncapsulation)?;
    let (encapped, ctx) = hpke::setup_sender_with_rng::<Aead, Kdf, Kem>(
        &hpke::OpModeS::Base,
        &pk,
        info,
        &mut &mut *rng,
    )
    .map_err(|_| HandshakeError::HpkeEncapsulation)?;
    let mut exporter = Zeroizing::new([0u8; KEY_LEN]);
    ctx.export(export_ctx, exporter.as_mut_slice())
        .map_err(|_| HandshakeError::HpkeEncapsulation)?;
    let mut enc = [0u8; KEY_LEN];
    enc.copy_from_slice(&encapped.to_bytes());
    Ok((enc, exporter))
}

/// HPKE Base mode, receiver side (§6.5 step 4): decapsulates `enc` with the
/// static KEM secret and `info`, and exports 32 bytes under `export_ctx`.
///
/// # Errors
/// [`HandshakeError::HpkeDecapsulation`] when decapsulation fails (`enc`
/// of low order, hence an all-zero DH output).
pub fn hpke_open_export(
    kem_secret: &X25519Secret,
    enc: &[u8; KEY_LEN],
    info: &[u8],
    export_ctx: &[u8],
) -> Result<Zeroizing<[u8; KEY_LEN]>, HandshakeError> {
    let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(kem_secret.to_bytes().as_slice())
        .map_err(|_| HandshakeError::HpkeDecapsulation)?;
    let encapped = <Kem as hpke::Kem>::EncappedKey::from_bytes(enc)
        .map_err(|_| HandshakeError::HpkeDecapsulation)?;
    let ctx = hpke::setup_receiver::<Aead, Kdf, Kem>(&hpke::OpModeR::Base, &sk, &encapped, info)
        .map_err(|_| HandshakeError::HpkeDecapsulation)?;
    let mut exporter = Zeroizing::new([0u8; KEY_LEN]);
    ctx.export(export_ctx, exporter.as_mut_slice())
        .map_err(|_| HandshakeError::HpkeDecapsulation)?;
    Ok(exporter)
}

/// The combiner of §6.2:
///
/// ```text
/// prk  = HKDF-Extract(SHA-256, salt = exportCtx, ikm = exporterHPKE ‖ ssE2E)
/// seed = HKDF-Expand(prk, info = "SAGE-HPKE+E2E-Combiner", 32)
/// ```
pub fn combine(
    labels: &Labels,
    export_ctx: &[u8],
    exporter_hpke: &[u8; KEY_LEN],
    ss_e2e: &[u8; KEY_LEN],
) -> Zeroizing<[u8; KEY_LEN]> {
    let mut extract = HkdfExtract::<Sha256>::new(Some(export_ctx));
    extract.input_ikm(exporter_hpke);
    extract.input_ikm(ss_e2e);
    let (mut prk, hkdf) = extract.finalize();
    prk.as_mut_slice().zeroize();
    let mut seed = Zeroizing::new([0u8; KEY_LEN]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit: this cannot fail.
    hkdf.expand(labels.combiner_info.as_bytes(), seed.as_mut_slice())
        .expect("32 bytes is within the HKDF-SHA256 output limit");
    seed
}

/// `HMAC-SHA256(key)`, for any key length.
fn hmac_sha256(key: &[u8]) -> Hmac<Sha256> {
    // HMAC hashes long keys and pads short ones: every length is valid.
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// The §6.3 counter expansion, written into `out`:
/// `T(i) = HMAC-SHA256(key, label ‖ be32(i))` for `i = 1, 2, …`, truncated.
///
/// # Panics
/// If `out` is longer than `32 · (2^32 − 1)` bytes (the counter is 32 bits).
fn counter_expand_into(key: &[u8], label: &[u8], out: &mut [u8]) {
    let base = hmac_sha256(key);
    for (i, chunk) in out.chunks_mut(KEY_LEN).enumerate() {
        let counter = u32::try_from(i + 1).expect("counter_expand output beyond 2^32 blocks");
        let mut mac = base.clone();
        mac.update(label);
        mac.update(&counter.to_be_bytes());
        let mut block = mac.finalize().into_bytes();
        chunk.copy_from_slice(&block[..chunk.len()]);
        block.as_mut_slice().zeroize();
    }
}

/// The counter expansion of §6.3: the first `n` bytes of
/// `T(1) ‖ T(2) ‖ …` with `T(i) = HMAC-SHA256(key, label ‖ be32(i))`.
///
/// This is **not** RFC 5869 HKDF-Expand: no previous block is fed back and
/// the 4-byte counter follows the label (O-7; 0.10.0 removes it).
///
/// # Panics
/// If `n` exceeds `32 · (2^32 − 1)` bytes, where the 32-bit counter would wrap.
pub fn counter_expand(key: &[u8], label: &[u8], n: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(vec![0u8; n]);
    counter_expand_into(key, label, &mut out);
    out
}

/// The §6.3 traffic keys and channel binding, derived from the combiner seed.
///
/// **Wired to nothing.** The `traffic-keys` vector pins these values, but no
/// \[L\] code path consumes them: sessions are keyed by §7 from the seed, and
/// records use random nonces, not `IV xor seq` (§6.3, §7.1.3). They exist so
/// the vector passes. Zeroized on drop; `Debug` prints no byte.
#[derive(ZeroizeOnDrop)]
pub struct TrafficKeys {
    c2s_key: [u8; KEY_LEN],
    c2s_iv: [u8; IV_LEN],
    s2c_key: [u8; KEY_LEN],
    s2c_iv: [u8; IV_LEN],
    channel_binding: [u8; KEY_LEN],
}

impl TrafficKeys {
    /// `expand(seed, label, n)` for the five labels of §6.3.
    pub fn derive(labels: &Labels, seed: &[u8; KEY_LEN]) -> Self {
        let mut keys = Self {
            c2s_key: [0; KEY_LEN],
            c2s_iv: [0; IV_LEN],
            s2c_key: [0; KEY_LEN],
            s2c_iv: [0; IV_LEN],
            channel_binding: [0; KEY_LEN],
        };
        counter_expand_into(seed, labels.traffic_c2s_key.as_bytes(), &mut keys.c2s_key);
        counter_expand_into(seed, labels.traffic_c2s_iv.as_bytes(), &mut keys.c2s_iv);
        counter_expand_into(seed, labels.traffic_s2c_key.as_bytes(), &mut keys.s2c_key);
        counter_expand_into(seed, labels.traffic_s2c_iv.as_bytes(), &mut keys.s2c_iv);
        counter_expand_into(
            seed,
            labels.channel_binding.as_bytes(),
            &mut keys.channel_binding,
        );
        keys
    }

    /// Client-to-server key (`SAGE-c2s:key`).
    pub fn c2s_key(&self) -> &[u8; KEY_LEN] {
        &self.c2s_key
    }

    /// Client-to-server IV (`SAGE-c2s:iv`).
    pub fn c2s_iv(&self) -> &[u8; IV_LEN] {
        &self.c2s_iv
    }

    /// Server-to-client key (`SAGE-s2c:key`).
    pub fn s2c_key(&self) -> &[u8; KEY_LEN] {
        &self.s2c_key
    }

    /// Server-to-client IV (`SAGE-s2c:iv`).
    pub fn s2c_iv(&self) -> &[u8; IV_LEN] {
        &self.s2c_iv
    }

    /// Channel binding (`SAGE-cb-v1`); no chapter consumes it.
    pub fn channel_binding(&self) -> &[u8; KEY_LEN] {
        &self.channel_binding
    }
}

impl fmt::Debug for TrafficKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TrafficKeys(<redacted>)")
    }
}

/// One value the §6.4 transcript hash binds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TranscriptElement {
    /// The §6.1 `info` bytes.
    Info,
    /// The §6.1 `exportCtx` bytes.
    ExportContext,
    /// The HPKE encapsulated key.
    Enc,
    /// The initiator's ephemeral X25519 public key.
    EphC,
    /// The responder's ephemeral X25519 public key.
    EphS,
    /// The initiator's DID.
    InitDid,
    /// The responder's DID.
    RespDid,
}

impl TranscriptElement {
    /// The element's name as the `ack-tag` vector's `binds_order` spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::ExportContext => "export_context",
            Self::Enc => "enc",
            Self::EphC => "eph_c",
            Self::EphS => "eph_s",
            Self::InitDid => "init_did",
            Self::RespDid => "resp_did",
        }
    }
}

/// The order in which [`Transcript::hash`] binds its elements (§6.4;
/// `binds_order` of the `ack-tag` vector). The hash iterates this constant,
/// so the two cannot disagree.
pub const TRANSCRIPT_ORDER: [TranscriptElement; 7] = [
    TranscriptElement::Info,
    TranscriptElement::ExportContext,
    TranscriptElement::Enc,
    TranscriptElement::EphC,
    TranscriptElement::EphS,
    TranscriptElement::InitDid,
    TranscriptElement::RespDid,
];

/// The values the §6.4 transcript hash binds, in the order
/// [`TRANSCRIPT_ORDER`].
#[derive(Debug, Clone, Copy)]
pub struct Transcript<'a> {
    /// The §6.1 `info` bytes.
    pub info: &'a [u8],
    /// The §6.1 `exportCtx` bytes.
    pub export_ctx: &'a [u8],
    /// The HPKE encapsulated key.
    pub enc: &'a [u8; KEY_LEN],
    /// The initiator's ephemeral X25519 public key.
    pub eph_c: &'a [u8; KEY_LEN],
    /// The responder's ephemeral X25519 public key.
    pub eph_s: &'a [u8; KEY_LEN],
    /// The initiator's DID.
    pub init_did: &'a str,
    /// The responder's DID.
    pub resp_did: &'a str,
}

impl<'a> Transcript<'a> {
    /// The bytes of one element, as they enter the hash.
    #[must_use]
    pub fn element(&self, element: TranscriptElement) -> &'a [u8] {
        match element {
            TranscriptElement::Info => self.info,
            TranscriptElement::ExportContext => self.export_ctx,
            TranscriptElement::Enc => self.enc,
            TranscriptElement::EphC => self.eph_c,
            TranscriptElement::EphS => self.eph_s,
            TranscriptElement::InitDid => self.init_did.as_bytes(),
            TranscriptElement::RespDid => self.resp_did.as_bytes(),
        }
    }

    /// `th = SHA-256(0x00 ‖ info ‖ 0x00 ‖ exportCtx ‖ 0x00 ‖ enc ‖ 0x00 ‖ ephC ‖ 0x00 ‖ ephS ‖ 0x00 ‖ initDID ‖ 0x00 ‖ respDID)`:
    /// the elements in [`TRANSCRIPT_ORDER`], each preceded by one zero
    /// byte, no length prefix, no trailing zero (§6.4, vector-verified).
    pub fn hash(&self) -> [u8; KEY_LEN] {
        let mut hasher = Sha256::new();
        for element in TRANSCRIPT_ORDER {
            hasher.update([0u8]);
            hasher.update(self.element(element));
        }
        hasher.finalize().into()
    }
}

/// `be16(len(field)) ‖ field`. The handshake parsers bound `ctxID`, `nonce`
/// and `kid` far below 65 535 bytes; a longer field is written with its
/// length truncated to 16 bits, as Go's `uint16(len(x))` writes it.
fn update_len16(mac: &mut Hmac<Sha256>, field: &str) {
    #[allow(clippy::cast_possible_truncation)] // Go-identical truncation, see above
    let len = field.len() as u16;
    mac.update(&len.to_be_bytes());
    mac.update(field.as_bytes());
}

/// The acknowledgement tag of §6.4:
///
/// ```text
/// ackKey = expand(seed, "SAGE-ack-key-v1", 32)
/// ackMsg = "SAGE-ack-msg|v1|" ‖ len16(ctxID) ‖ len16(nonce) ‖ len16(kid) ‖ th
/// ackTag = HMAC-SHA256(ackKey, ackMsg)
/// ```
///
/// where `len16(x) = be16(len(x)) ‖ x` and `th` is [`Transcript::hash`].
/// Compare the result in constant time.
pub fn ack_tag(
    labels: &Labels,
    seed: &[u8; KEY_LEN],
    ctx_id: &str,
    nonce: &str,
    kid: &str,
    transcript: &Transcript<'_>,
) -> [u8; KEY_LEN] {
    let mut ack_key = Zeroizing::new([0u8; KEY_LEN]);
    counter_expand_into(seed, labels.ack_key.as_bytes(), ack_key.as_mut_slice());
    let mut mac = hmac_sha256(ack_key.as_slice());
    mac.update(labels.ack_msg_prefix.as_bytes());
    update_len16(&mut mac, ctx_id);
    update_len16(&mut mac, nonce);
    update_len16(&mut mac, kid);
    mac.update(&transcript.hash());
    mac.finalize().into_bytes().into()
}
