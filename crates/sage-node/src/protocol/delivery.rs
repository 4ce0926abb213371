//! Where an accepted application payload goes (docs/PROTOCOL-PROFILE.md
//! §3, "Delivery").
//!
//! Layer: node, protocol endpoints. Without an upstream the node answers
//! with a receipt (message id, verified sender, size, SHA-256 of the
//! plaintext, task). In gateway mode it POSTs the plaintext to the
//! upstream with `X-SAGE-Verified-DID`, `X-SAGE-Message-ID` and
//! `X-SAGE-Task-ID`, and answers with the upstream's body. It is called
//! only after the record's window was persisted, so a payload reaches the
//! upstream at most once. It never logs the plaintext.

use core::fmt;
use core::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sage_core::encoding::hex_encode;
use sage_core::primitives::sha256;
use zeroize::Zeroizing;

/// The header carrying the verified sender to the upstream.
const HEADER_VERIFIED_DID: &str = "x-sage-verified-did";
/// Mirrors the message id to the upstream.
const HEADER_MESSAGE_ID: &str = "x-sage-message-id";
/// Mirrors the task id to the upstream.
const HEADER_TASK_ID: &str = "x-sage-task-id";

/// What was accepted, for the receipt or the upstream.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Accepted<'a> {
    /// The request's message id.
    pub(crate) message_id: &'a str,
    /// The verified sender DID.
    pub(crate) sender: &'a str,
    /// The request's task id (may be empty).
    pub(crate) task_id: &'a str,
}

/// The upstream could not be reached, timed out or answered other than 2xx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct UpstreamFailed;

/// Receipt or gateway.
#[derive(Debug)]
pub(crate) enum Delivery {
    /// Answer with a receipt.
    Receipt,
    /// POST to the upstream.
    Upstream(Box<Gateway>),
}

/// The upstream of gateway mode.
pub(crate) struct Gateway {
    /// The client (shared connection pool).
    client: Client<HttpConnector, Full<Bytes>>,
    /// The upstream URL.
    uri: Uri,
    /// How long one delivery may take.
    timeout: Duration,
    /// Largest answer accepted from the upstream.
    answer_limit: usize,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gateway")
            .field("uri", &self.uri)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// Receipts when `upstream` is `None`, else the gateway to it.
    pub(crate) fn new(upstream: Option<Uri>, timeout: Duration, answer_limit: usize) -> Self {
        match upstream {
            None => Self::Receipt,
            Some(uri) => Self::Upstream(Box::new(Gateway {
                client: Client::builder(TokioExecutor::new()).build_http(),
                uri,
                timeout,
                answer_limit,
            })),
        }
    }
}

impl Gateway {
    /// POSTs `plaintext`, accepted as `accepted`, to the upstream and
    /// returns the plaintext of its answer.
    pub(crate) async fn deliver(
        &self,
        accepted: Accepted<'_>,
        plaintext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, UpstreamFailed> {
        let exchange = post(
            &self.client,
            &self.uri,
            accepted,
            plaintext,
            self.answer_limit,
        );
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::warn!("the upstream did not answer in time");
                Err(UpstreamFailed)
            }
        }
    }
}

/// The receipt JSON (members in lexicographic order) for `plaintext`,
/// accepted as `accepted`.
pub(crate) fn receipt(accepted: Accepted<'_>, plaintext: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut receipt = serde_json::Map::new();
    receipt.insert("message_id".into(), accepted.message_id.into());
    receipt.insert("sender".into(), accepted.sender.into());
    receipt.insert("sha256".into(), hex_encode(&sha256(plaintext)).into());
    receipt.insert("size".into(), plaintext.len().into());
    if !accepted.task_id.is_empty() {
        receipt.insert("task_id".into(), accepted.task_id.into());
    }
    Zeroizing::new(serde_json::Value::Object(receipt).to_string().into_bytes())
}

async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    uri: &Uri,
    accepted: Accepted<'_>,
    plaintext: &[u8],
    answer_limit: usize,
) -> Result<Zeroizing<Vec<u8>>, UpstreamFailed> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri.clone())
        .header(CONTENT_TYPE, "application/octet-stream");
    for (name, value) in [
        (HEADER_VERIFIED_DID, accepted.sender),
        (HEADER_MESSAGE_ID, accepted.message_id),
        (HEADER_TASK_ID, accepted.task_id),
    ] {
        if value.is_empty() {
            continue;
        }
        // Sender, id and task passed the transport's header rules already.
        let value = HeaderValue::from_str(value).map_err(|_| UpstreamFailed)?;
        request = request.header(name, value);
    }
    let request = request
        .body(Full::new(Bytes::copy_from_slice(plaintext)))
        .map_err(|_| UpstreamFailed)?;
    let response = client.request(request).await.map_err(|error| {
        tracing::warn!(%error, "the upstream cannot be reached");
        UpstreamFailed
    })?;
    if !response.status().is_success() {
        tracing::warn!(
            status = response.status().as_u16(),
            "the upstream refused the payload"
        );
        return Err(UpstreamFailed);
    }
    let body = Limited::new(response.into_body(), answer_limit)
        .collect()
        .await
        .map_err(|_| {
            tracing::warn!("the upstream's answer failed or was too large");
            UpstreamFailed
        })?;
    Ok(Zeroizing::new(body.to_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_names_sender_size_and_digest() {
        let accepted = Accepted {
            message_id: "m-1",
            sender: "did:sage:ethereum:alice",
            task_id: "",
        };
        let json: serde_json::Value =
            serde_json::from_slice(&receipt(accepted, b"hello")).unwrap_or_default();
        assert_eq!(json["message_id"], "m-1");
        assert_eq!(json["sender"], "did:sage:ethereum:alice");
        assert_eq!(json["size"], 5);
        assert_eq!(
            json["sha256"],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert!(json.get("task_id").is_none());
    }
}
