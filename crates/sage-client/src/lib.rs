//! # sage-client: an async Rust client for SAGE nodes
//!
//! Talks to a SAGE node (`sage serve`) over the HTTP profile of
//! `docs/PROTOCOL-PROFILE.md`: resolves the peer's DID, runs the initiator
//! side of the \[L\] handshake (PROTOCOL.md §6.5), keeps one session per
//! peer (§7.1), and sends each payload as one encrypted record in a signed
//! `WireMessage` (§5.3, §12.1), checking the node's signed answer.
//!
//! | module | job |
//! |---|---|
//! | [`client`] | [`SageClient`], its builder, [`Peer`], [`Reply`], [`SessionInfo`] |
//! | [`resolve`] | [`ResolvePeer`]: [`RegistryResolver`] over any `sage_registry::Registry`, [`StaticPeers`] |
//! | `http` | signed requests, bounded responses, [`RetryPolicy`] |
//! | [`error`] | [`ClientError`] |
//!
//! Failures are retried where that is safe: a connection failure or HTTP
//! 503 resends the **same** bytes with backoff; an HTTP 401 (the node no
//! longer knows or accepts the session) re-handshakes and seals the
//! payload again as a new record, once. A record is never sent twice as
//! two records when the first may have arrived
//! ([`ClientError::OutcomeUnknown`]).
//!
//! **TLS.** The client is built without a TLS backend (`http://` URLs
//! only): put a TLS terminator (a reverse proxy, a service mesh) in front
//! of the node and set its `server.public_url`, or reach the node over a
//! private network. Every message is end-to-end encrypted and signed
//! either way; TLS adds confidentiality of the metadata.
//!
//! ```no_run
//! use sage_client::{Peer, SageClient, StaticPeers, PeerKeys};
//! use sage_core::did::Did;
//! use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
//! // This agent: its DID and the signing key registered under it.
//! let me = Did::parse("did:sage:ethereum:0xa11ce")?;
//! let my_key = SigningKey::generate(KeyType::Ed25519, &mut rng)?;
//! // The peer, as its registry record gives it (here: pinned by hand;
//! // `RegistryResolver` reads it from any registry).
//! let node_key = SigningKey::generate(KeyType::Ed25519, &mut rng)?;
//! let peers = StaticPeers::new();
//! peers.insert(PeerKeys {
//!     did: Did::parse("did:sage:ethereum:0xb0b")?,
//!     signing: node_key.verifying_key(),
//!     kem: X25519Secret::generate(&mut rng).public_key(),
//!     endpoint: "http://127.0.0.1:8080".into(),
//! });
//!
//! let client = SageClient::builder()
//!     .identity(me, my_key)
//!     .resolver(peers)
//!     .build()?;
//! let bob = Peer::parse("did:sage:ethereum:0xb0b")?;
//! // The network part: a node must be listening at the endpoint.
//! let reply = client.send(&bob, b"hello", Some("chat")).await?;
//! println!("{}", String::from_utf8_lossy(&reply.plaintext));
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod client;
pub mod error;
mod http;
pub mod resolve;

pub use client::{
    DEFAULT_MAX_RESPONSE_LEN, MAX_TASK_LEN, Peer, Reply, SageClient, SageClientBuilder, SessionInfo,
};
pub use error::ClientError;
pub use http::RetryPolicy;
pub use resolve::{PeerKeys, RegistryResolver, ResolvePeer, StaticPeers};
