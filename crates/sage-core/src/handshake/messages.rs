//! The two handshake messages of \[L\]: the init payload and the ack
//! envelope (PROTOCOL.md §6.5).
//!
//! Layer: handshake, wire shapes. This module turns the two JSON objects
//! into typed values and back. It checks shape and size only, before any
//! cryptographic work: every required member present, a string,
//! non-empty, within its limit, binary members base64url-raw of exactly 32
//! bytes, times RFC 3339. Duplicate members are refused by the strict
//! [`jcs`](crate::jcs) parser. It does not compare values with anything:
//! the state machines do that.
//!
//! Unknown members are ignored, as the Go core ignores them (its responder
//! reads the init payload as `map[string]string`, its initiator reads the
//! envelope into a struct). In the ack envelope they stay inside the signed
//! bytes, because the signature is checked over the received object.
//!
//! Encoding choices that follow the Go core rather than the spec text:
//! - `info` and `exportCtx` travel as the plain ASCII strings of §6.1.
//!   Chapter 04 says base64url-raw, but the Go client sends and the Go
//!   responder expects the plain string (§6.5), so a Rust peer must too.
//! - `sigB64` is base64url-raw (the spec leaves it open; the Go core).

use crate::encoding::{b64url_decode, b64url_decode_array, b64url_encode};
use crate::jcs::{Object, ParseLimits, Value, parse_with_limits};
use crate::primitives::SigningKey;
use crate::time::Timestamp;

use super::error::MessageError;
use super::schedule::KEY_LEN;

/// Longest init payload or ack envelope accepted, in bytes. \[L\] names no
/// bound; this is \[N\]'s handshake bound (HPKE-06), far above any real
/// message.
pub const MAX_MESSAGE_LEN: usize = 16 * 1024;
/// Longest DID in a handshake message, in bytes.
pub const MAX_DID_LEN: usize = crate::transport::MAX_DID_LEN;
/// Longest context id, in bytes.
pub const MAX_CTX_ID_LEN: usize = crate::transport::MAX_ID_LEN;
/// Longest init nonce, in bytes (a UUID is 36).
pub const MAX_NONCE_LEN: usize = 128;
/// Longest session key id, in bytes (`kid-<uuid>` is 40).
pub const MAX_KID_LEN: usize = 128;
/// Longest `info` or `exportCtx` string, in bytes. The recomputed values
/// are at most about 600 bytes with the DID and context limits above.
pub const MAX_SCHEDULE_STRING_LEN: usize = 1024;
/// Longest decoded `sigB64`, in bytes.
pub const MAX_SIGNATURE_LEN: usize = crate::transport::MAX_SIGNATURE_LEN;
/// Longest `ts`, in bytes.
const MAX_TS_LEN: usize = 64;
/// Longest `v` or `task`, in bytes.
const MAX_SHORT_LEN: usize = 64;
/// Length of base64url-raw of 32 bytes.
const KEY_B64_LEN: usize = 43;
/// Nesting allowed: the object plus room for unknown members.
const MAX_DEPTH: usize = 8;

/// The init payload (initiator → responder, the `payload` of a
/// `WireMessage`). Every member is a JSON string on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitPayload {
    /// `initDid`: the initiator's DID.
    pub init_did: String,
    /// `respDid`: the responder's DID.
    pub resp_did: String,
    /// `info`: the §6.1 string, plain ASCII on the wire (Go core).
    pub info: String,
    /// `exportCtx`: the §6.1 string, plain ASCII on the wire (Go core).
    pub export_ctx: String,
    /// `nonce`: a UUID, unique within the context.
    pub nonce: String,
    /// `ts`: creation time, RFC 3339 with nanoseconds in UTC on the wire.
    pub ts: Timestamp,
    /// `enc`: the HPKE encapsulated key.
    pub enc: [u8; KEY_LEN],
    /// `ephC`: the initiator's ephemeral X25519 public key.
    pub eph_c: [u8; KEY_LEN],
}

impl InitPayload {
    /// The JSON bytes, in canonical (JCS) form.
    pub fn to_json(&self) -> Vec<u8> {
        let mut object = Object::with_capacity(8);
        insert_str(&mut object, "initDid", &self.init_did);
        insert_str(&mut object, "respDid", &self.resp_did);
        insert_str(&mut object, "info", &self.info);
        insert_str(&mut object, "exportCtx", &self.export_ctx);
        insert_str(&mut object, "nonce", &self.nonce);
        insert_str(&mut object, "ts", &self.ts.to_rfc3339());
        insert_str(&mut object, "enc", &b64url_encode(&self.enc));
        insert_str(&mut object, "ephC", &b64url_encode(&self.eph_c));
        Value::Object(object).to_canonical_bytes()
    }

    /// Parses a received init payload (shape and sizes only).
    ///
    /// # Errors
    /// A [`MessageError`] naming the first problem.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        let object = parse_object(bytes)?;
        Ok(Self {
            init_did: required_str(&object, "initDid", MAX_DID_LEN)?.to_owned(),
            resp_did: required_str(&object, "respDid", MAX_DID_LEN)?.to_owned(),
            info: required_str(&object, "info", MAX_SCHEDULE_STRING_LEN)?.to_owned(),
            export_ctx: required_str(&object, "exportCtx", MAX_SCHEDULE_STRING_LEN)?.to_owned(),
            nonce: required_str(&object, "nonce", MAX_NONCE_LEN)?.to_owned(),
            ts: timestamp(&object, "ts")?,
            enc: key32(&object, "enc")?,
            eph_c: key32(&object, "ephC")?,
        })
    }
}

/// The ack envelope (responder → initiator, the `data` of a
/// `WireResponse`), without its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckEnvelope {
    /// `v`: the envelope version (`v1`).
    pub v: String,
    /// `task`: the handshake task (`hpke/complete@v1`).
    pub task: String,
    /// `ctx`: the context id.
    pub ctx: String,
    /// `kid`: the session key id the responder issues.
    pub kid: String,
    /// `ephS`: the responder's ephemeral X25519 public key.
    pub eph_s: [u8; KEY_LEN],
    /// `ackTagB64`: the §6.4 acknowledgement tag.
    pub ack_tag: [u8; KEY_LEN],
    /// `ts`: creation time.
    pub ts: Timestamp,
    /// `did`: the responder's DID.
    pub did: String,
    /// `infoHash`: SHA-256 of the `info` bytes.
    pub info_hash: [u8; KEY_LEN],
    /// `exportCtxHash`: SHA-256 of the `exportCtx` bytes.
    pub export_ctx_hash: [u8; KEY_LEN],
    /// `enc`: echoed from the init payload.
    pub enc: [u8; KEY_LEN],
    /// `ephC`: echoed from the init payload.
    pub eph_c: [u8; KEY_LEN],
}

/// The member that carries the envelope signature.
const SIGNATURE_MEMBER: &str = "sigB64";

impl AckEnvelope {
    /// The envelope as a JSON object, without `sigB64`.
    fn to_object(&self) -> Object {
        let mut object = Object::with_capacity(13);
        insert_str(&mut object, "v", &self.v);
        insert_str(&mut object, "task", &self.task);
        insert_str(&mut object, "ctx", &self.ctx);
        insert_str(&mut object, "kid", &self.kid);
        insert_str(&mut object, "ephS", &b64url_encode(&self.eph_s));
        insert_str(&mut object, "ackTagB64", &b64url_encode(&self.ack_tag));
        insert_str(&mut object, "ts", &self.ts.to_rfc3339());
        insert_str(&mut object, "did", &self.did);
        insert_str(&mut object, "infoHash", &b64url_encode(&self.info_hash));
        insert_str(
            &mut object,
            "exportCtxHash",
            &b64url_encode(&self.export_ctx_hash),
        );
        insert_str(&mut object, "enc", &b64url_encode(&self.enc));
        insert_str(&mut object, "ephC", &b64url_encode(&self.eph_c));
        object
    }

    /// The bytes `sigB64` signs: JCS of the envelope without `sigB64`.
    pub fn signing_bytes(&self) -> Vec<u8> {
        Value::Object(self.to_object()).to_canonical_bytes()
    }

    /// Signs the envelope with the responder's key (algorithm of the key
    /// type, §3.2) and returns the JSON bytes of the signed envelope, in
    /// canonical form.
    pub fn sign(&self, key: &SigningKey) -> Vec<u8> {
        let signature = key.sign(&self.signing_bytes());
        let mut object = self.to_object();
        insert_str(&mut object, SIGNATURE_MEMBER, &b64url_encode(&signature));
        Value::Object(object).to_canonical_bytes()
    }
}

/// A received ack envelope: its typed members, the bytes its signature
/// covers and the signature. Parsing checks shape only; the signature is
/// verified by the initiator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAck {
    /// The typed members.
    pub envelope: AckEnvelope,
    signed_bytes: Vec<u8>,
    signature: Vec<u8>,
}

impl ReceivedAck {
    /// Parses a received ack envelope (shape and sizes only) and computes
    /// the bytes its signature covers: JCS of the received object without
    /// `sigB64`, unknown members included.
    ///
    /// # Errors
    /// A [`MessageError`] naming the first problem.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        let mut object = parse_object(bytes)?;
        let envelope = AckEnvelope {
            v: required_str(&object, "v", MAX_SHORT_LEN)?.to_owned(),
            task: required_str(&object, "task", MAX_SHORT_LEN)?.to_owned(),
            ctx: required_str(&object, "ctx", MAX_CTX_ID_LEN)?.to_owned(),
            kid: required_str(&object, "kid", MAX_KID_LEN)?.to_owned(),
            eph_s: key32(&object, "ephS")?,
            ack_tag: key32(&object, "ackTagB64")?,
            ts: timestamp(&object, "ts")?,
            did: required_str(&object, "did", MAX_DID_LEN)?.to_owned(),
            info_hash: key32(&object, "infoHash")?,
            export_ctx_hash: key32(&object, "exportCtxHash")?,
            enc: key32(&object, "enc")?,
            eph_c: key32(&object, "ephC")?,
        };
        let max_sig_b64 = MAX_SIGNATURE_LEN.div_ceil(3) * 4;
        let signature = b64url_decode(required_str(&object, SIGNATURE_MEMBER, max_sig_b64)?)
            .map_err(|_| MessageError::Encoding(SIGNATURE_MEMBER))?;
        object.remove(SIGNATURE_MEMBER);
        let signed_bytes = Value::Object(object).to_canonical_bytes();
        Ok(Self {
            envelope,
            signed_bytes,
            signature,
        })
    }

    /// The bytes the signature covers.
    pub fn signed_bytes(&self) -> &[u8] {
        &self.signed_bytes
    }

    /// The decoded `sigB64`.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }
}

fn insert_str(object: &mut Object, member: &str, value: &str) {
    object.insert(member, Value::String(value.to_owned()));
}

/// The top-level object of a message of at most [`MAX_MESSAGE_LEN`] bytes.
fn parse_object(bytes: &[u8]) -> Result<Object, MessageError> {
    if bytes.len() > MAX_MESSAGE_LEN {
        return Err(MessageError::TooLarge {
            limit: MAX_MESSAGE_LEN,
            found: bytes.len(),
        });
    }
    let limits = ParseLimits {
        max_depth: MAX_DEPTH,
        max_input_len: MAX_MESSAGE_LEN,
    };
    match parse_with_limits(bytes, limits).map_err(MessageError::Json)? {
        Value::Object(object) => Ok(object),
        _ => Err(MessageError::NotAnObject),
    }
}

/// A required, non-empty string member of at most `max_len` bytes.
fn required_str<'a>(
    object: &'a Object,
    member: &'static str,
    max_len: usize,
) -> Result<&'a str, MessageError> {
    match object.get(member) {
        None => Err(MessageError::Missing(member)),
        Some(Value::String(s)) if s.is_empty() => Err(MessageError::Empty(member)),
        Some(Value::String(s)) if s.len() > max_len => Err(MessageError::TooLong {
            member,
            limit: max_len,
        }),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(MessageError::NotAString(member)),
    }
}

/// A 32-byte member in base64url-raw (length checked before decoding).
fn key32(object: &Object, member: &'static str) -> Result<[u8; KEY_LEN], MessageError> {
    let text = required_str(object, member, KEY_B64_LEN)?;
    if text.len() != KEY_B64_LEN {
        return Err(MessageError::Encoding(member));
    }
    b64url_decode_array::<KEY_LEN>(text).map_err(|_| MessageError::Encoding(member))
}

/// An RFC 3339 time member.
fn timestamp(object: &Object, member: &'static str) -> Result<Timestamp, MessageError> {
    Timestamp::parse_rfc3339(required_str(object, member, MAX_TS_LEN)?)
        .map_err(|_| MessageError::Timestamp(member))
}
