//! Who may change a record, and with what: proofs of possession, KEM key
//! endorsements, the controller's signature, nonces and freshness.

use core::time::Duration;

use sage_core::did::{Chain, Did};
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_registry::request::RequestHeader;
use sage_registry::{
    Activate, AddKey, LocalRegistry, LocalRegistryOptions, NewKey, Registry, RegistryError,
    Request, RequestProblem,
};

use crate::common::{Agent, ManualClock, T0, TestDb, active, labels, local, rng};

async fn registration_with_a_bad_proof_of_possession_is_rejected(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("bad-pop");

    let mut flipped = agent.registration();
    flipped.keys[0].proof[5] ^= 0x01;
    let error = registry
        .register(&agent.request(&clock, 0, flipped))
        .await
        .unwrap_err();
    assert!(matches!(&error, RegistryError::BadPop { key } if key == "key-1"));
    assert_eq!(error.code(), "pop.bad");

    // A proof made for another DID does not hold for this one.
    let elsewhere = Did::new(Chain::Ethereum, "elsewhere").unwrap();
    let mut foreign = agent.registration();
    foreign.keys[0] = NewKey::signing(labels(), &agent.controller, &elsewhere).unwrap();
    let error = registry
        .register(&agent.request(&clock, 0, foreign))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "pop.bad");

    // Nothing was stored: the DID is still free.
    assert!(matches!(
        registry.resolve(&agent.did).await,
        Err(RegistryError::NotFound)
    ));
    registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
}

async fn kem_key_needs_an_endorsement_by_a_signing_key_of_the_record(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("kem-endorsement");
    let stranger = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();

    // Endorsed by a key that is not in the record.
    let mut body = agent.registration();
    body.keys[1] = NewKey::kem(
        labels(),
        &agent.did,
        &agent.kem.public_key(),
        &stranger,
        "key-1",
    );
    let error = registry
        .register(&agent.request(&clock, 0, body))
        .await
        .unwrap_err();
    assert!(matches!(&error, RegistryError::BadPop { key } if key == "key-2"));

    // Naming the X25519 key itself, or nothing, as the endorser.
    let mut body = agent.registration();
    body.keys[1].endorsed_by = Some("key-2".into());
    let error = registry
        .register(&agent.request(&clock, 0, body))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RegistryError::InvalidRequest(RequestProblem::UnknownEndorser(_))
    ));
    let mut body = agent.registration();
    body.keys[1].endorsed_by = None;
    let error = registry
        .register(&agent.request(&clock, 0, body))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RegistryError::InvalidRequest(RequestProblem::Endorsement(_))
    ));

    // An X25519 key with the same bytes as the signing key is a reused key.
    let mut body = agent.registration();
    body.keys[1].key_data = agent.controller.verifying_key().to_bytes();
    let error = registry
        .register(&agent.request(&clock, 0, body))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        RegistryError::InvalidRequest(RequestProblem::DuplicateKey(_))
    ));

    // A KEM key added later must be endorsed by an accepted signing key.
    registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
    registry
        .activate(&agent.request(&clock, 1, Activate))
        .await
        .unwrap();
    let later = X25519Secret::generate(&mut rng());
    let mut key = NewKey::kem(
        labels(),
        &agent.did,
        &later.public_key(),
        &agent.controller,
        "key-1",
    );
    key.proof[0] ^= 0x80;
    let error = registry
        .add_key(&agent.request(&clock, 2, AddKey { key }))
        .await
        .unwrap_err();
    assert!(matches!(&error, RegistryError::BadPop { key } if key == "key-3"));
    assert_eq!(registry.record(&agent.did).await.unwrap().version, 2);
}

async fn added_signing_key_with_a_bad_proof_is_rejected(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("bad-added-pop");
    active(&registry, &clock, &agent).await;
    // A proof by the controller key, not by the key being added.
    let mut key = NewKey::signing(labels(), &agent.second, &agent.did).unwrap();
    key.proof = NewKey::signing(labels(), &agent.controller, &agent.did)
        .unwrap()
        .proof;
    let error = registry
        .add_key(&agent.request(&clock, 2, AddKey { key }))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "pop.bad");
    assert_eq!(error.problem().status, 400);
    assert_eq!(registry.record(&agent.did).await.unwrap().keys.len(), 2);
}

async fn request_not_signed_by_the_controller_is_unauthorized(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("unauthorised");

    // A registration signed by its second signing key, not its first.
    let mut body = agent.registration();
    body.keys
        .push(NewKey::signing(labels(), &agent.second, &agent.did).unwrap());
    let error = registry
        .register(&agent.sign(&clock, 0, body, &agent.second))
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::Unauthorized));
    assert_eq!(error.problem().status, 403);

    registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
    let stranger = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let error = registry
        .activate(&agent.sign(&clock, 1, Activate, &stranger))
        .await
        .unwrap_err();
    assert_eq!(error.code(), "registry.unauthorized");

    // A signature over other bytes: the request was altered after signing.
    let signed = agent.request(&clock, 1, Activate);
    let mut header = signed.header().clone();
    header.timestamp = header.timestamp.add_seconds(1);
    let altered = sage_registry::SignedRequest::from_parts(
        Request::new(header, Activate),
        signed.signature().to_vec(),
    );
    assert!(matches!(
        registry.activate(&altered).await,
        Err(RegistryError::Unauthorized)
    ));
    assert_eq!(registry.record(&agent.did).await.unwrap().version, 1);
}

async fn replayed_request_is_rejected_on_every_node(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("replay");
    let registration = agent.request(&clock, 0, agent.registration());
    registry.register(&registration).await.unwrap();
    let error = registry.register(&registration).await.unwrap_err();
    assert!(matches!(error, RegistryError::Replayed));
    assert_eq!(error.code(), "request.replayed");

    let activation = agent.request(&clock, 1, Activate);
    registry.activate(&activation).await.unwrap();
    assert!(matches!(
        registry.activate(&activation).await,
        Err(RegistryError::Replayed)
    ));
    // Another node on the same database remembers the nonce too.
    let other = LocalRegistry::new(db.open().await, clock.clone());
    assert!(matches!(
        other.activate(&activation).await,
        Err(RegistryError::Replayed)
    ));

    // A refused request cannot be replayed either once its signature held.
    let early = agent.request(&clock, 1, Activate);
    assert_eq!(
        registry.activate(&early).await.unwrap_err().code(),
        "registry.version-conflict"
    );
    assert_eq!(
        registry.activate(&early).await.unwrap_err().code(),
        "request.replayed"
    );
}

async fn stale_or_future_request_is_rejected(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("stale");
    let made_at_t0 = agent.request(&clock, 0, agent.registration());

    clock.advance(301);
    let error = registry.register(&made_at_t0).await.unwrap_err();
    assert!(matches!(error, RegistryError::Stale));
    assert_eq!(error.code(), "request.stale");

    // 301 s ahead of the registry's clock.
    let ahead = ManualClock::at(clock_now(&clock).add_seconds(301));
    let error = registry
        .register(&agent.request(&ahead, 0, agent.registration()))
        .await
        .unwrap_err();
    assert!(matches!(error, RegistryError::Stale));

    // Exactly at the edge of the window, either way, is accepted.
    let edge = ManualClock::at(clock_now(&clock).add_seconds(-300));
    registry
        .register(&agent.request(&edge, 0, agent.registration()))
        .await
        .unwrap();
    let edge = ManualClock::at(clock_now(&clock).add_seconds(300));
    registry
        .activate(&agent.request(&edge, 1, Activate))
        .await
        .unwrap();

    // The window is configurable.
    let strict = LocalRegistry::with_options(
        db.open().await,
        clock.clone(),
        LocalRegistryOptions::with_request_window(Duration::from_secs(10)),
    );
    let other = Agent::new("stale-strict");
    let old = ManualClock::at(clock_now(&clock).add_seconds(-11));
    assert!(matches!(
        strict
            .register(&other.request(&old, 0, other.registration()))
            .await,
        Err(RegistryError::Stale)
    ));
}

fn clock_now(clock: &ManualClock) -> sage_core::time::Timestamp {
    sage_store::Clock::now(clock)
}

async fn malformed_nonce_is_rejected(db: &TestDb) {
    let (registry, _) = local(db).await;
    let agent = Agent::new("nonce");
    for nonce in ["short", "has spaces in it!!", &"n".repeat(129)] {
        let header = RequestHeader {
            did: agent.did.clone(),
            nonce: nonce.to_owned(),
            timestamp: T0,
            version: 0,
        };
        let error = registry
            .register(&Request::new(header, agent.registration()).sign(&agent.controller))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                RegistryError::InvalidRequest(RequestProblem::BadNonce)
            ),
            "{nonce}: {error}"
        );
    }
}

both_engines!(
    registration_with_a_bad_proof_of_possession_is_rejected,
    kem_key_needs_an_endorsement_by_a_signing_key_of_the_record,
    added_signing_key_with_a_bad_proof_is_rejected,
    request_not_signed_by_the_controller_is_unauthorized,
    replayed_request_is_rejected_on_every_node,
    stale_or_future_request_is_rejected,
    malformed_nonce_is_rejected,
);
