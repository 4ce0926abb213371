//! The response envelope, `WireResponse` (PROTOCOL.md §12.1).

use serde::Serialize;

use super::decode;
use super::error::TransportError;
use super::message::{DEFAULT_MAX_ENVELOPE_LEN, MAX_ID_LEN, serialize_base64};

/// Longest `error` text accepted, in bytes.
pub const MAX_ERROR_LEN: usize = 1024;

/// The §12.1 response envelope. On the wire `data` is standard base64 with
/// padding; `task_id`, `data` and `error` are left out when empty. The Go
/// core answers HTTP 200 in every case, and a failure is `success: false`
/// with a text `error` (for the handshake, only the generic text, §6.5).
///
/// The envelope itself is not signed: what `data` carries must protect
/// itself (the handshake's ack envelope is signed, §6.5), and the HTTP
/// binding signs the response per §5.4.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WireResponse {
    /// Whether the request succeeded.
    pub success: bool,
    /// The id of the request this answers.
    pub message_id: String,
    /// Task id; empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub task_id: String,
    /// Response bytes (the handshake's ack envelope JSON).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_base64"
    )]
    pub data: Vec<u8>,
    /// Failure text; empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub error: String,
}

impl WireResponse {
    /// The JSON text of the envelope.
    pub fn to_json(&self) -> Vec<u8> {
        // A bool, strings and base64 text cannot fail to serialise.
        serde_json::to_vec(self).expect("WireResponse serialises")
    }

    /// Decodes a received envelope of at most [`DEFAULT_MAX_ENVELOPE_LEN`] bytes.
    ///
    /// # Errors
    /// As [`WireResponse::from_json_with_limit`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, TransportError> {
        Self::from_json_with_limit(bytes, DEFAULT_MAX_ENVELOPE_LEN)
    }

    /// Decodes a received envelope of at most `max_len` bytes: strict JSON,
    /// `success` present and boolean, every other member optional, typed
    /// and size-checked; unknown members ignored.
    ///
    /// # Errors
    /// [`TransportError::TooLarge`], [`TransportError::Json`],
    /// [`TransportError::NotAnObject`], [`TransportError::MissingMember`],
    /// [`TransportError::WrongType`], [`TransportError::MemberTooLong`] or
    /// [`TransportError::Base64`].
    pub fn from_json_with_limit(bytes: &[u8], max_len: usize) -> Result<Self, TransportError> {
        let object = decode::parse_object(bytes, max_len)?;
        Ok(Self {
            success: decode::required_bool(&object, "success")?,
            message_id: decode::string(&object, "message_id", MAX_ID_LEN)?,
            task_id: decode::string(&object, "task_id", MAX_ID_LEN)?,
            data: decode::base64_bytes(&object, "data", max_len)?,
            error: decode::string(&object, "error", MAX_ERROR_LEN)?,
        })
    }
}
