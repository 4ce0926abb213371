//! The session object (PROTOCOL.md §7.1, §6.6).
//!
//! A [`Session`] holds the keys of one session, one send counter shared by
//! every encrypt call (Go core: the plain and the AAD record of
//! `directional-with-aad` are seq 0 and seq 1), one inbound replay window
//! shared by every decrypt call (the peer's records all come from the
//! peer's one counter), and the lifetime bookkeeping.
//!
//! Record streams:
//!
//! | call | key | rekey `dir` |
//! |---|---|---|
//! | [`Session::encrypt`], [`Session::encrypt_with_aad`] | outbound directional key | `c2s` (initiator) / `s2c` (responder) |
//! | [`Session::decrypt`], [`Session::decrypt_with_aad`] | inbound directional key | `s2c` (initiator) / `c2s` (responder) |
//! | [`Session::encrypt_shared`], [`Session::decrypt_shared`], MAC path | shared `encryptKey` | `single` |
//!
//! Failure atomicity: a failed call changes nothing. The counter, the
//! window, the message count and the idle clock move only when a record was
//! sealed or authenticated. The one exception is expiry: a call that finds
//! the session expired wipes its keys, and from then on every call fails
//! with [`SessionError::Expired`] (the expiry is itself the state change).
//!
//! Not here: how a record names its session on the wire (the Go core binds
//! `kid → sid` outside the session, §7.1.7), I/O, clocks and randomness
//! (the caller passes `now` and an RNG).

use core::fmt;

use hmac::digest::KeyInit as _;
use hmac::{Hmac, Mac as _};
use rand_core::CryptoRng;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::derive::{KeySchedule, SEED_LEN, SessionId, SessionKey, SessionLabel, SessionSeed};
use super::error::{ExpiryReason, SessionError};
use super::policy::{Lifetime, SessionConfig};
use super::record::{self, RECORD_NONCE_LEN};
use super::rekey::{StreamKeys, generation};
use super::snapshot::SessionSnapshot;
use super::window::WindowState;
use crate::time::Timestamp;
use crate::version::ProtocolVersion;

/// Length of a MAC of the MAC path (HMAC-SHA256).
pub const MAC_LEN: usize = 32;

/// Which side of the handshake this session is (§6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Started the handshake: sends on `c2s`, receives on `s2c`.
    Initiator,
    /// Answered the handshake: sends on `s2c`, receives on `c2s`.
    Responder,
}

/// The keys of a live session. Every key is wiped on drop.
struct LiveKeys {
    seed: SessionSeed,
    schedule: KeySchedule,
    /// The shared `signingKey` (MAC path).
    mac_key: SessionKey,
    send: StreamKeys,
    receive: StreamKeys,
    // The shared key is one stream that both peers send on; sending and
    // receiving keep separate caches because the two counters advance
    // independently.
    shared_send: StreamKeys,
    shared_receive: StreamKeys,
}

impl LiveKeys {
    fn derive(version: ProtocolVersion, role: Role, seed: SessionSeed, id: &SessionId) -> Self {
        let labels = version.labels();
        let schedule = KeySchedule::new(&seed, id);
        let shared = schedule.shared_keys(labels);
        let directional = schedule.directional_keys(labels);
        let (send, receive) = match role {
            Role::Initiator => (
                StreamKeys::new(labels.dir_c2s, directional.c2s),
                StreamKeys::new(labels.dir_s2c, directional.s2c),
            ),
            Role::Responder => (
                StreamKeys::new(labels.dir_s2c, directional.s2c),
                StreamKeys::new(labels.dir_c2s, directional.c2s),
            ),
        };
        // The Go core rotates the shared key under the direction string
        // `single` (vector-verified: `encrypt-decrypt`'s seq-256 record
        // opens only under that key, PROTOCOL.md §7.1.2); §18.6 keeps `c2s`
        // and `s2c` for the directional streams.
        let shared_send = StreamKeys::new(labels.dir_single, shared.encrypt.clone());
        let shared_receive = StreamKeys::new(labels.dir_single, shared.encrypt);
        Self {
            seed,
            schedule,
            mac_key: shared.signing,
            send,
            receive,
            shared_send,
            shared_receive,
        }
    }
}

/// Live keys, or the reason they were wiped.
enum KeyState {
    Live(Box<LiveKeys>),
    Expired(ExpiryReason),
}

/// Which record stream a call uses.
#[derive(Clone, Copy)]
enum Stream {
    Directional,
    Shared,
}

/// One session of the \[L\] profile (PROTOCOL.md §7.1): keys, send counter,
/// replay window and lifetime.
pub struct Session {
    version: ProtocolVersion,
    id: SessionId,
    role: Role,
    config: SessionConfig,
    lifetime: Lifetime,
    /// The next sequence number to send; `None` once `u64::MAX` was used.
    next_send_seq: Option<u64>,
    window: WindowState,
    keys: KeyState,
}

impl Session {
    /// The session after the HPKE handshake (§6.6): the combiner `seed` is
    /// the session seed as is, and the id is
    /// `base64url-raw(SHA-256("sage/hpke+e2e v1" ‖ seed)[0..16])`. This is
    /// what the Go core does; it skips the salted step of §7.1.1.
    pub fn from_handshake_seed(
        version: ProtocolVersion,
        role: Role,
        seed: SessionSeed,
        config: SessionConfig,
        now: Timestamp,
    ) -> Self {
        let id = SessionId::from_seed(version, SessionLabel::HpkeE2e, &seed);
        Self::from_salted(version, role, seed, id, config, now)
    }

    /// The session of a seed and id from the salted derivation of §7.1.1
    /// ([`derive_seed_and_id`](super::derive_seed_and_id)), or of any
    /// `(seed, id)` pair both peers agree on.
    pub fn from_salted(
        version: ProtocolVersion,
        role: Role,
        seed: SessionSeed,
        id: SessionId,
        config: SessionConfig,
        now: Timestamp,
    ) -> Self {
        let keys = LiveKeys::derive(version, role, seed, &id);
        Self {
            version,
            id,
            role,
            config,
            lifetime: Lifetime::new(now),
            next_send_seq: Some(0),
            window: WindowState::default(),
            keys: KeyState::Live(Box::new(keys)),
        }
    }

    /// Restores a session saved with [`Session::export_snapshot`]. The
    /// restored session continues the send counter and keeps the replay
    /// window, so a record accepted before the restart stays rejected.
    ///
    /// # Errors
    /// [`SessionError::InvalidSnapshot`] when the snapshot belongs to
    /// another protocol profile than `version`.
    pub fn from_snapshot(
        version: ProtocolVersion,
        snapshot: SessionSnapshot,
    ) -> Result<Self, SessionError> {
        if snapshot.version != version {
            return Err(SessionError::InvalidSnapshot);
        }
        let SessionSnapshot {
            version,
            id,
            role,
            seed,
            next_send_seq,
            window,
            lifetime,
            config,
        } = snapshot;
        let keys = LiveKeys::derive(version, role, seed, &id);
        Ok(Self {
            version,
            id,
            role,
            config,
            lifetime,
            next_send_seq,
            window,
            keys: KeyState::Live(Box::new(keys)),
        })
    }

    /// Everything needed to restore this session: id, role, seed, counters,
    /// window, times and config. The snapshot holds the seed; keep its
    /// bytes encrypted at rest.
    ///
    /// # Errors
    /// [`SessionError::Expired`] when the session expired (its seed is gone).
    pub fn export_snapshot(&self) -> Result<SessionSnapshot, SessionError> {
        match &self.keys {
            KeyState::Expired(reason) => Err(SessionError::Expired(*reason)),
            KeyState::Live(keys) => Ok(SessionSnapshot {
                version: self.version,
                id: self.id.clone(),
                role: self.role,
                seed: keys.seed.duplicate(),
                next_send_seq: self.next_send_seq,
                window: self.window,
                lifetime: self.lifetime,
                config: self.config,
            }),
        }
    }

    /// Seals `plaintext` as the next record on the outbound directional
    /// stream.
    ///
    /// # Errors
    /// [`SessionError::Expired`], [`SessionError::SequenceExhausted`],
    /// [`SessionError::PlaintextTooLong`].
    pub fn encrypt<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.seal(Stream::Directional, rng, now, plaintext, &[])
    }

    /// Seals `plaintext` on the outbound directional stream, binding `aad`
    /// (which the receiver must pass to [`Session::decrypt_with_aad`]).
    ///
    /// # Errors
    /// As [`Session::encrypt`].
    pub fn encrypt_with_aad<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.seal(Stream::Directional, rng, now, plaintext, aad)
    }

    /// Opens a record of the inbound directional stream.
    ///
    /// # Errors
    /// [`SessionError::Expired`], [`SessionError::RecordTooShort`],
    /// [`SessionError::Stale`], [`SessionError::Replayed`],
    /// [`SessionError::Decrypt`].
    pub fn decrypt(&mut self, now: Timestamp, record: &[u8]) -> Result<Vec<u8>, SessionError> {
        self.open(Stream::Directional, now, record, &[])
    }

    /// Opens a record of the inbound directional stream sealed with `aad`.
    ///
    /// # Errors
    /// As [`Session::decrypt`]; a different `aad` is [`SessionError::Decrypt`].
    pub fn decrypt_with_aad(
        &mut self,
        now: Timestamp,
        record: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.open(Stream::Directional, now, record, aad)
    }

    /// Seals `plaintext` under the shared (non-directional) key, for peers
    /// that do not use roles. Shares the send counter with every other
    /// encrypt call.
    ///
    /// The shared key is the same in both directions, so a record sealed
    /// here also opens with this session's own [`Session::decrypt_shared`]:
    /// callers that can, should use the directional calls.
    ///
    /// # Errors
    /// As [`Session::encrypt`].
    pub fn encrypt_shared<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.seal(Stream::Shared, rng, now, plaintext, &[])
    }

    /// Opens a record sealed under the shared key. Uses the one inbound
    /// replay window of the session.
    ///
    /// # Errors
    /// As [`Session::decrypt`].
    pub fn decrypt_shared(
        &mut self,
        now: Timestamp,
        record: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        self.open(Stream::Shared, now, record, &[])
    }

    /// The MAC path (§7.1.6): seals `plaintext` under the shared key and
    /// returns the record with `HMAC-SHA256(signingKey, covered)`.
    ///
    /// The Go core uses the *shared* `signingKey` here (and the shared
    /// encryption key for the record); the spec text says "the signing key
    /// of the same direction" and the Rust core uses the directional one.
    /// We follow Go, which is what deployed peers verify.
    ///
    /// # Errors
    /// As [`Session::encrypt`].
    pub fn encrypt_and_sign<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
        now: Timestamp,
        plaintext: &[u8],
        covered: &[u8],
    ) -> Result<(Vec<u8>, [u8; MAC_LEN]), SessionError> {
        let keys = live_keys(&mut self.keys, &self.lifetime, &self.config, now)?;
        let mac = hmac_sha256(&keys.mac_key, covered);
        let record = self.seal(Stream::Shared, rng, now, plaintext, &[])?;
        Ok((record, mac))
    }

    /// The MAC path (§7.1.6): checks `mac` over `covered` in constant time
    /// under the shared `signingKey`, and only then opens `record` under the
    /// shared key.
    ///
    /// # Errors
    /// [`SessionError::Expired`], [`SessionError::BadMac`], then as
    /// [`Session::decrypt`].
    pub fn decrypt_and_verify(
        &mut self,
        now: Timestamp,
        record: &[u8],
        covered: &[u8],
        mac: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        let keys = live_keys(&mut self.keys, &self.lifetime, &self.config, now)?;
        let expected = hmac_sha256(&keys.mac_key, covered);
        // `ct_eq` on slices of different lengths is false, in time that
        // depends only on the lengths.
        if !bool::from(expected.as_slice().ct_eq(mac)) {
            return Err(SessionError::BadMac);
        }
        self.open(Stream::Shared, now, record, &[])
    }

    /// Checks the lifetime policy at `now` without sending or receiving;
    /// an expired session wipes its keys here. A session manager calls this
    /// to sweep.
    ///
    /// # Errors
    /// [`SessionError::Expired`] when the session is (now) expired.
    pub fn check_lifetime(&mut self, now: Timestamp) -> Result<(), SessionError> {
        live_keys(&mut self.keys, &self.lifetime, &self.config, now).map(|_| ())
    }

    /// Why the session expired, if it did (as of the last call).
    pub fn expiry(&self) -> Option<ExpiryReason> {
        match self.keys {
            KeyState::Live(_) => None,
            KeyState::Expired(reason) => Some(reason),
        }
    }

    /// The session id.
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// This side's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The protocol profile.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The sequence number the next record will carry; `None` once every
    /// 64-bit value was used.
    pub fn next_send_seq(&self) -> Option<u64> {
        self.next_send_seq
    }

    /// Records sent plus records accepted so far.
    pub fn message_count(&self) -> u64 {
        self.lifetime.message_count
    }

    /// When the session was created.
    pub fn created_at(&self) -> Timestamp {
        self.lifetime.created
    }

    /// When a record was last sent or accepted (creation time if never).
    pub fn last_activity(&self) -> Timestamp {
        self.lifetime.last_activity
    }

    /// A copy of the inbound replay window, for a service that persists it.
    pub fn replay_window(&self) -> WindowState {
        self.window
    }

    /// Merges a persisted window into this one. Merging only adds
    /// rejections: every record either window would refuse stays refused.
    pub fn merge_replay_window(&mut self, state: &WindowState) {
        self.window.merge(state);
    }

    fn seal<R: CryptoRng + ?Sized>(
        &mut self,
        stream: Stream,
        rng: &mut R,
        now: Timestamp,
        plaintext: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        let keys = live_keys(&mut self.keys, &self.lifetime, &self.config, now)?;
        let seq = self.next_send_seq.ok_or(SessionError::SequenceExhausted)?;
        let generation = generation(seq, self.config.rekey_interval);
        let keys = &mut **keys;
        let stream_keys = match stream {
            Stream::Directional => &mut keys.send,
            Stream::Shared => &mut keys.shared_send,
        };
        let key = stream_keys.key(&keys.schedule, self.version.labels(), generation);
        let mut nonce = [0u8; RECORD_NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let record = record::seal(key, seq, &nonce, plaintext, aad)?;
        self.next_send_seq = seq.checked_add(1);
        self.lifetime.record_activity(now);
        Ok(record)
    }

    fn open(
        &mut self,
        stream: Stream,
        now: Timestamp,
        record: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, SessionError> {
        let keys = live_keys(&mut self.keys, &self.lifetime, &self.config, now)?;
        let parsed = record::parse(record)?;
        self.window.check(parsed.seq)?;
        let generation = generation(parsed.seq, self.config.rekey_interval);
        let keys = &mut **keys;
        let stream_keys = match stream {
            Stream::Directional => &mut keys.receive,
            Stream::Shared => &mut keys.shared_receive,
        };
        let key = stream_keys.key(&keys.schedule, self.version.labels(), generation);
        let plaintext = record::open(key, &parsed, aad)?;
        self.window.accept(parsed.seq);
        self.lifetime.record_activity(now);
        Ok(plaintext)
    }
}

/// The live keys, after checking the lifetime policy at `now`; wipes them
/// and fails when the session is or becomes expired.
fn live_keys<'k>(
    keys: &'k mut KeyState,
    lifetime: &Lifetime,
    config: &SessionConfig,
    now: Timestamp,
) -> Result<&'k mut Box<LiveKeys>, SessionError> {
    if let KeyState::Live(_) = keys
        && let Err(reason) = lifetime.check(&config.policy, now)
    {
        // Dropping the box wipes every key (all are zeroizing types).
        *keys = KeyState::Expired(reason);
    }
    match keys {
        KeyState::Live(live) => Ok(live),
        KeyState::Expired(reason) => Err(SessionError::Expired(*reason)),
    }
}

/// `HMAC-SHA256(key, data)`.
fn hmac_sha256(key: &[u8; SEED_LEN], data: &[u8]) -> [u8; MAC_LEN] {
    // HMAC zero-pads a key shorter than the 64-byte block (RFC 2104 §2), so
    // the padded block is the same key, and `KeyInit::new` on a full block
    // cannot fail.
    let mut block = Zeroizing::new([0u8; 64]);
    block[..SEED_LEN].copy_from_slice(key);
    let mut mac = Hmac::<Sha256>::new((&*block).into());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state: &dyn fmt::Debug = match &self.keys {
            KeyState::Live(_) => &"live",
            KeyState::Expired(reason) => reason,
        };
        f.debug_struct("Session")
            .field("version", &self.version)
            .field("id", &self.id)
            .field("role", &self.role)
            .field("state", state)
            .field("next_send_seq", &self.next_send_seq)
            .field("highest_received", &self.window.highest())
            .field("message_count", &self.lifetime.message_count)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
