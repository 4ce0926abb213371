//! Session seed, session id and the HKDF key schedule (PROTOCOL.md §7.1.1,
//! §7.1.2, §6.6).
//!
//! Two ways lead to a session seed: the salted derivation of §7.1.1
//! ([`derive_seed_and_id`]), and the HPKE handshake of §6.6, whose combiner
//! seed is used as is ([`SessionId::from_seed`]). Both then name the session
//! `sid = base64url-raw(SHA-256(label ‖ seed)[0..16])` and feed
//! `(seed, sid)` to one key schedule: RFC 5869 HKDF-SHA256 with
//! `salt = UTF8(sid)` and `ikm = seed`.
//!
//! This module derives; it keeps no counters and opens no records. Every
//! secret it returns lives in a zeroizing type. Labels come from
//! [`Labels`]; none is written here.

use core::fmt;
use core::str::FromStr;

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::error::SessionError;
use crate::encoding::{b64url_decode_array, b64url_encode};
use crate::version::{Labels, ProtocolVersion};

/// Length of a session seed and of every session key, in bytes.
pub const SEED_LEN: usize = 32;
/// Length of a session id string (16 bytes in base64url without padding).
pub const SESSION_ID_LEN: usize = 22;
/// Bytes of SHA-256 kept in a session id.
const SESSION_ID_HASH_LEN: usize = 16;

/// A 32-byte key of the schedule, wiped on drop.
pub(crate) type SessionKey = Zeroizing<[u8; SEED_LEN]>;

/// The label a session seed and id are derived under (§7.1.1). Both peers
/// must use the same one. The strings come from the profile's [`Labels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionLabel {
    /// `sage/hpke+e2e v1`: sessions made after the HPKE handshake.
    HpkeE2e,
    /// `sage/hpke v1`: the Go session manager path.
    Hpke,
    /// `a2a/handshake v1`, named explicitly (salt and id both use it).
    Legacy,
    /// The empty label. The salt uses the legacy label in its place, but the
    /// id is hashed with the empty string (Go core, PROTOCOL.md §18.1).
    /// Prefer a named label.
    Empty,
}

impl SessionLabel {
    /// Every label, for lookups by string. A new variant belongs here too
    /// (the exhaustive match of [`Self::id_label`] is the reminder).
    const ALL: [Self; 4] = [Self::HpkeE2e, Self::Hpke, Self::Legacy, Self::Empty];

    /// The label whose string in `version`'s [`Labels`] table is exactly
    /// `label` (byte for byte: no trimming, no case folding); `""` is
    /// [`SessionLabel::Empty`]. `None` for any other string.
    #[must_use]
    pub fn from_label(version: ProtocolVersion, label: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.id_label(version) == label)
    }

    /// The label as it enters the session id hash.
    pub fn id_label(self, version: ProtocolVersion) -> &'static str {
        let labels = version.labels();
        match self {
            Self::HpkeE2e => labels.session_label_hpke_e2e,
            Self::Hpke => labels.session_label_hpke,
            Self::Legacy => labels.session_label_legacy,
            Self::Empty => "",
        }
    }

    /// The label as it enters the salt of §7.1.1: an empty label is replaced
    /// by the legacy one.
    pub fn salt_label(self, version: ProtocolVersion) -> &'static str {
        match self {
            Self::Empty => version.labels().session_label_legacy,
            named => named.id_label(version),
        }
    }
}

/// The 32-byte session seed: the PRK of §7.1.1, or the combiner seed of
/// §6.6. Wiped on drop; `Debug` prints no byte of it; equality is constant
/// time.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SessionSeed([u8; SEED_LEN]);

impl SessionSeed {
    /// Wraps 32 secret bytes (for instance the handshake's combiner seed).
    pub const fn from_bytes(bytes: [u8; SEED_LEN]) -> Self {
        Self(bytes)
    }

    /// The secret bytes. Only for code that must persist or compare the seed
    /// itself (a snapshot store, a vector runner); everything else should go
    /// through [`Session`](super::Session).
    pub fn dangerous_as_bytes(&self) -> &[u8; SEED_LEN] {
        &self.0
    }

    /// A second owned copy, for snapshots. Not `Clone`, so that copies of a
    /// secret are never made by accident.
    pub(crate) fn duplicate(&self) -> Self {
        Self(self.0)
    }
}

impl fmt::Debug for SessionSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionSeed(<redacted>)")
    }
}

impl PartialEq for SessionSeed {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SessionSeed {}

/// A session id: 22 characters of base64url without padding, the first 16
/// bytes of `SHA-256(label ‖ seed)`. Public: it names the session, it does
/// not protect it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(String);

impl SessionId {
    /// `base64url-raw(SHA-256(label ‖ seed)[0..16])`, the id of §7.1.1 and
    /// §6.6. The handshake path (§6.6) calls this with
    /// [`SessionLabel::HpkeE2e`] and the combiner seed as is.
    pub fn from_seed(version: ProtocolVersion, label: SessionLabel, seed: &SessionSeed) -> Self {
        let digest: [u8; 32] = Sha256::new()
            .chain_update(label.id_label(version).as_bytes())
            .chain_update(seed.0)
            .finalize()
            .into();
        Self(b64url_encode(&digest[..SESSION_ID_HASH_LEN]))
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for SessionId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for SessionId {
    type Err = SessionError;

    /// Accepts exactly 22 characters of canonical unpadded base64url.
    ///
    /// # Errors
    /// [`SessionError::InvalidSessionId`] for anything else.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != SESSION_ID_LEN {
            return Err(SessionError::InvalidSessionId);
        }
        let bytes = b64url_decode_array::<SESSION_ID_HASH_LEN>(s)
            .map_err(|_| SessionError::InvalidSessionId)?;
        // The decoder rejects non-zero pad bits already; re-encoding keeps
        // the guarantee "one id, one spelling" independent of that setting.
        if b64url_encode(&bytes) != s {
            return Err(SessionError::InvalidSessionId);
        }
        Ok(Self(s.to_owned()))
    }
}

/// The salted derivation of §7.1.1:
///
/// ```text
/// (lo, hi) = eph_a, eph_b ordered as byte strings
/// salt     = SHA-256(UTF8(salt label) ‖ UTF8(ctx_id) ‖ lo ‖ hi)
/// seed     = HKDF-Extract(SHA-256, salt, shared_secret)
/// sid      = base64url-raw(SHA-256(UTF8(id label) ‖ seed)[0..16])
/// ```
///
/// Both peers get the same pair whichever ephemeral they call `eph_a`. The
/// inputs are used as given; empty ones are the caller's mistake, not an
/// error here.
pub fn derive_seed_and_id(
    version: ProtocolVersion,
    label: SessionLabel,
    shared_secret: &[u8; SEED_LEN],
    ctx_id: &str,
    eph_a: &[u8],
    eph_b: &[u8],
) -> (SessionSeed, SessionId) {
    let (lo, hi) = if eph_a <= eph_b {
        (eph_a, eph_b)
    } else {
        (eph_b, eph_a)
    };
    let salt = Sha256::new()
        .chain_update(label.salt_label(version).as_bytes())
        .chain_update(ctx_id.as_bytes())
        .chain_update(lo)
        .chain_update(hi)
        .finalize();
    let (mut prk, _) = Hkdf::<Sha256>::extract(Some(&salt), shared_secret);
    let mut seed = SessionSeed([0; SEED_LEN]);
    seed.0.copy_from_slice(&prk);
    prk.as_mut_slice().zeroize();
    let id = SessionId::from_seed(version, label, &seed);
    (seed, id)
}

/// The key schedule of one session: the HKDF PRK of
/// `Extract(salt = UTF8(sid), ikm = seed)`, expanded on demand.
pub(crate) struct KeySchedule {
    prk: SessionKey,
}

/// The two shared (non-directional) keys of `sage-session-keys-v1`.
pub(crate) struct SharedKeys {
    pub(crate) encrypt: SessionKey,
    pub(crate) signing: SessionKey,
}

/// The two directional AEAD keys of `sage-directional-keys-v1`. The
/// directional signing keys are derived with them but dropped at once: the
/// MAC path uses the shared signing key (Go core, §7.1.6).
pub(crate) struct DirectionalKeys {
    pub(crate) c2s: SessionKey,
    pub(crate) s2c: SessionKey,
}

impl KeySchedule {
    pub(crate) fn new(seed: &SessionSeed, id: &SessionId) -> Self {
        let (mut prk, _) = Hkdf::<Sha256>::extract(Some(id.as_bytes()), &seed.0);
        let mut schedule = Self {
            prk: Zeroizing::new([0; SEED_LEN]),
        };
        schedule.prk.copy_from_slice(&prk);
        prk.as_mut_slice().zeroize();
        schedule
    }

    /// HKDF-Expand of the concatenated `info` parts into `N` bytes.
    fn expand<const N: usize>(&self, info: &[&[u8]]) -> Zeroizing<[u8; N]> {
        const { assert!(N <= 255 * 32, "HKDF-SHA256 output limit") };
        let mut okm = Zeroizing::new([0u8; N]);
        // Neither call depends on input: the PRK is exactly HashLen bytes
        // (`from_prk` wants at least that) and N is within the output limit
        // checked above, so a failure here is a bug in this module.
        Hkdf::<Sha256>::from_prk(self.prk.as_slice())
            .expect("PRK is HashLen bytes")
            .expand_multi_info(info, okm.as_mut_slice())
            .expect("output within the HKDF limit");
        okm
    }

    /// `encryptKey ‖ signingKey` (64 bytes, info `sage-session-keys-v1`).
    pub(crate) fn shared_keys(&self, labels: &Labels) -> SharedKeys {
        let okm = self.expand::<{ 2 * SEED_LEN }>(&[labels.session_keys_info.as_bytes()]);
        SharedKeys {
            encrypt: key_at(&okm, 0),
            signing: key_at(&okm, SEED_LEN),
        }
    }

    /// `c2sEnc ‖ c2sSign ‖ s2cEnc ‖ s2cSign` (128 bytes, info
    /// `sage-directional-keys-v1`); the signing halves are discarded.
    pub(crate) fn directional_keys(&self, labels: &Labels) -> DirectionalKeys {
        let okm = self.expand::<{ 4 * SEED_LEN }>(&[labels.session_directional_info.as_bytes()]);
        DirectionalKeys {
            c2s: key_at(&okm, 0),
            s2c: key_at(&okm, 2 * SEED_LEN),
        }
    }

    /// The AEAD key of generation `generation` (> 0) of stream `dir`:
    /// info `sage-session-rekey-v1 ‖ dir ‖ be64(generation)`, 32 bytes.
    pub(crate) fn rekey_key(&self, labels: &Labels, dir: &str, generation: u64) -> SessionKey {
        self.expand::<SEED_LEN>(&[
            labels.session_rekey_info.as_bytes(),
            dir.as_bytes(),
            &generation.to_be_bytes(),
        ])
    }
}

impl fmt::Debug for KeySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeySchedule(<redacted>)")
    }
}

/// The 32-byte key at `offset` of an HKDF output (offsets are constants of
/// the layouts above, always in bounds).
fn key_at<const N: usize>(okm: &[u8; N], offset: usize) -> SessionKey {
    let mut key = Zeroizing::new([0u8; SEED_LEN]);
    key.copy_from_slice(&okm[offset..offset + SEED_LEN]);
    key
}
