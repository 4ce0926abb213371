//! Tests of the transport envelopes: exact JSON shapes, strict bounded
//! decoding, the payload signature and the header mirror.

use std::collections::BTreeMap;

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;

use super::*;
use crate::jcs::ErrorCause;
use crate::primitives::{KeyType, SigningKey};

fn message() -> WireMessage {
    WireMessage {
        id: "6f1c2b9e-1d2a-4c3b-9a8f-0e1d2c3b4a59".into(),
        context_id: "ctx-1".into(),
        task_id: "hpke/complete@v1".into(),
        payload: b"{\"hello\":\"world\"}".to_vec(),
        did: "did:sage:ethereum:0x1111111111111111111111111111111111111111".into(),
        signature: vec![0xfb, 0xff],
        metadata: BTreeMap::from([("cookie".to_owned(), "c00kie".to_owned())]),
        role: "user".into(),
    }
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[test]
fn wire_message_json_has_the_go_member_order_and_standard_base64() {
    assert_eq!(
        text(message().to_json()),
        concat!(
            r#"{"id":"6f1c2b9e-1d2a-4c3b-9a8f-0e1d2c3b4a59","context_id":"ctx-1","#,
            r#""task_id":"hpke/complete@v1","payload":"eyJoZWxsbyI6IndvcmxkIn0=","#,
            r#""did":"did:sage:ethereum:0x1111111111111111111111111111111111111111","#,
            r#""signature":"+/8=","metadata":{"cookie":"c00kie"},"role":"user"}"#
        )
    );
}

#[test]
fn wire_message_leaves_out_empty_optional_members() {
    let minimal = WireMessage {
        id: "m".into(),
        payload: vec![1],
        did: "did:x".into(),
        signature: vec![2],
        ..WireMessage::default()
    };
    assert_eq!(
        text(minimal.to_json()),
        r#"{"id":"m","payload":"AQ==","did":"did:x","signature":"Ag=="}"#
    );
}

#[test]
fn wire_message_round_trips() {
    let original = message();
    assert_eq!(
        WireMessage::from_json(&original.to_json()).unwrap(),
        original
    );
}

#[test]
fn wire_message_accepts_go_nulls_and_ignores_unknown_members() {
    let decoded = WireMessage::from_json(
        br#"{"id":"m","did":"d","payload":null,"signature":null,"metadata":null,"extra":[1,{"a":2}]}"#,
    )
    .unwrap();
    assert!(decoded.payload.is_empty());
    assert!(decoded.signature.is_empty());
    assert!(decoded.metadata.is_empty());
}

#[test]
fn wire_message_requires_id_and_did() {
    assert_eq!(
        WireMessage::from_json(br#"{"did":"d"}"#).unwrap_err(),
        TransportError::MissingMember("id")
    );
    assert_eq!(
        WireMessage::from_json(br#"{"id":"m"}"#).unwrap_err(),
        TransportError::MissingMember("did")
    );
}

#[test]
fn wire_message_refuses_duplicate_members_at_any_level() {
    let err = WireMessage::from_json(br#"{"id":"m","did":"a","did":"b"}"#).unwrap_err();
    assert!(
        matches!(&err, TransportError::Json(e) if matches!(e.cause(), ErrorCause::DuplicateKey(k) if k == "did")),
        "{err:?}"
    );
    let err = WireMessage::from_json(br#"{"id":"m","did":"a","metadata":{"k":"1","k":"2"}}"#)
        .unwrap_err();
    assert!(matches!(err, TransportError::Json(_)), "{err:?}");
}

#[test]
fn wire_message_refuses_wrong_types() {
    for (json, member) in [
        (&br#"{"id":1,"did":"d"}"#[..], "id"),
        (br#"{"id":"m","did":"d","payload":5}"#, "payload"),
        (br#"{"id":"m","did":"d","metadata":{"k":1}}"#, "metadata"),
        (br#"{"id":"m","did":"d","metadata":["k"]}"#, "metadata"),
        (br#"{"id":"m","did":"d","role":true}"#, "role"),
    ] {
        assert_eq!(
            WireMessage::from_json(json).unwrap_err(),
            TransportError::WrongType(member)
        );
    }
    assert_eq!(
        WireMessage::from_json(b"[]").unwrap_err(),
        TransportError::NotAnObject
    );
}

#[test]
fn wire_message_base64_must_be_standard_and_padded() {
    for payload in ["AQ", "-_8=", "A Q=="] {
        let json = format!(r#"{{"id":"m","did":"d","payload":"{payload}"}}"#);
        assert_eq!(
            WireMessage::from_json(json.as_bytes()).unwrap_err(),
            TransportError::Base64("payload"),
            "{payload}"
        );
    }
}

#[test]
fn wire_message_sizes_are_checked_before_decoding() {
    let big = format!(r#"{{"id":"m","did":"d","payload":"{}"}}"#, "A".repeat(100));
    assert_eq!(
        WireMessage::from_json_with_limit(big.as_bytes(), 64).unwrap_err(),
        TransportError::TooLarge {
            limit: 64,
            found: big.len()
        }
    );

    let long_did = format!(r#"{{"id":"m","did":"{}"}}"#, "d".repeat(MAX_DID_LEN + 1));
    assert_eq!(
        WireMessage::from_json(long_did.as_bytes()).unwrap_err(),
        TransportError::MemberTooLong {
            member: "did",
            limit: MAX_DID_LEN
        }
    );

    // One byte more than the signature limit, refused on its encoded length.
    let long_sig = format!(
        r#"{{"id":"m","did":"d","signature":"{}"}}"#,
        crate::encoding::b64_encode(&[0; MAX_SIGNATURE_LEN + 3])
    );
    assert_eq!(
        WireMessage::from_json(long_sig.as_bytes()).unwrap_err(),
        TransportError::MemberTooLong {
            member: "signature",
            limit: MAX_SIGNATURE_LEN
        }
    );

    let entries: Vec<String> = (0..=MAX_METADATA_ENTRIES)
        .map(|i| format!(r#""k{i}":"v""#))
        .collect();
    let many = format!(
        r#"{{"id":"m","did":"d","metadata":{{{}}}}}"#,
        entries.join(",")
    );
    assert_eq!(
        WireMessage::from_json(many.as_bytes()).unwrap_err(),
        TransportError::TooManyMetadataEntries {
            limit: MAX_METADATA_ENTRIES
        }
    );

    let long_value = format!(
        r#"{{"id":"m","did":"d","metadata":{{"k":"{}"}}}}"#,
        "v".repeat(MAX_METADATA_VALUE_LEN + 1)
    );
    assert_eq!(
        WireMessage::from_json(long_value.as_bytes()).unwrap_err(),
        TransportError::MemberTooLong {
            member: "metadata",
            limit: MAX_METADATA_VALUE_LEN
        }
    );
}

#[test]
fn payload_signature_covers_the_raw_payload_bytes() {
    let mut rng = UnwrapErr(SysRng);
    for key_type in [KeyType::Ed25519, KeyType::Secp256k1, KeyType::P256] {
        let key = SigningKey::generate(key_type, &mut rng).unwrap();
        let mut m = message();
        m.sign_payload(&key);
        key.verifying_key()
            .verify(&m.payload, &m.signature)
            .unwrap();
        m.verify_payload(&key.verifying_key()).unwrap();

        // The envelope is not signed: changing other members keeps it valid.
        let mut other = m.clone();
        other.id = "another".into();
        other.verify_payload(&key.verifying_key()).unwrap();

        let mut tampered = m.clone();
        tampered.payload.push(b' ');
        assert_eq!(
            tampered.verify_payload(&key.verifying_key()).unwrap_err(),
            TransportError::SignatureInvalid
        );
        let stranger = SigningKey::generate(key_type, &mut rng).unwrap();
        assert_eq!(
            m.verify_payload(&stranger.verifying_key()).unwrap_err(),
            TransportError::SignatureInvalid
        );
        m.signature.clear();
        assert_eq!(
            m.verify_payload(&key.verifying_key()).unwrap_err(),
            TransportError::SignatureMissing
        );
    }
}

#[test]
fn wire_response_json_has_the_go_shape() {
    let ok = WireResponse {
        success: true,
        message_id: "m".into(),
        task_id: "t".into(),
        data: b"hi".to_vec(),
        error: String::new(),
    };
    assert_eq!(
        text(ok.to_json()),
        r#"{"success":true,"message_id":"m","task_id":"t","data":"aGk="}"#
    );
    assert_eq!(WireResponse::from_json(&ok.to_json()).unwrap(), ok);

    let failed = WireResponse {
        success: false,
        message_id: "m".into(),
        error: "authentication failed".into(),
        ..WireResponse::default()
    };
    assert_eq!(
        text(failed.to_json()),
        r#"{"success":false,"message_id":"m","error":"authentication failed"}"#
    );
    assert_eq!(WireResponse::from_json(&failed.to_json()).unwrap(), failed);
}

#[test]
fn wire_response_requires_a_boolean_success() {
    assert_eq!(
        WireResponse::from_json(br#"{"message_id":"m"}"#).unwrap_err(),
        TransportError::MissingMember("success")
    );
    assert_eq!(
        WireResponse::from_json(br#"{"success":"true"}"#).unwrap_err(),
        TransportError::WrongType("success")
    );
    assert_eq!(
        WireResponse::from_json(br#"{"success":true,"data":null}"#)
            .unwrap()
            .data,
        Vec::<u8>::new()
    );
}

#[test]
fn mirror_headers_copy_the_envelope_and_pass_their_own_check() {
    let m = message();
    let headers = m.mirror_headers().unwrap();
    let expected: Vec<(String, String)> = [
        ("X-SAGE-DID", m.did.as_str()),
        ("X-SAGE-Message-ID", m.id.as_str()),
        ("X-SAGE-Context-ID", "ctx-1"),
        ("X-SAGE-Task-ID", "hpke/complete@v1"),
        ("X-SAGE-Meta-cookie", "c00kie"),
    ]
    .into_iter()
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(headers, expected);
    m.check_headers(headers.iter().map(|(n, v)| (n, v)))
        .unwrap();

    let minimal = WireMessage {
        id: "m".into(),
        did: "d".into(),
        ..WireMessage::default()
    };
    assert_eq!(minimal.mirror_headers().unwrap().len(), 2);
}

#[test]
fn header_names_compare_without_case_and_unrelated_headers_are_ignored() {
    let m = message();
    m.check_headers([
        ("x-sage-did", m.did.as_str()),
        ("X-Sage-Message-Id", m.id.as_str()),
        ("x-sage-meta-COOKIE", "c00kie"),
        ("Content-Type", "application/json"),
    ])
    .unwrap();
    // Absent mirrors are not a disagreement.
    m.check_headers(Vec::<(&str, &str)>::new()).unwrap();
}

#[test]
fn each_disagreeing_header_is_rejected() {
    let m = message();
    for (name, header) in [
        (HEADER_DID, MirrorHeader::Did),
        (HEADER_MESSAGE_ID, MirrorHeader::MessageId),
        (HEADER_CONTEXT_ID, MirrorHeader::ContextId),
        (HEADER_TASK_ID, MirrorHeader::TaskId),
        ("X-SAGE-Meta-cookie", MirrorHeader::Meta),
    ] {
        assert_eq!(
            m.check_headers([(name, "something else")]).unwrap_err(),
            TransportError::HeaderMismatch(header),
            "{name}"
        );
    }
    // A header for metadata the body does not have.
    assert_eq!(
        m.check_headers([("X-SAGE-Meta-role", "admin")])
            .unwrap_err(),
        TransportError::HeaderMismatch(MirrorHeader::Meta)
    );
    // A context header on a message without a context.
    let mut no_ctx = message();
    no_ctx.context_id.clear();
    assert_eq!(
        no_ctx
            .check_headers([(HEADER_CONTEXT_ID, "ctx-1")])
            .unwrap_err(),
        TransportError::HeaderMismatch(MirrorHeader::ContextId)
    );
}

#[test]
fn repeated_mirror_headers_are_rejected() {
    let m = message();
    assert_eq!(
        m.check_headers([(HEADER_DID, m.did.as_str()), ("x-sage-did", m.did.as_str())])
            .unwrap_err(),
        TransportError::HeaderRepeated(MirrorHeader::Did)
    );
    assert_eq!(
        m.check_headers([
            ("X-SAGE-Meta-cookie", "c00kie"),
            ("X-SAGE-Meta-Cookie", "c00kie")
        ])
        .unwrap_err(),
        TransportError::HeaderRepeated(MirrorHeader::Meta)
    );
}

#[test]
fn metadata_keys_differing_only_in_case_cannot_be_mirrored_unambiguously() {
    let mut m = message();
    m.metadata.insert("Cookie".into(), "other".into());
    assert_eq!(
        m.check_headers([("X-SAGE-Meta-cookie", "c00kie")])
            .unwrap_err(),
        TransportError::HeaderMismatch(MirrorHeader::Meta)
    );
}

#[test]
fn values_that_cannot_travel_in_a_header_are_refused() {
    for (edit, header) in [
        (
            (|m: &mut WireMessage| m.did = "did:x\r\nX-Injected: 1".into()) as fn(&mut WireMessage),
            MirrorHeader::Did,
        ),
        (
            |m: &mut WireMessage| m.id = " padded".into(),
            MirrorHeader::MessageId,
        ),
        (
            |m: &mut WireMessage| m.task_id = "tâche".into(),
            MirrorHeader::TaskId,
        ),
        (
            |m: &mut WireMessage| {
                m.metadata.insert("bad key".into(), "v".into());
            },
            MirrorHeader::Meta,
        ),
        (
            |m: &mut WireMessage| {
                m.metadata.insert("k".into(), "line\nbreak".into());
            },
            MirrorHeader::Meta,
        ),
    ] {
        let mut m = message();
        edit(&mut m);
        assert_eq!(
            m.mirror_headers().unwrap_err(),
            TransportError::InvalidHeaderValue(header)
        );
    }
}
