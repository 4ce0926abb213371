//! The record format (PROTOCOL.md §7.1.3).
//!
//! ```text
//! record = be64(seq) ‖ nonce[12] ‖ ChaCha20-Poly1305(key, nonce, plaintext, aad = be64(seq) ‖ callerAAD)
//! ```
//!
//! Seal and open one record under one key. The nonce is 12 random bytes
//! chosen by the caller's RNG (the \[L\] profile derives nothing from `seq`);
//! the sequence header is always the first AAD bytes and the caller's AAD
//! follows without a length prefix. This module keeps no state: choosing
//! `seq`, the key generation and the replay decision is the session's job.
//!
//! The AEAD is `ring`'s ChaCha20-Poly1305: on this project's machines it
//! seals and opens 1 KiB records several times faster than the RustCrypto
//! crate in a portable build (figures in `docs/PERFORMANCE.md`). `ring`'s key
//! objects are not zeroized on drop, so one is built per record on the stack
//! from the caller's zeroizing key bytes and dropped at once: a ChaCha20 key
//! has no expanded schedule, and construction costs a copy.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, Tag, UnboundKey};

use super::derive::SEED_LEN;
use super::error::SessionError;

/// Bytes of the sequence header.
const SEQ_LEN: usize = 8;
/// Bytes of the nonce.
pub const RECORD_NONCE_LEN: usize = 12;
/// Bytes before the ciphertext: `be64(seq) ‖ nonce`.
pub const RECORD_HEADER_LEN: usize = SEQ_LEN + RECORD_NONCE_LEN;
/// Bytes of the Poly1305 tag.
pub const RECORD_TAG_LEN: usize = 16;
/// The shortest record that can authenticate (empty plaintext).
pub const RECORD_MIN_LEN: usize = RECORD_HEADER_LEN + RECORD_TAG_LEN;

/// A record split into its parts; nothing is authenticated yet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ParsedRecord<'a> {
    pub(crate) seq: u64,
    nonce: [u8; RECORD_NONCE_LEN],
    ciphertext: &'a [u8],
    tag: [u8; RECORD_TAG_LEN],
}

/// Splits a record. Every record under 36 bytes is refused here, before any
/// key or window work: the Go core refuses those under 20 (`ErrDataTooShort`)
/// and lets the AEAD fail on 20..35; neither can ever authenticate.
pub(crate) fn parse(record: &[u8]) -> Result<ParsedRecord<'_>, SessionError> {
    let (seq, rest) = record
        .split_first_chunk::<SEQ_LEN>()
        .ok_or(SessionError::RecordTooShort)?;
    let (nonce, rest) = rest
        .split_first_chunk::<RECORD_NONCE_LEN>()
        .ok_or(SessionError::RecordTooShort)?;
    let (ciphertext, tag) = rest
        .split_last_chunk::<RECORD_TAG_LEN>()
        .ok_or(SessionError::RecordTooShort)?;
    Ok(ParsedRecord {
        seq: u64::from_be_bytes(*seq),
        nonce: *nonce,
        ciphertext,
        tag: *tag,
    })
}

/// Seals `plaintext` as record `seq` under `key` with `nonce`.
pub(crate) fn seal(
    key: &[u8; SEED_LEN],
    seq: u64,
    nonce: &[u8; RECORD_NONCE_LEN],
    plaintext: &[u8],
    caller_aad: &[u8],
) -> Result<Vec<u8>, SessionError> {
    let header = seq.to_be_bytes();
    let mut out = Vec::with_capacity(RECORD_MIN_LEN + plaintext.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let aad = bound_aad(&header, caller_aad);
    // ChaCha20-Poly1305 refuses only messages of 256 GiB and more.
    let tag = aead_key(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(&aad),
            &mut out[RECORD_HEADER_LEN..],
        )
        .map_err(|_| SessionError::PlaintextTooLong)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Authenticates and decrypts a parsed record under `key`.
pub(crate) fn open(
    key: &[u8; SEED_LEN],
    record: &ParsedRecord<'_>,
    caller_aad: &[u8],
) -> Result<Vec<u8>, SessionError> {
    let header = record.seq.to_be_bytes();
    let aad = bound_aad(&header, caller_aad);
    let mut plaintext = record.ciphertext.to_vec();
    // ring checks the tag (in constant time) before it decrypts, so a failed
    // open leaves only ciphertext in the buffer.
    aead_key(key)
        .open_in_place_separate_tag(
            Nonce::assume_unique_for_key(record.nonce),
            Aad::from(&aad),
            Tag::from(record.tag),
            &mut plaintext,
            0..,
        )
        .map_err(|_| SessionError::Decrypt)?;
    Ok(plaintext)
}

/// The ChaCha20-Poly1305 key for one record.
fn aead_key(key: &[u8; SEED_LEN]) -> LessSafeKey {
    // A 32-byte key is exactly what CHACHA20_POLY1305 takes: this cannot fail.
    match UnboundKey::new(&CHACHA20_POLY1305, key) {
        Ok(unbound) => LessSafeKey::new(unbound),
        Err(_) => unreachable!("ChaCha20-Poly1305 keys are 32 bytes"),
    }
}

/// `be64(seq) ‖ callerAAD`.
fn bound_aad(header: &[u8; SEQ_LEN], caller_aad: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(SEQ_LEN + caller_aad.len());
    aad.extend_from_slice(header);
    aad.extend_from_slice(caller_aad);
    aad
}
