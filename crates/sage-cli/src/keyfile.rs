//! Key files: JWK or PEM, private or public, told apart by content.
//!
//! A PEM document starts with `-----BEGIN`; a JWK is a JSON object. A JWK
//! with a `d` member, or a PEM `PRIVATE KEY` / `EC PRIVATE KEY` document,
//! holds a private key. The file's text lives in a zeroizing buffer while
//! it is parsed.

use std::path::Path;

use sage_core::primitives::jwk::{JwkError, private_from_jwk, public_from_jwk_str};
use sage_core::primitives::pem::{PemError, private_from_pem, public_from_pem};
use sage_core::primitives::{KeyError, PrivateKey, PublicKey, SigningKey, VerifyingKey};

use crate::error::{CliError, KeyFileProblem};
use crate::files::read_secret_file;

/// The key a file holds.
#[derive(Debug)]
pub(crate) enum KeyFile {
    Private(PrivateKey),
    Public(PublicKey),
}

impl KeyFile {
    /// Reads and parses `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, CliError> {
        let bytes = read_secret_file(path)?;
        let text = core::str::from_utf8(&bytes)
            .map_err(|_| CliError::key_file(path, KeyFileProblem::NotText))?;
        let trimmed = text.trim_start();
        if trimmed.starts_with("-----BEGIN") {
            match private_from_pem(text) {
                Ok(key) => Ok(Self::Private(key)),
                Err(PemError::UnexpectedLabel) => public_from_pem(text)
                    .map(Self::Public)
                    .map_err(|e| CliError::key_file(path, KeyFileProblem::Pem(e))),
                Err(e) => Err(CliError::key_file(path, KeyFileProblem::Pem(e))),
            }
        } else if trimmed.starts_with('{') {
            match public_from_jwk_str(text) {
                Ok(key) => Ok(Self::Public(key)),
                Err(JwkError::UnexpectedMember("d")) => private_from_jwk(text)
                    .map(Self::Private)
                    .map_err(|e| CliError::key_file(path, KeyFileProblem::Jwk(e))),
                Err(e) => Err(CliError::key_file(path, KeyFileProblem::Jwk(e))),
            }
        } else {
            Err(CliError::key_file(path, KeyFileProblem::UnknownFormat))
        }
    }

    /// The public half.
    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            Self::Private(key) => key.public_key(),
            Self::Public(key) => *key,
        }
    }

    pub(crate) fn is_private(&self) -> bool {
        matches!(self, Self::Private(_))
    }
}

/// The signing key of a private key file.
pub(crate) fn load_signing_key(path: &Path) -> Result<SigningKey, CliError> {
    match KeyFile::load(path)? {
        KeyFile::Private(PrivateKey::Signing(key)) => Ok(key),
        // X25519 is the one private key type that does not sign.
        KeyFile::Private(_) => Err(CliError::key_file(
            path,
            KeyFileProblem::Unusable(KeyError::NotASigningKey),
        )),
        KeyFile::Public(_) => Err(CliError::key_file(path, KeyFileProblem::NotPrivate)),
    }
}

/// The verifying key of a key file, public or private.
pub(crate) fn load_verifying_key(path: &Path) -> Result<VerifyingKey, CliError> {
    let public = KeyFile::load(path)?.public_key();
    public
        .as_verifying()
        .copied()
        .map_err(|e| CliError::key_file(path, KeyFileProblem::Unusable(e)))
}
