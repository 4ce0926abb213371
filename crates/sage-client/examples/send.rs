//! Sends one text message to a running SAGE node and prints its reply.
//!
//! ```text
//! cargo run -p sage-client --example send -- \
//!     http://127.0.0.1:8080 did:sage:ethereum:0xNODE node-signing.pub.pem node-kem.pub.pem \
//!     did:sage:ethereum:0xME my-signing-key.pem "hello"
//! ```
//!
//! The peer's keys are pinned from files here (a public signing key and a
//! public X25519 KEM key, PEM or JWK, as `sage keys` writes them) so that
//! the example needs no registry; an application would resolve them with
//! `RegistryResolver` over its registry instead. Nothing is started: a
//! node must already be listening at the URL.

use std::process::ExitCode;

use sage_client::{Peer, PeerKeys, SageClient, StaticPeers};
use sage_core::did::Did;
use sage_core::primitives::jwk::{private_from_jwk, public_from_jwk_str};
use sage_core::primitives::pem::{private_from_pem, public_from_pem};
use sage_core::primitives::{PrivateKey, PublicKey};

const USAGE: &str = "usage: send NODE_URL NODE_DID NODE_SIGNING_PUBLIC_KEY NODE_KEM_PUBLIC_KEY \
                     MY_DID MY_PRIVATE_KEY TEXT";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, node_did, node_signing, node_kem, my_did, my_key, text] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(url, node_did, node_signing, node_kem, my_did, my_key, text).await {
        Ok(reply) => {
            println!("{reply}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("send: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    url: &str,
    node_did: &str,
    node_signing: &str,
    node_kem: &str,
    my_did: &str,
    my_key: &str,
    text: &str,
) -> Result<String, String> {
    let node_did = Did::parse(node_did).map_err(|e| format!("node DID: {e}"))?;
    let PublicKey::Signing(signing) = read_public(node_signing)? else {
        return Err(format!("{node_signing}: not a signing key"));
    };
    let PublicKey::X25519(kem) = read_public(node_kem)? else {
        return Err(format!("{node_kem}: not an X25519 key"));
    };
    let PrivateKey::Signing(my_signing_key) = read_private(my_key)? else {
        return Err(format!("{my_key}: not a signing key"));
    };
    let peers = StaticPeers::new();
    peers.insert(PeerKeys {
        did: node_did.clone(),
        signing,
        kem,
        endpoint: url.to_owned(),
    });
    let client = SageClient::builder()
        .identity(
            Did::parse(my_did).map_err(|e| format!("my DID: {e}"))?,
            my_signing_key,
        )
        .resolver(peers)
        .build()
        .map_err(|e| e.to_string())?;
    let peer = Peer::Did(node_did);
    let session = client.handshake(&peer).await.map_err(|e| e.to_string())?;
    eprintln!("session {} (kid {})", session.session_id, session.kid);
    let reply = client
        .send(&peer, text.as_bytes(), Some("example"))
        .await
        .map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&reply.plaintext).into_owned())
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn read_public(path: &str) -> Result<PublicKey, String> {
    let text = read(path)?;
    if text.trim_start().starts_with('{') {
        public_from_jwk_str(&text).map_err(|e| format!("{path}: {e}"))
    } else {
        public_from_pem(&text).map_err(|e| format!("{path}: {e}"))
    }
}

fn read_private(path: &str) -> Result<PrivateKey, String> {
    let text = read(path)?;
    if text.trim_start().starts_with('{') {
        private_from_jwk(&text).map_err(|e| format!("{path}: {e}"))
    } else {
        private_from_pem(&text).map_err(|e| format!("{path}: {e}"))
    }
}
