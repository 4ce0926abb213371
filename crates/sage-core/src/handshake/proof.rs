//! Proof tokens: unforgeable evidence that a security check passed.
//!
//! Each token is a zero-sized type whose only constructor is the function
//! that performs the check, in this module. The states that end a handshake
//! ([`Established`](super::Established),
//! [`ResponderOutcome`](super::ResponderOutcome)) hold the tokens as fields,
//! so code that skips a check does not compile, rather than relying on the
//! absence of an error (the rustls `verify.rs` pattern).

use subtle::ConstantTimeEq as _;

use super::error::HandshakeError;
use super::messages::ReceivedAck;
use super::schedule::KEY_LEN;
use crate::primitives::VerifyingKey;
use crate::transport::WireMessage;

/// The transport signature over the init payload verified under the
/// sender's resolved key.
#[derive(Debug)]
pub(crate) struct TransportSignatureVerified(());

/// The ack envelope's `sigB64` verified under the responder's key.
#[derive(Debug)]
pub(crate) struct EnvelopeSignatureVerified(());

/// The received acknowledgement tag equals the one this side computed.
#[derive(Debug)]
pub(crate) struct AckTagVerified(());

/// Verifies the signature of an init message over its raw payload.
pub(crate) fn verify_transport_signature(
    message: &WireMessage,
    sender_key: &VerifyingKey,
) -> Result<TransportSignatureVerified, HandshakeError> {
    message
        .verify_payload(sender_key)
        .map(|()| TransportSignatureVerified(()))
        .map_err(|_| HandshakeError::TransportSignature)
}

/// Verifies `sigB64` over JCS of the received envelope without it.
pub(crate) fn verify_envelope_signature(
    ack: &ReceivedAck,
    responder_key: &VerifyingKey,
) -> Result<EnvelopeSignatureVerified, HandshakeError> {
    responder_key
        .verify(ack.signed_bytes(), ack.signature())
        .map(|()| EnvelopeSignatureVerified(()))
        .map_err(|_| HandshakeError::EnvelopeSignature)
}

/// Compares the received tag with the expected one in constant time.
pub(crate) fn verify_ack_tag(
    expected: &[u8; KEY_LEN],
    received: &[u8; KEY_LEN],
) -> Result<AckTagVerified, HandshakeError> {
    if bool::from(expected.ct_eq(received)) {
        Ok(AckTagVerified(()))
    } else {
        Err(HandshakeError::AckTagMismatch)
    }
}
