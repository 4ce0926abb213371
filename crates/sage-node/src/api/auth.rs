//! Bearer-token authentication of the management API.
//!
//! Layer: node, HTTP middleware. Every `/v1` request must carry
//! `Authorization: Bearer <token>` with the token of `management.token`.
//! The check hashes both tokens with SHA-256 and compares the digests in
//! constant time ([`subtle`]), so neither the content nor the length of the
//! configured token shows in the timing. Any failure — no header, another
//! scheme, a wrong token, or no token configured at all — is the same 401
//! ([`ApiProblem::unauthorized`]): the answer never says which.
//!
//! Invariants: the configured token is kept only as its digest; a node
//! without a token serves no management request (operators must set
//! `management.token`, see docs/API.md).
//!
//! [`load_or_create_token`] is for a development node with no configured
//! token: a random token kept in a 0600 file of the data directory.

use core::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sage_core::encoding::b64url_encode;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::problem::ApiProblem;

/// The authentication scheme, matched case-insensitively (RFC 9110 §11.1).
const SCHEME: &str = "bearer";

/// Checks presented tokens against the configured one.
pub struct BearerGuard {
    /// SHA-256 of the configured token; `None` refuses everything.
    expected: Option<[u8; 32]>,
}

impl BearerGuard {
    /// A guard for `token`; `None` (or an empty token) refuses every
    /// request.
    pub fn new(token: Option<&[u8]>) -> Self {
        Self {
            expected: token.filter(|t| !t.is_empty()).map(digest),
        }
    }

    /// Whether the `Authorization` header value `authorization` carries
    /// the configured token.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(expected) = &self.expected else {
            return false;
        };
        let Some(token) = authorization.and_then(bearer_token) else {
            return false;
        };
        digest(token).ct_eq(expected).into()
    }
}

impl fmt::Debug for BearerGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerGuard")
            .field("configured", &self.expected.is_some())
            .finish()
    }
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// The token of `Bearer <token>` (scheme case-insensitive, one or more
/// spaces), or `None`.
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let split = value.iter().position(|b| *b == b' ')?;
    let (scheme, rest) = value.split_at(split);
    if !scheme.eq_ignore_ascii_case(SCHEME.as_bytes()) {
        return None;
    }
    let start = rest.iter().position(|b| *b != b' ')?;
    rest.get(start..)
}

/// The middleware: 401 unless the request carries the token.
pub(crate) async fn require_bearer(
    State(guard): State<Arc<BearerGuard>>,
    request: Request,
    next: Next,
) -> Response {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if guard.accepts(authorization) {
        next.run(request).await
    } else {
        ApiProblem::unauthorized().into_response()
    }
}

/// Random bytes in a generated token (43 characters of base64url).
const GENERATED_TOKEN_BYTES: usize = 32;

/// Why [`load_or_create_token`] failed. Never holds the token.
#[derive(Debug)]
#[non_exhaustive]
pub enum TokenFileError {
    /// The file cannot be read or written.
    Io {
        /// The token file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file exists but holds no token.
    Empty {
        /// The token file.
        path: PathBuf,
    },
    /// The operating system's random number generator failed.
    Rng,
}

impl fmt::Display for TokenFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => {
                write!(f, "management token file {}: {source}", path.display())
            }
            Self::Empty { path } => write!(f, "management token file {} is empty", path.display()),
            Self::Rng => f.write_str("operating system RNG unavailable"),
        }
    }
}

impl std::error::Error for TokenFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The token in `path` (trailing newlines removed), or, when there is no
/// such file, a new random token (32 bytes, base64url) written there with
/// mode 0600 and a trailing newline. For development nodes only: a
/// deployment configures `management.token`.
///
/// Two nodes starting at once on one data directory agree: the file is
/// created exclusively, and the loser reads the winner's token.
///
/// # Errors
/// [`TokenFileError::Io`] when the file cannot be read or created,
/// [`TokenFileError::Empty`] for an empty file, [`TokenFileError::Rng`].
pub fn load_or_create_token(path: &Path) -> Result<Zeroizing<Vec<u8>>, TokenFileError> {
    let io = |source| TokenFileError::Io {
        path: path.to_owned(),
        source,
    };
    match read_token(path) {
        Ok(token) => return Ok(token),
        Err(TokenFileError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {}
        Err(other) => return Err(other),
    }
    let mut bytes = Zeroizing::new([0u8; GENERATED_TOKEN_BYTES]);
    getrandom::fill(&mut bytes[..]).map_err(|_| TokenFileError::Rng)?;
    let token = Zeroizing::new(b64url_encode(&bytes[..]));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(token.as_bytes()).map_err(io)?;
            file.write_all(b"\n").map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(Zeroizing::new(token.as_bytes().to_vec()))
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => read_token(path),
        Err(e) => Err(io(e)),
    }
}

fn read_token(path: &Path) -> Result<Zeroizing<Vec<u8>>, TokenFileError> {
    let mut token = Zeroizing::new(std::fs::read(path).map_err(|source| TokenFileError::Io {
        path: path.to_owned(),
        source,
    })?);
    while matches!(token.last(), Some(b'\n' | b'\r')) {
        token.pop();
    }
    if token.is_empty() {
        return Err(TokenFileError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_is_kept_private_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("management.token");
        let first = load_or_create_token(&path).unwrap();
        assert_eq!(first.len(), 43);
        assert!(BearerGuard::new(Some(&first)).accepts(Some(
            format!("Bearer {}", String::from_utf8(first.to_vec()).unwrap()).as_bytes()
        )));
        let again = load_or_create_token(&path).unwrap();
        assert_eq!(*first, *again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = tempfile::tempdir().unwrap();
        let fresh = load_or_create_token(&other.path().join("management.token")).unwrap();
        assert_ne!(*first, *fresh);
    }

    #[test]
    fn an_existing_token_file_is_used_and_an_empty_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "operator-chosen-token-0123456789abcdef\r\n").unwrap();
        assert_eq!(
            &load_or_create_token(&path).unwrap()[..],
            b"operator-chosen-token-0123456789abcdef"
        );
        std::fs::write(&path, "\n").unwrap();
        let error = load_or_create_token(&path).unwrap_err();
        assert!(matches!(error, TokenFileError::Empty { .. }));
        let missing_dir = dir.path().join("no-such-dir").join("token");
        assert!(matches!(
            load_or_create_token(&missing_dir).unwrap_err(),
            TokenFileError::Io { .. }
        ));
    }

    #[test]
    fn the_configured_token_is_accepted_with_any_case_of_the_scheme() {
        let guard = BearerGuard::new(Some(b"correct-horse-battery-staple-0123456789"));
        for header in [
            &b"Bearer correct-horse-battery-staple-0123456789"[..],
            b"bearer correct-horse-battery-staple-0123456789",
            b"BEARER   correct-horse-battery-staple-0123456789",
        ] {
            assert!(guard.accepts(Some(header)));
        }
    }

    #[test]
    fn wrong_missing_or_malformed_tokens_are_refused() {
        let guard = BearerGuard::new(Some(b"correct-horse-battery-staple-0123456789"));
        for header in [
            &b"Bearer correct-horse-battery-staple-012345678"[..],
            b"Bearer correct-horse-battery-staple-01234567890",
            b"Basic correct-horse-battery-staple-0123456789",
            b"correct-horse-battery-staple-0123456789",
            b"Bearer ",
            b"Bearer",
            b"",
        ] {
            assert!(!guard.accepts(Some(header)), "{header:?}");
        }
        assert!(!guard.accepts(None));
    }

    #[test]
    fn without_a_configured_token_nothing_is_accepted() {
        for guard in [BearerGuard::new(None), BearerGuard::new(Some(b""))] {
            assert!(!guard.accepts(Some(b"Bearer ")));
            assert!(!guard.accepts(Some(b"Bearer anything")));
            assert!(!guard.accepts(None));
        }
    }

    #[test]
    fn debug_never_shows_the_token_or_its_digest() {
        let guard = BearerGuard::new(Some(b"s3cret-token-value"));
        let text = format!("{guard:?}");
        assert!(!text.contains("s3cret"));
        assert_eq!(text, "BearerGuard { configured: true }");
    }
}
