//! The client's HTTP carriage: signed `POST {base}/messages` requests,
//! bounded responses, retries, and response verification
//! (docs/PROTOCOL-PROFILE.md §1, §3; PROTOCOL.md §5.3–§5.5, §12.1).
//!
//! Layer: between the protocol (sage-core) and the network (reqwest). A
//! request is built and signed once ([`sign_post`]): `Content-Type`,
//! `X-SAGE-*` mirror headers, `Date`, `Content-Digest` and the `sig1`
//! signature over the profile's covered set with a UUIDv4 nonce. The
//! [`Transport`] then sends those exact bytes, as often as its
//! [`RetryPolicy`] allows, on a connection failure or HTTP 503: a retry is
//! a copy, never a new record, so the node either never saw the first
//! attempt or refuses the copy as a replay.
//!
//! What it does not do: TLS (http:// only: put a TLS terminator in front
//! of the node), redirects (they would change the signed `@target-uri`),
//! or any meaning of the body.

use core::time::Duration;
use std::time::SystemTime;

use getrandom::SysRng;
use getrandom::rand_core::{Rng as _, UnwrapErr};
use reqwest::Url;
use sage_core::httpsig::{
    DEFAULT_LABEL, HttpRequest, HttpResponse, ParsedSignature, SignatureParams, VerifyOptions,
    request_components, sign_request_in_place,
};
use sage_core::primitives::SigningKey;
use sage_core::replay::ReplayVerdict;
use sage_core::time::Timestamp;
use sage_core::transport::{HEADER_DID, WireMessage};

use crate::error::ClientError;
use crate::resolve::PeerKeys;

/// The system clock as a [`Timestamp`].
pub(crate) fn now() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    Timestamp::new(secs, since_epoch.subsec_nanos())
}

/// A random UUID (version 4, RFC 9562 variant), lower-case hyphenated.
pub(crate) fn uuid_v4() -> String {
    sage_core::handshake::uuid_v4(&mut UnwrapErr(SysRng))
}

/// Parses an absolute `http://` URL. The client carries no TLS backend.
///
/// # Errors
/// [`ClientError::InvalidUrl`] for anything else.
pub(crate) fn parse_http_url(url: &str) -> Result<Url, ClientError> {
    let invalid = || ClientError::InvalidUrl {
        url: url.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|_| invalid())?;
    if parsed.scheme() != "http" || parsed.host_str().is_none() {
        return Err(invalid());
    }
    Ok(parsed)
}

/// `{base}/{path}`, keeping the base's own path (a node mounted under a
/// prefix) and dropping its query and fragment.
pub(crate) fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
    url.set_path(&joined);
    url
}

/// Builds the HTTP request for `message` at `url` and signs it (§5.3):
/// covered `"@method" "@target-uri" "@authority" "content-type"
/// "content-digest" "x-sage-did" "date"`, `keyid` = `did`, `alg`,
/// `created` = `now`, a fresh UUIDv4 `nonce`.
///
/// # Errors
/// [`ClientError::Envelope`] when a mirror header is out of bounds;
/// [`ClientError::Signing`] when the key cannot sign an RFC 9421 message.
pub(crate) fn sign_post(
    url: &Url,
    message: &WireMessage,
    did: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<HttpRequest, ClientError> {
    let mut request = HttpRequest::new("POST", url.as_str())
        .with_header("content-type", "application/json")
        .with_header("date", http_date(now))
        .with_body(message.to_json());
    for (name, value) in message.mirror_headers().map_err(ClientError::Envelope)? {
        request.set_header(&name, value);
    }
    let mut params = SignatureParams::new(request_components(&request), did, now);
    params.alg = key.key_type().rfc9421_alg().map(str::to_owned);
    params.nonce = Some(uuid_v4());
    sign_request_in_place(&mut request, &params, key).map_err(ClientError::Signing)?;
    Ok(request)
}

/// Checks a response's RFC 9421 signature (§5.4, §5.5): it verifies under
/// the peer's signing key, its `keyid` names the peer's DID, it binds the
/// request (`;req`), and it covers an `X-SAGE-DID` that names the peer.
///
/// # Errors
/// [`ClientError::ResponseSignature`] or [`ClientError::ResponseIdentity`].
pub(crate) fn verify_response(
    response: &HttpResponse,
    request: &HttpRequest,
    peer: &PeerKeys,
    now: Timestamp,
) -> Result<(), ClientError> {
    let parsed = ParsedSignature::from_response(response, Some(request), Some(DEFAULT_LABEL))
        .map_err(ClientError::ResponseSignature)?;
    let options = VerifyOptions {
        expected_did: Some(peer.did.as_str().to_owned()),
        ..VerifyOptions::for_response()
    };
    // A response is bound to its request through `;req` (the request's
    // signature, nonce included), so a replayed response cannot answer
    // another request: there is no nonce to remember (§18.7).
    parsed
        .verify_unrecorded(&peer.signing, &options, now)
        .and_then(|unrecorded| unrecorded.record(ReplayVerdict::Fresh))
        .map_err(ClientError::ResponseSignature)?;
    let covers_did = parsed
        .covered()
        .iter()
        .any(|c| !c.is_req() && c.as_str().eq_ignore_ascii_case("\"x-sage-did\""));
    let header_names_peer = response
        .header(HEADER_DID)
        .is_some_and(|did| did == peer.did.as_str());
    if !covers_did || !header_names_peer {
        return Err(ClientError::ResponseIdentity);
    }
    Ok(())
}

/// How transport failures and HTTP 503 are retried: exponential backoff
/// with jitter, the same bytes every time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// The wait before the second attempt; it doubles after each retry.
    pub initial_backoff: Duration,
    /// The longest wait.
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// Four attempts, 100 ms doubling up to 2 s.
    pub const DEFAULT: Self = Self {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
    };

    /// One attempt, no retry.
    pub const NONE: Self = Self {
        max_attempts: 1,
        initial_backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
    };

    /// The wait before attempt `retry + 1` (`retry` ≥ 1): the doubled
    /// backoff, capped, then drawn uniformly from its upper half ("equal
    /// jitter"), so that clients that failed together do not retry
    /// together.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let doubled = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let capped = doubled.min(self.max_backoff);
        let half = capped / 2;
        let jitter_range = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
        if jitter_range == 0 {
            return capped;
        }
        let draw = UnwrapErr(SysRng).next_u64() % (jitter_range + 1);
        half + Duration::from_micros(draw)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A response and what the attempts before it tell about delivery.
#[derive(Debug)]
pub(crate) struct Delivered {
    /// The response, headers and bounded body.
    pub(crate) response: HttpResponse,
    /// Whether an earlier attempt may have reached the node (it failed
    /// after the connection was made: a timeout, a reset mid-response).
    /// A refusal of a later copy then says nothing about the first.
    pub(crate) earlier_copy_may_have_arrived: bool,
}

/// Sends signed requests with retries, and reads bounded responses.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    retry: RetryPolicy,
    max_response_len: usize,
}

impl Transport {
    pub(crate) fn new(
        timeout: Duration,
        retry: RetryPolicy,
        max_response_len: usize,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|_| ClientError::HttpClient)?;
        Ok(Self {
            http,
            retry,
            max_response_len,
        })
    }

    /// Sends `request` (already signed) until it gets an answer other than
    /// 503, or the retry policy is spent. Every attempt sends the same
    /// bytes.
    ///
    /// # Errors
    /// [`ClientError::Unavailable`] after the last attempt;
    /// [`ClientError::ResponseTooLarge`].
    pub(crate) async fn post(&self, request: &HttpRequest) -> Result<Delivered, ClientError> {
        let url = parse_http_url(&request.target_uri)?;
        let mut earlier_copy_may_have_arrived = false;
        let attempts = self.retry.max_attempts.max(1);
        for attempt in 1..=attempts {
            if attempt > 1 {
                tokio::time::sleep(self.retry.backoff(attempt - 1)).await;
            }
            let mut builder = self.http.post(url.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            match builder.body(request.body.clone()).send().await {
                Ok(response) if response.status().as_u16() == 503 => {
                    tracing::debug!(attempt, "node answered 503; retrying the same bytes");
                }
                Ok(response) => {
                    let response = self.read(response).await?;
                    return Ok(Delivered {
                        response,
                        earlier_copy_may_have_arrived,
                    });
                }
                Err(error) => {
                    earlier_copy_may_have_arrived |= !error.is_connect();
                    tracing::debug!(attempt, %error, "transport error; retrying the same bytes");
                }
            }
        }
        Err(ClientError::Unavailable { attempts })
    }

    /// `GET url`, once, with a bounded body.
    ///
    /// # Errors
    /// [`ClientError::Unavailable`], [`ClientError::ResponseTooLarge`].
    pub(crate) async fn get(&self, url: &Url) -> Result<HttpResponse, ClientError> {
        let response = self
            .http
            .get(url.clone())
            .send()
            .await
            .map_err(|_| ClientError::Unavailable { attempts: 1 })?;
        self.read(response).await
    }

    async fn read(&self, mut response: reqwest::Response) -> Result<HttpResponse, ClientError> {
        let limit = self.max_response_len;
        if response
            .content_length()
            .is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX))
        {
            return Err(ClientError::ResponseTooLarge { limit });
        }
        let mut out = HttpResponse::new(response.status().as_u16());
        for (name, value) in response.headers() {
            // A field that is not text cannot be a signature input; the
            // signature check fails if a covered one is missing.
            if let Ok(value) = value.to_str() {
                out.headers
                    .push((name.as_str().to_owned(), value.to_owned()));
            }
        }
        let mut body = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() + chunk.len() > limit {
                        return Err(ClientError::ResponseTooLarge { limit });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(_) => return Err(ClientError::Unavailable { attempts: 1 }),
            }
        }
        out.body = body;
        Ok(out)
    }
}

/// `now` as an RFC 9110 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(now: Timestamp) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = now.unix_seconds();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"Thu");
    let month_name = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .unwrap_or(&"Jan");
    format!(
        "{weekday}, {day:02} {month_name} {year:04} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), proleptic
/// Gregorian (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_date_matches_rfc_9110_example() {
        assert_eq!(
            http_date(Timestamp::from_unix_seconds(784_111_777)),
            "Sun, 06 Nov 1994 08:49:37 GMT"
        );
        assert_eq!(
            http_date(Timestamp::from_unix_seconds(1_709_164_800)),
            "Thu, 29 Feb 2024 00:00:00 GMT"
        );
    }

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
        };
        for _ in 0..50 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(100) && second <= Duration::from_millis(200));
            let capped = policy.backoff(9);
            assert!(capped >= Duration::from_millis(175) && capped <= Duration::from_millis(350));
        }
    }

    #[test]
    fn uuid_is_version_4_and_unique() {
        let a = uuid_v4();
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
        assert_ne!(a, uuid_v4());
    }

    #[test]
    fn only_absolute_http_urls_are_accepted() {
        assert!(parse_http_url("http://node.example:8080").is_ok());
        assert!(parse_http_url("https://node.example").is_err());
        assert!(parse_http_url("node.example").is_err());
        assert!(parse_http_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn join_keeps_a_base_path_prefix() {
        let base = parse_http_url("http://n.example/sage/").unwrap();
        assert_eq!(
            join(&base, "messages").as_str(),
            "http://n.example/sage/messages"
        );
        let bare = parse_http_url("http://n.example:8080").unwrap();
        assert_eq!(
            join(&bare, "messages").as_str(),
            "http://n.example:8080/messages"
        );
    }
}
