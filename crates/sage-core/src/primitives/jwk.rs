//! JSON Web Key import and export (RFC 7517; RFC 8037 for the OKP keys;
//! PROTOCOL.md §3.1, §10.1 "JWK mapping", §13.2).
//!
//! Layer: primitives. Turns the four SAGE key types into JWKs and back:
//!
//! | key       | JWK                                         |
//! |-----------|---------------------------------------------|
//! | Ed25519   | `{"kty":"OKP","crv":"Ed25519","x"}`         |
//! | X25519    | `{"kty":"OKP","crv":"X25519","x"}`          |
//! | secp256k1 | `{"kty":"EC","crv":"secp256k1","x","y"}`    |
//! | P-256     | `{"kty":"EC","crv":"P-256","x","y"}`        |
//!
//! A private JWK adds `d`. Two profiles:
//! - the key-file profile ([`public_from_jwk`], [`private_from_jwk`]):
//!   `kid`, `use`, `key_ops` and unknown members are ignored (RFC 7517 §4),
//!   but an `alg` that contradicts the key is rejected (§3.3: a value that
//!   contradicts the key MUST be rejected);
//! - the DID-document profile of §10.1 \[N\] ([`public_to_document_jwk`],
//!   [`public_from_document_jwk`]): exactly `kty`, `crv`, `x` (and `y` for
//!   EC), nothing else.
//!
//! Invariants:
//! - `x`, `y` and `d` are unpadded base64url of exactly 32 bytes; padding,
//!   the standard alphabet and non-zero trailing bits are rejected;
//! - an imported point is validated, and an imported `d` must give back
//!   the `x`/`y` it came with;
//! - private key text only ever lives in zeroizing buffers on our side
//!   ([`SecretText`]); [`private_from_jwk`] reads `d` in place from the
//!   caller's text without copying it.
//!
//! Not here: choosing the algorithm (it comes from the key type or the
//! registry entry, never from a JWK's `alg`), JWS/JWE.

use core::fmt;
use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::algorithm::KeyType;
use super::error::KeyError;
use super::hash::sha256;
use super::signing::PrivateKey;
use super::verifying::PublicKey;
use crate::encoding::{DecodeError, b64url_decode_array, b64url_encode};

#[cfg(test)]
#[path = "jwk_tests.rs"]
mod tests;

/// Why a JWK was rejected. Names members, never key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwkError {
    /// The text is not JSON.
    Json,
    /// The JSON value is not an object.
    NotAnObject,
    /// A member this module reads appears twice (RFC 7517 §4 lets us reject).
    DuplicateMember(&'static str),
    /// A required member is absent.
    MissingMember(&'static str),
    /// A member that must be a string is not one.
    NotAString(&'static str),
    /// A member this module reads is written with JSON escapes; its value
    /// is pure ASCII and never needs them.
    EscapedString(&'static str),
    /// `kty` is not `OKP` or `EC`.
    UnsupportedKeyType,
    /// `crv` is not a curve SAGE supports for this `kty`.
    UnsupportedCurve,
    /// A member that this key or this operation does not allow (`y` on an
    /// OKP key, `d` where a public key is expected).
    UnexpectedMember(&'static str),
    /// A member outside `kty`, `crv`, `x`, `y` in a DID-document JWK (§10.1).
    ExtraMember,
    /// A member is not unpadded base64url.
    NotBase64Url(&'static str),
    /// A member decodes to the wrong number of bytes.
    Length {
        /// The member.
        member: &'static str,
        /// Required length in bytes.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// `x` (and `y`) do not form a valid public key of the curve.
    InvalidPublicKey,
    /// `d` is not a valid private key of the curve (zero or ≥ n).
    InvalidPrivateKey,
    /// `d` does not give the public key in `x` (and `y`).
    PrivateKeyMismatch,
    /// `alg` names an algorithm this key cannot be used with.
    AlgorithmMismatch,
}

impl fmt::Display for JwkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json => f.write_str("JWK is not valid JSON"),
            Self::NotAnObject => f.write_str("JWK is not a JSON object"),
            Self::DuplicateMember(m) => write!(f, "JWK member \"{m}\" appears more than once"),
            Self::MissingMember(m) => write!(f, "JWK member \"{m}\" is missing"),
            Self::NotAString(m) => write!(f, "JWK member \"{m}\" is not a string"),
            Self::EscapedString(m) => write!(f, "JWK member \"{m}\" must not use JSON escapes"),
            Self::UnsupportedKeyType => f.write_str("unsupported JWK kty (expected OKP or EC)"),
            Self::UnsupportedCurve => f.write_str(
                "unsupported JWK crv (expected Ed25519 or X25519 for OKP, secp256k1 or P-256 for EC)",
            ),
            Self::UnexpectedMember(m) => write!(f, "JWK member \"{m}\" is not allowed here"),
            Self::ExtraMember => {
                f.write_str("DID document JWK may only have kty, crv, x and (for EC) y")
            }
            Self::NotBase64Url(m) => write!(f, "JWK member \"{m}\" is not unpadded base64url"),
            Self::Length {
                member,
                expected,
                found,
            } => write!(
                f,
                "JWK member \"{member}\" must decode to {expected} bytes, found {found}"
            ),
            Self::InvalidPublicKey => f.write_str("JWK public key is not a valid point"),
            Self::InvalidPrivateKey => f.write_str("JWK private key is out of range"),
            Self::PrivateKeyMismatch => f.write_str("JWK d does not match its public key"),
            Self::AlgorithmMismatch => f.write_str("JWK alg contradicts the key type"),
        }
    }
}

impl std::error::Error for JwkError {}

impl From<JwkError> for KeyError {
    fn from(_: JwkError) -> Self {
        KeyError::InvalidJwk
    }
}

/// Private key text (a private JWK or PEM document) in a zeroizing buffer.
/// `Debug` shows only the length; there is no `Display`, so the text
/// cannot end up in a log by accident. Read it with [`SecretText::as_str`].
pub struct SecretText(Zeroizing<String>);

impl SecretText {
    pub(super) fn new(text: Zeroizing<String>) -> Self {
        Self(text)
    }

    /// The text, for writing it to a key file.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The zeroizing buffer itself.
    pub fn into_zeroizing(self) -> Zeroizing<String> {
        self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretText")
            .field("len", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// The `kty` and `crv` of a key type (§10.1 JWK mapping).
const fn kty_crv(key_type: KeyType) -> (&'static str, &'static str) {
    match key_type {
        KeyType::Ed25519 => ("OKP", "Ed25519"),
        KeyType::X25519 => ("OKP", "X25519"),
        KeyType::Secp256k1 => ("EC", "secp256k1"),
        KeyType::P256 => ("EC", "P-256"),
    }
}

/// Whether a JOSE `alg` can be used with a key of `key_type`: the
/// signature algorithms of RFC 7518/8037/8812 (and the fully specified
/// `Ed25519` of RFC 9864), the ECDH-ES family for X25519.
fn alg_fits(key_type: KeyType, alg: &str) -> bool {
    match key_type {
        KeyType::Ed25519 => matches!(alg, "EdDSA" | "Ed25519"),
        KeyType::Secp256k1 => alg == "ES256K",
        KeyType::P256 => alg == "ES256",
        KeyType::X25519 => matches!(
            alg,
            "ECDH-ES" | "ECDH-ES+A128KW" | "ECDH-ES+A192KW" | "ECDH-ES+A256KW"
        ),
    }
}

/// The base64url coordinates of a public key: `x` alone for OKP, `x` and
/// `y` from the uncompressed SEC1 point for EC.
fn coordinates(key: &PublicKey) -> (String, Option<String>) {
    let raw = key.to_bytes();
    match key.key_type() {
        KeyType::Ed25519 | KeyType::X25519 => (b64url_encode(&raw), None),
        KeyType::Secp256k1 | KeyType::P256 => match raw.as_slice() {
            [0x04, xy @ ..] if xy.len() == 64 => {
                let (x, y) = xy.split_at(32);
                (b64url_encode(x), Some(b64url_encode(y)))
            }
            _ => unreachable!("EC public keys serialise as 65-byte uncompressed SEC1"),
        },
    }
}

fn public_members(key: &PublicKey, with_kid: bool) -> Value {
    let (kty, crv) = kty_crv(key.key_type());
    let (x, y) = coordinates(key);
    let mut jwk = Map::new();
    jwk.insert("kty".into(), kty.into());
    jwk.insert("crv".into(), crv.into());
    jwk.insert("x".into(), x.into());
    if let Some(y) = y {
        jwk.insert("y".into(), y.into());
    }
    if with_kid {
        jwk.insert("kid".into(), key.key_id().into());
    }
    Value::Object(jwk)
}

/// The public JWK of a key, with `kid` set to its SAGE key id (§3.4).
pub fn public_to_jwk(key: &PublicKey) -> Value {
    public_members(key, true)
}

/// The public JWK of a key as a DID document carries it (§10.1 \[N\]):
/// exactly `kty`, `crv`, `x`, plus `y` for EC.
pub fn public_to_document_jwk(key: &PublicKey) -> Value {
    public_members(key, false)
}

/// The private JWK text of a key: `kty`, `crv`, `x`, (`y`), `d` and `kid`.
///
/// The text is written straight into one zeroizing buffer, sized up front
/// so that it never reallocates (a reallocation would leave a copy of `d`
/// behind in freed memory).
pub fn private_to_jwk(key: &PrivateKey) -> SecretText {
    let public = key.public_key();
    let (kty, crv) = kty_crv(key.key_type());
    let (x, y) = coordinates(&public);
    let secret = key.to_bytes();
    let mut d_ascii = Zeroizing::new([0u8; 43]);
    if !matches!(
        URL_SAFE_NO_PAD.encode_slice(secret.as_slice(), d_ascii.as_mut_slice()),
        Ok(43)
    ) {
        unreachable!("32 bytes are 43 base64url characters");
    }
    let Ok(d) = core::str::from_utf8(d_ascii.as_slice()) else {
        unreachable!("base64url is ASCII");
    };
    let mut out = Zeroizing::new(String::with_capacity(PRIVATE_JWK_CAPACITY));
    let mut push = |parts: &[&str]| parts.iter().for_each(|p| out.push_str(p));
    push(&[r#"{"kty":""#, kty, r#"","crv":""#, crv, r#"","x":""#, &x]);
    if let Some(y) = &y {
        push(&[r#"","y":""#, y]);
    }
    push(&[r#"","d":""#, d, r#"","kid":""#, &public.key_id(), r#""}"#]);
    SecretText::new(out)
}

/// Room for the longest private JWK (secp256k1: 205 bytes).
const PRIVATE_JWK_CAPACITY: usize = 224;

/// The RFC 7638 thumbprint of a key: base64url(SHA-256) over the required
/// members (`crv`, `kty`, `x`, and `y` for EC) in lexicographic order,
/// without whitespace. For display and lookup; SAGE's own key id is
/// [`super::key_id`].
pub fn jwk_thumbprint(key: &PublicKey) -> String {
    let (kty, crv) = kty_crv(key.key_type());
    let (x, y) = coordinates(key);
    let canonical = match y {
        Some(y) => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}","y":"{y}"}}"#),
        None => format!(r#"{{"crv":"{crv}","kty":"{kty}","x":"{x}"}}"#),
    };
    b64url_encode(&sha256(canonical.as_bytes()))
}

/// Imports a public key from a parsed JWK (key-file profile: `kid`, `use`,
/// `key_ops` and unknown members are ignored).
///
/// # Errors
/// A [`JwkError`] naming the first problem found: not an object, a missing
/// or non-string member, an unknown `kty`/`crv`, an `alg` that contradicts
/// the key, a `y` on an OKP key, a `d` (use [`private_from_jwk`]), bad
/// base64url, a wrong length, or an invalid point.
pub fn public_from_jwk(jwk: &Value) -> Result<PublicKey, JwkError> {
    let members = Members::from_value(jwk)?;
    members.forbid_private()?;
    members.public_key().map(|(_, key)| key)
}

/// [`public_from_jwk`] on JWK text.
///
/// # Errors
/// As [`public_from_jwk`], and [`JwkError::Json`] for text that is not
/// JSON, [`JwkError::DuplicateMember`], [`JwkError::EscapedString`].
pub fn public_from_jwk_str(jwk: &str) -> Result<PublicKey, JwkError> {
    let members = Members::from_str(jwk)?;
    members.forbid_private()?;
    members.public_key().map(|(_, key)| key)
}

/// Imports a public key from a DID-document JWK (§10.1 \[N\]): exactly `kty`,
/// `crv`, `x`, plus `y` for EC; a `d`, `alg`, `kid` or any other member is
/// rejected.
///
/// # Errors
/// As [`public_from_jwk`], and [`JwkError::ExtraMember`] /
/// [`JwkError::UnexpectedMember`] for any member beyond those.
pub fn public_from_document_jwk(jwk: &Value) -> Result<PublicKey, JwkError> {
    let members = Members::from_value(jwk)?;
    members.forbid_private()?;
    if members.alg.is_some() || members.has_other_members {
        return Err(JwkError::ExtraMember);
    }
    members.public_key().map(|(_, key)| key)
}

/// Imports a private key from private JWK text. `d` must give back the
/// public key in `x` (and `y`).
///
/// Takes text, not a [`Value`]: a parsed value would hold `d` in a
/// `String` that nobody zeroizes. The text is parsed in place and `d` is
/// decoded into a zeroizing buffer; zeroizing `jwk` itself is the caller's
/// job.
///
/// # Errors
/// As [`public_from_jwk_str`] (without the `d` rule), and
/// [`JwkError::MissingMember`]`("d")`, [`JwkError::InvalidPrivateKey`],
/// [`JwkError::PrivateKeyMismatch`].
pub fn private_from_jwk(jwk: &str) -> Result<PrivateKey, JwkError> {
    let members = Members::from_str(jwk)?;
    let (key_type, public) = members.public_key()?;
    let d = decode_secret(members.d.required("d")?)?;
    let key =
        PrivateKey::from_bytes(key_type, d.as_slice()).map_err(|_| JwkError::InvalidPrivateKey)?;
    if key.public_key() != public {
        return Err(JwkError::PrivateKeyMismatch);
    }
    Ok(key)
}

/// A member value as found: a string borrowed from the input, a string
/// that the input escapes (not copied), or something else.
#[derive(Clone, Copy)]
enum Member<'a> {
    Str(&'a str),
    Escaped,
    NotAString,
}

trait MemberSlot<'a> {
    fn required(&self, name: &'static str) -> Result<&'a str, JwkError>;
    fn optional(&self, name: &'static str) -> Result<Option<&'a str>, JwkError>;
}

impl<'a> MemberSlot<'a> for Option<Member<'a>> {
    fn required(&self, name: &'static str) -> Result<&'a str, JwkError> {
        self.optional(name)?.ok_or(JwkError::MissingMember(name))
    }

    fn optional(&self, name: &'static str) -> Result<Option<&'a str>, JwkError> {
        match self {
            None => Ok(None),
            Some(Member::Str(s)) => Ok(Some(s)),
            Some(Member::Escaped) => Err(JwkError::EscapedString(name)),
            Some(Member::NotAString) => Err(JwkError::NotAString(name)),
        }
    }
}

/// The members this module reads, borrowed from the input.
#[derive(Default)]
struct Members<'a> {
    kty: Option<Member<'a>>,
    crv: Option<Member<'a>>,
    x: Option<Member<'a>>,
    y: Option<Member<'a>>,
    d: Option<Member<'a>>,
    alg: Option<Member<'a>>,
    has_other_members: bool,
    duplicate: Option<&'static str>,
}

impl<'a> Members<'a> {
    fn set(&mut self, name: &str, value: Member<'a>) -> bool {
        let (slot, name) = match name {
            "kty" => (&mut self.kty, "kty"),
            "crv" => (&mut self.crv, "crv"),
            "x" => (&mut self.x, "x"),
            "y" => (&mut self.y, "y"),
            "d" => (&mut self.d, "d"),
            "alg" => (&mut self.alg, "alg"),
            _ => {
                self.has_other_members = true;
                return false;
            }
        };
        if slot.replace(value).is_some() && self.duplicate.is_none() {
            self.duplicate = Some(name);
        }
        true
    }

    fn from_value(jwk: &'a Value) -> Result<Self, JwkError> {
        let object = jwk.as_object().ok_or(JwkError::NotAnObject)?;
        let mut members = Self::default();
        for (name, value) in object {
            let value = match value {
                Value::String(s) => Member::Str(s),
                _ => Member::NotAString,
            };
            members.set(name, value);
        }
        Ok(members)
    }

    fn from_str(jwk: &'a str) -> Result<Self, JwkError> {
        let members: Self = serde_json::from_str(jwk).map_err(|e| match e.classify() {
            // The visitor itself never fails, so a data error means the
            // top-level value was not an object.
            serde_json::error::Category::Data => JwkError::NotAnObject,
            _ => JwkError::Json,
        })?;
        match members.duplicate {
            Some(name) => Err(JwkError::DuplicateMember(name)),
            None => Ok(members),
        }
    }

    fn forbid_private(&self) -> Result<(), JwkError> {
        match self.d {
            Some(_) => Err(JwkError::UnexpectedMember("d")),
            None => Ok(()),
        }
    }

    fn key_type(&self) -> Result<KeyType, JwkError> {
        let kty = self.kty.required("kty")?;
        if !matches!(kty, "OKP" | "EC") {
            return Err(JwkError::UnsupportedKeyType);
        }
        match (kty, self.crv.required("crv")?) {
            ("OKP", "Ed25519") => Ok(KeyType::Ed25519),
            ("OKP", "X25519") => Ok(KeyType::X25519),
            ("EC", "secp256k1") => Ok(KeyType::Secp256k1),
            ("EC", "P-256") => Ok(KeyType::P256),
            _ => Err(JwkError::UnsupportedCurve),
        }
    }

    /// The key type and validated public key of `kty`, `crv`, `alg`, `x`, `y`.
    fn public_key(&self) -> Result<(KeyType, PublicKey), JwkError> {
        let key_type = self.key_type()?;
        if let Some(alg) = self.alg.optional("alg")?
            && !alg_fits(key_type, alg)
        {
            return Err(JwkError::AlgorithmMismatch);
        }
        let x = decode_coordinate(self.x.required("x")?, "x")?;
        let key = match key_type {
            KeyType::Ed25519 | KeyType::X25519 => {
                if self.y.is_some() {
                    return Err(JwkError::UnexpectedMember("y"));
                }
                PublicKey::from_bytes(key_type, &x)
            }
            KeyType::Secp256k1 | KeyType::P256 => {
                let y = decode_coordinate(self.y.required("y")?, "y")?;
                let mut sec1 = [0u8; 65];
                sec1[0] = 0x04;
                sec1[1..33].copy_from_slice(&x);
                sec1[33..].copy_from_slice(&y);
                PublicKey::from_bytes(key_type, &sec1)
            }
        }
        .map_err(|_| JwkError::InvalidPublicKey)?;
        Ok((key_type, key))
    }
}

fn decode_coordinate(value: &str, member: &'static str) -> Result<[u8; 32], JwkError> {
    b64url_decode_array::<32>(value).map_err(|e| match e {
        DecodeError::Length { expected, found } => JwkError::Length {
            member,
            expected,
            found,
        },
        _ => JwkError::NotBase64Url(member),
    })
}

/// Decodes `d` into a zeroizing buffer whose capacity covers the decoded
/// length, so the decoder never reallocates and leaves no stray copy.
fn decode_secret(value: &str) -> Result<Zeroizing<Vec<u8>>, JwkError> {
    let mut d = Zeroizing::new(Vec::with_capacity(value.len() + 3));
    URL_SAFE_NO_PAD
        .decode_vec(value, &mut d)
        .map_err(|_| JwkError::NotBase64Url("d"))?;
    if d.len() != 32 {
        return Err(JwkError::Length {
            member: "d",
            expected: 32,
            found: d.len(),
        });
    }
    Ok(d)
}

/// A member name, borrowed when the input has no escapes.
struct MemberName<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for MemberName<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = MemberName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MemberName(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MemberVisitor;
        impl<'de> Visitor<'de> for MemberVisitor {
            type Value = Member<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Member::Str(v))
            }
            // An escaped string arrives unescaped in a transient buffer; it
            // is not kept, so an escaped `d` is not copied anywhere by us.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Member::Escaped)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Member::NotAString)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Member::NotAString)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Member::NotAString)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Member::NotAString)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Member::NotAString)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Member::NotAString)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Member::NotAString)
            }
        }
        deserializer.deserialize_any(MemberVisitor)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWK object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Members::default();
                while let Some(MemberName(name)) = map.next_key()? {
                    if matches!(name.as_ref(), "kty" | "crv" | "x" | "y" | "d" | "alg") {
                        let value: Member<'de> = map.next_value()?;
                        members.set(&name, value);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        members.has_other_members = true;
                    }
                }
                Ok(members)
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}
