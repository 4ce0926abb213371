//! Session persistence: a snapshot and its byte form.
//!
//! A [`SessionSnapshot`] carries what a restarted service needs to continue
//! a session without weakening it: the id, the role, the seed (every key is
//! re-derived from it), the send counter (so no sequence number, and with
//! it no nonce/key pair, is used twice), the replay window (so a record
//! accepted before the restart stays rejected), the lifetime clock and the
//! configuration. The \[L\] spec has no persistence; this is local state.
//!
//! The byte form is fixed-length, big-endian and versioned, and every field
//! is validated on import. It contains the seed in clear: the store layer
//! must encrypt it at rest. The buffer it returns is wiped on drop.
//!
//! ```text
//! offset len
//!   0     1  format version (1)
//!   1     1  protocol profile (1 = 1.0.0-draft.1)
//!   2     1  role (0 initiator, 1 responder)
//!   3    22  session id (ASCII)
//!  25    32  seed
//!  57     1  send state (1: next seq follows, 0: exhausted, then be64 0)
//!  58     8  be64 next send seq
//!  66   138  replay window (WindowState::to_bytes)
//! 204    12  created: be64 seconds (two's complement) ‖ be32 nanos
//! 216    12  last activity, same form
//! 228     8  be64 message count
//! 236     8  be64 rekey interval
//! 244    12  max age: be64 seconds ‖ be32 nanos
//! 256    12  idle timeout, same form
//! 268     8  be64 max messages
//! 276        end
//! ```

use core::fmt;
use core::time::Duration;

use zeroize::{ZeroizeOnDrop, Zeroizing};

use super::derive::{SEED_LEN, SESSION_ID_LEN, SessionId, SessionSeed};
use super::error::SessionError;
use super::policy::{Lifetime, SessionConfig, SessionPolicy};
use super::state::Role;
use super::window::WindowState;
use crate::time::Timestamp;
use crate::version::ProtocolVersion;

const FORMAT_VERSION: u8 = 1;
const NANOS_PER_SEC: u32 = 1_000_000_000;

/// Saved state of a [`Session`](super::Session). Holds the seed: wiped on
/// drop, and `Debug` prints none of it.
pub struct SessionSnapshot {
    pub(crate) version: ProtocolVersion,
    pub(crate) id: SessionId,
    pub(crate) role: Role,
    pub(crate) seed: SessionSeed,
    pub(crate) next_send_seq: Option<u64>,
    pub(crate) window: WindowState,
    pub(crate) lifetime: Lifetime,
    pub(crate) config: SessionConfig,
}

// The only secret field, `seed`, wipes itself on drop.
impl ZeroizeOnDrop for SessionSnapshot {}

impl SessionSnapshot {
    /// Length of [`SessionSnapshot::to_bytes`].
    pub const ENCODED_LEN: usize = 276;

    /// The id of the saved session (to index a store).
    pub fn session_id(&self) -> &SessionId {
        &self.id
    }

    /// The role of the saved session.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The protocol profile of the saved session.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// The byte form (see the module docs). Contains the seed: encrypt it
    /// before it leaves memory.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(Self::ENCODED_LEN));
        out.push(FORMAT_VERSION);
        out.push(profile_code(self.version));
        out.push(match self.role {
            Role::Initiator => 0,
            Role::Responder => 1,
        });
        out.extend_from_slice(self.id.as_str().as_bytes());
        out.extend_from_slice(self.seed.dangerous_as_bytes());
        out.push(u8::from(self.next_send_seq.is_some()));
        out.extend_from_slice(&self.next_send_seq.unwrap_or(0).to_be_bytes());
        out.extend_from_slice(&self.window.to_bytes());
        put_timestamp(&mut out, self.lifetime.created);
        put_timestamp(&mut out, self.lifetime.last_activity);
        out.extend_from_slice(&self.lifetime.message_count.to_be_bytes());
        out.extend_from_slice(&self.config.rekey_interval.to_be_bytes());
        put_duration(&mut out, self.config.policy.max_age);
        put_duration(&mut out, self.config.policy.idle_timeout);
        out.extend_from_slice(&self.config.policy.max_messages.to_be_bytes());
        out
    }

    /// Parses and validates [`SessionSnapshot::to_bytes`] output.
    ///
    /// # Errors
    /// [`SessionError::InvalidSnapshot`] on a wrong length, an unknown
    /// format version or profile, a bad role or send-state byte, an invalid
    /// session id, an invalid replay window, nanoseconds of a second of one
    /// billion or more, or a last activity before creation.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SessionError> {
        if bytes.len() != Self::ENCODED_LEN {
            return Err(SessionError::InvalidSnapshot);
        }
        let mut r = Reader(bytes);
        let [format] = r.take::<1>()?;
        if format != FORMAT_VERSION {
            return Err(SessionError::InvalidSnapshot);
        }
        let [profile] = r.take::<1>()?;
        let version = profile_from_code(profile).ok_or(SessionError::InvalidSnapshot)?;
        let role = match r.take::<1>()? {
            [0] => Role::Initiator,
            [1] => Role::Responder,
            _ => return Err(SessionError::InvalidSnapshot),
        };
        let id_bytes = r.take::<SESSION_ID_LEN>()?;
        let id = core::str::from_utf8(&id_bytes)
            .ok()
            .and_then(|s| s.parse::<SessionId>().ok())
            .ok_or(SessionError::InvalidSnapshot)?;
        let seed = SessionSeed::from_bytes(r.take::<SEED_LEN>()?);
        let next_send_seq = match (r.take::<1>()?, r.u64()?) {
            ([1], seq) => Some(seq),
            ([0], 0) => None,
            _ => return Err(SessionError::InvalidSnapshot),
        };
        let window = WindowState::from_bytes(&r.take::<{ WindowState::ENCODED_LEN }>()?)
            .map_err(|_| SessionError::InvalidSnapshot)?;
        let created = r.timestamp()?;
        let last_activity = r.timestamp()?;
        if last_activity < created {
            return Err(SessionError::InvalidSnapshot);
        }
        let message_count = r.u64()?;
        let rekey_interval = r.u64()?;
        let max_age = r.duration()?;
        let idle_timeout = r.duration()?;
        let max_messages = r.u64()?;
        Ok(Self {
            version,
            id,
            role,
            seed,
            next_send_seq,
            window,
            lifetime: Lifetime {
                created,
                last_activity,
                message_count,
            },
            config: SessionConfig {
                rekey_interval,
                policy: SessionPolicy {
                    max_age,
                    idle_timeout,
                    max_messages,
                },
            },
        })
    }
}

impl fmt::Debug for SessionSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSnapshot")
            .field("version", &self.version)
            .field("id", &self.id)
            .field("role", &self.role)
            .field("seed", &self.seed)
            .field("next_send_seq", &self.next_send_seq)
            .field("highest_received", &self.window.highest())
            .field("lifetime", &self.lifetime)
            .field("config", &self.config)
            .finish()
    }
}

/// The profile byte. A new [`ProtocolVersion`] variant fails to compile
/// here until it gets its own code.
const fn profile_code(version: ProtocolVersion) -> u8 {
    match version {
        ProtocolVersion::V1Draft1 => 1,
    }
}

fn profile_from_code(code: u8) -> Option<ProtocolVersion> {
    match code {
        1 => Some(ProtocolVersion::V1Draft1),
        _ => None,
    }
}

fn put_timestamp(out: &mut Vec<u8>, t: Timestamp) {
    out.extend_from_slice(&t.unix_seconds().to_be_bytes());
    out.extend_from_slice(&t.subsec_nanos().to_be_bytes());
}

fn put_duration(out: &mut Vec<u8>, d: Duration) {
    out.extend_from_slice(&d.as_secs().to_be_bytes());
    out.extend_from_slice(&d.subsec_nanos().to_be_bytes());
}

/// A cursor over snapshot bytes; running short is an invalid snapshot.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], SessionError> {
        let (head, rest) = self
            .0
            .split_first_chunk::<N>()
            .ok_or(SessionError::InvalidSnapshot)?;
        self.0 = rest;
        Ok(*head)
    }

    fn u64(&mut self) -> Result<u64, SessionError> {
        self.take::<8>().map(u64::from_be_bytes)
    }

    fn nanos(&mut self) -> Result<u32, SessionError> {
        let nanos = u32::from_be_bytes(self.take::<4>()?);
        if nanos < NANOS_PER_SEC {
            Ok(nanos)
        } else {
            Err(SessionError::InvalidSnapshot)
        }
    }

    fn timestamp(&mut self) -> Result<Timestamp, SessionError> {
        let secs = i64::from_be_bytes(self.take::<8>()?);
        Ok(Timestamp::new(secs, self.nanos()?))
    }

    fn duration(&mut self) -> Result<Duration, SessionError> {
        let secs = self.u64()?;
        Ok(Duration::new(secs, self.nanos()?))
    }
}
