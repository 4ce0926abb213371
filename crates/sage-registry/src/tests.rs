//! Unit tests of the pure parts: key names, problem details, the KEM
//! endorsement, the signed request's canonical form, version exhaustion.

use sage_core::did::{Chain, Did, DidError, sign_pop};
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_store::StoreError;

use crate::endorse::{endorse_kem_key, verify_kem_endorsement};
use crate::error::{RegistryError, RequestProblem, Unreachable};
use crate::model::{RecordState, RegistryRecord, key_name, key_position};
use crate::request::{Activate, NewKey, Register, Request, RequestHeader, RevokeKey};
use crate::transition::{self, MAX_VERSION};

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn did(name: &str) -> Did {
    Did::new(Chain::Ethereum, name).unwrap()
}

fn key(label: &str) -> SigningKey {
    SigningKey::from_label(KeyType::Ed25519, label).unwrap()
}

#[test]
fn key_names_are_positions_plus_one_and_nothing_else_parses() {
    assert_eq!(key_name(labels(), 0), "key-1");
    assert_eq!(key_name(labels(), 41), "key-42");
    for position in [0, 1, 9, 10, 127] {
        assert_eq!(
            key_position(labels(), &key_name(labels(), position)),
            Some(position)
        );
    }
    for name in ["key-0", "key-01", "key-", "key-1a", "kem-1", "key--1", "1"] {
        assert_eq!(key_position(labels(), name), None, "{name}");
    }
}

#[test]
fn resolution_errors_become_the_problems_of_section_10_5() {
    let cases: Vec<(RegistryError, &str, u16)> = vec![
        (DidError::TooShort.into(), "id.malformed", 400),
        (DidError::UnknownChain.into(), "id.unknown-kind", 400),
        (RegistryError::NotFound, "record.not-found", 404),
        (RegistryError::KeyNotInRecord, "key.not-in-record", 404),
        (
            RegistryError::Unreachable(Unreachable::Store(StoreError::InvalidUrl)),
            "record.unreachable",
            502,
        ),
        (RegistryError::InvalidRecord("x"), "record.invalid", 502),
        (RegistryError::Unauthorized, "registry.unauthorized", 403),
        (RegistryError::Replayed, "request.replayed", 409),
        (RegistryError::Stale, "request.stale", 400),
    ];
    for (error, code, status) in cases {
        let problem = error.problem();
        assert_eq!(problem.code, code);
        assert_eq!(problem.status, status, "{code}");
        assert_eq!(
            problem.problem_type,
            format!("https://sage-x-project.github.io/sage-spec/errors/{code}")
        );
        assert!(!problem.title.is_empty());
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], problem.problem_type.as_str());
        assert_eq!(json.as_object().unwrap().len(), 5);
    }
}

#[test]
fn problem_detail_never_carries_the_database_error() {
    let error = RegistryError::from_store(StoreError::UnsupportedScheme {
        scheme: "secret-host".into(),
    });
    assert_eq!(error.code(), "record.unreachable");
    assert!(!error.problem().detail.contains("secret-host"));
    assert_eq!(
        RegistryError::from_store(StoreError::TooLong {
            field: "DID",
            max: 512
        })
        .code(),
        "request.invalid"
    );
}

#[test]
fn kem_endorsement_holds_for_its_key_and_did_only() {
    let signer = key("endorse/signer");
    let kem = X25519Secret::from_bytes([7; 32]).public_key();
    let other_kem = X25519Secret::from_bytes([8; 32]).public_key();
    let alice = did("alice");
    let endorsement = endorse_kem_key(labels(), &alice, &kem, &signer);
    let public = signer.verifying_key();
    verify_kem_endorsement(labels(), &alice, kem.as_bytes(), &public, &endorsement).unwrap();
    assert!(
        verify_kem_endorsement(labels(), &did("bob"), kem.as_bytes(), &public, &endorsement)
            .is_err()
    );
    assert!(
        verify_kem_endorsement(
            labels(),
            &alice,
            other_kem.as_bytes(),
            &public,
            &endorsement
        )
        .is_err()
    );
    let stranger = key("endorse/stranger").verifying_key();
    assert!(
        verify_kem_endorsement(labels(), &alice, kem.as_bytes(), &stranger, &endorsement).is_err()
    );
    // It is the §8.5 computation over the KEM key's bytes: the signer's own
    // PoP endorses exactly the bytes of the signer's key, nothing else.
    let pop = sign_pop(labels(), &signer, &alice).unwrap();
    verify_kem_endorsement(labels(), &alice, &public.to_bytes(), &public, &pop).unwrap();
    assert!(verify_kem_endorsement(labels(), &alice, kem.as_bytes(), &public, &pop).is_err());
}

#[test]
fn signed_request_covers_its_canonical_json() {
    let signer = key("request/signer");
    let header = RequestHeader {
        did: did("agent"),
        nonce: "AAAAAAAAAAAAAAAAAAAAAAAA".into(),
        timestamp: Timestamp::from_unix_seconds(1_767_225_600),
        version: 3,
    };
    let request = Request::new(
        header.clone(),
        RevokeKey {
            key: "key-2".into(),
        },
    );
    assert_eq!(
        String::from_utf8(request.canonical_bytes()).unwrap(),
        r#"{"did":"did:sage:ethereum:agent","domain":"sage-local-registry/v1","key":"key-2","nonce":"AAAAAAAAAAAAAAAAAAAAAAAA","operation":"revoke-key","timestamp":1767225600,"version":3}"#
    );
    let signed = request.sign(&signer);
    signed.verify(&signer.verifying_key()).unwrap();
    // The same header for another operation is another message.
    let other = crate::request::SignedRequest::from_parts(
        Request::new(header, Activate),
        signed.signature().to_vec(),
    );
    assert!(other.verify(&signer.verifying_key()).is_err());
}

#[test]
fn a_record_at_the_largest_version_can_no_longer_change() {
    let controller = key("exhausted/controller");
    let agent = did("exhausted");
    let body = Register {
        name: "n".into(),
        description: String::new(),
        endpoint: "https://n.example/".into(),
        capabilities: serde_json::Map::new(),
        keys: vec![NewKey::signing(labels(), &controller, &agent).unwrap()],
    };
    let now = Timestamp::from_unix_seconds(1_767_225_600);
    let record: RegistryRecord = transition::register(labels(), &agent, &body, now).unwrap();
    assert_eq!((record.state, record.version), (RecordState::Created, 1));
    let at_max = RegistryRecord {
        version: MAX_VERSION,
        ..record
    };
    assert!(matches!(
        transition::activate(&at_max, now),
        Err(RegistryError::InvalidRequest(
            RequestProblem::VersionExhausted
        ))
    ));
}
