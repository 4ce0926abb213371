//! PEM import and export of keys (PROTOCOL.md §3.1): PKCS#8 private keys
//! (RFC 5208/5958, label `PRIVATE KEY`), SEC1 EC private keys (RFC 5915,
//! label `EC PRIVATE KEY`, import only) and SubjectPublicKeyInfo public
//! keys (RFC 5280, label `PUBLIC KEY`).
//!
//! Layer: primitives. Algorithm identifiers:
//!
//! | key       | algorithm OID              | parameters                     |
//! |-----------|----------------------------|--------------------------------|
//! | Ed25519   | 1.3.101.112 (RFC 8410)     | absent                         |
//! | X25519    | 1.3.101.110 (RFC 8410)     | absent                         |
//! | secp256k1 | 1.2.840.10045.2.1 (ecPublicKey) | namedCurve 1.3.132.0.10   |
//! | P-256     | 1.2.840.10045.2.1 (ecPublicKey) | namedCurve 1.2.840.10045.3.1.7 |
//!
//! Export writes what `openssl genpkey` writes, byte for byte: PKCS#8 v1;
//! for Ed25519/X25519 the private key is `OCTET STRING(seed)`; for EC it
//! is an `ECPrivateKey` with the public key and without parameters (they
//! are in the outer algorithm identifier). EC public keys are the 65-byte
//! uncompressed point.
//!
//! Invariants:
//! - the key type comes from the OIDs only; anything else is rejected
//!   (other algorithms and curves, explicit curve parameters, parameters
//!   on the RFC 8410 algorithms, compressed EC public keys, §3.1);
//! - a public key embedded next to a private key (PKCS#8 v2, the SEC1
//!   `publicKey` field) must be the one the private key gives;
//! - private DER and PEM text live only in zeroizing buffers on our side:
//!   PEM is decoded into a fixed zeroized stack buffer, DER is built in
//!   zeroizing vectors, and the PEM text is returned as a [`SecretText`].
//!   (The base64 decoder keeps a few bytes in its own locals; that is out
//!   of our reach.)
//!
//! Not here: encrypted PKCS#8 and legacy encrypted PEM (rejected with
//! their own errors), DER files, certificates. The PEM grammar is RFC 7468
//! "strict" with 64-column lines, as OpenSSL writes it.

use core::fmt;

// The RustCrypto curve crates re-export pkcs8 (and through it der and
// spki); taking them from k256 keeps exactly the versions the keys use.
use k256::pkcs8::der::asn1::{AnyRef, BitStringRef, ContextSpecific, OctetStringRef};
use k256::pkcs8::der::pem::{self, LineEnding};
use k256::pkcs8::der::{
    self, Decode, DecodeValue, Document, Encode, EncodeValue, Header, Length, Reader,
    SecretDocument, Sequence, TagMode, TagNumber, Writer,
};
use k256::pkcs8::{
    AlgorithmIdentifierRef, ObjectIdentifier, PrivateKeyInfoRef, SubjectPublicKeyInfoRef,
};
use zeroize::Zeroizing;

use super::algorithm::KeyType;
use super::error::KeyError;
use super::jwk::SecretText;
use super::signing::PrivateKey;
use super::verifying::PublicKey;

#[cfg(test)]
#[path = "pem_tests.rs"]
mod tests;

/// Why a PEM document was rejected. Carries no key material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemError {
    /// Not a PEM document (RFC 7468 strict grammar, 64-column base64).
    Malformed,
    /// The document has RFC 1421 headers, as legacy encrypted PEM does.
    HeadersNotSupported,
    /// The label is not one this function reads.
    UnexpectedLabel,
    /// An encrypted PKCS#8 key (`ENCRYPTED PRIVATE KEY`).
    EncryptedKey,
    /// The document is larger than any key SAGE reads.
    TooLarge,
    /// The DER inside is not a well-formed PKCS#8, SEC1 or SPKI structure.
    MalformedDer,
    /// The algorithm OID is not Ed25519, X25519 or ecPublicKey.
    UnsupportedAlgorithm,
    /// An EC key whose curve is missing, not a named curve, or not
    /// secp256k1 or P-256.
    UnsupportedCurve,
    /// Parameters on Ed25519/X25519, where RFC 8410 says they MUST be absent.
    UnexpectedParameters,
    /// The curve inside an EC private key differs from the outer one.
    CurveMismatch,
    /// The private key is not 32 bytes.
    PrivateKeyLength {
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// The private key is out of range for its curve (zero or ≥ n).
    InvalidPrivateKey,
    /// The public key is not a valid point of the right length.
    InvalidPublicKey,
    /// A compressed EC public key; §3.1 takes the uncompressed form here.
    CompressedPublicKey,
    /// The public key stored with the private key is not the one it gives.
    PublicKeyMismatch,
}

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("not a PEM document"),
            Self::HeadersNotSupported => {
                f.write_str("PEM headers (legacy encrypted PEM) are not supported")
            }
            Self::UnexpectedLabel => f.write_str("unexpected PEM label"),
            Self::EncryptedKey => f.write_str("encrypted private keys are not supported"),
            Self::TooLarge => f.write_str("PEM document too large for a key"),
            Self::MalformedDer => f.write_str("malformed DER key structure"),
            Self::UnsupportedAlgorithm => {
                f.write_str("unsupported key algorithm (expected Ed25519, X25519 or EC)")
            }
            Self::UnsupportedCurve => {
                f.write_str("unsupported EC curve (expected named curve secp256k1 or P-256)")
            }
            Self::UnexpectedParameters => {
                f.write_str("Ed25519/X25519 algorithm parameters must be absent")
            }
            Self::CurveMismatch => f.write_str("EC private key names two different curves"),
            Self::PrivateKeyLength { expected, found } => {
                write!(f, "private key must be {expected} bytes, found {found}")
            }
            Self::InvalidPrivateKey => f.write_str("private key is out of range"),
            Self::InvalidPublicKey => f.write_str("public key is not a valid point"),
            Self::CompressedPublicKey => {
                f.write_str("compressed EC public keys are not accepted here")
            }
            Self::PublicKeyMismatch => {
                f.write_str("embedded public key does not match the private key")
            }
        }
    }
}

impl std::error::Error for PemError {}

impl From<PemError> for KeyError {
    fn from(_: PemError) -> Self {
        KeyError::InvalidPem
    }
}

const PKCS8_LABEL: &str = "PRIVATE KEY";
const SEC1_LABEL: &str = "EC PRIVATE KEY";
const ENCRYPTED_PKCS8_LABEL: &str = "ENCRYPTED PRIVATE KEY";
const SPKI_LABEL: &str = "PUBLIC KEY";

const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const X25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256K1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

/// Upper bound on the DER we read. The largest key we accept (P-256,
/// PKCS#8 v2 with the public key twice) is under 220 bytes; the margin
/// leaves room for ignored PKCS#8 attributes.
const MAX_DER_LEN: usize = 512;

/// The PKCS#8 `PRIVATE KEY` PEM of a key, as `openssl genpkey` writes it.
pub fn private_to_pem(key: &PrivateKey) -> SecretText {
    let pem = encode_pkcs8(key).and_then(|der| der.to_pem(PKCS8_LABEL, LineEnding::LF));
    match pem {
        Ok(pem) => SecretText::new(pem),
        Err(_) => unreachable!("a 32-byte key always encodes as PKCS#8"),
    }
}

/// The SPKI `PUBLIC KEY` PEM of a key.
pub fn public_to_pem(key: &PublicKey) -> String {
    let raw = key.to_bytes();
    let pem = BitStringRef::from_bytes(&raw).and_then(|subject_public_key| {
        let spki = SubjectPublicKeyInfoRef {
            algorithm: algorithm_identifier(key.key_type()),
            subject_public_key,
        };
        Document::encode_msg(&spki)?.to_pem(SPKI_LABEL, LineEnding::LF)
    });
    match pem {
        Ok(pem) => pem,
        Err(_) => unreachable!("a SAGE public key always encodes as SPKI"),
    }
}

/// Imports a private key from PEM: `PRIVATE KEY` (PKCS#8 v1 or v2) for all
/// four key types, or `EC PRIVATE KEY` (SEC1, as `openssl ec` writes it)
/// for secp256k1 and P-256. The key type comes from the OIDs.
///
/// # Errors
/// - the text: [`PemError::Malformed`], [`PemError::HeadersNotSupported`],
///   [`PemError::TooLarge`];
/// - the label: [`PemError::UnexpectedLabel`], [`PemError::EncryptedKey`];
/// - the structure: [`PemError::MalformedDer`],
///   [`PemError::UnsupportedAlgorithm`], [`PemError::UnsupportedCurve`],
///   [`PemError::UnexpectedParameters`], [`PemError::CurveMismatch`];
/// - the key: [`PemError::PrivateKeyLength`],
///   [`PemError::InvalidPrivateKey`], [`PemError::PublicKeyMismatch`].
pub fn private_from_pem(pem: &str) -> Result<PrivateKey, PemError> {
    let label = pem_label(pem)?;
    if label == ENCRYPTED_PKCS8_LABEL {
        return Err(PemError::EncryptedKey);
    }
    if label != PKCS8_LABEL && label != SEC1_LABEL {
        return Err(PemError::UnexpectedLabel);
    }
    let mut buf = Zeroizing::new([0u8; MAX_DER_LEN]);
    let der = decode_pem(pem, buf.as_mut_slice())?;
    if label == PKCS8_LABEL {
        private_from_pkcs8_der(der)
    } else {
        private_from_sec1_der(der)
    }
}

/// Imports a public key from `PUBLIC KEY` (SPKI) PEM. The key type comes
/// from the OIDs.
///
/// # Errors
/// As [`private_from_pem`] for the text, label and structure;
/// [`PemError::InvalidPublicKey`] for a bad point or length,
/// [`PemError::CompressedPublicKey`] for a 33-byte EC point.
pub fn public_from_pem(pem: &str) -> Result<PublicKey, PemError> {
    if pem_label(pem)? != SPKI_LABEL {
        return Err(PemError::UnexpectedLabel);
    }
    let mut buf = [0u8; MAX_DER_LEN];
    let der = decode_pem(pem, &mut buf)?;
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|_| PemError::MalformedDer)?;
    let key_type = key_type_of(&spki.algorithm)?;
    let raw = bit_string_bytes(spki.subject_public_key)?;
    if matches!(key_type, KeyType::Secp256k1 | KeyType::P256) && matches!(raw, [0x02 | 0x03, ..]) {
        return Err(PemError::CompressedPublicKey);
    }
    PublicKey::from_bytes(key_type, raw).map_err(|_| PemError::InvalidPublicKey)
}

/// The label of a PEM document, read from its boundaries before any of
/// its body is decoded.
fn pem_label(pem: &str) -> Result<&str, PemError> {
    pem::decode_label(pem.as_bytes()).map_err(|_| PemError::Malformed)
}

/// Decodes the body of PEM text into `buf`, returning the DER.
fn decode_pem<'o>(pem: &str, buf: &'o mut [u8]) -> Result<&'o [u8], PemError> {
    if let Ok(decoder) = pem::Decoder::new(pem.as_bytes())
        && decoder.remaining_len() > buf.len()
    {
        return Err(PemError::TooLarge);
    }
    match pem::decode(pem.as_bytes(), buf) {
        Ok((_, der)) => Ok(der),
        Err(pem::Error::HeaderDisallowed) => Err(PemError::HeadersNotSupported),
        Err(_) => Err(PemError::Malformed),
    }
}

/// The key type named by an algorithm identifier, checking its parameters.
fn key_type_of(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<KeyType, PemError> {
    let okp = |key_type| match algorithm.parameters {
        None => Ok(key_type),
        Some(_) => Err(PemError::UnexpectedParameters),
    };
    match algorithm.oid {
        ED25519_OID => okp(KeyType::Ed25519),
        X25519_OID => okp(KeyType::X25519),
        EC_PUBLIC_KEY_OID => {
            let curve = algorithm
                .parameters
                .and_then(|p| ObjectIdentifier::try_from(p).ok())
                .ok_or(PemError::UnsupportedCurve)?;
            curve_key_type(curve)
        }
        _ => Err(PemError::UnsupportedAlgorithm),
    }
}

fn curve_key_type(curve: ObjectIdentifier) -> Result<KeyType, PemError> {
    match curve {
        SECP256K1_OID => Ok(KeyType::Secp256k1),
        P256_OID => Ok(KeyType::P256),
        _ => Err(PemError::UnsupportedCurve),
    }
}

fn curve_oid(key_type: KeyType) -> Option<&'static ObjectIdentifier> {
    match key_type {
        KeyType::Secp256k1 => Some(&SECP256K1_OID),
        KeyType::P256 => Some(&P256_OID),
        KeyType::Ed25519 | KeyType::X25519 => None,
    }
}

fn algorithm_identifier(key_type: KeyType) -> AlgorithmIdentifierRef<'static> {
    match key_type {
        KeyType::Ed25519 => AlgorithmIdentifierRef {
            oid: ED25519_OID,
            parameters: None,
        },
        KeyType::X25519 => AlgorithmIdentifierRef {
            oid: X25519_OID,
            parameters: None,
        },
        KeyType::Secp256k1 | KeyType::P256 => AlgorithmIdentifierRef {
            oid: EC_PUBLIC_KEY_OID,
            parameters: curve_oid(key_type).map(AnyRef::from),
        },
    }
}

/// The bytes of a BIT STRING that must be whole octets.
fn bit_string_bytes(bits: BitStringRef<'_>) -> Result<&[u8], PemError> {
    bits.as_bytes().ok_or(PemError::MalformedDer)
}

fn encode_pkcs8(key: &PrivateKey) -> der::Result<SecretDocument> {
    let secret = key.to_bytes();
    let inner: Zeroizing<Vec<u8>> = match key.key_type() {
        // RFC 8410: CurvePrivateKey ::= OCTET STRING
        KeyType::Ed25519 | KeyType::X25519 => {
            Zeroizing::new(OctetStringRef::new(secret.as_slice())?.to_der()?)
        }
        KeyType::Secp256k1 | KeyType::P256 => {
            let public = key.public_key().to_bytes();
            Zeroizing::new(
                EcPrivateKey {
                    private_key: secret.as_slice(),
                    parameters: None,
                    public_key: Some(BitStringRef::from_bytes(&public)?),
                }
                .to_der()?,
            )
        }
    };
    let info = PrivateKeyInfoRef::new(
        algorithm_identifier(key.key_type()),
        OctetStringRef::new(inner.as_slice())?,
    );
    SecretDocument::encode_msg(&info)
}

fn private_from_pkcs8_der(der: &[u8]) -> Result<PrivateKey, PemError> {
    let info = PrivateKeyInfoRef::from_der(der).map_err(|_| PemError::MalformedDer)?;
    let key_type = key_type_of(&info.algorithm)?;
    let inner = info.private_key.as_bytes();
    let key = match key_type {
        KeyType::Ed25519 | KeyType::X25519 => {
            let seed = <&OctetStringRef>::from_der(inner).map_err(|_| PemError::MalformedDer)?;
            private_key(key_type, seed.as_bytes())?
        }
        KeyType::Secp256k1 | KeyType::P256 => {
            let ec = EcPrivateKey::from_der(inner).map_err(|_| PemError::MalformedDer)?;
            if let Some(params) = ec.parameters
                && curve_key_type(ec_named_curve(params)?)? != key_type
            {
                return Err(PemError::CurveMismatch);
            }
            private_from_ec(key_type, &ec)?
        }
    };
    if let Some(public) = info.public_key {
        check_embedded_public_key(&key, bit_string_bytes(public)?)?;
    }
    Ok(key)
}

fn private_from_sec1_der(der: &[u8]) -> Result<PrivateKey, PemError> {
    let ec = EcPrivateKey::from_der(der).map_err(|_| PemError::MalformedDer)?;
    let params = ec.parameters.ok_or(PemError::UnsupportedCurve)?;
    let key_type = curve_key_type(ec_named_curve(params)?)?;
    private_from_ec(key_type, &ec)
}

/// `ECParameters ::= CHOICE { namedCurve OID, implicitCurve NULL,
/// specifiedCurve ... }`: only the named curve is supported.
fn ec_named_curve(params: AnyRef<'_>) -> Result<ObjectIdentifier, PemError> {
    ObjectIdentifier::try_from(params).map_err(|_| PemError::UnsupportedCurve)
}

fn private_from_ec(key_type: KeyType, ec: &EcPrivateKey<'_>) -> Result<PrivateKey, PemError> {
    let key = private_key(key_type, ec.private_key)?;
    if let Some(public) = ec.public_key {
        check_embedded_public_key(&key, bit_string_bytes(public)?)?;
    }
    Ok(key)
}

fn private_key(key_type: KeyType, secret: &[u8]) -> Result<PrivateKey, PemError> {
    if secret.len() != 32 {
        return Err(PemError::PrivateKeyLength {
            expected: 32,
            found: secret.len(),
        });
    }
    PrivateKey::from_bytes(key_type, secret).map_err(|_| PemError::InvalidPrivateKey)
}

/// A stored public key must be the one the private key gives; EC keys may
/// store it compressed or uncompressed.
fn check_embedded_public_key(key: &PrivateKey, embedded: &[u8]) -> Result<(), PemError> {
    let public = key.public_key();
    let matches = match &public {
        PublicKey::Signing(verifying) if embedded.len() == 33 => {
            verifying.to_compressed().as_deref() == Some(embedded)
        }
        _ => public.to_bytes() == embedded,
    };
    if matches {
        Ok(())
    } else {
        Err(PemError::PublicKeyMismatch)
    }
}

/// SEC1 / RFC 5915 `ECPrivateKey`, read and written here because the
/// `sec1` crate is not reachable through the curve crates' re-exports:
///
/// ```text
/// ECPrivateKey ::= SEQUENCE {
///   version        INTEGER { ecPrivkeyVer1(1) },
///   privateKey     OCTET STRING,
///   parameters [0] EXPLICIT ECParameters OPTIONAL,
///   publicKey  [1] EXPLICIT BIT STRING OPTIONAL }
/// ```
struct EcPrivateKey<'a> {
    private_key: &'a [u8],
    parameters: Option<AnyRef<'a>>,
    public_key: Option<BitStringRef<'a>>,
}

const EC_PRIVATE_KEY_VERSION: u8 = 1;
const EC_PARAMETERS_TAG: TagNumber = TagNumber(0);
const EC_PUBLIC_KEY_TAG: TagNumber = TagNumber(1);

impl<'a> DecodeValue<'a> for EcPrivateKey<'a> {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, _header: Header) -> der::Result<Self> {
        if u8::decode(reader)? != EC_PRIVATE_KEY_VERSION {
            return Err(reader.error(der::Tag::Integer.value_error()));
        }
        let private_key = <&OctetStringRef>::decode(reader)?.as_bytes();
        let parameters = ContextSpecific::<AnyRef<'a>>::decode_explicit(reader, EC_PARAMETERS_TAG)?
            .map(|field| field.value);
        let public_key =
            ContextSpecific::<BitStringRef<'a>>::decode_explicit(reader, EC_PUBLIC_KEY_TAG)?
                .map(|field| field.value);
        Ok(Self {
            private_key,
            parameters,
            public_key,
        })
    }
}

impl EcPrivateKey<'_> {
    fn parameters_field(&self) -> Option<ContextSpecific<AnyRef<'_>>> {
        self.parameters.map(|value| ContextSpecific {
            tag_number: EC_PARAMETERS_TAG,
            tag_mode: TagMode::Explicit,
            value,
        })
    }

    fn public_key_field(&self) -> Option<ContextSpecific<BitStringRef<'_>>> {
        self.public_key.map(|value| ContextSpecific {
            tag_number: EC_PUBLIC_KEY_TAG,
            tag_mode: TagMode::Explicit,
            value,
        })
    }
}

impl EncodeValue for EcPrivateKey<'_> {
    fn value_len(&self) -> der::Result<Length> {
        EC_PRIVATE_KEY_VERSION.encoded_len()?
            + OctetStringRef::new(self.private_key)?.encoded_len()?
            + self.parameters_field().encoded_len()?
            + self.public_key_field().encoded_len()?
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        EC_PRIVATE_KEY_VERSION.encode(writer)?;
        OctetStringRef::new(self.private_key)?.encode(writer)?;
        self.parameters_field().encode(writer)?;
        self.public_key_field().encode(writer)?;
        Ok(())
    }
}

impl<'a> Sequence<'a> for EcPrivateKey<'a> {}
