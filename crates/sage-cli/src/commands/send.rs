//! `sage send --to DID|URL "text"`: one message to a SAGE node through
//! sage-client (handshake, encrypted record, signed and verified answer;
//! docs/PROTOCOL-PROFILE.md), and what `sage handshake` shares with it.
//!
//! The sender is `--did` with the private signing key of `--key` (read
//! from a file, never from an argument). The peer is a DID, whose record
//! gives the node's endpoint, or a node URL: its DID is `--peer-did`, else
//! the `id` of the node's agent card. Either way the peer's keys come from
//! the configured registry (`registry.backend`, overridable with
//! `--registry`; the local registry's database must be migrated), never
//! from the card. The CLI is synchronous: the command runs on a
//! single-threaded tokio runtime built for it.
//!
//! The client carries no TLS: `--to` URLs and record endpoints must be
//! `http://` (put a TLS terminator in front of a public node).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use sage_client::{
    ClientError, Peer, PeerKeys, RegistryResolver, ResolvePeer, RetryPolicy, SageClient,
};
use sage_config::{RegistryBackend, SageConfig};
use sage_core::did::Did;
use sage_core::encoding::b64_encode;
use sage_registry_eth::EthRegistry;
use sage_store::Store;

use crate::commands::registry::{BackendArgs, LocalResolver, load, open_local, open_read_only};
use crate::error::CliError;
use crate::keyfile::load_signing_key;
use crate::output::Output;
use crate::runtime::block_on;

/// Who sends, to whom, through which registry.
#[derive(Debug, Args)]
pub(crate) struct PeerArgs {
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    /// The peer: a did:sage DID (its record's endpoint is used) or a node's
    /// base URL (http://host:port).
    #[arg(long, value_name = "DID|URL")]
    pub(crate) to: String,
    /// With a URL in --to: the DID the node speaks for. Default: the `id`
    /// of its agent card (/.well-known/agent-card.json).
    #[arg(long, value_name = "DID")]
    pub(crate) peer_did: Option<String>,
    /// The sender's private signing key file (JWK or PEM), registered
    /// under --did.
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
    /// The sender's DID.
    #[arg(long, value_name = "DID")]
    pub(crate) did: String,
    /// Timeout of each HTTP attempt, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub(crate) timeout: u64,
    /// Attempts on a connection failure or HTTP 503 (the same bytes each
    /// time), the first included.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(crate) attempts: u32,
    /// Fetch a handshake cookie first (for nodes with
    /// handshake.require_cookie).
    #[arg(long)]
    pub(crate) cookie: bool,
}

#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    pub(crate) peer: PeerArgs,
    /// The application task name (X-SAGE-Task-ID).
    #[arg(long)]
    pub(crate) task: Option<String>,
    /// The text to send (UTF-8).
    pub(crate) text: String,
}

/// `sage send`.
pub(crate) fn run(args: &SendArgs) -> Result<Output, CliError> {
    block_on(async {
        let (client, peer) = connect(&args.peer).await?;
        let reply = client
            .send(&peer, args.text.as_bytes(), args.task.as_deref())
            .await;
        client.resolver().close().await;
        let reply = reply.map_err(CliError::Client)?;
        let mut out = Output::new();
        out.json("message_id", reply.message_id.clone());
        if let Some(task) = &reply.task_id {
            out.json("task_id", task.clone());
        }
        match String::from_utf8(reply.plaintext) {
            Ok(text) => {
                out.line(&text);
                // A receipt (or any JSON answer) is embedded as JSON.
                let value = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
                out.json("reply", value);
            }
            Err(bytes) => {
                let encoded = b64_encode(bytes.as_bytes());
                out.line(&encoded);
                out.json("reply_base64", encoded);
            }
        }
        Ok(out)
    })
}

/// The client for `args` and the peer it names.
pub(crate) async fn connect(args: &PeerArgs) -> Result<(SageClient<CliResolver>, Peer), CliError> {
    let did = parse_did("--did", &args.did)?;
    let signing_key = load_signing_key(&args.key)?;
    let peer = match Peer::parse(&args.to).map_err(CliError::Client)? {
        Peer::Url { url, .. } => Peer::Url {
            url,
            did: args
                .peer_did
                .as_deref()
                .map(|text| parse_did("--peer-did", text))
                .transpose()?,
        },
        peer => peer,
    };
    if args.attempts == 0 {
        return Err(CliError::BadArgument {
            argument: "--attempts",
            reason: "must be at least 1".into(),
        });
    }
    let config = load(&args.backend)?.config;
    let resolver = CliResolver::open(&config).await?;
    let client = SageClient::builder()
        .identity(did, signing_key)
        .resolver(resolver)
        .timeout(Duration::from_secs(args.timeout.max(1)))
        .retry(RetryPolicy {
            max_attempts: args.attempts,
            ..RetryPolicy::DEFAULT
        })
        .fetch_cookie(args.cookie)
        .build()
        .map_err(CliError::Client)?;
    Ok((client, peer))
}

fn parse_did(argument: &'static str, text: &str) -> Result<Did, CliError> {
    Did::parse(text).map_err(|error| CliError::BadDid {
        did: format!("{argument} {text}"),
        error,
    })
}

/// The configured registry, as the client's peer resolver.
#[derive(Debug)]
pub(crate) enum CliResolver {
    /// The local registry, through the caching resolver on its database.
    Local {
        resolver: RegistryResolver<LocalResolver>,
        store: Store,
    },
    /// The Ethereum registry contract, read-only.
    Ethereum(RegistryResolver<EthRegistry>),
}

impl CliResolver {
    async fn open(config: &SageConfig) -> Result<Self, CliError> {
        match config.registry.backend {
            RegistryBackend::Ethereum => Self::open_ethereum(config).await,
            _ => Self::open_local(config).await,
        }
    }

    async fn open_local(config: &SageConfig) -> Result<Self, CliError> {
        let local = open_local(config).await?;
        Ok(Self::Local {
            resolver: RegistryResolver::new(local.resolver),
            store: local.store,
        })
    }

    async fn open_ethereum(config: &SageConfig) -> Result<Self, CliError> {
        let registry = open_read_only(config).await?;
        Ok(Self::Ethereum(RegistryResolver::new(registry)))
    }

    /// Closes the local registry's database, if one was opened.
    pub(crate) async fn close(&self) {
        if let Self::Local { store, .. } = self {
            store.close().await;
        }
    }
}

impl ResolvePeer for CliResolver {
    async fn resolve_peer(&self, did: &Did) -> Result<PeerKeys, ClientError> {
        match self {
            Self::Local { resolver, .. } => resolver.resolve_peer(did).await,
            Self::Ethereum(resolver) => resolver.resolve_peer(did).await,
        }
    }
}
