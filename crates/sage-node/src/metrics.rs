//! Prometheus metrics of the node: every name, its labels, and the one
//! place that records it.
//!
//! Layer: node, observability. Names follow the Go implementation's
//! `sage_` metrics (namespace `sage`, subsystems `handshakes`, `sessions`,
//! `messages`, `crypto`), so dashboards built for it keep working; the
//! DID-resolution and HTTP families are ours (the Go core has none with
//! Prometheus names). [`DOCUMENTED`] lists every family this module
//! defines; a test scrapes a node that has done real work and checks that
//! each one is present, so nothing documented is left unemitted.
//!
//! Invariants: label values come from closed sets (`&'static str`), never
//! from peer input, so a peer cannot grow the series count; no metric
//! carries key material, DIDs or message contents.
//!
//! Recording goes through the `metrics` facade; [`install`] sets up the
//! Prometheus recorder and returns the handle `/metrics` renders.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Handshakes started, by role: `server` for the handshakes a node answers
/// (the Go label set also has `client`; a node never initiates one).
pub const HANDSHAKES_INITIATED: &str = "sage_handshakes_initiated_total";
/// Handshakes finished, by status (`success`, `failure`).
pub const HANDSHAKES_COMPLETED: &str = "sage_handshakes_completed_total";
/// Failed handshakes, by error type (a §13.6-style code, closed set).
pub const HANDSHAKES_FAILED: &str = "sage_handshakes_failed_total";
/// Handshake stage durations, by stage (`accept`, `resolve`, `authenticate`,
/// `finish`, `store`: the responder's steps, PROTOCOL.md §6.5).
pub const HANDSHAKE_DURATION: &str = "sage_handshakes_duration_seconds";
/// Sessions created, by status (`success`, `failure`).
pub const SESSIONS_CREATED: &str = "sage_sessions_created_total";
/// Live sessions in the store (gauge, refreshed by the sweeper and on
/// every change this node makes).
pub const SESSIONS_ACTIVE: &str = "sage_sessions_active";
/// Sessions found expired (on use, or removed by the sweeper).
pub const SESSIONS_EXPIRED: &str = "sage_sessions_expired_total";
/// Sessions closed through the management API.
pub const SESSIONS_CLOSED: &str = "sage_sessions_closed_total";
/// Session operation durations, by operation (`create`, `encrypt`, `decrypt`).
pub const SESSION_OPERATION_DURATION: &str = "sage_sessions_duration_seconds";
/// Session record plaintext sizes, by direction (`inbound`, `outbound`).
pub const SESSION_MESSAGE_SIZE: &str = "sage_sessions_message_size_bytes";
/// Messages processed on `/messages`, by type (`handshake`, `data`) and
/// status (`success`, `failure`).
pub const MESSAGES_PROCESSED: &str = "sage_messages_processed_total";
/// Messages rejected, by diagnostic code (§13.6, closed set). The code is
/// logged and counted, never sent to the peer.
pub const MESSAGES_REJECTED: &str = "sage_messages_rejected_total";
/// Replays detected (handshake nonce, RFC 9421 nonce, record sequence),
/// under the Go name.
pub const REPLAY_ATTACKS_DETECTED: &str = "sage_messages_replay_attacks_detected_total";
/// The same count under the short name the node's documentation and
/// issue tracker use.
pub const REPLAY_ATTACKS_DETECTED_SHORT: &str = "sage_replay_attacks_detected_total";
/// Nonce checks, by status (`valid`, `invalid`, `expired`).
pub const NONCE_VALIDATIONS: &str = "sage_messages_nonce_validations_total";
/// Time spent on one `/messages` request.
pub const MESSAGE_PROCESSING_DURATION: &str = "sage_messages_processing_duration_seconds";
/// `/messages` request body sizes.
pub const MESSAGE_SIZE: &str = "sage_messages_size_bytes";
/// Cryptographic operations, by operation (`sign`, `verify`, `encrypt`,
/// `decrypt`, `hpke_open`) and algorithm (`ed25519`, `secp256k1`, `p256`,
/// `chacha20poly1305`, `x25519`).
pub const CRYPTO_OPERATIONS: &str = "sage_crypto_operations_total";
/// Failed cryptographic operations, by operation.
pub const CRYPTO_ERRORS: &str = "sage_crypto_errors_total";
/// DID resolutions, by result (`hit`, `miss`, `error`).
pub const DID_RESOLUTIONS: &str = "sage_did_resolutions_total";
/// DID resolution durations.
pub const DID_RESOLUTION_DURATION: &str = "sage_did_resolution_duration_seconds";
/// HTTP requests, by method, matched route and status.
pub const HTTP_REQUESTS: &str = "sage_http_requests_total";
/// HTTP request durations, by method and matched route.
pub const HTTP_REQUEST_DURATION: &str = "sage_http_request_duration_seconds";

/// Every metric family the node documents (docs/OPERATIONS.md).
pub const DOCUMENTED: &[&str] = &[
    HANDSHAKES_INITIATED,
    HANDSHAKES_COMPLETED,
    HANDSHAKES_FAILED,
    HANDSHAKE_DURATION,
    SESSIONS_CREATED,
    SESSIONS_ACTIVE,
    SESSIONS_EXPIRED,
    SESSIONS_CLOSED,
    SESSION_OPERATION_DURATION,
    SESSION_MESSAGE_SIZE,
    MESSAGES_PROCESSED,
    MESSAGES_REJECTED,
    REPLAY_ATTACKS_DETECTED,
    REPLAY_ATTACKS_DETECTED_SHORT,
    NONCE_VALIDATIONS,
    MESSAGE_PROCESSING_DURATION,
    MESSAGE_SIZE,
    CRYPTO_OPERATIONS,
    CRYPTO_ERRORS,
    DID_RESOLUTIONS,
    DID_RESOLUTION_DURATION,
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
];

/// Why [`install`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsError {
    /// The exporter refused the histogram bucket layout.
    Buckets,
    /// Another metrics recorder was installed in this process first.
    RecorderTaken,
}

impl core::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Buckets => f.write_str("the Prometheus histogram buckets were refused"),
            Self::RecorderTaken => {
                f.write_str("another metrics recorder is already installed in this process")
            }
        }
    }
}

impl std::error::Error for MetricsError {}

/// Installs the Prometheus recorder (once per process: later calls return
/// the first handle, so that several in-process nodes in one test binary
/// share it) and describes every family.
///
/// # Errors
/// [`MetricsError::Buckets`] when the exporter refuses a bucket layout;
/// [`MetricsError::RecorderTaken`] when something else installed a
/// recorder first.
pub fn install() -> Result<PrometheusHandle, MetricsError> {
    static HANDLE: std::sync::OnceLock<Result<PrometheusHandle, MetricsError>> =
        std::sync::OnceLock::new();
    // `get_or_init` runs the installation once; concurrent callers wait
    // for it, so nobody gets a handle whose recorder lost the race.
    HANDLE.get_or_init(install_recorder).clone()
}

fn install_recorder() -> Result<PrometheusHandle, MetricsError> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_bytes".into()), BYTES_BUCKETS))
        .map_err(|_| MetricsError::Buckets)?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|_| MetricsError::RecorderTaken)?;
    describe();
    Ok(handle)
}

/// 100 µs to ~3.3 s, doubling (covers a record at the low end and a
/// registry round trip at the high end).
const SECONDS_BUCKETS: &[f64] = &[
    0.0001, 0.0002, 0.0004, 0.0008, 0.0016, 0.0032, 0.0064, 0.0128, 0.0256, 0.0512, 0.1024, 0.2048,
    0.4096, 0.8192, 1.6384, 3.2768,
];

/// 64 B to 16 MiB, times four (the Go layout).
const BYTES_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(HANDSHAKES_INITIATED, "Handshakes started, by role");
    describe_counter!(HANDSHAKES_COMPLETED, "Handshakes finished, by status");
    describe_counter!(HANDSHAKES_FAILED, "Failed handshakes, by error type");
    describe_histogram!(
        HANDSHAKE_DURATION,
        metrics::Unit::Seconds,
        "Handshake stage durations"
    );
    describe_counter!(SESSIONS_CREATED, "Sessions created, by status");
    describe_gauge!(SESSIONS_ACTIVE, "Live sessions in the store");
    describe_counter!(SESSIONS_EXPIRED, "Sessions found expired");
    describe_counter!(SESSIONS_CLOSED, "Sessions closed by an operator");
    describe_histogram!(
        SESSION_OPERATION_DURATION,
        metrics::Unit::Seconds,
        "Session operation durations"
    );
    describe_histogram!(
        SESSION_MESSAGE_SIZE,
        metrics::Unit::Bytes,
        "Record plaintext sizes"
    );
    describe_counter!(MESSAGES_PROCESSED, "Messages processed, by type and status");
    describe_counter!(MESSAGES_REJECTED, "Messages rejected, by diagnostic code");
    describe_counter!(REPLAY_ATTACKS_DETECTED, "Replays detected");
    describe_counter!(REPLAY_ATTACKS_DETECTED_SHORT, "Replays detected");
    describe_counter!(NONCE_VALIDATIONS, "Nonce checks, by status");
    describe_histogram!(
        MESSAGE_PROCESSING_DURATION,
        metrics::Unit::Seconds,
        "Time spent on one /messages request"
    );
    describe_histogram!(MESSAGE_SIZE, metrics::Unit::Bytes, "/messages body sizes");
    describe_counter!(CRYPTO_OPERATIONS, "Cryptographic operations");
    describe_counter!(CRYPTO_ERRORS, "Failed cryptographic operations");
    describe_counter!(DID_RESOLUTIONS, "DID resolutions, by cache result");
    describe_histogram!(
        DID_RESOLUTION_DURATION,
        metrics::Unit::Seconds,
        "DID resolution durations"
    );
    describe_counter!(HTTP_REQUESTS, "HTTP requests, by method, route and status");
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "HTTP request durations"
    );
}

/// The role label of a handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeRole {
    /// This node started it (the client SDK inside the node).
    Client,
    /// This node answered it.
    Server,
}

/// A handshake reached this node (role `server`) or left it (`client`).
pub fn handshake_initiated(role: HandshakeRole) {
    let role = match role {
        HandshakeRole::Client => "client",
        HandshakeRole::Server => "server",
    };
    counter!(HANDSHAKES_INITIATED, "role" => role).increment(1);
}

/// A handshake finished; `failure` is its diagnostic code when it failed.
pub fn handshake_completed(failure: Option<&'static str>) {
    match failure {
        None => {
            counter!(HANDSHAKES_COMPLETED, "status" => "success").increment(1);
            counter!(SESSIONS_CREATED, "status" => "success").increment(1);
        }
        Some(code) => {
            counter!(HANDSHAKES_COMPLETED, "status" => "failure").increment(1);
            counter!(HANDSHAKES_FAILED, "error_type" => code).increment(1);
        }
    }
}

/// A handshake stage took `elapsed`.
pub fn handshake_stage(stage: &'static str, elapsed: Duration) {
    histogram!(HANDSHAKE_DURATION, "stage" => stage).record(elapsed.as_secs_f64());
}

/// A session could not be stored after a successful handshake.
pub fn session_create_failed() {
    counter!(SESSIONS_CREATED, "status" => "failure").increment(1);
}

/// The number of live sessions.
pub fn sessions_active(count: u64) {
    #[allow(clippy::cast_precision_loss)] // a gauge; counts far below 2^52
    gauge!(SESSIONS_ACTIVE).set(count as f64);
}

/// `count` sessions were found expired.
pub fn sessions_expired(count: u64) {
    counter!(SESSIONS_EXPIRED).increment(count);
}

/// An operator closed a session.
pub fn session_closed() {
    counter!(SESSIONS_CLOSED).increment(1);
}

/// A session operation (`create`, `encrypt`, `decrypt`) took `elapsed`.
pub fn session_operation(operation: &'static str, elapsed: Duration) {
    histogram!(SESSION_OPERATION_DURATION, "operation" => operation).record(elapsed.as_secs_f64());
}

/// Direction of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received and opened.
    Inbound,
    /// Sealed and sent.
    Outbound,
}

/// A record's plaintext of `len` bytes crossed the session.
pub fn session_message_size(direction: Direction, len: usize) {
    let direction = match direction {
        Direction::Inbound => "inbound",
        Direction::Outbound => "outbound",
    };
    #[allow(clippy::cast_precision_loss)]
    histogram!(SESSION_MESSAGE_SIZE, "direction" => direction).record(len as f64);
}

/// Kind of a `/messages` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `task_id = hpke/complete@v1`.
    Handshake,
    /// An application record on a session.
    Data,
}

impl MessageKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Handshake => "handshake",
            Self::Data => "data",
        }
    }
}

/// A `/messages` request of `body_len` bytes was answered after `elapsed`;
/// `rejected` is its diagnostic code when it was refused.
pub fn message_processed(
    kind: MessageKind,
    body_len: usize,
    elapsed: Duration,
    rejected: Option<&'static str>,
) {
    let status = if rejected.is_some() {
        "failure"
    } else {
        "success"
    };
    counter!(MESSAGES_PROCESSED, "type" => kind.as_str(), "status" => status).increment(1);
    if let Some(code) = rejected {
        counter!(MESSAGES_REJECTED, "code" => code).increment(1);
    }
    histogram!(MESSAGE_PROCESSING_DURATION).record(elapsed.as_secs_f64());
    #[allow(clippy::cast_precision_loss)]
    histogram!(MESSAGE_SIZE).record(body_len as f64);
}

/// A replay was detected (counted under both names).
pub fn replay_detected() {
    counter!(REPLAY_ATTACKS_DETECTED).increment(1);
    counter!(REPLAY_ATTACKS_DETECTED_SHORT).increment(1);
}

/// Outcome of a nonce check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceStatus {
    /// Fresh: recorded.
    Valid,
    /// Seen before: a replay.
    Invalid,
    /// Outside its time window.
    Expired,
}

/// A nonce was checked.
pub fn nonce_validation(status: NonceStatus) {
    let status = match status {
        NonceStatus::Valid => "valid",
        NonceStatus::Invalid => "invalid",
        NonceStatus::Expired => "expired",
    };
    counter!(NONCE_VALIDATIONS, "status" => status).increment(1);
}

/// A cryptographic operation ran; `ok` is false when it failed (a bad
/// signature, a tag that did not verify).
pub fn crypto_operation(operation: &'static str, algorithm: &'static str, ok: bool) {
    counter!(CRYPTO_OPERATIONS, "operation" => operation, "algorithm" => algorithm).increment(1);
    if !ok {
        counter!(CRYPTO_ERRORS, "operation" => operation).increment(1);
    }
}

/// Result of a DID resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResolutionResult {
    /// Answered from the shared cache.
    Hit,
    /// Answered by the registry.
    Miss,
    /// No answer (unreachable registry, unknown DID, ...).
    Error,
}

/// A DID resolution finished after `elapsed`.
pub fn did_resolution(result: ResolutionResult, elapsed: Duration) {
    let result = match result {
        ResolutionResult::Hit => "hit",
        ResolutionResult::Miss => "miss",
        ResolutionResult::Error => "error",
    };
    counter!(DID_RESOLUTIONS, "result" => result).increment(1);
    histogram!(DID_RESOLUTION_DURATION).record(elapsed.as_secs_f64());
}

/// An HTTP request on `route` (the matched route template, never the raw
/// path, so the set stays closed; `unmatched` for a 404) was answered with
/// `status` after `elapsed`.
pub fn http_request(method: &http::Method, route: String, status: u16, elapsed: Duration) {
    let method = method.as_str().to_owned();
    counter!(HTTP_REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    histogram!(HTTP_REQUEST_DURATION, "method" => method, "route" => route)
        .record(elapsed.as_secs_f64());
}
