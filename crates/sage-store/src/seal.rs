//! Session snapshots encrypted at rest.
//!
//! A [`SessionSnapshot`](sage_core::session::SessionSnapshot) holds the
//! session seed in clear, from which every session key is derived. The
//! store never writes it as is: it seals it with XChaCha20-Poly1305 under
//! a 32-byte key-encryption key (KEK) that the caller supplies (from its
//! secret configuration, never from the database), with the session id in
//! the associated data, so a sealed blob moved to another row does not
//! open.
//!
//! ```text
//! sealed = format(1) = 1 ‖ nonce(24, random) ‖ XChaCha20-Poly1305(KEK, nonce, snapshot, aad)
//! aad    = "sage-store/session-snapshot/v1" ‖ 0x00 ‖ sid
//! ```
//!
//! The 192-bit nonce is drawn from the operating system's RNG for every
//! seal, so random nonces never collide in practice, however many seals
//! one KEK makes. This module knows nothing of SQL.

use core::fmt;

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{KeyInit, Tag, XChaCha20Poly1305, XNonce};
use sage_core::session::SessionId;
use zeroize::{ZeroizeOnDrop, Zeroizing};

use crate::error::StoreError;

/// Length of a key-encryption key.
pub const KEK_LEN: usize = 32;

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;
const AAD_LABEL: &[u8] = b"sage-store/session-snapshot/v1\0";

/// The 32-byte key that seals session snapshots. Wiped on drop; `Debug`
/// prints none of it.
#[derive(Clone, ZeroizeOnDrop)]
pub struct KeyEncryptionKey(Zeroizing<[u8; KEK_LEN]>);

impl KeyEncryptionKey {
    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; KEK_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// A fresh random key from `rng`.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0u8; KEK_LEN]);
        rng.fill_bytes(bytes.as_mut_slice());
        Self(bytes)
    }
}

impl fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyEncryptionKey(<redacted>)")
    }
}

/// Seals and opens snapshots under one KEK.
pub(crate) struct Sealer {
    /// The expanded key; the `zeroize` feature wipes it on drop.
    cipher: XChaCha20Poly1305,
}

impl Sealer {
    pub(crate) fn new(kek: &KeyEncryptionKey) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new((&*kek.0).into()),
        }
    }

    /// Seals `plaintext` for session `sid`.
    pub(crate) fn seal(&self, sid: &SessionId, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| StoreError::Rng)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &XNonce::from(nonce),
                &aad(sid),
                (&mut out[HEADER_LEN..]).into(),
            )
            // Only fails for plaintexts of 256 GiB and more.
            .map_err(|_| StoreError::Unseal)?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Opens what [`Sealer::seal`] made for `sid`.
    pub(crate) fn open(
        &self,
        sid: &SessionId,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let (header, rest) = sealed
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(StoreError::Unseal)?;
        let (format, nonce) = header.split_first().ok_or(StoreError::Unseal)?;
        if *format != FORMAT {
            return Err(StoreError::Unseal);
        }
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| StoreError::Unseal)?;
        let (ciphertext, tag) = rest
            .split_last_chunk::<TAG_LEN>()
            .ok_or(StoreError::Unseal)?;
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                &aad(sid),
                plaintext.as_mut_slice().into(),
                &Tag::from(*tag),
            )
            .map_err(|_| StoreError::Unseal)?;
        Ok(plaintext)
    }
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(<redacted>)")
    }
}

fn aad(sid: &SessionId) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_LABEL.len() + sid.as_str().len());
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(sid.as_str().as_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sid(text: &str) -> SessionId {
        text.parse().unwrap()
    }

    #[test]
    fn sealed_snapshot_opens_only_for_its_key_and_session_id() {
        let sealer = Sealer::new(&KeyEncryptionKey::from_bytes([7; KEK_LEN]));
        let a = sid("AAAAAAAAAAAAAAAAAAAAAA");
        let b = sid("BBBBBBBBBBBBBBBBBBBBBA");
        let sealed = sealer.seal(&a, b"secret snapshot").unwrap();
        assert_eq!(sealed.len(), HEADER_LEN + 15 + TAG_LEN);
        assert!(!sealed.windows(15).any(|w| w == b"secret snapshot"));
        assert_eq!(
            sealer.open(&a, &sealed).unwrap().as_slice(),
            b"secret snapshot"
        );
        assert!(matches!(sealer.open(&b, &sealed), Err(StoreError::Unseal)));
        let other = Sealer::new(&KeyEncryptionKey::from_bytes([8; KEK_LEN]));
        assert!(matches!(other.open(&a, &sealed), Err(StoreError::Unseal)));
        let mut altered = sealed.clone();
        altered[HEADER_LEN] ^= 1;
        assert!(matches!(sealer.open(&a, &altered), Err(StoreError::Unseal)));
        assert!(matches!(
            sealer.open(&a, &sealed[..10]),
            Err(StoreError::Unseal)
        ));
    }

    #[test]
    fn two_seals_of_one_snapshot_differ() {
        let sealer = Sealer::new(&KeyEncryptionKey::from_bytes([7; KEK_LEN]));
        let a = sid("AAAAAAAAAAAAAAAAAAAAAA");
        assert_ne!(
            sealer.seal(&a, b"x").unwrap(),
            sealer.seal(&a, b"x").unwrap()
        );
    }

    #[test]
    fn debug_of_a_key_prints_no_key_bytes() {
        let kek = KeyEncryptionKey::from_bytes([0xAB; KEK_LEN]);
        let shown = format!("{kek:?} {:?}", Sealer::new(&kek));
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("ab, "),
            "{shown}"
        );
        assert!(shown.contains("redacted"));
    }
}
