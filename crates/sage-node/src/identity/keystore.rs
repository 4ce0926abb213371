//! The node's key files: created on first start, read on every start.
//!
//! Layer: node, local files. [`Keystore::load_or_create`] reads the
//! signing key (`identity.signing_key`) and the X25519 KEM key
//! (`identity.kem_key`), each relative to `storage.data_dir`, and creates
//! the one that is missing: a fresh Ed25519 signing key, a fresh X25519
//! key. It does not register anything (see [`super::bootstrap`]).
//!
//! ## Files
//!
//! Without a passphrase a key file is the private JWK that `sage keys
//! generate` writes (sage-core `jwk`), so `sage keys show` and `sage did
//! register --key` read it as is. A PEM private key is accepted too.
//!
//! With `identity.passphrase` a new key file is sealed, in this JSON
//! object (every binary member unpadded base64url):
//!
//! ```text
//! {"sage_sealed_key":"v1","kdf":"argon2id","m_cost":19456,"t_cost":2,"p_cost":1,
//!  "salt":"<16 bytes>","nonce":"<24 bytes>","ciphertext":"<JWK text + 16-byte tag>"}
//!
//! key        = Argon2id(passphrase, salt; m_cost KiB, t_cost passes, p_cost lanes) → 32 bytes
//! aad        = "sage-node/identity-key/v1" ‖ 0x00 ‖ role      (role = "signing" or "kem")
//! ciphertext = XChaCha20-Poly1305(key, nonce, private JWK text, aad)
//! ```
//!
//! The role in the associated data binds a sealed file to its slot: the
//! KEM file copied over the signing file does not open. A wrong
//! passphrase and an altered file fail alike ([`KeystoreError::Unseal`]).
//! Argon2 parameters come from the file (so they can be raised later) but
//! are bounded, so a planted file cannot make the node allocate without
//! limit.
//!
//! ## Invariants
//!
//! - Files are written with mode 0600 into a directory created with mode
//!   0700, atomically: a temporary file in the same directory, `fsync`,
//!   `rename`, `fsync` of the directory. A crash leaves the old file or
//!   the new one, never half of one.
//! - A key file that its group or others may read is refused
//!   ([`KeystoreError::TooOpen`]): the key may already have leaked, and
//!   the operator should know.
//! - Key bytes, the passphrase and the derived key live in zeroizing
//!   buffers; no error carries any of them.

use core::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use sage_core::encoding::{b64url_decode, b64url_encode};
use sage_core::primitives::jwk::{JwkError, private_from_jwk, private_to_jwk};
use sage_core::primitives::pem::private_from_pem;
use sage_core::primitives::{KeyType, PrivateKey, SigningKey, X25519Secret};
use sage_core::rand_core::CryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// The format tag of a sealed key file.
const SEALED_FORMAT: &str = "v1";
/// The only key-derivation function of format `v1`.
const KDF_NAME: &str = "argon2id";
/// Prefix of the associated data; the role follows after a zero byte.
const AAD_LABEL: &[u8] = b"sage-node/identity-key/v1\0";
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// Largest Argon2 memory cost accepted from a file: 1 GiB, in KiB.
const MAX_M_COST: u32 = 1 << 20;
/// Largest Argon2 pass count accepted from a file.
const MAX_T_COST: u32 = 64;
/// Largest Argon2 lane count accepted from a file.
const MAX_P_COST: u32 = 16;
/// Largest key file read (a sealed secp256k1 JWK is under 1 KiB).
const MAX_FILE_LEN: u64 = 64 * 1024;

/// Which of the two identity keys a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// The signing key (`identity.signing_key`).
    Signing,
    /// The X25519 KEM key (`identity.kem_key`).
    Kem,
}

impl KeyRole {
    /// `signing` or `kem`: the role bound into a sealed file.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Signing => "signing",
            Self::Kem => "kem",
        }
    }
}

impl fmt::Display for KeyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Signing => "signing key",
            Self::Kem => "KEM key",
        })
    }
}

/// What was being done to a file when it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileAction {
    /// Reading it or its metadata.
    Read,
    /// Creating it, its directory or its temporary file, or renaming.
    Write,
}

/// Why the key files could not be loaded or created.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeystoreError {
    /// A file operation failed.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Reading or writing.
        action: FileAction,
        /// The operating system's error.
        source: io::Error,
    },
    /// The key file may be read by its group or by others.
    TooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file is not a key file this node reads.
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong (never file content).
        reason: &'static str,
    },
    /// The file holds a key of the wrong kind for its role (an X25519 key
    /// as the signing key, a signing key as the KEM key).
    WrongKeyType {
        /// The file.
        path: PathBuf,
        /// The role the file was read for.
        role: KeyRole,
    },
    /// The file is sealed under a passphrase and none is configured.
    PassphraseRequired {
        /// The file.
        path: PathBuf,
    },
    /// The sealed file does not open: wrong passphrase, or altered file.
    Unseal {
        /// The file.
        path: PathBuf,
    },
    /// The operating system's random number generator failed.
    Rng,
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io {
                path,
                action,
                source,
            } => {
                let verb = match action {
                    FileAction::Read => "read",
                    FileAction::Write => "write",
                };
                write!(f, "cannot {verb} {}: {source}", path.display())
            }
            Self::TooOpen { path, mode } => write!(
                f,
                "refusing key file {}: mode {mode:04o} lets group or others read it \
                 (chmod 600 it, and consider the key exposed)",
                path.display()
            ),
            Self::Malformed { path, reason } => {
                write!(f, "{} is not a usable key file: {reason}", path.display())
            }
            Self::WrongKeyType { path, role } => write!(
                f,
                "{} does not hold a {}",
                path.display(),
                match role {
                    KeyRole::Signing => "signing key (Ed25519 or secp256k1)",
                    KeyRole::Kem => "X25519 key",
                }
            ),
            Self::PassphraseRequired { path } => write!(
                f,
                "{} is sealed under a passphrase: set identity.passphrase",
                path.display()
            ),
            Self::Unseal { path } => write!(
                f,
                "cannot open {}: wrong identity.passphrase, or the file was altered",
                path.display()
            ),
            Self::Rng => f.write_str("the operating system's random number generator failed"),
        }
    }
}

impl std::error::Error for KeystoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The two keys as read (or just created).
pub struct LoadedKeys {
    /// The signing key.
    pub signing: SigningKey,
    /// The X25519 KEM secret.
    pub kem: X25519Secret,
    /// Whether the signing key was created by this call.
    pub signing_created: bool,
    /// Whether the KEM key was created by this call.
    pub kem_created: bool,
}

impl fmt::Debug for LoadedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedKeys")
            .field("signing", &self.signing)
            .field("kem", &self.kem)
            .field("signing_created", &self.signing_created)
            .field("kem_created", &self.kem_created)
            .finish()
    }
}

/// Where the key files are and how they are protected.
pub struct Keystore {
    signing_path: PathBuf,
    kem_path: PathBuf,
    passphrase: Option<Zeroizing<Vec<u8>>>,
}

impl fmt::Debug for Keystore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystore")
            .field("signing_path", &self.signing_path)
            .field("kem_path", &self.kem_path)
            .field("sealed", &self.passphrase.is_some())
            .finish()
    }
}

impl Keystore {
    /// A keystore of the two files; with a passphrase, new files are
    /// sealed and sealed files can be opened.
    pub fn new(
        signing_path: PathBuf,
        kem_path: PathBuf,
        passphrase: Option<Zeroizing<Vec<u8>>>,
    ) -> Self {
        Self {
            signing_path,
            kem_path,
            passphrase,
        }
    }

    /// The signing key file.
    pub fn signing_path(&self) -> &Path {
        &self.signing_path
    }

    /// The KEM key file.
    pub fn kem_path(&self) -> &Path {
        &self.kem_path
    }

    /// Reads both keys, creating the missing ones (Ed25519 for signing).
    ///
    /// # Errors
    /// Any [`KeystoreError`]: an unreadable or too open file, a malformed
    /// one, a key of the wrong kind, a sealed file without or with the
    /// wrong passphrase, a file that cannot be written.
    pub fn load_or_create<R: CryptoRng + ?Sized>(
        &self,
        rng: &mut R,
    ) -> Result<LoadedKeys, KeystoreError> {
        let (signing, signing_created) = match self.read(&self.signing_path, KeyRole::Signing)? {
            Some(PrivateKey::Signing(key)) => (key, false),
            Some(_) => {
                return Err(KeystoreError::WrongKeyType {
                    path: self.signing_path.clone(),
                    role: KeyRole::Signing,
                });
            }
            None => {
                let key = PrivateKey::generate(KeyType::Ed25519, rng);
                self.write(&self.signing_path, KeyRole::Signing, &key, rng)?;
                match key {
                    PrivateKey::Signing(key) => (key, true),
                    _ => unreachable!("Ed25519 keys sign"),
                }
            }
        };
        let (kem, kem_created) = match self.read(&self.kem_path, KeyRole::Kem)? {
            Some(PrivateKey::X25519(key)) => (key, false),
            Some(_) => {
                return Err(KeystoreError::WrongKeyType {
                    path: self.kem_path.clone(),
                    role: KeyRole::Kem,
                });
            }
            None => {
                let key = PrivateKey::generate(KeyType::X25519, rng);
                self.write(&self.kem_path, KeyRole::Kem, &key, rng)?;
                match key {
                    PrivateKey::X25519(key) => (key, true),
                    _ => unreachable!("X25519 keys are agreement keys"),
                }
            }
        };
        Ok(LoadedKeys {
            signing,
            kem,
            signing_created,
            kem_created,
        })
    }

    /// The key in `path`, or `None` when there is no such file.
    fn read(&self, path: &Path, role: KeyRole) -> Result<Option<PrivateKey>, KeystoreError> {
        let Some(bytes) = read_private_file(path)? else {
            return Ok(None);
        };
        let malformed = |reason| KeystoreError::Malformed {
            path: path.to_path_buf(),
            reason,
        };
        let text = core::str::from_utf8(&bytes).map_err(|_| malformed("not UTF-8 text"))?;
        let trimmed = text.trim_start();
        let key = if trimmed.starts_with("-----BEGIN") {
            private_from_pem(text).map_err(|_| malformed("not a private key PEM document"))?
        } else if is_sealed(trimmed) {
            let Some(passphrase) = &self.passphrase else {
                return Err(KeystoreError::PassphraseRequired {
                    path: path.to_path_buf(),
                });
            };
            let jwk = open_sealed(trimmed, passphrase, role).map_err(|e| match e {
                OpenError::Malformed(reason) => malformed(reason),
                OpenError::Unseal => KeystoreError::Unseal {
                    path: path.to_path_buf(),
                },
            })?;
            let text = core::str::from_utf8(&jwk).map_err(|_| KeystoreError::Unseal {
                path: path.to_path_buf(),
            })?;
            private_from_jwk(text).map_err(|e| malformed(jwk_reason(&e)))?
        } else {
            if self.passphrase.is_some() {
                tracing::warn!(
                    file = %path.display(),
                    "identity key file is not sealed although identity.passphrase is set"
                );
            }
            private_from_jwk(text).map_err(|e| malformed(jwk_reason(&e)))?
        };
        Ok(Some(key))
    }

    /// Writes `key` to `path` for `role`: sealed when there is a
    /// passphrase, as a private JWK otherwise.
    fn write<R: CryptoRng + ?Sized>(
        &self,
        path: &Path,
        role: KeyRole,
        key: &PrivateKey,
        rng: &mut R,
    ) -> Result<(), KeystoreError> {
        let jwk = private_to_jwk(key);
        match &self.passphrase {
            None => write_private_file(path, jwk.as_str().as_bytes()),
            Some(passphrase) => {
                let sealed = seal(jwk.as_str().as_bytes(), passphrase, role, rng)?;
                write_private_file(path, sealed.as_bytes())
            }
        }
    }
}

/// A short reason for a JWK that does not import (no key material).
fn jwk_reason(error: &JwkError) -> &'static str {
    match error {
        JwkError::Json | JwkError::NotAnObject => "neither a JWK, a PEM document nor a sealed key",
        JwkError::MissingMember("d") => "a public key, where a private key is needed",
        JwkError::PrivateKeyMismatch => "the private key does not match its public key",
        _ => "an invalid private JWK",
    }
}

/// Whether `text` is a sealed key file (it has the `sage_sealed_key`
/// member). Probes with a struct that ignores
/// every other member, so a private JWK's `d` is skipped, not copied.
fn is_sealed(text: &str) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        #[serde(rename = "sage_sealed_key")]
        format: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_str::<Probe>(text).is_ok_and(|p| p.format.is_some())
}

/// The sealed file's JSON (see the module doc).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedFile {
    #[serde(rename = "sage_sealed_key")]
    format: String,
    kdf: String,
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
    nonce: String,
    ciphertext: String,
}

/// Why a sealed file did not open.
enum OpenError {
    Malformed(&'static str),
    Unseal,
}

fn aad(role: KeyRole) -> Vec<u8> {
    let mut aad = AAD_LABEL.to_vec();
    aad.extend_from_slice(role.as_str().as_bytes());
    aad
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8],
    m_cost: u32,
    t_cost: u32,
    p_cost: u32,
) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let params = Params::new(m_cost, t_cost, p_cost, Some(KEY_LEN)).ok()?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(passphrase, salt, key.as_mut_slice())
        .ok()?;
    Some(key)
}

/// Seals `plaintext` (a private JWK) for `role` under `passphrase`.
fn seal<R: CryptoRng + ?Sized>(
    plaintext: &[u8],
    passphrase: &[u8],
    role: KeyRole,
    rng: &mut R,
) -> Result<String, KeystoreError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut nonce);
    let (m_cost, t_cost, p_cost) = (
        Params::DEFAULT_M_COST,
        Params::DEFAULT_T_COST,
        Params::DEFAULT_P_COST,
    );
    // The default parameters are valid, so derivation cannot fail here.
    let key = derive_key(passphrase, &salt, m_cost, t_cost, p_cost).ok_or(KeystoreError::Rng)?;
    let cipher = XChaCha20Poly1305::new((&*key).into());
    let mut buffer = Zeroizing::new(plaintext.to_vec());
    let tag = cipher
        .encrypt_inout_detached(
            &XNonce::from(nonce),
            &aad(role),
            buffer.as_mut_slice().into(),
        )
        .map_err(|_| KeystoreError::Rng)?;
    // The buffer now holds ciphertext, which is not secret.
    let mut ciphertext = buffer.to_vec();
    ciphertext.extend_from_slice(&tag);
    let file = SealedFile {
        format: SEALED_FORMAT.to_owned(),
        kdf: KDF_NAME.to_owned(),
        m_cost,
        t_cost,
        p_cost,
        salt: b64url_encode(&salt),
        nonce: b64url_encode(&nonce),
        ciphertext: b64url_encode(&ciphertext),
    };
    let mut text = serde_json::to_string(&file).map_err(|_| KeystoreError::Rng)?;
    text.push('\n');
    Ok(text)
}

/// Opens a sealed file's text for `role`: the private JWK text.
fn open_sealed(
    text: &str,
    passphrase: &[u8],
    role: KeyRole,
) -> Result<Zeroizing<Vec<u8>>, OpenError> {
    let file: SealedFile = serde_json::from_str(text)
        .map_err(|_| OpenError::Malformed("a sealed key file with unexpected members"))?;
    if file.format != SEALED_FORMAT {
        return Err(OpenError::Malformed("an unknown sealed key format"));
    }
    if file.kdf != KDF_NAME {
        return Err(OpenError::Malformed("an unknown key-derivation function"));
    }
    if file.m_cost > MAX_M_COST || file.t_cost > MAX_T_COST || file.p_cost > MAX_P_COST {
        return Err(OpenError::Malformed(
            "Argon2 parameters above the node's limits",
        ));
    }
    let salt = b64url_decode(&file.salt).map_err(|_| OpenError::Malformed("a bad salt"))?;
    let nonce: [u8; NONCE_LEN] = b64url_decode(&file.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(OpenError::Malformed("a bad nonce"))?;
    let sealed =
        b64url_decode(&file.ciphertext).map_err(|_| OpenError::Malformed("a bad ciphertext"))?;
    let (ciphertext, tag) = sealed
        .split_last_chunk::<TAG_LEN>()
        .ok_or(OpenError::Malformed("a ciphertext shorter than its tag"))?;
    let key = derive_key(passphrase, &salt, file.m_cost, file.t_cost, file.p_cost)
        .ok_or(OpenError::Malformed("invalid Argon2 parameters or salt"))?;
    let cipher = XChaCha20Poly1305::new((&*key).into());
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(
            &XNonce::from(nonce),
            &aad(role),
            plaintext.as_mut_slice().into(),
            &Tag::from(*tag),
        )
        .map_err(|_| OpenError::Unseal)?;
    Ok(plaintext)
}

/// Reads a private file (a key, the key-encryption key): `None` when it
/// does not exist; refused when group or others may read it.
///
/// # Errors
/// [`KeystoreError::Io`], [`KeystoreError::TooOpen`], or
/// [`KeystoreError::Malformed`] for a file too large to be a key.
pub fn read_private_file(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, KeystoreError> {
    let io = |source| KeystoreError::Io {
        path: path.to_path_buf(),
        action: FileAction::Read,
        source,
    };
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    check_mode(path, &metadata)?;
    if metadata.len() > MAX_FILE_LEN {
        return Err(KeystoreError::Malformed {
            path: path.to_path_buf(),
            reason: "larger than any key file",
        });
    }
    fs::read(path).map(|b| Some(Zeroizing::new(b))).map_err(io)
}

#[cfg(unix)]
fn check_mode(path: &Path, metadata: &fs::Metadata) -> Result<(), KeystoreError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeystoreError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_: &Path, _: &fs::Metadata) -> Result<(), KeystoreError> {
    Ok(())
}

/// Writes `bytes` to `path` with mode 0600, atomically (temporary file,
/// `fsync`, `rename`, `fsync` of the directory); creates the directory
/// with mode 0700 when it is missing.
///
/// # Errors
/// [`KeystoreError::Io`] naming the file or directory that failed, and
/// [`KeystoreError::Rng`] if no temporary name could be drawn.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
    let io = |at: &Path| {
        let at = at.to_path_buf();
        move |source| KeystoreError::Io {
            path: at,
            action: FileAction::Write,
            source,
        }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(io(&dir))?;
    let mut suffix = [0u8; 8];
    getrandom::fill(&mut suffix).map_err(|_| KeystoreError::Rng)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", hex::encode(suffix)));
    let written = (|| {
        let mut file = open_private(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io(&temp)(e));
    }
    if let Err(e) = fs::rename(&temp, path) {
        let _ = fs::remove_file(&temp);
        return Err(io(path)(e));
    }
    // The rename is durable once the directory is synced; a directory that
    // cannot be opened for that (some filesystems) is not an error.
    if let Ok(handle) = fs::File::open(&dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn open_private(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn open_private(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> impl CryptoRng {
        getrandom::rand_core::UnwrapErr(getrandom::SysRng)
    }

    fn keystore(dir: &Path, passphrase: Option<&str>) -> Keystore {
        Keystore::new(
            dir.join("identity/signing.jwk"),
            dir.join("identity/kem.jwk"),
            passphrase.map(|p| Zeroizing::new(p.as_bytes().to_vec())),
        )
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn first_start_creates_both_keys_and_the_second_reads_the_same_ones() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), None);
        let first = store.load_or_create(&mut rng()).unwrap();
        assert!(first.signing_created && first.kem_created);
        assert_eq!(first.signing.key_type(), KeyType::Ed25519);
        let second = store.load_or_create(&mut rng()).unwrap();
        assert!(!second.signing_created && !second.kem_created);
        assert_eq!(
            second.signing.verifying_key(),
            first.signing.verifying_key()
        );
        assert_eq!(second.kem.public_key(), first.kem.public_key());
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_created_0600_in_a_0700_directory() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), None);
        store.load_or_create(&mut rng()).unwrap();
        assert_eq!(mode(store.signing_path()), 0o600);
        assert_eq!(mode(store.kem_path()), 0o600);
        assert_eq!(mode(&dir.path().join("identity")), 0o700);
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("identity"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), None);
        store.load_or_create(&mut rng()).unwrap();
        fs::set_permissions(store.signing_path(), fs::Permissions::from_mode(0o644)).unwrap();
        let error = store.load_or_create(&mut rng()).unwrap_err();
        assert!(
            matches!(error, KeystoreError::TooOpen { mode: 0o644, .. }),
            "{error}"
        );
    }

    #[test]
    fn an_unsealed_key_file_is_the_jwk_the_cli_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), None);
        let keys = store.load_or_create(&mut rng()).unwrap();
        let text = fs::read_to_string(store.signing_path()).unwrap();
        let PrivateKey::Signing(read) = private_from_jwk(&text).unwrap() else {
            panic!("not a signing key");
        };
        assert_eq!(read.verifying_key(), keys.signing.verifying_key());
    }

    #[test]
    fn a_sealed_identity_round_trips_and_holds_no_key_material_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), Some("correct horse battery staple"));
        let keys = store.load_or_create(&mut rng()).unwrap();
        let text = fs::read_to_string(store.signing_path()).unwrap();
        assert!(text.contains("\"sage_sealed_key\":\"v1\""), "{text}");
        let d = b64url_encode(keys.signing.to_bytes().as_slice());
        assert!(!text.contains(&d));
        assert!(!text.contains("\"kty\""));
        let again = store.load_or_create(&mut rng()).unwrap();
        assert!(!again.signing_created && !again.kem_created);
        assert_eq!(again.signing.verifying_key(), keys.signing.verifying_key());
        assert_eq!(again.kem.public_key(), keys.kem.public_key());
    }

    #[test]
    fn a_wrong_passphrase_is_refused_with_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        keystore(dir.path(), Some("right"))
            .load_or_create(&mut rng())
            .unwrap();
        let error = keystore(dir.path(), Some("wrong"))
            .load_or_create(&mut rng())
            .unwrap_err();
        assert!(matches!(error, KeystoreError::Unseal { .. }), "{error}");
        assert!(error.to_string().contains("wrong identity.passphrase"));
    }

    #[test]
    fn a_sealed_file_without_a_passphrase_asks_for_one() {
        let dir = tempfile::tempdir().unwrap();
        keystore(dir.path(), Some("right"))
            .load_or_create(&mut rng())
            .unwrap();
        let error = keystore(dir.path(), None)
            .load_or_create(&mut rng())
            .unwrap_err();
        assert!(
            matches!(error, KeystoreError::PassphraseRequired { .. }),
            "{error}"
        );
    }

    #[test]
    fn a_sealed_file_moved_to_the_other_slot_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), Some("right"));
        store.load_or_create(&mut rng()).unwrap();
        let kem = fs::read(store.kem_path()).unwrap();
        write_private_file(store.signing_path(), &kem).unwrap();
        let error = store.load_or_create(&mut rng()).unwrap_err();
        assert!(matches!(error, KeystoreError::Unseal { .. }), "{error}");
    }

    #[test]
    fn an_x25519_key_in_the_signing_slot_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), None);
        store.load_or_create(&mut rng()).unwrap();
        let kem = fs::read(store.kem_path()).unwrap();
        write_private_file(store.signing_path(), &kem).unwrap();
        let error = store.load_or_create(&mut rng()).unwrap_err();
        assert!(
            matches!(
                error,
                KeystoreError::WrongKeyType {
                    role: KeyRole::Signing,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        let dir = tempfile::tempdir().unwrap();
        let store = keystore(dir.path(), Some("hunter2-passphrase"));
        let keys = store.load_or_create(&mut rng()).unwrap();
        let shown = format!("{store:?} {keys:?}");
        assert!(!shown.contains("hunter2"));
        for secret in [keys.signing.to_bytes(), keys.kem.to_bytes()] {
            assert!(!shown.contains(&hex::encode(secret.as_slice())));
            assert!(!shown.contains(&b64url_encode(secret.as_slice())));
        }
    }
}
