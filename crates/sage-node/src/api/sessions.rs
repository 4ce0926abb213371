//! `GET /v1/sessions`, `GET /v1/sessions/{sid}`, `DELETE /v1/sessions/{sid}`:
//! list, inspect and close the node's sessions.
//!
//! Layer: node, management API, over sage-store's
//! [`SessionStore`](sage_store::SessionStore). Only a session's clear
//! columns are ever read ([`get`](sage_store::SessionStore::get) and
//! [`list_by_peer`](sage_store::SessionStore::list_by_peer) decrypt
//! nothing), so no key material can reach an answer. Lists are by peer
//! (the store's index, newest first)
//! and paged by an opaque cursor; `peer` is required.
//!
//! Closing deletes the session on every node sharing the database: the
//! peer's next record is answered as for an unknown session, and it must
//! handshake again. It counts in `sage_sessions_closed_total`.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use sage_core::did::Did;
use sage_core::session::{Role, SessionId};
use sage_core::time::Timestamp;
use sage_registry::RegistryError;
use sage_store::{MAX_PAGE_LIMIT, PageRequest, SessionCursor, SessionRecord, SessionStore as _};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{AuthProblems, ListProblems, SessionProblems};
use super::{
    SharedState, TAG, bad_request, path_problem, query_problem, registry_problem, store_problem,
};
use crate::metrics;
use crate::problem::{ApiProblem, codes};

/// Page size when `limit` is not given.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;

pub(crate) fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(get_session, close_session))
}

/// The clear record of a session: no key material, ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!(session_example()))]
pub struct SessionView {
    /// The session id (22 characters of base64url).
    pub sid: String,
    /// The key id the peer names the session with.
    pub kid: String,
    /// The peer's DID.
    pub peer_did: String,
    /// This node's side: `initiator` or `responder`.
    pub role: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Last record sent or accepted, RFC 3339.
    pub last_activity: String,
    /// Absolute expiry, RFC 3339 (`null`: no age limit).
    pub expires_at: Option<String>,
    /// Idle expiry, RFC 3339 (`null`: no idle limit).
    pub idle_expires_at: Option<String>,
    /// Records sent plus records accepted.
    pub message_count: u64,
    /// The next sequence number to send (`null` once exhausted).
    pub next_send_seq: Option<u64>,
    /// The highest sequence number accepted (`null`: none yet).
    pub highest_received_seq: Option<u64>,
    /// The row version (optimistic concurrency).
    pub version: u64,
}

impl From<&SessionRecord> for SessionView {
    fn from(record: &SessionRecord) -> Self {
        Self {
            sid: record.sid.as_str().to_owned(),
            kid: record.kid.clone(),
            peer_did: record.peer_did.as_str().to_owned(),
            role: match record.role {
                Role::Initiator => "initiator",
                Role::Responder => "responder",
            }
            .to_owned(),
            created_at: record.created_at.to_rfc3339(),
            last_activity: record.last_activity.to_rfc3339(),
            expires_at: record.expires_at.map(Timestamp::to_rfc3339),
            idle_expires_at: record.idle_expires_at.map(Timestamp::to_rfc3339),
            message_count: record.message_count,
            next_send_seq: record.next_send_seq,
            highest_received_seq: record.window.highest(),
            version: record.version,
        }
    }
}

/// One page of sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionPage {
    /// The sessions, newest first.
    pub sessions: Vec<SessionView>,
    /// Pass as `after` for the next page; `null` on the last page.
    pub next_after: Option<String>,
}

/// The query of `GET /v1/sessions`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The peer's DID (required: sessions are indexed by peer).
    #[param(
        example = "did:sage:ethereum:agent-9",
        pattern = "^did:sage:[A-Za-z0-9._~-]+:[A-Za-z0-9._~:-]+$"
    )]
    pub peer: String,
    /// Most sessions returned, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// The `next_after` of the previous page.
    pub after: Option<String>,
}

/// The cursor after `cursor`: `<seconds>.<nanoseconds>.<sid>`.
fn encode_cursor(cursor: &SessionCursor) -> String {
    format!(
        "{}.{:09}.{}",
        cursor.created_at.unix_seconds(),
        cursor.created_at.subsec_nanos(),
        cursor.sid
    )
}

fn decode_cursor(text: &str) -> Option<SessionCursor> {
    let mut parts = text.splitn(3, '.');
    let seconds = parts.next()?.parse().ok()?;
    let nanos = parts.next()?.parse().ok().filter(|n| *n < 1_000_000_000)?;
    let sid = parts.next()?.parse().ok()?;
    Some(SessionCursor {
        created_at: Timestamp::new(seconds, nanos),
        sid,
    })
}

fn parse_sid(text: &str) -> Result<SessionId, ApiProblem> {
    text.parse()
        .map_err(|_| bad_request("not a session id: 22 characters of base64url"))
}

fn unknown_session(sid: &str) -> ApiProblem {
    ApiProblem::new(
        StatusCode::NOT_FOUND,
        codes::SESSION_UNKNOWN,
        format!("no live session has id {sid}"),
    )
}

/// Lists the live sessions with a peer, newest first.
#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = TAG,
    operation_id = "listSessions",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page of the peer's live sessions", body = SessionPage,
            content_type = "application/json",
            example = json!({"sessions": [session_example()], "next_after": null})),
        AuthProblems,
        ListProblems,
    )
)]
pub(crate) async fn list_sessions(
    State(state): State<SharedState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<SessionPage>, ApiProblem> {
    let Query(query) = query.map_err(|e| query_problem(&e))?;
    let peer = Did::parse(&query.peer).map_err(|e| registry_problem(&RegistryError::from(e)))?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_LIMIT);
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        return Err(bad_request(format!(
            "`limit` must be between 1 and {MAX_PAGE_LIMIT}"
        )));
    }
    let after = match query.after.as_deref() {
        None => None,
        Some(text) => Some(
            decode_cursor(text)
                .ok_or_else(|| bad_request("`after` is not a cursor this API returned"))?,
        ),
    };
    let page = state
        .sessions
        .list_by_peer(&peer, state.clock.now(), &PageRequest { limit, after })
        .await
        .map_err(|e| store_problem(&e))?;
    Ok(Json(SessionPage {
        sessions: page.items.iter().map(SessionView::from).collect(),
        next_after: page
            .next
            .and_then(|next| next.after)
            .map(|cursor| encode_cursor(&cursor)),
    }))
}

/// The clear record of one live session.
#[utoipa::path(
    get,
    path = "/v1/sessions/{sid}",
    tag = TAG,
    operation_id = "getSession",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "The session id: 16 bytes in canonical unpadded base64url", example = "3q2-7wAAAAAAAAAAAAAAAA", pattern = "^[A-Za-z0-9_-]{21}[AQgw]$")),
    responses(
        (status = 200, description = "The session's clear record", body = SessionView,
            content_type = "application/json", example = json!(session_example())),
        AuthProblems,
        SessionProblems,
    )
)]
pub(crate) async fn get_session(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Json<SessionView>, ApiProblem> {
    let Path(text) = path.map_err(|e| path_problem(&e))?;
    let sid = parse_sid(&text)?;
    let record = state
        .sessions
        .get(&sid, state.clock.now())
        .await
        .map_err(|e| store_problem(&e))?
        .ok_or_else(|| unknown_session(sid.as_str()))?;
    Ok(Json(SessionView::from(&record)))
}

/// Closes a session: deletes it, on every node sharing the database.
#[utoipa::path(
    delete,
    path = "/v1/sessions/{sid}",
    tag = TAG,
    operation_id = "closeSession",
    security(("bearer" = [])),
    params(("sid" = String, Path, description = "The session id: 16 bytes in canonical unpadded base64url", example = "3q2-7wAAAAAAAAAAAAAAAA", pattern = "^[A-Za-z0-9_-]{21}[AQgw]$")),
    responses(
        (status = 204, description = "The session is closed"),
        AuthProblems,
        SessionProblems,
    )
)]
pub(crate) async fn close_session(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiProblem> {
    let Path(text) = path.map_err(|e| path_problem(&e))?;
    let sid = parse_sid(&text)?;
    let deleted = state
        .sessions
        .delete(&sid)
        .await
        .map_err(|e| store_problem(&e))?;
    if !deleted {
        return Err(unknown_session(sid.as_str()));
    }
    metrics::session_closed();
    tracing::info!(sid = %sid, "session closed by an operator");
    Ok(StatusCode::NO_CONTENT)
}

fn session_example() -> Value {
    json!({
        "sid": "3q2-7wAAAAAAAAAAAAAAAA",
        "kid": "kid-6f1c3a52-8d0e-4b7a-9c21-5e4f3d2b1a09",
        "peer_did": "did:sage:ethereum:agent-9",
        "role": "responder",
        "created_at": "2026-01-01T00:00:00Z",
        "last_activity": "2026-01-01T00:04:10Z",
        "expires_at": "2026-01-01T01:00:00Z",
        "idle_expires_at": "2026-01-01T00:14:10Z",
        "message_count": 42,
        "next_send_seq": 21,
        "highest_received_seq": 20,
        "version": 43
    })
}
