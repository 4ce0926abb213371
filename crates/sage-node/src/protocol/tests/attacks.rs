//! Every attack of issue 5, each refused with its code and counted.

use sage_core::httpsig::content_digest;
use sage_core::session::WindowState;
use sage_registry::{Deactivate, RevokeKey};
use sage_store::{SessionProgress, SessionStore as _};

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn replayed_handshake_init_is_refused_and_counted_as_a_replay() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-init-replay").await;
    // Go style (no RFC 9421 signature), so that it is the handshake's own
    // (ctxID, nonce) memory that catches the copy.
    let (_, message) = peer.init(None);
    let request = peer.http_request(&message, false);
    assert!(peer.send(&request).await.wire().success);

    let (before, replays_before) = (rejected(&handle, "sig.replay"), replays(&handle));
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 200, "sig.replay", before, &handle);
    assert_eq!(answer.wire().task_id, "hpke/complete@v1");
    assert!(replays(&handle) > replays_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_signed_handshake_request_is_refused_by_its_http_nonce() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-init-replay-9421").await;
    let (_, message) = peer.init(None);
    let request = peer.http_request(&message, true);
    assert!(peer.send(&request).await.wire().success);
    let (before, replays_before) = (rejected(&handle, "sig.replay"), replays(&handle));
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 200, "sig.replay", before, &handle);
    assert!(replays(&handle) > replays_before);
}

#[tokio::test(flavor = "multi_thread")]
async fn replayed_record_is_refused_by_nonce_and_by_sequence() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-record-replay").await;
    let mut session = peer.handshake().await;
    let (request, answer) = peer.send_record(&mut session, b"pay 10").await;
    assert_eq!(answer.status, 200);

    // The same bytes: the RFC 9421 nonce was seen.
    let (before, replays_before) = (rejected(&handle, "sig.replay"), replays(&handle));
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 401, "sig.replay", before, &handle);
    peer.verify_node_signature(&request, &answer);
    assert!(replays(&handle) > replays_before);

    // The same record under a fresh signature: the sequence was seen.
    let message = WireMessage::from_json(&request.body).unwrap();
    let (before, replays_before) = (rejected(&handle, "session.replay"), replays(&handle));
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(&answer, 401, "session.replay", before, &handle);
    assert!(replays(&handle) > replays_before);

    // The session still works.
    let (_, answer) = peer.send_record(&mut session, b"pay 20").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn record_below_the_window_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-window").await;
    let mut session = peer.handshake().await;
    let held_back = session
        .session
        .encrypt(&mut rng(), node.now(), b"old")
        .unwrap();
    // Let the window run far ahead (as 5000 later records would have).
    let record = node
        .sessions
        .get_by_kid(&session.kid, node.now())
        .await
        .unwrap()
        .unwrap();
    let mut bitmap = [0u64; 16];
    bitmap[(5000 % 1024) / 64] = 1 << ((5000 % 1024) % 64);
    let progress = SessionProgress {
        next_send_seq: record.next_send_seq,
        message_count: record.message_count,
        last_activity: record.last_activity,
        window: WindowState::from_parts(Some(5000), bitmap).unwrap(),
    };
    assert!(
        node.sessions
            .update_window(&record.sid, record.version, &progress)
            .await
            .unwrap()
    );

    let before = rejected(&handle, "session.window");
    let answer = peer
        .send(&peer.http_request(&peer.data_message(&session.kid, held_back), true))
        .await;
    peer.assert_refused(&answer, 401, "session.window", before, &handle);
}

/// Sends a fresh record after `tamper` changed the signed request.
async fn tampered(
    peer: &Peer<'_>,
    session: &mut Established,
    tamper: impl FnOnce(&mut HttpRequest),
) -> Answer {
    let record = session
        .session
        .encrypt(&mut rng(), peer.node.now(), b"hello")
        .unwrap();
    let mut request = peer.http_request(&peer.data_message(&session.kid, record), true);
    tamper(&mut request);
    peer.send(&request).await
}

#[tokio::test(flavor = "multi_thread")]
async fn each_signed_header_tampered_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-tamper").await;
    let mut session = peer.handshake().await;

    let before = rejected(&handle, "digest.mismatch");
    let answer = tampered(&peer, &mut session, |r| {
        r.set_header("content-digest", content_digest(b"another body"));
    })
    .await;
    peer.assert_refused(&answer, 401, "digest.mismatch", before, &handle);

    let before = rejected(&handle, "sig.bad");
    let answer = tampered(&peer, &mut session, |r| {
        r.set_header("content-type", "application/json; charset=utf-8");
    })
    .await;
    peer.assert_refused(&answer, 401, "sig.bad", before, &handle);

    let before = rejected(&handle, "sig.bad");
    let answer = tampered(&peer, &mut session, |r| {
        let port = r
            .target_uri
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches("/messages")
            .to_owned();
        r.set_header("host", format!("localhost:{port}"));
    })
    .await;
    peer.assert_refused(&answer, 401, "sig.bad", before, &handle);

    // X-SAGE-DID both mirrors `did` and is signed: a changed one disagrees
    // with the body first.
    let before = rejected(&handle, "sig.malformed");
    let answer = tampered(&peer, &mut session, |r| {
        r.set_header("x-sage-did", "did:sage:ethereum:mallory");
    })
    .await;
    peer.assert_refused(&answer, 400, "sig.malformed", before, &handle);

    // Without the mirror header nothing binds the signer to the sender.
    let before = rejected(&handle, "sig.binding");
    let answer = tampered(&peer, &mut session, |r| r.remove_header("x-sage-did")).await;
    peer.assert_refused(&answer, 401, "sig.binding", before, &handle);

    let before = rejected(&handle, "sig.missing");
    let answer = tampered(&peer, &mut session, |r| r.remove_header("signature")).await;
    peer.assert_refused(&answer, 401, "sig.missing", before, &handle);

    // The body's payload signature replaced by another key's.
    let before = rejected(&handle, "sig.bad");
    let record = session
        .session
        .encrypt(&mut rng(), node.now(), b"x")
        .unwrap();
    let mut message = peer.data_message(&session.kid, record);
    message.sign_payload(&SigningKey::generate(KeyType::Secp256k1, &mut rng()).unwrap());
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(&answer, 401, "sig.bad", before, &handle);

    // A record altered in flight, re-signed by the sender (so only the
    // AEAD can tell).
    let before = rejected(&handle, "session.aead");
    let mut record = session
        .session
        .encrypt(&mut rng(), node.now(), b"y")
        .unwrap();
    if let Some(last) = record.last_mut() {
        *last ^= 1;
    }
    let answer = peer
        .send(&peer.http_request(&peer.data_message(&session.kid, record), true))
        .await;
    peer.assert_refused(&answer, 401, "session.aead", before, &handle);

    // Nothing above consumed the session.
    let (_, answer) = peer.send_record(&mut session, b"still fine").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_kid_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-kid").await;
    let mut session = peer.handshake().await;
    let record = session
        .session
        .encrypt(&mut rng(), node.now(), b"hi")
        .unwrap();
    let before = rejected(&handle, "session.unknown");
    let message = peer.data_message("kid-00000000-0000-4000-8000-000000000000", record);
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(&answer, 401, "session.unknown", before, &handle);

    // Another agent's session: the kid does not belong to the sender.
    let other = Peer::registered(&node, "attack-kid-other").await;
    let record = session
        .session
        .encrypt(&mut rng(), node.now(), b"hi")
        .unwrap();
    let before = rejected(&handle, "sig.binding");
    let answer = other
        .send(&other.http_request(&other.data_message(&session.kid, record), true))
        .await;
    other.assert_refused(&answer, 401, "sig.binding", before, &handle);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_session_is_refused() {
    let handle = recorder();
    let node = Node::start_with(Setup {
        configure: Some(Box::new(|c| c.session.max_age = Duration::from_secs(60))),
        ..Setup::default()
    })
    .await;
    let peer = Peer::registered(&node, "attack-expired").await;
    let mut session = peer.handshake().await;
    let (_, answer) = peer.send_record(&mut session, b"in time").await;
    assert_eq!(answer.status, 200);
    node.clock.advance(61);
    let expired_before = counter(&handle, crate::metrics::SESSIONS_EXPIRED, None);
    let before = rejected(&handle, "session.expired");
    let (_, answer) = peer.send_record(&mut session, b"too late").await;
    peer.assert_refused(&answer, 401, "session.expired", before, &handle);
    assert!(
        counter(&handle, crate::metrics::SESSIONS_EXPIRED, None) > expired_before,
        "{}",
        handle.render()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_sender_key_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-revoked").await;
    let mut session = peer.handshake().await;
    node.resolver
        .revoke_key(&peer.agent.request(
            node.now(),
            2,
            RevokeKey {
                key: "key-2".into(),
            },
        ))
        .await
        .unwrap();
    let before = rejected(&handle, "key.revoked");
    let (_, answer) = peer.send_record(&mut session, b"with a revoked key").await;
    peer.assert_refused(&answer, 401, "key.revoked", before, &handle);

    // A new handshake with the revoked key fails the same way.
    let before = rejected(&handle, "key.revoked");
    let (_, message) = peer.init(None);
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(&answer, 200, "key.revoked", before, &handle);
}

#[tokio::test(flavor = "multi_thread")]
async fn deactivated_sender_did_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-deactivated").await;
    let mut session = peer.handshake().await;
    node.resolver
        .deactivate(&peer.agent.request(node.now(), 2, Deactivate))
        .await
        .unwrap();
    let before = rejected(&handle, "record.inactive");
    let (_, answer) = peer.send_record(&mut session, b"from the grave").await;
    peer.assert_refused(&answer, 401, "record.inactive", before, &handle);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversize_body_is_413_before_parsing() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-oversize").await;
    let request = HttpRequest::new("POST", node.messages_url())
        .with_header("content-type", "application/json")
        .with_body(vec![b'x'; 65 * 1024]);
    let before = rejected(&handle, "size.exceeded");
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 413, "size.exceeded", before, &handle);
    peer.verify_node_signature(&request, &answer);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_body_and_header_mismatch_are_400() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-malformed").await;
    let mut session = peer.handshake().await;

    let before = rejected(&handle, "sig.malformed");
    let request = HttpRequest::new("POST", node.messages_url())
        .with_header("content-type", "application/json")
        .with_body(b"{\"id\": \"x\", \"unknown\": 1}".to_vec());
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 400, "sig.malformed", before, &handle);

    let before = rejected(&handle, "sig.malformed");
    let answer = tampered(&peer, &mut session, |r| {
        r.set_header("x-sage-message-id", "another-id");
    })
    .await;
    peer.assert_refused(&answer, 400, "sig.malformed", before, &handle);

    let before = rejected(&handle, "sig.malformed");
    let answer = tampered(&peer, &mut session, |r| {
        r.set_header("x-sage-meta-kid", "kid-other");
    })
    .await;
    peer.assert_refused(&answer, 400, "sig.malformed", before, &handle);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_http_signature_is_refused() {
    let handle = recorder();
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-stale").await;
    let mut session = peer.handshake().await;
    let record = session
        .session
        .encrypt(&mut rng(), node.now(), b"late")
        .unwrap();
    let request = peer.http_request(&peer.data_message(&session.kid, record), true);
    node.clock.advance(301);
    let before = rejected(&handle, "sig.stale");
    let answer = peer.send(&request).await;
    peer.assert_refused(&answer, 401, "sig.stale", before, &handle);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_accepted_by_one_node_is_a_replay_on_the_other() {
    let handle = recorder();
    let node = Node::start().await;
    let twin = node.twin().await;
    let twin_url = format!("{}/messages", twin.base);
    let peer = Peer::registered(&node, "attack-two-nodes").await;
    let mut session = peer.handshake().await;

    // Records through the twin: the session is in the shared store.
    let record = session
        .session
        .encrypt(&mut rng(), node.now(), b"via B")
        .unwrap();
    let message = peer.data_message(&session.kid, record);
    let request = peer.http_request_to(&twin_url, &message, true);
    let answer = peer.send(&request).await;
    assert_eq!(answer.status, 200);
    peer.verify_node_signature(&request, &answer);
    let reply = session
        .session
        .decrypt(node.now(), &answer.wire().data)
        .unwrap();
    assert!(!reply.is_empty());

    // The same record, freshly signed, to the first node: a replay.
    let before = rejected(&handle, "session.replay");
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(&answer, 401, "session.replay", before, &handle);

    // The same HTTP request to the first node (reached under the twin's
    // name, as through a load balancer): its nonce is shared too.
    let before = rejected(&handle, "sig.replay");
    let mut same = request.clone();
    same.target_uri = node.messages_url();
    same.set_header("host", twin.base.trim_start_matches("http://"));
    let answer = peer.send(&same).await;
    peer.assert_refused(&answer, 401, "sig.replay", before, &handle);

    // One record raced to both nodes at once: exactly one accepts it, and
    // the two answers never reuse an s→c sequence number.
    for i in 0..10 {
        let record = session
            .session
            .encrypt(&mut rng(), node.now(), format!("race {i}").as_bytes())
            .unwrap();
        let message = peer.data_message(&session.kid, record);
        let to_a = peer.http_request(&message, true);
        let to_b = peer.http_request_to(&twin_url, &message, true);
        let (a, b) = tokio::join!(peer.send(&to_a), peer.send(&to_b));
        let accepted: Vec<&Answer> = [&a, &b].into_iter().filter(|x| x.status == 200).collect();
        assert_eq!(accepted.len(), 1, "race {i}: {} and {}", a.status, b.status);
        let refused = if a.status == 200 { &b } else { &a };
        assert!(
            refused.status == 401 || refused.status == 503,
            "race {i}: {}",
            refused.status
        );
        let reply = session
            .session
            .decrypt(node.now(), &accepted[0].wire().data)
            .unwrap();
        assert!(!reply.is_empty());
    }
    // Both nodes keep serving the session.
    let (_, answer) = peer.send_record(&mut session, b"after the races").await;
    assert_eq!(answer.status, 200);
    session
        .session
        .decrypt(node.now(), &answer.wire().data)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn mutated_requests_get_an_answer_never_a_crash() {
    use getrandom::rand_core::Rng as _;
    let node = Node::start().await;
    let peer = Peer::registered(&node, "attack-fuzz").await;
    let mut session = peer.handshake().await;
    let mut random = rng();
    for i in 0..60u32 {
        let plaintext = format!("fuzz {i}");
        let record = session
            .session
            .encrypt(&mut random, node.now(), plaintext.as_bytes())
            .unwrap();
        let handshake = i % 3 == 0;
        let mut request = if handshake {
            let (_, message) = peer.init(None);
            peer.http_request(&message, i % 2 == 0)
        } else {
            peer.http_request(&peer.data_message(&session.kid, record), true)
        };
        // Flip a few bytes of the body and, sometimes, of a header value.
        for _ in 0..=(random.next_u32() % 4) {
            let len = request.body.len();
            let at = usize::try_from(random.next_u32()).unwrap() % len;
            request.body[at] ^= 1 << (random.next_u32() % 7);
        }
        if i % 4 == 1 {
            let which = usize::try_from(random.next_u32()).unwrap() % request.headers.len();
            let (_, value) = &mut request.headers[which];
            if let Some(first) = value.chars().next() {
                let replacement = if first == 'A' { "B" } else { "A" };
                value.replace_range(0..first.len_utf8(), replacement);
            }
        }
        let answer = peer.send(&request).await;
        assert!(
            [200, 400, 401, 413].contains(&answer.status),
            "mutation {i}: {}",
            answer.status
        );
        // A data message's body is covered by its digest: no flip passes.
        if !handshake {
            assert!(!answer.wire().success, "mutation {i} was accepted");
        }
    }
    // The session is still usable afterwards.
    let (_, answer) = peer.send_record(&mut session, b"after the fuzz").await;
    assert_eq!(answer.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_past_its_message_limit_is_refused() {
    let handle = recorder();
    let node = Node::start_with(Setup {
        configure: Some(Box::new(|c| c.session.max_messages = 6)),
        ..Setup::default()
    })
    .await;
    let peer = Peer::registered(&node, "attack-message-limit").await;
    let mut session = peer.handshake().await;
    // Three round trips: three records in, three out.
    for i in 0..3 {
        let (_, answer) = peer.send_record(&mut session, b"counted").await;
        assert_eq!(answer.status, 200, "record {i}");
    }
    let before = rejected(&handle, "session.expired");
    let (_, answer) = peer.send_record(&mut session, b"one too many").await;
    peer.assert_refused(&answer, 401, "session.expired", before, &handle);
    // And it stays refused (the node swept it).
    let before = rejected(&handle, "session.expired");
    let (_, answer) = peer.send_record(&mut session, b"again").await;
    peer.assert_refused(&answer, 401, "session.expired", before, &handle);
}
