//! The optional anti-DoS cookie of the handshake (docs/PROTOCOL-PROFILE.md
//! §2, PROTOCOL.md §6.5 step 1).
//!
//! Layer: node, protocol endpoints. A cookie is
//! `<expiry unix seconds>.<base64url-raw HMAC-SHA-256(cookie key,
//! "sage-cookie-v1|" ‖ expiry)>`, valid [`COOKIE_LIFETIME`]. The node checks
//! the MAC in constant time, then the expiry, before anything else of an
//! init message is parsed. It holds no state: any node with the same
//! identity accepts the cookies of the others, because the cookie key is
//! derived from the node's signing key (and from nothing an outsider knows).
//!
//! Invariants: the key is wiped on drop and never printed.

use core::fmt;
use core::time::Duration;

use sage_core::encoding::{b64url_decode_array, b64url_encode};
use sage_core::time::Timestamp;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::identity::NodeIdentity;

/// How long a cookie is accepted after it was issued.
pub(crate) const COOKIE_LIFETIME: Duration = Duration::from_secs(300);

/// Domain separation of the cookie MAC (a node-profile label, not a
/// protocol label: only this node reads its cookies).
const COOKIE_MAC_LABEL: &[u8] = b"sage-cookie-v1|";
/// Domain separation of the cookie key derived from the signing key.
const COOKIE_KEY_LABEL: &[u8] = b"sage-cookie-key-v1";
/// The longest expiry text accepted (`i64::MAX` has 19 digits).
const MAX_EXPIRY_DIGITS: usize = 19;

/// Issues and checks cookies.
pub(crate) struct CookieJar {
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for CookieJar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CookieJar").finish_non_exhaustive()
    }
}

impl CookieJar {
    /// The jar of `identity`: its key is HMAC-SHA-256 keyed with the
    /// signing key's bytes over a fixed label.
    pub(crate) fn for_identity(identity: &NodeIdentity) -> Self {
        let secret = identity.signing_key().to_bytes();
        let key = Zeroizing::new(hmac_sha256(&secret[..], COOKIE_KEY_LABEL));
        Self { key }
    }

    /// A cookie issued at `now`, and when it stops being accepted.
    pub(crate) fn issue(&self, now: Timestamp) -> (String, Timestamp) {
        let lifetime = i64::try_from(COOKIE_LIFETIME.as_secs()).unwrap_or(i64::MAX);
        let expiry = now.unix_seconds().saturating_add(lifetime);
        let expiry_text = expiry.to_string();
        let mac = self.mac(&expiry_text);
        (
            format!("{expiry_text}.{}", b64url_encode(&mac)),
            Timestamp::from_unix_seconds(expiry),
        )
    }

    /// Whether `cookie` is one of ours and not expired at `now`.
    pub(crate) fn accepts(&self, cookie: &str, now: Timestamp) -> bool {
        let Some((expiry_text, mac_text)) = cookie.split_once('.') else {
            return false;
        };
        if expiry_text.is_empty()
            || expiry_text.len() > MAX_EXPIRY_DIGITS
            || !expiry_text.bytes().all(|b| b.is_ascii_digit())
        {
            return false;
        }
        let Ok(received) = b64url_decode_array::<32>(mac_text) else {
            return false;
        };
        let expected = self.mac(expiry_text);
        if !bool::from(expected.ct_eq(&received)) {
            return false;
        }
        expiry_text
            .parse::<i64>()
            .is_ok_and(|expiry| now.unix_seconds() <= expiry)
    }

    fn mac(&self, expiry_text: &str) -> [u8; 32] {
        let mut message = Vec::with_capacity(COOKIE_MAC_LABEL.len() + expiry_text.len());
        message.extend_from_slice(COOKIE_MAC_LABEL);
        message.extend_from_slice(expiry_text.as_bytes());
        hmac_sha256(&self.key[..], &message)
    }
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key` (at most one block,
/// longer keys hashed first).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = Zeroizing::new([0u8; BLOCK]);
    if key.len() > BLOCK {
        let digest: [u8; 32] = Sha256::digest(key).into();
        block
            .iter_mut()
            .zip(digest.iter())
            .for_each(|(b, k)| *b = *k);
    } else {
        block.iter_mut().zip(key.iter()).for_each(|(b, k)| *b = *k);
    }
    let mut inner_pad = Zeroizing::new([0x36u8; BLOCK]);
    let mut outer_pad = Zeroizing::new([0x5cu8; BLOCK]);
    for ((i, o), k) in inner_pad
        .iter_mut()
        .zip(outer_pad.iter_mut())
        .zip(block.iter())
    {
        *i ^= k;
        *o ^= k;
    }
    let inner = Sha256::new()
        .chain_update(&inner_pad[..])
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer_pad[..])
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            sage_core::encoding::hex_encode(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    fn jar() -> CookieJar {
        CookieJar {
            key: Zeroizing::new([9; 32]),
        }
    }

    #[test]
    fn issued_cookie_is_accepted_until_it_expires() {
        let now = Timestamp::from_unix_seconds(1_767_225_600);
        let (cookie, expiry) = jar().issue(now);
        assert_eq!(expiry.unix_seconds(), now.unix_seconds() + 300);
        assert!(jar().accepts(&cookie, now));
        assert!(jar().accepts(&cookie, expiry));
        assert!(!jar().accepts(
            &cookie,
            Timestamp::from_unix_seconds(expiry.unix_seconds() + 1)
        ));
    }

    #[test]
    fn forged_or_malformed_cookies_are_refused() {
        let now = Timestamp::from_unix_seconds(1_767_225_600);
        let (cookie, _) = jar().issue(now);
        let (expiry, mac) = cookie.split_once('.').unwrap_or_default();
        let later = format!("{}.{mac}", expiry.parse::<i64>().unwrap_or_default() + 600);
        for bad in [
            later.as_str(),
            "",
            ".",
            "123",
            "abc.def",
            &format!("{expiry}.AAAA"),
            &format!("-1.{mac}"),
        ] {
            assert!(!jar().accepts(bad, now), "{bad}");
        }
        let other = CookieJar {
            key: Zeroizing::new([8; 32]),
        };
        assert!(!other.accepts(&cookie, now));
    }

    #[test]
    fn debug_prints_no_key() {
        assert_eq!(format!("{:?}", jar()), "CookieJar { .. }");
    }
}
