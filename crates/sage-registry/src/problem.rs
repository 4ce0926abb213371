//! RFC 9457 problem details for registry and resolution errors
//! (PROTOCOL.md §10.5).
//!
//! Layer: registry, HTTP-facing value. [`Problem`] is the plain
//! `application/problem+json` body the node serves: `type` is the
//! sage-spec error URI plus the diagnostic code, `status` the HTTP status,
//! `code` (an extension member) the code itself, `title` a fixed text per
//! code and `detail` the error's own message. It holds no source chain: a
//! database or chain client's error text (which may name hosts) never
//! reaches a client.
//!
//! Not here: deciding whether to serve a problem at all. Resolver errors
//! are for the registry's clients and logs; a message sender is never told
//! which check failed.

use serde::{Deserialize, Serialize};

use crate::error::RegistryError;

/// The media type of a problem body.
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The prefix of every problem `type` URI; the diagnostic code follows it.
pub const PROBLEM_TYPE_BASE: &str = "https://sage-x-project.github.io/sage-spec/errors/";

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// [`PROBLEM_TYPE_BASE`] followed by the code.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, fixed description of the code.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The diagnostic code (`record.not-found`, ...).
    pub code: String,
    /// What happened in this case.
    pub detail: String,
}

impl RegistryError {
    /// The RFC 9457 problem details of this error.
    pub fn problem(&self) -> Problem {
        let code = self.code();
        Problem {
            problem_type: format!("{PROBLEM_TYPE_BASE}{code}"),
            title: title(code).to_owned(),
            status: self.status(),
            code: code.to_owned(),
            detail: self.to_string(),
        }
    }
}

/// The fixed title of each code.
fn title(code: &str) -> &'static str {
    match code {
        "id.malformed" => "Malformed identifier",
        "id.unknown-kind" => "Unknown identifier kind",
        "record.not-found" => "Record not found",
        "record.inactive" => "Record not active",
        "record.unreachable" => "Registry unreachable",
        "record.invalid" => "Invalid record",
        "key.not-in-record" => "Key not in record",
        "key.revoked" => "Key revoked",
        "pop.bad" => "Proof of possession failed",
        "request.replayed" => "Request replayed",
        "request.stale" => "Request outside the freshness window",
        "request.invalid" => "Invalid request",
        "registry.exists" => "Identifier already registered",
        "registry.forbidden-transition" => "Transition not allowed",
        "registry.unauthorized" => "Not authorised by the controller",
        "registry.version-conflict" => "Version conflict",
        "registry.unsupported" => "Operation not supported",
        "registry.rejected" => "Refused by the registry",
        _ => "Registry error",
    }
}
