//! The paths that succeed: handshake, records both ways, cookie, gateway.

use axum::extract::State;
use axum::routing::post;
use sage_core::encoding::hex_encode;
use sage_core::primitives::sha256;

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn handshake_then_a_thousand_records_both_ways_with_signed_receipts() {
    let handle = recorder();
    let node = Node::start_with(long_sessions()).await;
    let peer = Peer::registered(&node, "flow-alice").await;
    let mut session = peer.handshake().await;
    assert!(session.kid.starts_with("kid-"));

    for i in 0..1000u32 {
        let plaintext = format!("hello node, record {i}");
        let (request, answer) = peer.send_record(&mut session, plaintext.as_bytes()).await;
        assert_eq!(answer.status, 200, "record {i}");
        peer.verify_node_signature(&request, &answer);
        let wire = answer.wire();
        assert!(wire.success);
        assert_eq!(wire.task_id, "chat");
        let reply = session.session.decrypt(node.now(), &wire.data).unwrap();
        let receipt: serde_json::Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(receipt["sender"], peer.agent.did.as_str());
        assert_eq!(receipt["size"], plaintext.len());
        assert_eq!(receipt["sha256"], hex_encode(&sha256(plaintext.as_bytes())));
        assert_eq!(receipt["task_id"], "chat");
        assert_eq!(
            receipt["message_id"].as_str(),
            request.header("x-sage-message-id").as_deref()
        );
    }
    assert!(
        counter(
            &handle,
            crate::metrics::HANDSHAKES_COMPLETED,
            Some(("status", "success"))
        ) >= 1
    );
    assert!(
        counter(
            &handle,
            crate::metrics::MESSAGES_PROCESSED,
            Some(("type", "data"))
        ) >= 20
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn required_cookie_is_issued_and_accepted() {
    let handle = recorder();
    let node = Node::start_with(Setup {
        configure: Some(Box::new(|c| c.handshake.require_cookie = true)),
        ..Setup::default()
    })
    .await;
    let peer = Peer::registered(&node, "flow-cookie").await;

    let before = rejected(&handle, super::super::reject::HANDSHAKE_COOKIE);
    let (_, message) = peer.init(None);
    let answer = peer.send(&peer.http_request(&message, true)).await;
    peer.assert_refused(
        &answer,
        200,
        super::super::reject::HANDSHAKE_COOKIE,
        before,
        &handle,
    );

    let cookie_request = HttpRequest::new("GET", format!("{}/handshake/cookie", node.base));
    let cookie_answer = peer.send(&cookie_request).await;
    assert_eq!(cookie_answer.status, 200);
    peer.verify_node_signature(&cookie_request, &cookie_answer);
    let cookie: serde_json::Value = serde_json::from_slice(&cookie_answer.response.body).unwrap();
    let cookie = cookie["cookie"].as_str().unwrap().to_owned();

    let (expect, message) = peer.init(Some(cookie));
    let answer = peer.send(&peer.http_request(&message, true)).await;
    let wire = answer.wire();
    assert!(wire.success);
    expect
        .handle(&wire, &node.verifying_key, node.now())
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn go_style_init_without_http_signature_is_accepted() {
    let node = Node::start().await;
    let peer = Peer::registered(&node, "flow-go").await;
    let (expect, message) = peer.init(None);
    let request = peer.http_request(&message, false);
    let answer = peer.send(&request).await;
    assert_eq!(answer.status, 200);
    peer.verify_node_signature(&request, &answer);
    expect
        .handle(&answer.wire(), &node.verifying_key, node.now())
        .unwrap();
}

async fn upstream(State(()): State<()>, headers: http::HeaderMap, body: Bytes) -> String {
    let sender = headers
        .get("x-sage-verified-did")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    format!("{sender} said {}", String::from_utf8_lossy(&body))
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_mode_posts_the_plaintext_upstream_and_seals_its_answer() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/inbox", post(upstream))
        .with_state(());
    let upstream_server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let node = Node::start_with(Setup {
        upstream: Some(format!("http://{address}/inbox").parse().unwrap()),
        ..Setup::default()
    })
    .await;
    let peer = Peer::registered(&node, "flow-gateway").await;
    let mut session = peer.handshake().await;
    let (_, answer) = peer.send_record(&mut session, b"ping").await;
    assert_eq!(answer.status, 200);
    let reply = session
        .session
        .decrypt(node.now(), &answer.wire().data)
        .unwrap();
    assert_eq!(
        String::from_utf8(reply).unwrap(),
        format!("{} said ping", peer.agent.did.as_str())
    );
    upstream_server.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_upstream_is_502_and_the_record_stays_consumed() {
    let handle = recorder();
    // Bound but never listening, and held for the whole test: every
    // connection is refused, and no other socket can take the port.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let address = closed.local_addr().unwrap();
    let node = Node::start_with(Setup {
        upstream: Some(format!("http://{address}/inbox").parse().unwrap()),
        ..Setup::default()
    })
    .await;
    let peer = Peer::registered(&node, "flow-gateway-down").await;
    let mut session = peer.handshake().await;
    let before = rejected(&handle, super::super::reject::UPSTREAM_UNAVAILABLE);
    let (request, answer) = peer.send_record(&mut session, b"ping").await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.wire().error, "upstream unavailable");
    assert!(rejected(&handle, super::super::reject::UPSTREAM_UNAVAILABLE) > before);
    // The same record again (fresh HTTP signature): already consumed.
    let message = WireMessage::from_json(&request.body).unwrap();
    let again = peer.send(&peer.http_request(&message, true)).await;
    assert_eq!(again.status, 401);
}
