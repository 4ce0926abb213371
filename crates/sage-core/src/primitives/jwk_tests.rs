use serde_json::json;

use super::*;
use crate::encoding::hex_decode;

fn label_key(key_type: KeyType) -> PrivateKey {
    PrivateKey::from_label(key_type, &format!("sage-core/jwk-test/{}", key_type.name())).unwrap()
}

/// A public JWK of `key_type` with its members as a mutable object.
fn public_object(key_type: KeyType) -> Map<String, Value> {
    match public_to_document_jwk(&label_key(key_type).public_key()) {
        Value::Object(members) => members,
        other => panic!("not an object: {other}"),
    }
}

fn private_object(key_type: KeyType) -> Map<String, Value> {
    serde_json::from_str(private_to_jwk(&label_key(key_type)).as_str()).unwrap()
}

fn with(mut members: Map<String, Value>, name: &str, value: Value) -> Value {
    members.insert(name.into(), value);
    Value::Object(members)
}

fn without(mut members: Map<String, Value>, name: &str) -> Value {
    members.remove(name);
    Value::Object(members)
}

fn import_private(jwk: &Value) -> Result<PrivateKey, JwkError> {
    private_from_jwk(&jwk.to_string())
}

// RFC 8037 Appendix A.1 / A.2.
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

#[test]
fn public_jwk_round_trips_for_every_key_type() {
    for key_type in KeyType::ALL {
        let public = label_key(key_type).public_key();
        let jwk = public_to_jwk(&public);
        assert_eq!(public_from_jwk(&jwk), Ok(public), "{key_type}");
        assert_eq!(
            public_from_jwk_str(&jwk.to_string()),
            Ok(public),
            "{key_type}"
        );
        let document = public_to_document_jwk(&public);
        assert_eq!(
            public_from_document_jwk(&document),
            Ok(public),
            "{key_type}"
        );
    }
}

#[test]
fn private_jwk_round_trips_for_every_key_type() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let text = private_to_jwk(&key);
        let back = private_from_jwk(text.as_str()).unwrap();
        assert_eq!(back.key_type(), key_type);
        assert_eq!(*back.to_bytes(), *key.to_bytes(), "{key_type}");
        assert_eq!(back.public_key(), key.public_key(), "{key_type}");
    }
}

#[test]
fn jwk_members_follow_the_mapping_of_section_10_1() {
    let expected = [
        (KeyType::Ed25519, "OKP", "Ed25519", false),
        (KeyType::X25519, "OKP", "X25519", false),
        (KeyType::Secp256k1, "EC", "secp256k1", true),
        (KeyType::P256, "EC", "P-256", true),
    ];
    for (key_type, kty, crv, has_y) in expected {
        let public = label_key(key_type).public_key();
        let raw = public.to_bytes();
        let jwk = public_to_jwk(&public);
        assert_eq!(jwk["kty"], kty);
        assert_eq!(jwk["crv"], crv);
        assert_eq!(jwk["kid"], public.key_id().as_str());
        if has_y {
            assert_eq!(jwk["x"], b64url_encode(&raw[1..33]).as_str());
            assert_eq!(jwk["y"], b64url_encode(&raw[33..]).as_str());
        } else {
            assert_eq!(jwk["x"], b64url_encode(&raw).as_str());
            assert!(jwk.get("y").is_none());
        }
        let document = public_to_document_jwk(&public);
        let mut names: Vec<&str> = document
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        let required: &[&str] = if has_y {
            &["crv", "kty", "x", "y"]
        } else {
            &["crv", "kty", "x"]
        };
        assert_eq!(names, required, "{key_type}");
    }
}

#[test]
fn private_jwk_carries_d_and_the_key_id() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let members = private_object(key_type);
        assert_eq!(
            members["d"],
            b64url_encode(key.to_bytes().as_slice()).as_str()
        );
        assert_eq!(members["kid"], key.public_key().key_id().as_str());
        let public = public_to_jwk(&key.public_key());
        for name in ["kty", "crv", "x", "y"] {
            assert_eq!(members.get(name), public.get(name), "{key_type} {name}");
        }
    }
}

#[test]
fn private_jwk_text_never_outgrows_its_first_buffer() {
    for key_type in KeyType::ALL {
        let text = private_to_jwk(&label_key(key_type)).into_zeroizing();
        assert_eq!(text.capacity(), PRIVATE_JWK_CAPACITY, "{key_type}");
        assert!(text.len() <= PRIVATE_JWK_CAPACITY);
    }
}

#[test]
fn rfc8037_ed25519_private_jwk_imports_to_its_public_key() {
    let jwk = format!(r#"{{"kty":"OKP","crv":"Ed25519","d":"{RFC8037_D}","x":"{RFC8037_X}"}}"#);
    let key = private_from_jwk(&jwk).unwrap();
    assert_eq!(key.key_type(), KeyType::Ed25519);
    let x = crate::encoding::b64url_decode(RFC8037_X).unwrap();
    assert_eq!(key.public_key().to_bytes(), x);
    let public = public_from_jwk(&json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X}));
    assert_eq!(public, Ok(key.public_key()));
    // RFC 8037 A.3: the thumbprint.
    assert_eq!(
        jwk_thumbprint(&key.public_key()),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    // RFC 8037 A.4: the imported key signs the JWS input as the RFC does.
    let signature = key
        .as_signing()
        .unwrap()
        .sign(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
    assert_eq!(
        b64url_encode(&signature),
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
}

#[test]
fn rfc7748_x25519_key_pair_imports_as_okp_x25519() {
    // RFC 7748 §6.1 Bob, as RFC 8037 A.6 writes his public key.
    let d = hex_decode("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb").unwrap();
    let x = "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08";
    let jwk = json!({"kty": "OKP", "crv": "X25519", "x": x, "d": b64url_encode(&d)});
    let key = import_private(&jwk).unwrap();
    assert_eq!(key.key_type(), KeyType::X25519);
    assert_eq!(public_to_jwk(&key.public_key())["x"], x);
}

#[test]
fn thumbprint_hashes_the_required_members_in_lexicographic_order() {
    for key_type in KeyType::ALL {
        let public = label_key(key_type).public_key();
        // serde_json's map is sorted and `to_string` is compact: an
        // independent spelling of the RFC 7638 input.
        let canonical = serde_json::to_string(&public_to_document_jwk(&public)).unwrap();
        assert!(canonical.starts_with(r#"{"crv":"#), "{canonical}");
        assert_eq!(
            jwk_thumbprint(&public),
            b64url_encode(&sha256(canonical.as_bytes()))
        );
    }
}

#[test]
fn kid_use_key_ops_and_unknown_members_are_ignored() {
    for key_type in KeyType::ALL {
        let public = label_key(key_type).public_key();
        let mut members = public_object(key_type);
        members.insert("kid".into(), json!("not-the-key-id"));
        members.insert("use".into(), json!("sig"));
        members.insert("key_ops".into(), json!(["verify"]));
        members.insert("x5t".into(), json!(7));
        let jwk = Value::Object(members);
        assert_eq!(public_from_jwk(&jwk), Ok(public));
        assert_eq!(public_from_jwk_str(&jwk.to_string()), Ok(public));
    }
}

#[test]
fn alg_that_fits_the_key_is_accepted() {
    let fitting = [
        (KeyType::Ed25519, "EdDSA"),
        (KeyType::Ed25519, "Ed25519"),
        (KeyType::Secp256k1, "ES256K"),
        (KeyType::P256, "ES256"),
        (KeyType::X25519, "ECDH-ES"),
        (KeyType::X25519, "ECDH-ES+A256KW"),
    ];
    for (key_type, alg) in fitting {
        let jwk = with(public_object(key_type), "alg", json!(alg));
        assert!(public_from_jwk(&jwk).is_ok(), "{key_type} {alg}");
        let private = with(private_object(key_type), "alg", json!(alg));
        assert!(import_private(&private).is_ok(), "{key_type} {alg}");
    }
}

#[test]
fn alg_that_contradicts_the_key_is_rejected() {
    let contradicting = [
        (KeyType::Secp256k1, "ES256"),
        (KeyType::P256, "ES256K"),
        (KeyType::Ed25519, "ES256"),
        (KeyType::X25519, "EdDSA"),
        (KeyType::Ed25519, "ECDH-ES"),
        (KeyType::Secp256k1, "es256k"),
        (KeyType::P256, "none"),
    ];
    for (key_type, alg) in contradicting {
        let jwk = with(public_object(key_type), "alg", json!(alg));
        assert_eq!(
            public_from_jwk(&jwk),
            Err(JwkError::AlgorithmMismatch),
            "{key_type} {alg}"
        );
        let private = with(private_object(key_type), "alg", json!(alg));
        assert_eq!(
            import_private(&private).err(),
            Some(JwkError::AlgorithmMismatch)
        );
    }
    let jwk = with(public_object(KeyType::P256), "alg", json!(256));
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::NotAString("alg")));
}

#[test]
fn padded_or_standard_alphabet_base64_is_rejected() {
    let members = public_object(KeyType::Ed25519);
    let x = members["x"].as_str().unwrap().to_owned();
    let padded = with(members.clone(), "x", json!(format!("{x}=")));
    assert_eq!(public_from_jwk(&padded), Err(JwkError::NotBase64Url("x")));
    // The same 32 bytes in the standard alphabet.
    let standard = x.replace('-', "+").replace('_', "/");
    let standard = if standard == x {
        format!("+{}", &x[1..])
    } else {
        standard
    };
    let standard = with(members.clone(), "x", json!(standard));
    assert_eq!(public_from_jwk(&standard), Err(JwkError::NotBase64Url("x")));
    let spaced = with(members, "x", json!(format!("{} {}", &x[..20], &x[20..])));
    assert_eq!(public_from_jwk(&spaced), Err(JwkError::NotBase64Url("x")));
}

#[test]
fn base64url_with_non_zero_trailing_bits_is_rejected() {
    let members = public_object(KeyType::Ed25519);
    let x = members["x"].as_str().unwrap().to_owned();
    // 43 characters carry 258 bits; the last two must be zero. Setting the
    // lowest bit of the last character gives a second spelling of the key.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = ALPHABET
        .iter()
        .position(|&c| c == *x.as_bytes().last().unwrap())
        .unwrap();
    let mut other = x[..42].to_owned();
    other.push(char::from(ALPHABET[last | 1]));
    let jwk = with(members, "x", json!(other));
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::NotBase64Url("x")));
}

#[test]
fn coordinates_of_the_wrong_length_are_rejected() {
    let short = b64url_encode(&[7u8; 31]);
    let jwk = with(public_object(KeyType::X25519), "x", json!(short));
    assert_eq!(
        public_from_jwk(&jwk),
        Err(JwkError::Length {
            member: "x",
            expected: 32,
            found: 31
        })
    );
    let long = b64url_encode(&[7u8; 33]);
    let jwk = with(public_object(KeyType::P256), "y", json!(long));
    assert_eq!(
        public_from_jwk(&jwk),
        Err(JwkError::Length {
            member: "y",
            expected: 32,
            found: 33
        })
    );
    let jwk = with(private_object(KeyType::Secp256k1), "d", json!(short));
    assert_eq!(
        import_private(&jwk).err(),
        Some(JwkError::Length {
            member: "d",
            expected: 32,
            found: 31
        })
    );
    let jwk = with(private_object(KeyType::Ed25519), "d", json!("AA=="));
    assert_eq!(
        import_private(&jwk).err(),
        Some(JwkError::NotBase64Url("d"))
    );
}

#[test]
fn points_that_are_not_on_the_curve_are_rejected() {
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        let mut members = public_object(key_type);
        members.insert("y".into(), json!(b64url_encode(&[1u8; 32])));
        assert_eq!(
            public_from_jwk(&Value::Object(members)),
            Err(JwkError::InvalidPublicKey),
            "{key_type}"
        );
    }
    // y = 2 has no x on edwards25519.
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2;
    let jwk = with(
        public_object(KeyType::Ed25519),
        "x",
        json!(b64url_encode(&not_a_point)),
    );
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::InvalidPublicKey));
}

#[test]
fn private_d_that_does_not_match_the_public_key_is_rejected() {
    for key_type in KeyType::ALL {
        let other = PrivateKey::from_label(key_type, "sage-core/jwk-test/other").unwrap();
        let jwk = with(
            private_object(key_type),
            "d",
            json!(b64url_encode(other.to_bytes().as_slice())),
        );
        assert_eq!(
            import_private(&jwk).err(),
            Some(JwkError::PrivateKeyMismatch),
            "{key_type}"
        );
    }
}

#[test]
fn private_d_out_of_range_is_rejected() {
    let zero = b64url_encode(&[0u8; 32]);
    let above_order = b64url_encode(&[0xffu8; 32]);
    for key_type in [KeyType::Secp256k1, KeyType::P256] {
        for d in [&zero, &above_order] {
            let jwk = with(private_object(key_type), "d", json!(d));
            assert_eq!(
                import_private(&jwk).err(),
                Some(JwkError::InvalidPrivateKey),
                "{key_type}"
            );
        }
    }
}

#[test]
fn unknown_kty_and_crv_are_rejected() {
    let rsa = json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"});
    assert_eq!(public_from_jwk(&rsa), Err(JwkError::UnsupportedKeyType));
    let oct = json!({"kty": "oct", "k": "AAAA"});
    assert_eq!(public_from_jwk(&oct), Err(JwkError::UnsupportedKeyType));
    for (kty, crv) in [
        ("OKP", "Ed448"),
        ("OKP", "X448"),
        ("EC", "P-384"),
        ("EC", "Ed25519"),
        ("OKP", "P-256"),
        ("OKP", "ed25519"),
    ] {
        let mut members = public_object(KeyType::P256);
        members.insert("kty".into(), json!(kty));
        let jwk = with(members, "crv", json!(crv));
        assert_eq!(
            public_from_jwk(&jwk),
            Err(JwkError::UnsupportedCurve),
            "{kty} {crv}"
        );
    }
}

#[test]
fn missing_members_are_named() {
    for name in ["kty", "crv", "x"] {
        let jwk = without(public_object(KeyType::Ed25519), name);
        assert_eq!(public_from_jwk(&jwk), Err(JwkError::MissingMember(name)));
    }
    let jwk = without(public_object(KeyType::Secp256k1), "y");
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::MissingMember("y")));
    let jwk = without(private_object(KeyType::P256), "d");
    assert_eq!(
        import_private(&jwk).err(),
        Some(JwkError::MissingMember("d"))
    );
}

#[test]
fn y_on_an_okp_key_is_rejected() {
    for key_type in [KeyType::Ed25519, KeyType::X25519] {
        let jwk = with(
            public_object(key_type),
            "y",
            json!(b64url_encode(&[0u8; 32])),
        );
        assert_eq!(public_from_jwk(&jwk), Err(JwkError::UnexpectedMember("y")));
    }
}

#[test]
fn public_import_refuses_a_private_jwk() {
    for key_type in KeyType::ALL {
        let jwk = Value::Object(private_object(key_type));
        assert_eq!(public_from_jwk(&jwk), Err(JwkError::UnexpectedMember("d")));
        assert_eq!(
            public_from_jwk_str(&jwk.to_string()),
            Err(JwkError::UnexpectedMember("d"))
        );
        assert_eq!(
            public_from_document_jwk(&jwk),
            Err(JwkError::UnexpectedMember("d"))
        );
    }
}

#[test]
fn document_jwk_with_any_other_member_is_rejected() {
    for (name, value) in [
        ("kid", json!("k")),
        ("alg", json!("ES256")),
        ("use", json!("sig")),
        ("ext", json!(true)),
    ] {
        let jwk = with(public_object(KeyType::P256), name, value);
        assert_eq!(
            public_from_document_jwk(&jwk),
            Err(JwkError::ExtraMember),
            "{name}"
        );
    }
}

#[test]
fn members_of_the_wrong_json_type_are_rejected() {
    let jwk = with(public_object(KeyType::Ed25519), "x", json!(12));
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::NotAString("x")));
    assert_eq!(
        public_from_jwk_str(&jwk.to_string()),
        Err(JwkError::NotAString("x"))
    );
    let jwk = with(public_object(KeyType::Ed25519), "crv", json!(["Ed25519"]));
    assert_eq!(public_from_jwk(&jwk), Err(JwkError::NotAString("crv")));
    assert_eq!(
        public_from_jwk_str(&jwk.to_string()),
        Err(JwkError::NotAString("crv"))
    );
    let jwk = with(public_object(KeyType::Ed25519), "kty", json!(null));
    assert_eq!(
        public_from_jwk_str(&jwk.to_string()),
        Err(JwkError::NotAString("kty"))
    );
}

#[test]
fn text_that_is_not_a_json_object_is_rejected() {
    assert_eq!(public_from_jwk_str("{\"kty\":"), Err(JwkError::Json));
    assert_eq!(public_from_jwk_str("not json"), Err(JwkError::Json));
    assert_eq!(
        public_from_jwk_str(r#"["OKP"]"#),
        Err(JwkError::NotAnObject)
    );
    assert_eq!(public_from_jwk(&json!("OKP")), Err(JwkError::NotAnObject));
    assert_eq!(private_from_jwk("42").err(), Some(JwkError::NotAnObject));
    let text = private_to_jwk(&label_key(KeyType::Ed25519));
    let trailing = format!("{} {{}}", text.as_str());
    assert_eq!(private_from_jwk(&trailing).err(), Some(JwkError::Json));
}

#[test]
fn duplicate_members_in_text_are_rejected() {
    let text = private_to_jwk(&label_key(KeyType::Ed25519));
    let other = PrivateKey::from_label(KeyType::Ed25519, "sage-core/jwk-test/other").unwrap();
    let doubled = format!(
        r#"{},"d":"{}"}}"#,
        text.as_str().trim_end_matches('}'),
        b64url_encode(other.to_bytes().as_slice())
    );
    assert_eq!(
        private_from_jwk(&doubled).err(),
        Some(JwkError::DuplicateMember("d"))
    );
    let public = public_to_jwk(&label_key(KeyType::Ed25519).public_key()).to_string();
    let doubled_kid = format!(r#"{},"kid":"again"}}"#, public.trim_end_matches('}'));
    assert!(public_from_jwk_str(&doubled_kid).is_ok());
}

#[test]
fn escaped_strings_in_read_members_are_rejected() {
    let public = public_to_jwk(&label_key(KeyType::Ed25519).public_key()).to_string();
    let escaped = public.replace(r#""OKP""#, r#""\u004FKP""#);
    assert_ne!(escaped, public);
    assert_eq!(
        public_from_jwk_str(&escaped),
        Err(JwkError::EscapedString("kty"))
    );
    // Escapes elsewhere are fine: those members are not read.
    let kid = public.replace(r#""kid":""#, r#""kid":"\u0041"#);
    assert!(public_from_jwk_str(&kid).is_ok());
}

#[test]
fn debug_of_private_jwk_text_shows_no_key_material() {
    for key_type in KeyType::ALL {
        let key = label_key(key_type);
        let text = private_to_jwk(&key);
        let d = b64url_encode(key.to_bytes().as_slice());
        let debug = format!("{text:?}");
        assert!(debug.starts_with("SecretText"), "{debug}");
        assert!(!debug.contains(&d), "{debug}");
        assert!(!debug.contains("\"d\""), "{debug}");
    }
}

#[test]
fn errors_display_a_cause_and_convert_to_key_error() {
    let error = JwkError::Length {
        member: "x",
        expected: 32,
        found: 31,
    };
    assert_eq!(
        error.to_string(),
        "JWK member \"x\" must decode to 32 bytes, found 31"
    );
    assert_eq!(
        JwkError::AlgorithmMismatch.to_string(),
        "JWK alg contradicts the key type"
    );
    assert_eq!(KeyError::from(error), KeyError::InvalidJwk);
}
