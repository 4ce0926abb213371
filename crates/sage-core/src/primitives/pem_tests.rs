//! Fixtures were made once with OpenSSL 3.0 and are kept as text:
//! - `OURS_*`: our export of the `sage-core/pem-test/<type>` label keys;
//!   `openssl pkey` re-encodes each one to the identical bytes, and
//!   `openssl pkey -pubout` derives the identical public PEM from it;
//! - `OPENSSL_*`: `openssl genpkey` keys (`-algorithm ed25519|x25519|ed448`,
//!   `EC` with `ec_paramgen_curve:secp256k1|P-256|P-384`), their
//!   `pkey -pubout` public keys, `openssl ec` SEC1 forms, `pkcs8 -topk8 -v2
//!   aes-256-cbc` and `ec -aes128` encrypted forms, `ecparam -param_enc
//!   explicit`, and `pkey -pubout -ec_conv_form compressed`;
//! - signatures by `openssl pkeyutl -sign -rawin` (Ed25519) and `openssl dgst
//!   -sha256 -sign` (P-256, DER) over [`OPENSSL_MESSAGE`], and the X25519
//!   secret of `openssl pkeyutl -derive` between `OPENSSL_X25519_PRIVATE`
//!   and `OURS_X25519_PUBLIC`.

use k256::pkcs8::der::pem::{self, LineEnding};

use super::*;
use crate::encoding::{b64_decode, hex_decode};
use crate::primitives::SigningKey;

fn label_key(key_type: KeyType) -> PrivateKey {
    PrivateKey::from_label(key_type, &format!("sage-core/pem-test/{}", key_type.name())).unwrap()
}

fn other_key(key_type: KeyType) -> PrivateKey {
    PrivateKey::from_label(key_type, "sage-core/pem-test/other").unwrap()
}

fn pem_of(label: &str, der: &[u8]) -> String {
    pem::encode_string(label, LineEnding::LF, der).unwrap()
}

fn der_of(pem_text: &str) -> Vec<u8> {
    pem::decode_vec(pem_text.as_bytes()).unwrap().1
}

fn okp_inner(seed: &[u8]) -> Vec<u8> {
    OctetStringRef::new(seed).unwrap().to_der().unwrap()
}

fn ec_inner(d: &[u8], curve: Option<&ObjectIdentifier>, public: Option<&[u8]>) -> Vec<u8> {
    EcPrivateKey {
        private_key: d,
        parameters: curve.map(AnyRef::from),
        public_key: public.map(|p| BitStringRef::from_bytes(p).unwrap()),
    }
    .to_der()
    .unwrap()
}

fn pkcs8_pem(algorithm: AlgorithmIdentifierRef<'_>, inner: &[u8], public: Option<&[u8]>) -> String {
    let mut info = PrivateKeyInfoRef::new(algorithm, OctetStringRef::new(inner).unwrap());
    info.public_key = public.map(|p| BitStringRef::from_bytes(p).unwrap());
    pem_of(PKCS8_LABEL, &info.to_der().unwrap())
}

fn spki_pem(algorithm: AlgorithmIdentifierRef<'_>, subject_public_key: BitStringRef<'_>) -> String {
    let spki = SubjectPublicKeyInfoRef {
        algorithm,
        subject_public_key,
    };
    pem_of(SPKI_LABEL, &spki.to_der().unwrap())
}

const NULL_PARAMETERS: AnyRef<'static> = AnyRef::NULL;

const OURS_ED25519_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIPweloSxBXiEzi3KpCCWr/jcVHuSVMrYGgpkCFbb60cN
-----END PRIVATE KEY-----
";

const OURS_ED25519_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA6PXHAISlW90Vmq734yIOWubFHhMVS6FqIqi8HILwH04=
-----END PUBLIC KEY-----
";

const OURS_X25519_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIM80122hrN0llVoAQ0ZL2DbNDQ+1V5b9TFkki2R4iUdE
-----END PRIVATE KEY-----
";

const OURS_X25519_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEApKxhP0yUs6YA25Az8Cz5DQI3GNGElBRkbh2JddgfKkc=
-----END PUBLIC KEY-----
";

const OURS_SECP256K1_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgdcXFISQBmrEbS0vE3zYm
ZDQreU0wTFXHv/aJsQ2CZGyhRANCAASEQSFTnStDIs3ibJzvR+hsYVV6ajWuKGtt
anzIy+1ZtDII4xPrL+AdIUGlXkE77pOAqOY6SXcyWIwF9pTumvfy
-----END PRIVATE KEY-----
";

const OURS_SECP256K1_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAEhEEhU50rQyLN4myc70fobGFVemo1rihr
bWp8yMvtWbQyCOMT6y/gHSFBpV5BO+6TgKjmOkl3MliMBfaU7pr38g==
-----END PUBLIC KEY-----
";

const OURS_P256_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg0RBTG/tA1LukAfOo
Dz8CfFq8GE+3elBrPNsB15lKYYChRANCAASIGECDB3C9JKo0O5RFbOSEvTyQB+l6
qPDfu++CMiqaFtPODRaCjoaosIuhGOq2/eignm5cAwyCZ3QB3uohzhbb
-----END PRIVATE KEY-----
";

const OURS_P256_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEiBhAgwdwvSSqNDuURWzkhL08kAfp
eqjw37vvgjIqmhbTzg0Wgo6GqLCLoRjqtv3ooJ5uXAMMgmd0Ad7qIc4W2w==
-----END PUBLIC KEY-----
";

const OPENSSL_ED25519_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIBzj1GPKdI+U8nqaZpAnHP5WU2qRXN9EdmFXNtweEncM
-----END PRIVATE KEY-----
";

const OPENSSL_ED25519_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAc7F4fyj0GAP9DcpZ+LekMqvE1k4SbPjGU8lapFNfgB4=
-----END PUBLIC KEY-----
";

const OPENSSL_X25519_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VuBCIEIKhY/AIRnEHPuwAustL74AhCvuTKYLHfC6J62KuxA2Zc
-----END PRIVATE KEY-----
";

const OPENSSL_X25519_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAc0TgFBIVxB2NVfgorzYkfwhn+VdZwSN5GvkK6LdCCUA=
-----END PUBLIC KEY-----
";

const OPENSSL_SECP256K1_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgTssUnFeAy6ARWEYDYpHx
71kHfC7HWQvZ7yYYhKCucfihRANCAAT0cqtDX3VejtEEBng8i2J21/DjYB/YJ8Ai
RZU5vSSkSLPwU8nfxREVpDXrIfXxhb5k7HbngUtmVnPye1lTNwyv
-----END PRIVATE KEY-----
";

const OPENSSL_SECP256K1_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MFYwEAYHKoZIzj0CAQYFK4EEAAoDQgAE9HKrQ191Xo7RBAZ4PItidtfw42Af2CfA
IkWVOb0kpEiz8FPJ38URFaQ16yH18YW+ZOx254FLZlZz8ntZUzcMrw==
-----END PUBLIC KEY-----
";

const OPENSSL_P256_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaT41tk0TMwrhWBKP
QXUWh5V4d6AK7JASRNeSETrTmHyhRANCAARVZshnvKWVD2uivKdgHj6BluIPfqHT
e0svnvB+AazaVQV8McDAxKUa1iM8Xq+w1o7LwGnfvSv2JXeGSrLTCSY5
-----END PRIVATE KEY-----
";

const OPENSSL_P256_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEVWbIZ7yllQ9rorynYB4+gZbiD36h
03tLL57wfgGs2lUFfDHAwMSlGtYjPF6vsNaOy8Bp370r9iV3hkqy0wkmOQ==
-----END PUBLIC KEY-----
";

const OPENSSL_SECP256K1_SEC1: &str = "\
-----BEGIN EC PRIVATE KEY-----
MHQCAQEEIE7LFJxXgMugEVhGA2KR8e9ZB3wux1kL2e8mGISgrnH4oAcGBSuBBAAK
oUQDQgAE9HKrQ191Xo7RBAZ4PItidtfw42Af2CfAIkWVOb0kpEiz8FPJ38URFaQ1
6yH18YW+ZOx254FLZlZz8ntZUzcMrw==
-----END EC PRIVATE KEY-----
";

const OPENSSL_P256_SEC1: &str = "\
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIGk+NbZNEzMK4VgSj0F1FoeVeHegCuyQEkTXkhE605h8oAoGCCqGSM49
AwEHoUQDQgAEVWbIZ7yllQ9rorynYB4+gZbiD36h03tLL57wfgGs2lUFfDHAwMSl
GtYjPF6vsNaOy8Bp370r9iV3hkqy0wkmOQ==
-----END EC PRIVATE KEY-----
";

const OPENSSL_ED25519_ENCRYPTED: &str = "\
-----BEGIN ENCRYPTED PRIVATE KEY-----
MIGbMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgX5U3+13L3jwICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEH4EDfw3uP8oYI+SK4Z3rL4EQNSZ
R5xPGoTuhitQ7E1z8Evr3uKcBM2b7d/wJ/N2EW80SfZ/EdAtKwAADN2abhrDddkM
qDGHOTYlMbwlCiSvNeU=
-----END ENCRYPTED PRIVATE KEY-----
";

const OPENSSL_P256_LEGACY_ENCRYPTED: &str = "\
-----BEGIN EC PRIVATE KEY-----
Proc-Type: 4,ENCRYPTED
DEK-Info: AES-128-CBC,8431E3E2B6CB33ACF50F8EDC1F30BD72

W4efJd/T50CTGHAmP1RdF1EBcm1MwXO6xPSTHyAWkmQxCOYWuPSXZ7+PTAhpdwDm
HLiMBfxMxCzAedOJo+O/FlTX0ljF+eiDjMYZB7iM0fek/qxT2hbZsXk/tNyy3X61
EI9S5HCubSe9f6qZ+OTavH0N6XTk2f0H+iAlzqHxY+I=
-----END EC PRIVATE KEY-----
";

const OPENSSL_ED448_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MEcCAQAwBQYDK2VxBDsEOYNtFNt4RGrp453PNMUZwJNe+g0xMl61iODK1LLAY5//
dcyoVTk58q+ZsBhfVhf/JOwwX/nTQm2Hjw==
-----END PRIVATE KEY-----
";

const OPENSSL_ED448_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MEMwBQYDK2VxAzoAGSSTrN+CvGJXu03/fMOtX5VAauXVfs85cosqfg2l707/zECI
AsjFeN2Lf2KJR26TZqGvsPceFHAA
-----END PUBLIC KEY-----
";

const OPENSSL_P384_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDC45PPfHl1ri9MGzzp6
EcwDZlYpZFdL5q9/vBNml7MD6+Rj0/jqyx9Tnv06rDNe/Q6hZANiAATkRBnaBMDB
g76Zi48763sWIKng+SQeLjNh6NrY69wcc5wKLQLarOH+FGTFdQvra6Msrac9gR/z
MZIaINcKCCeKMyz7/TevkwP8rPUes0tIvHH3dxGjENPeSYH7lI1pWF0=
-----END PRIVATE KEY-----
";

const OPENSSL_P256_EXPLICIT_SEC1: &str = "\
-----BEGIN EC PRIVATE KEY-----
MIIBaAIBAQQgKOh8SwmYc9dM1duoceCUUMegpNJjrQZL3h6WrMZg1NaggfowgfcC
AQEwLAYHKoZIzj0BAQIhAP////8AAAABAAAAAAAAAAAAAAAA////////////////
MFsEIP////8AAAABAAAAAAAAAAAAAAAA///////////////8BCBaxjXYqjqT57Pr
vVV2mIa8ZR0GsMxTsPY7zjw+J9JgSwMVAMSdNgiG5wSTamZ44ROdJreBn36QBEEE
axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpZP40Li/hp/m47n60p8D54W
K84zV2sxXs7LtkBoN79R9QIhAP////8AAAAA//////////+85vqtpxeehPO5ysL8
YyVRAgEBoUQDQgAE1DNPX3gJ95MZFmng7AdJRmpFMnOewZfclCWWD50yeo4DQW6K
Q6zGXiADkNyk9ZehIJmwBegKLwwBwuHcbgw+SQ==
-----END EC PRIVATE KEY-----
";

const OPENSSL_SECP256K1_COMPRESSED_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MDYwEAYHKoZIzj0CAQYFK4EEAAoDIgAD9HKrQ191Xo7RBAZ4PItidtfw42Af2CfA
IkWVOb0kpEg=
-----END PUBLIC KEY-----
";

const RFC8410_ED25519_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";

const OPENSSL_MESSAGE: &[u8] = b"SAGE openssl interop message";
const OPENSSL_ED25519_SIGNATURE: &str = "30a1cd698822226fe2c85631d11556b68f2a43f12f6413c51fa9520320c09cb6b1c511873686f1845fa8f57e657b8b4e386304a4dc777a0ff1c628d13dc7d901";
const OPENSSL_P256_DER_SIGNATURE: &str = "3046022100c1306ea4af311e187f2e59f627b045a5535f18fc809d0ca0bdfade428e980d4d022100e74432760086c82ef2590101cafa0a5096030c8487d511bea33e06e81dbf4a5c";
const OPENSSL_X25519_SHARED_SECRET: &str =
    "1781ca4bd2b4f7bd57b7027f3a08534277ea21f5baca63a5144932626405c143";
const RFC8410_ED25519_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

#[test]
fn private_pem_round_trips_for_every_key_type() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let back = private_from_pem(private_to_pem(&key).as_str()).unwrap();
        assert_eq!(back.key_type(), key_type);
        assert_eq!(*back.to_bytes(), *key.to_bytes(), "{key_type}");
    }
}

#[test]
fn public_pem_round_trips_for_every_key_type() {
    for key_type in KeyType::ALL {
        let public = label_key(key_type).public_key();
        assert_eq!(
            public_from_pem(&public_to_pem(&public)),
            Ok(public),
            "{key_type}"
        );
    }
}

#[test]
fn export_is_byte_for_byte_what_openssl_writes() {
    let expected = [
        (KeyType::Ed25519, OURS_ED25519_PRIVATE, OURS_ED25519_PUBLIC),
        (KeyType::X25519, OURS_X25519_PRIVATE, OURS_X25519_PUBLIC),
        (
            KeyType::Secp256k1,
            OURS_SECP256K1_PRIVATE,
            OURS_SECP256K1_PUBLIC,
        ),
        (KeyType::P256, OURS_P256_PRIVATE, OURS_P256_PUBLIC),
    ];
    for (key_type, private, public) in expected {
        let key = label_key(key_type);
        assert_eq!(private_to_pem(&key).as_str(), private, "{key_type}");
        assert_eq!(public_to_pem(&key.public_key()), public, "{key_type}");
    }
}

#[test]
fn x25519_der_has_the_rfc8410_fixed_layout() {
    let key = label_key(KeyType::X25519);
    let private = der_of(private_to_pem(&key).as_str());
    let prefix = hex_decode("302e020100300506032b656e04220420").unwrap();
    assert_eq!(private[..16], prefix[..]);
    assert_eq!(private[16..], key.to_bytes()[..]);
    let public = der_of(&public_to_pem(&key.public_key()));
    let prefix = hex_decode("302a300506032b656e032100").unwrap();
    assert_eq!(public[..12], prefix[..]);
    assert_eq!(public[12..], key.public_key().to_bytes()[..]);
}

#[test]
fn openssl_keys_import_with_the_type_named_by_their_oids() {
    let fixtures = [
        (
            KeyType::Ed25519,
            OPENSSL_ED25519_PRIVATE,
            OPENSSL_ED25519_PUBLIC,
        ),
        (
            KeyType::X25519,
            OPENSSL_X25519_PRIVATE,
            OPENSSL_X25519_PUBLIC,
        ),
        (
            KeyType::Secp256k1,
            OPENSSL_SECP256K1_PRIVATE,
            OPENSSL_SECP256K1_PUBLIC,
        ),
        (KeyType::P256, OPENSSL_P256_PRIVATE, OPENSSL_P256_PUBLIC),
    ];
    for (key_type, private, public) in fixtures {
        let key = private_from_pem(private).unwrap();
        assert_eq!(key.key_type(), key_type);
        let public = public_from_pem(public).unwrap();
        assert_eq!(public.key_type(), key_type);
        assert_eq!(key.public_key(), public, "{key_type}");
        // Re-export gives the openssl text back.
        assert_eq!(private_to_pem(&key).as_str(), private, "{key_type}");
    }
}

#[test]
fn openssl_sec1_ec_private_keys_import_to_the_same_key_as_pkcs8() {
    let fixtures = [
        (OPENSSL_SECP256K1_SEC1, OPENSSL_SECP256K1_PRIVATE),
        (OPENSSL_P256_SEC1, OPENSSL_P256_PRIVATE),
    ];
    for (sec1, pkcs8) in fixtures {
        let from_sec1 = private_from_pem(sec1).unwrap();
        let from_pkcs8 = private_from_pem(pkcs8).unwrap();
        assert_eq!(from_sec1.key_type(), from_pkcs8.key_type());
        assert_eq!(*from_sec1.to_bytes(), *from_pkcs8.to_bytes());
    }
}

#[test]
fn our_signature_with_an_imported_openssl_key_verifies_with_its_public_pem() {
    let fixtures = [
        (OPENSSL_ED25519_PRIVATE, OPENSSL_ED25519_PUBLIC),
        (OPENSSL_SECP256K1_PRIVATE, OPENSSL_SECP256K1_PUBLIC),
        (OPENSSL_P256_PRIVATE, OPENSSL_P256_PUBLIC),
        (OPENSSL_SECP256K1_SEC1, OPENSSL_SECP256K1_PUBLIC),
        (OPENSSL_P256_SEC1, OPENSSL_P256_PUBLIC),
    ];
    for (private, public) in fixtures {
        let key = private_from_pem(private).unwrap();
        let signature = key.as_signing().unwrap().sign(OPENSSL_MESSAGE);
        let public = public_from_pem(public).unwrap();
        let verifying = public.as_verifying().unwrap();
        assert_eq!(verifying.verify(OPENSSL_MESSAGE, &signature), Ok(()));
        assert!(verifying.verify(b"another message", &signature).is_err());
    }
}

#[test]
fn openssl_signatures_verify_under_the_imported_public_key() {
    let ed25519 = public_from_pem(OPENSSL_ED25519_PUBLIC).unwrap();
    let signature = hex_decode(OPENSSL_ED25519_SIGNATURE).unwrap();
    let ed25519 = ed25519.as_verifying().unwrap();
    assert_eq!(ed25519.verify(OPENSSL_MESSAGE, &signature), Ok(()));

    let p256 = public_from_pem(OPENSSL_P256_PUBLIC).unwrap();
    let signature = hex_decode(OPENSSL_P256_DER_SIGNATURE).unwrap();
    let p256 = p256.as_verifying().unwrap();
    assert_eq!(p256.verify(OPENSSL_MESSAGE, &signature), Ok(()));
}

#[test]
fn x25519_agreement_with_an_openssl_key_matches_openssl_derive() {
    let PrivateKey::X25519(theirs) = private_from_pem(OPENSSL_X25519_PRIVATE).unwrap() else {
        panic!("not an X25519 key");
    };
    let PublicKey::X25519(ours) = public_from_pem(OURS_X25519_PUBLIC).unwrap() else {
        panic!("not an X25519 key");
    };
    let shared = theirs.diffie_hellman(&ours).unwrap();
    assert_eq!(
        shared.to_vec(),
        hex_decode(OPENSSL_X25519_SHARED_SECRET).unwrap()
    );
    // And from our side.
    let PrivateKey::X25519(ours) = label_key(KeyType::X25519) else {
        panic!("not an X25519 key");
    };
    let PublicKey::X25519(theirs) = public_from_pem(OPENSSL_X25519_PUBLIC).unwrap() else {
        panic!("not an X25519 key");
    };
    let shared = ours.diffie_hellman(&theirs).unwrap();
    assert_eq!(
        shared.to_vec(),
        hex_decode(OPENSSL_X25519_SHARED_SECRET).unwrap()
    );
}

#[test]
fn rfc8410_ed25519_example_keys_import_as_a_pair() {
    let key = private_from_pem(RFC8410_ED25519_PRIVATE).unwrap();
    assert_eq!(
        Ok(key.public_key()),
        public_from_pem(RFC8410_ED25519_PUBLIC)
    );
}

#[test]
fn pkcs8_v2_with_the_matching_public_key_is_accepted() {
    // ed25519-dalek writes PKCS#8 v2 (RFC 5958) with the public key.
    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    let PrivateKey::Signing(SigningKey::Ed25519(dalek)) = label_key(KeyType::Ed25519) else {
        panic!("not an Ed25519 key");
    };
    let v2 = dalek.to_pkcs8_pem(LineEnding::LF).unwrap();
    assert_ne!(v2.as_str(), OURS_ED25519_PRIVATE);
    let key = private_from_pem(&v2).unwrap();
    assert_eq!(*key.to_bytes(), dalek.to_bytes());

    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let public = key.public_key().to_bytes();
        let inner = match key_type {
            KeyType::Ed25519 | KeyType::X25519 => okp_inner(key.to_bytes().as_slice()),
            _ => ec_inner(key.to_bytes().as_slice(), None, None),
        };
        let pem = pkcs8_pem(algorithm_identifier(key_type), &inner, Some(&public));
        let back = private_from_pem(&pem).unwrap();
        assert_eq!(*back.to_bytes(), *key.to_bytes(), "{key_type}");
    }
}

#[test]
fn embedded_public_key_that_does_not_match_is_rejected() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let wrong = other_key(key_type).public_key().to_bytes();
        let inner = match key_type {
            KeyType::Ed25519 | KeyType::X25519 => okp_inner(key.to_bytes().as_slice()),
            _ => ec_inner(key.to_bytes().as_slice(), None, None),
        };
        let pem = pkcs8_pem(algorithm_identifier(key_type), &inner, Some(&wrong));
        assert_eq!(
            private_from_pem(&pem).err(),
            Some(PemError::PublicKeyMismatch),
            "{key_type}"
        );
    }
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        let key = label_key(key_type);
        let wrong = other_key(key_type).public_key().to_bytes();
        let inner = ec_inner(key.to_bytes().as_slice(), None, Some(&wrong));
        let pem = pkcs8_pem(algorithm_identifier(key_type), &inner, None);
        assert_eq!(
            private_from_pem(&pem).err(),
            Some(PemError::PublicKeyMismatch)
        );
        let sec1 = ec_inner(key.to_bytes().as_slice(), curve_oid(key_type), Some(&wrong));
        assert_eq!(
            private_from_pem(&pem_of(SEC1_LABEL, &sec1)).err(),
            Some(PemError::PublicKeyMismatch)
        );
    }
}

#[test]
fn compressed_embedded_ec_public_key_is_checked_in_its_own_form() {
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        let key = label_key(key_type);
        let PublicKey::Signing(verifying) = key.public_key() else {
            panic!("not a signing key");
        };
        let compressed = verifying.to_compressed().unwrap();
        let sec1 = ec_inner(
            key.to_bytes().as_slice(),
            curve_oid(key_type),
            Some(&compressed),
        );
        let back = private_from_pem(&pem_of(SEC1_LABEL, &sec1)).unwrap();
        assert_eq!(*back.to_bytes(), *key.to_bytes());
        let mut flipped = compressed.clone();
        flipped[0] ^= 1;
        let sec1 = ec_inner(
            key.to_bytes().as_slice(),
            curve_oid(key_type),
            Some(&flipped),
        );
        assert_eq!(
            private_from_pem(&pem_of(SEC1_LABEL, &sec1)).err(),
            Some(PemError::PublicKeyMismatch)
        );
    }
}

#[test]
fn labels_other_than_the_expected_ones_are_rejected() {
    let body = der_of(OURS_ED25519_PRIVATE);
    for label in [
        "RSA PRIVATE KEY",
        "CERTIFICATE",
        "PUBLIC KEY",
        "OPENSSH PRIVATE KEY",
    ] {
        assert_eq!(
            private_from_pem(&pem_of(label, &body)).err(),
            Some(PemError::UnexpectedLabel),
            "{label}"
        );
    }
    assert_eq!(
        public_from_pem(OURS_ED25519_PRIVATE),
        Err(PemError::UnexpectedLabel)
    );
    assert_eq!(
        public_from_pem(OPENSSL_P256_SEC1),
        Err(PemError::UnexpectedLabel)
    );
    let spki = der_of(OURS_ED25519_PUBLIC);
    assert_eq!(
        public_from_pem(&pem_of("RSA PUBLIC KEY", &spki)),
        Err(PemError::UnexpectedLabel)
    );
}

#[test]
fn sec1_label_is_only_for_ec_keys() {
    // A PKCS#8 body under the SEC1 label is not an ECPrivateKey.
    let body = der_of(OURS_P256_PRIVATE);
    assert_eq!(
        private_from_pem(&pem_of(SEC1_LABEL, &body)).err(),
        Some(PemError::MalformedDer)
    );
}

#[test]
fn encrypted_private_keys_are_rejected_with_their_own_errors() {
    assert_eq!(
        private_from_pem(OPENSSL_ED25519_ENCRYPTED).err(),
        Some(PemError::EncryptedKey)
    );
    assert_eq!(
        private_from_pem(OPENSSL_P256_LEGACY_ENCRYPTED).err(),
        Some(PemError::HeadersNotSupported)
    );
    // The label decides before the size does.
    let big = pem_of(ENCRYPTED_PKCS8_LABEL, &[0x30; 4 * MAX_DER_LEN]);
    assert_eq!(private_from_pem(&big).err(), Some(PemError::EncryptedKey));
    let big = pem_of("RSA PRIVATE KEY", &[0x30; 4 * MAX_DER_LEN]);
    assert_eq!(
        private_from_pem(&big).err(),
        Some(PemError::UnexpectedLabel)
    );
}

#[test]
fn text_that_is_not_pem_is_rejected() {
    let broken = |label: &str| {
        [
            String::new(),
            "not a pem document".to_owned(),
            format!("-----BEGIN {label}-----\n"),
            format!("-----BEGIN {label}-----\nMC4CAQAw\n-----END OTHER-----\n"),
            format!("-----BEGIN {label}-----\nMC4C*QAw\n-----END {label}-----\n"),
            format!("-----BEGIN {label}-----\nMC4CAQA\n-----END {label}-----\n"),
        ]
    };
    for text in broken(PKCS8_LABEL) {
        assert_eq!(
            private_from_pem(&text).err(),
            Some(PemError::Malformed),
            "{text}"
        );
    }
    for text in broken(SPKI_LABEL) {
        assert_eq!(public_from_pem(&text), Err(PemError::Malformed), "{text}");
    }
}

#[test]
fn documents_larger_than_any_key_are_rejected() {
    let big = pem_of(PKCS8_LABEL, &[0x30; MAX_DER_LEN + 1]);
    assert_eq!(private_from_pem(&big).err(), Some(PemError::TooLarge));
    let big = pem_of(SPKI_LABEL, &[0x30; MAX_DER_LEN + 1]);
    assert_eq!(public_from_pem(&big), Err(PemError::TooLarge));
}

#[test]
fn malformed_der_is_rejected() {
    let garbage = [0x30, 0x03, 0x02, 0x01];
    assert_eq!(
        private_from_pem(&pem_of(PKCS8_LABEL, &garbage)).err(),
        Some(PemError::MalformedDer)
    );
    assert_eq!(
        private_from_pem(&pem_of(SEC1_LABEL, &garbage)).err(),
        Some(PemError::MalformedDer)
    );
    assert_eq!(
        public_from_pem(&pem_of(SPKI_LABEL, &garbage)),
        Err(PemError::MalformedDer)
    );
    // Trailing bytes after a valid structure.
    let mut trailing = der_of(OURS_ED25519_PRIVATE);
    trailing.push(0);
    assert_eq!(
        private_from_pem(&pem_of(PKCS8_LABEL, &trailing)).err(),
        Some(PemError::MalformedDer)
    );
    // An Ed25519 private key that is not wrapped in its inner OCTET STRING.
    let bare = pkcs8_pem(algorithm_identifier(KeyType::Ed25519), &[7u8; 32], None);
    assert_eq!(private_from_pem(&bare).err(), Some(PemError::MalformedDer));
    // SEC1 version 2.
    let mut sec1 = der_of(OPENSSL_P256_SEC1);
    assert_eq!(sec1[2..5], [0x02, 0x01, 0x01]);
    sec1[4] = 2;
    assert_eq!(
        private_from_pem(&pem_of(SEC1_LABEL, &sec1)).err(),
        Some(PemError::MalformedDer)
    );
}

#[test]
fn bit_string_with_unused_bits_is_rejected() {
    let public = label_key(KeyType::Ed25519).public_key().to_bytes();
    let mut even = public.clone();
    even[31] &= 0xfe;
    let bits = BitStringRef::new(1, &even).unwrap();
    let pem = spki_pem(algorithm_identifier(KeyType::Ed25519), bits);
    assert_eq!(public_from_pem(&pem), Err(PemError::MalformedDer));
}

#[test]
fn algorithms_other_than_the_four_are_rejected() {
    assert_eq!(
        private_from_pem(OPENSSL_ED448_PRIVATE).err(),
        Some(PemError::UnsupportedAlgorithm)
    );
    assert_eq!(
        public_from_pem(OPENSSL_ED448_PUBLIC),
        Err(PemError::UnsupportedAlgorithm)
    );
    let rsa = AlgorithmIdentifierRef {
        oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1"),
        parameters: Some(NULL_PARAMETERS),
    };
    let pem = spki_pem(rsa, BitStringRef::from_bytes(&[0x30, 0x00]).unwrap());
    assert_eq!(public_from_pem(&pem), Err(PemError::UnsupportedAlgorithm));
}

#[test]
fn curves_other_than_secp256k1_and_p256_are_rejected() {
    assert_eq!(
        private_from_pem(OPENSSL_P384_PRIVATE).err(),
        Some(PemError::UnsupportedCurve)
    );
    assert_eq!(
        private_from_pem(OPENSSL_P256_EXPLICIT_SEC1).err(),
        Some(PemError::UnsupportedCurve)
    );
    // SEC1 without parameters names no curve.
    let key = label_key(KeyType::P256);
    let sec1 = ec_inner(key.to_bytes().as_slice(), None, None);
    assert_eq!(
        private_from_pem(&pem_of(SEC1_LABEL, &sec1)).err(),
        Some(PemError::UnsupportedCurve)
    );
    // ecPublicKey without, or with NULL, parameters.
    let raw = key.public_key().to_bytes();
    for parameters in [None, Some(NULL_PARAMETERS)] {
        let algorithm = AlgorithmIdentifierRef {
            oid: EC_PUBLIC_KEY_OID,
            parameters,
        };
        let pem = spki_pem(algorithm, BitStringRef::from_bytes(&raw).unwrap());
        assert_eq!(public_from_pem(&pem), Err(PemError::UnsupportedCurve));
    }
}

#[test]
fn parameters_on_ed25519_and_x25519_are_rejected() {
    for key_type in [KeyType::Ed25519, KeyType::X25519] {
        let key = label_key(key_type);
        let mut algorithm = algorithm_identifier(key_type);
        algorithm.parameters = Some(NULL_PARAMETERS);
        let private = pkcs8_pem(algorithm, &okp_inner(key.to_bytes().as_slice()), None);
        assert_eq!(
            private_from_pem(&private).err(),
            Some(PemError::UnexpectedParameters)
        );
        let raw = key.public_key().to_bytes();
        let public = spki_pem(algorithm, BitStringRef::from_bytes(&raw).unwrap());
        assert_eq!(
            public_from_pem(&public),
            Err(PemError::UnexpectedParameters)
        );
    }
}

#[test]
fn ec_private_key_naming_a_second_curve_is_rejected() {
    let key = label_key(KeyType::Secp256k1);
    let inner = ec_inner(key.to_bytes().as_slice(), Some(&P256_OID), None);
    let pem = pkcs8_pem(algorithm_identifier(KeyType::Secp256k1), &inner, None);
    assert_eq!(private_from_pem(&pem).err(), Some(PemError::CurveMismatch));
    // The same curve named twice is fine.
    let inner = ec_inner(key.to_bytes().as_slice(), Some(&SECP256K1_OID), None);
    let pem = pkcs8_pem(algorithm_identifier(KeyType::Secp256k1), &inner, None);
    assert_eq!(*private_from_pem(&pem).unwrap().to_bytes(), *key.to_bytes());
}

#[test]
fn private_keys_that_are_not_32_bytes_are_rejected() {
    let short = PemError::PrivateKeyLength {
        expected: 32,
        found: 31,
    };
    for key_type in KeyType::ALL {
        let inner = match key_type {
            KeyType::Ed25519 | KeyType::X25519 => okp_inner(&[7u8; 31]),
            _ => ec_inner(&[7u8; 31], None, None),
        };
        let pem = pkcs8_pem(algorithm_identifier(key_type), &inner, None);
        assert_eq!(private_from_pem(&pem).err(), Some(short), "{key_type}");
    }
    let sec1 = ec_inner(&[7u8; 33], Some(&P256_OID), None);
    assert_eq!(
        private_from_pem(&pem_of(SEC1_LABEL, &sec1)).err(),
        Some(PemError::PrivateKeyLength {
            expected: 32,
            found: 33
        })
    );
}

#[test]
fn ec_scalars_out_of_range_are_rejected() {
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        for scalar in [[0u8; 32], [0xffu8; 32]] {
            let inner = ec_inner(&scalar, None, None);
            let pem = pkcs8_pem(algorithm_identifier(key_type), &inner, None);
            assert_eq!(
                private_from_pem(&pem).err(),
                Some(PemError::InvalidPrivateKey),
                "{key_type}"
            );
        }
    }
}

#[test]
fn compressed_ec_public_keys_are_rejected() {
    assert_eq!(
        public_from_pem(OPENSSL_SECP256K1_COMPRESSED_PUBLIC),
        Err(PemError::CompressedPublicKey)
    );
}

#[test]
fn invalid_public_points_are_rejected() {
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        let mut not_on_curve = [1u8; 65];
        not_on_curve[0] = 0x04;
        let pem = spki_pem(
            algorithm_identifier(key_type),
            BitStringRef::from_bytes(&not_on_curve).unwrap(),
        );
        assert_eq!(
            public_from_pem(&pem),
            Err(PemError::InvalidPublicKey),
            "{key_type}"
        );
    }
    // y = 2 has no x on edwards25519.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    let pem = spki_pem(
        algorithm_identifier(KeyType::Ed25519),
        BitStringRef::from_bytes(&not_a_point).unwrap(),
    );
    assert_eq!(public_from_pem(&pem), Err(PemError::InvalidPublicKey));
    let pem = spki_pem(
        algorithm_identifier(KeyType::X25519),
        BitStringRef::from_bytes(&[9u8; 31]).unwrap(),
    );
    assert_eq!(public_from_pem(&pem), Err(PemError::InvalidPublicKey));
}

#[test]
fn debug_of_private_pem_text_shows_no_key_material() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let text = private_to_pem(&key);
        let body: String = text
            .as_str()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(b64_decode(&body).is_ok());
        let debug = format!("{text:?}");
        assert!(debug.starts_with("SecretText"), "{debug}");
        assert!(!debug.contains(&body[..16]), "{debug}");
        assert!(!debug.contains("PRIVATE"), "{debug}");
        let key_debug = format!("{:?}", private_from_pem(text.as_str()).unwrap());
        assert!(!key_debug.contains(&crate::encoding::hex_encode(key.to_bytes().as_slice())));
    }
}

#[test]
fn errors_display_a_cause_and_convert_to_key_error() {
    assert_eq!(
        PemError::PrivateKeyLength {
            expected: 32,
            found: 31
        }
        .to_string(),
        "private key must be 32 bytes, found 31"
    );
    assert_eq!(
        PemError::UnsupportedCurve.to_string(),
        "unsupported EC curve (expected named curve secp256k1 or P-256)"
    );
    assert_eq!(KeyError::from(PemError::Malformed), KeyError::InvalidPem);
}
