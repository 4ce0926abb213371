//! Secrets by reference: `env:NAME` (an environment variable) or
//! `file:PATH` (a file's contents, trailing newlines removed).
//!
//! A [`Secret`] holds only the reference. It is resolved on demand into
//! zeroizing bytes ([`SecretValue`]); nothing caches the value. `Debug`,
//! `Display` and `Serialize` print `<redacted: env:NAME>`, so a secret can
//! never reach a log line or `sage config show`. A literal value where a
//! secret belongs is refused without echoing it: configuration files end up
//! in repositories, and a secret that was written there is already leaked.

use core::fmt;
use core::str::FromStr;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::env_vars::EnvVars;

/// Where a secret lives.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SecretRef {
    /// An environment variable.
    Env(String),
    /// A file (relative paths are relative to the working directory).
    File(PathBuf),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "env:{name}"),
            Self::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

impl fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// Why a secret reference does not parse. The text is never part of the
/// message: it may be the secret itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretRefError {
    /// Neither `env:` nor `file:`.
    #[error("a literal secret is not allowed: give a reference, env:NAME or file:PATH")]
    Literal,
    /// `env:` followed by something that is not a variable name.
    #[error("env: must be followed by a variable name (letters, digits and _)")]
    BadVariableName,
    /// `file:` with no path.
    #[error("file: must be followed by a path")]
    EmptyPath,
}

/// A reference to a secret; see the module documentation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    reference: SecretRef,
}

/// A resolved secret, wiped from memory when dropped. `Debug` prints only
/// its length.
pub struct SecretValue(Zeroizing<Vec<u8>>);

impl SecretValue {
    /// The secret bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Number of bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<redacted, {} bytes>)", self.0.len())
    }
}

/// Why a secret could not be resolved. Never holds secret bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The variable is not set.
    #[error("environment variable {name} is not set")]
    EnvUnset {
        /// The variable.
        name: String,
    },
    /// The file cannot be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The secret resolved to nothing.
    #[error("{reference} is empty")]
    Empty {
        /// The reference.
        reference: SecretRef,
    },
    /// The secret is not 32 bytes in base64 or hex.
    #[error("{reference} must hold 32 bytes as base64 or hex: {problem}")]
    NotAKey {
        /// The reference.
        reference: SecretRef,
        /// What is wrong (never the value).
        problem: KeyEncodingError,
    },
}

/// Why a secret is not a 32-byte key. Carries lengths only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyEncodingError {
    /// Neither hex nor base64.
    #[error("neither hex nor base64")]
    NotEncoded,
    /// Decoded, but not 32 bytes.
    #[error("decodes to {0} bytes")]
    WrongLength(usize),
}

/// Length of a key-encryption key.
pub const KEY_LEN: usize = 32;

impl Secret {
    /// A reference to an environment variable.
    ///
    /// # Errors
    /// [`SecretRefError::BadVariableName`] if `name` is not a variable name.
    pub fn env(name: &str) -> Result<Self, SecretRefError> {
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(SecretRefError::BadVariableName);
        }
        Ok(Self {
            reference: SecretRef::Env(name.to_owned()),
        })
    }

    /// A reference to a file.
    ///
    /// # Errors
    /// [`SecretRefError::EmptyPath`] if `path` is empty.
    pub fn file(path: impl Into<PathBuf>) -> Result<Self, SecretRefError> {
        let path = path.into();
        if path.as_os_str().is_empty() {
            return Err(SecretRefError::EmptyPath);
        }
        Ok(Self {
            reference: SecretRef::File(path),
        })
    }

    /// The reference.
    #[must_use]
    pub fn reference(&self) -> &SecretRef {
        &self.reference
    }

    /// Reads the secret: the variable's value from `env`, or the file's
    /// bytes without trailing `\r`/`\n`.
    ///
    /// # Errors
    /// [`SecretError::EnvUnset`], [`SecretError::FileUnreadable`], or
    /// [`SecretError::Empty`] when the secret is empty.
    pub fn resolve(&self, env: &EnvVars) -> Result<SecretValue, SecretError> {
        let bytes = match &self.reference {
            SecretRef::Env(name) => Zeroizing::new(
                env.get(name)
                    .ok_or_else(|| SecretError::EnvUnset { name: name.clone() })?
                    .as_bytes()
                    .to_vec(),
            ),
            SecretRef::File(path) => {
                let mut bytes = Zeroizing::new(read_file(path)?);
                while matches!(bytes.last(), Some(b'\n' | b'\r')) {
                    bytes.pop();
                }
                bytes
            }
        };
        if bytes.is_empty() {
            return Err(SecretError::Empty {
                reference: self.reference.clone(),
            });
        }
        Ok(SecretValue(bytes))
    }

    /// Reads the secret and decodes it as a 32-byte key written in hex (64
    /// digits, optionally after `0x`, as Ethereum tools print private keys)
    /// or base64 (standard or URL-safe, padded or not).
    ///
    /// # Errors
    /// As [`Secret::resolve`], and [`SecretError::NotAKey`] when the value
    /// is not 32 bytes in one of those encodings.
    pub fn resolve_key(&self, env: &EnvVars) -> Result<Zeroizing<[u8; KEY_LEN]>, SecretError> {
        let value = self.resolve(env)?;
        decode_key(value.expose()).map_err(|problem| SecretError::NotAKey {
            reference: self.reference.clone(),
            problem,
        })
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, SecretError> {
    std::fs::read(path).map_err(|source| SecretError::FileUnreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// Decodes a 32-byte key from hex (`0x` optional) or base64 text.
fn decode_key(text: &[u8]) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyEncodingError> {
    let text = text.trim_ascii();
    let digits = text
        .strip_prefix(b"0x")
        .or_else(|| text.strip_prefix(b"0X"))
        .unwrap_or(text);
    let decoded: Zeroizing<Vec<u8>> =
        if digits.len() == 2 * KEY_LEN && digits.iter().all(u8::is_ascii_hexdigit) {
            Zeroizing::new(hex::decode(digits).map_err(|_| KeyEncodingError::NotEncoded)?)
        } else {
            [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
                .iter()
                .find_map(|engine| engine.decode(text).ok())
                .map(Zeroizing::new)
                .ok_or(KeyEncodingError::NotEncoded)?
        };
    let key: [u8; KEY_LEN] = decoded
        .as_slice()
        .try_into()
        .map_err(|_| KeyEncodingError::WrongLength(decoded.len()))?;
    Ok(Zeroizing::new(key))
}

impl FromStr for Secret {
    type Err = SecretRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(name) = text.strip_prefix("env:") {
            Self::env(name)
        } else if let Some(path) = text.strip_prefix("file:") {
            Self::file(path)
        } else {
            Err(SecretRefError::Literal)
        }
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<redacted: {}>", self.reference)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({self})")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SecretVisitor)
    }
}

/// Accepts only strings; any other value is refused as a literal secret
/// without being echoed (serde's default messages would print numbers).
struct SecretVisitor;

impl SecretVisitor {
    fn literal<E: de::Error>() -> E {
        E::custom(SecretRefError::Literal)
    }
}

impl Visitor<'_> for SecretVisitor {
    type Value = Secret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a secret reference, env:NAME or file:PATH")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Secret, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_char<E: de::Error>(self, _: char) -> Result<Secret, E> {
        Err(Self::literal())
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Secret, E> {
        Err(E::invalid_type(Unexpected::Other("bytes"), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn references_parse_and_literals_are_refused() {
        assert_eq!(
            "env:SAGE_KEK".parse::<Secret>().unwrap().reference(),
            &SecretRef::Env("SAGE_KEK".into())
        );
        assert_eq!(
            "file:/run/secrets/kek"
                .parse::<Secret>()
                .unwrap()
                .reference(),
            &SecretRef::File("/run/secrets/kek".into())
        );
        assert_eq!("hunter2".parse::<Secret>(), Err(SecretRefError::Literal));
        assert_eq!(
            "env:".parse::<Secret>(),
            Err(SecretRefError::BadVariableName)
        );
        assert_eq!(
            "env:has space".parse::<Secret>(),
            Err(SecretRefError::BadVariableName)
        );
        assert_eq!("file:".parse::<Secret>(), Err(SecretRefError::EmptyPath));
    }

    #[test]
    fn refusals_never_echo_the_literal() {
        let message = "hunter2".parse::<Secret>().unwrap_err().to_string();
        assert!(!message.contains("hunter2"));
        let message = "env:hunter 2".parse::<Secret>().unwrap_err().to_string();
        assert!(!message.contains("hunter"));
    }

    #[test]
    fn debug_display_and_serialize_show_the_reference_only() {
        let secret: Secret = "env:SAGE_KEK".parse().unwrap();
        let env: EnvVars = [("SAGE_KEK", KEY_B64)].into_iter().collect();
        let value = secret.resolve(&env).unwrap();
        assert_eq!(value.expose(), KEY_B64.as_bytes());
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            serde_json::to_string(&secret).unwrap(),
            format!("{value:?}"),
        ] {
            assert!(!shown.contains(KEY_B64), "{shown}");
            assert!(!shown.contains("AAECAw"), "{shown}");
        }
        assert_eq!(secret.to_string(), "<redacted: env:SAGE_KEK>");
    }

    #[test]
    fn keys_decode_from_base64_and_hex() {
        let expected: Vec<u8> = (0u8..32).collect();
        let hex_key = hex::encode(&expected);
        let url_key = URL_SAFE_NO_PAD.encode(&expected);
        let prefixed = format!("0x{hex_key}");
        for text in [
            KEY_B64,
            hex_key.as_str(),
            prefixed.as_str(),
            url_key.as_str(),
        ] {
            assert_eq!(decode_key(text.as_bytes()).unwrap().as_slice(), expected);
        }
        assert_eq!(
            decode_key(b"AAECAw==").map(|_| ()),
            Err(KeyEncodingError::WrongLength(4))
        );
        assert_eq!(
            decode_key(b"not base64!").map(|_| ()),
            Err(KeyEncodingError::NotEncoded)
        );
    }

    #[test]
    fn file_secrets_lose_trailing_newlines_and_unset_variables_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "s3cret-token\n").unwrap();
        let secret = Secret::file(&path).unwrap();
        let env = EnvVars::default();
        assert_eq!(secret.resolve(&env).unwrap().expose(), b"s3cret-token");

        let missing: Secret = "env:NOT_SET".parse().unwrap();
        let error = missing.resolve(&env).unwrap_err();
        assert!(error.to_string().contains("NOT_SET"));

        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            secret.resolve(&env),
            Err(SecretError::Empty { .. })
        ));
    }
}
