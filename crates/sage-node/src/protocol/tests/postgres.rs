//! The same protocol on PostgreSQL: records both ways, and two nodes on
//! one database refusing each other's replays.

use super::*;

#[tokio::test(flavor = "multi_thread")]
async fn postgres_handshake_a_thousand_records_across_two_nodes_and_cross_node_replay() {
    let Some(node) = Node::start_postgres(long_sessions()).await else {
        return;
    };
    let handle = recorder();
    let twin = node.twin().await;
    let twin_url = format!("{}/messages", twin.base);
    let peer = Peer::registered(&node, "postgres-alice").await;
    let mut session = peer.handshake().await;

    for i in 0..1000u32 {
        let plaintext = format!("record {i}");
        let record = session
            .session
            .encrypt(&mut rng(), node.now(), plaintext.as_bytes())
            .unwrap();
        let message = peer.data_message(&session.kid, record);
        // Alternate nodes: the session lives in the shared database.
        let request = if i % 2 == 0 {
            peer.http_request(&message, true)
        } else {
            peer.http_request_to(&twin_url, &message, true)
        };
        let answer = peer.send(&request).await;
        assert_eq!(answer.status, 200, "record {i}");
        peer.verify_node_signature(&request, &answer);
        let reply = session
            .session
            .decrypt(node.now(), &answer.wire().data)
            .unwrap();
        let receipt: serde_json::Value = serde_json::from_slice(&reply).unwrap();
        assert_eq!(receipt["size"], plaintext.len());

        if i == 999 {
            // Replayed on the other node, freshly signed: the sequence is
            // already in the shared window.
            let before = rejected(&handle, "session.replay");
            let answer = peer.send(&peer.http_request(&message, true)).await;
            peer.assert_refused(&answer, 401, "session.replay", before, &handle);
        }
    }
}
