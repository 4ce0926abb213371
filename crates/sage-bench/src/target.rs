//! The node a run drives, and the virtual agents that drive it.
//!
//! Layer: the bench's set-up. A [`Target`] is a running node — started in
//! this process on a temporary SQLite database (or a given PostgreSQL
//! one) with `--spawn-node`, or reached at `--url` — plus the database it
//! uses, opened by the bench as well.
//!
//! **How agents are registered.** Each virtual agent is a real SAGE
//! identity: an Ed25519 key and a DID (`did:sage:ethereum:bench-<run>-<n>`)
//! that the bench registers and activates, signed by that key, in the
//! node's *local registry*, by opening the node's database directly
//! (`--database-url`, the node's `database.url`). That is the same path a
//! controller's `sage did register` takes, needs no management token, and
//! the node sees the agents at once (its resolver reads the same tables).
//! A node on the Ethereum registry is out of reach this way.
//!
//! The node's keys are resolved once through the same registry and pinned
//! ([`PinnedNode`]), so a send costs the generator no registry read.
//!
//! What it does not do: generate load ([`crate::runner`]).

use core::time::Duration;
use std::collections::BTreeMap;
use std::sync::Arc;

use sage_client::{
    ClientError, Peer, PeerKeys, RegistryResolver, ResolvePeer, RetryPolicy, SageClient,
};
use sage_config::{SageConfig, Secret};
use sage_core::did::Did;
use sage_core::encoding::hex_encode;
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::rand_core::Rng as _;
use sage_core::session::SessionConfig;
use sage_core::version::ProtocolVersion;
use sage_node::server::{self, NodeOptions, RunningNode};
use sage_registry::{
    Activate, LocalRegistry, NewKey, Register, Registry as _, RegistryError, Request, RequestHeader,
};
use sage_store::{Store, StoreOptions, SystemClock};

use crate::echo::EchoServer;
use crate::error::BenchError;
use crate::report::parse_prometheus;

/// The environment name the in-process node reads its management token
/// from (its `env_vars` only, never the process environment).
const TOKEN_VARIABLE: &str = "SAGE_BENCH_MANAGEMENT_TOKEN";

/// How long one set-up or reference HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

fn rng() -> getrandom::rand_core::UnwrapErr<getrandom::SysRng> {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// Where the node is and how to reach its parts.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// The node's base URL (`http://127.0.0.1:8080`); ignored with
    /// `spawn_node`.
    pub url: Option<String>,
    /// The node's database URL (`sqlite://…` or `postgres://…`): required
    /// for a node at `url`; for `spawn_node`, a PostgreSQL database to
    /// use instead of a temporary SQLite file.
    pub database_url: Option<String>,
    /// Start a node in this process.
    pub spawn_node: bool,
    /// The node's management token (for the `resolve` operation); the
    /// in-process node gets a random one.
    pub token: Option<String>,
    /// The URL of the `echo` operation (a plain HTTP POST echo); with
    /// `spawn_node` and none given, an [`EchoServer`] is started.
    pub echo_url: Option<String>,
    /// The node's Prometheus metrics URL (default `<url>/metrics`).
    pub metrics_url: Option<String>,
}

/// A [`ResolvePeer`] that knows one peer: the node, resolved once.
#[derive(Debug, Clone)]
pub struct PinnedNode(Arc<PeerKeys>);

impl ResolvePeer for PinnedNode {
    async fn resolve_peer(&self, did: &Did) -> Result<PeerKeys, ClientError> {
        if did.as_str() == self.0.did.as_str() {
            Ok(PeerKeys::clone(&self.0))
        } else {
            Err(ClientError::Resolve(RegistryError::NotFound))
        }
    }
}

/// One virtual agent: a registered identity and its client.
#[derive(Debug)]
pub struct Agent {
    /// The agent's DID.
    pub did: Did,
    /// Its client, with its own session cache and connection pool.
    pub client: SageClient<PinnedNode>,
}

/// A node ready to be driven.
#[derive(Debug)]
pub struct Target {
    /// The node's base URL, without a trailing slash.
    pub base_url: String,
    /// The node as a client addresses it.
    pub peer: Peer,
    /// The node's DID.
    pub node_did: Did,
    /// The management token, if known.
    pub token: Option<String>,
    /// The echo URL, if any.
    pub echo_url: Option<String>,
    /// The metrics URL, if any.
    pub metrics_url: Option<String>,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
    /// Whether the node runs in this process.
    pub in_process: bool,
    /// The HTTP client of the plain requests (resolve, echo, metrics).
    pub http: reqwest::Client,
    pinned: PinnedNode,
    registry: LocalRegistry<Store>,
    store: Store,
    node: Option<RunningNode>,
    echo: Option<EchoServer>,
    // Kept until the node has stopped: the SQLite file and keys live here.
    _dir: Option<tempfile::TempDir>,
}

impl Target {
    /// Starts or reaches the node, opens its database and resolves its
    /// keys.
    ///
    /// # Errors
    /// [`BenchError::Usage`] when neither `url` nor `spawn_node` is given
    /// (or `url` without `database_url`); [`BenchError::Node`],
    /// [`BenchError::Store`], [`BenchError::Http`],
    /// [`BenchError::AgentCard`], [`BenchError::Client`].
    pub async fn connect(options: TargetOptions) -> Result<Self, BenchError> {
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(BenchError::Http)?;
        let (base_url, database_url, token, node, dir) = if options.spawn_node {
            let (node, dir, database_url, token) =
                spawn_node(options.database_url.clone(), options.token.clone()).await?;
            (
                format!("http://{}", node.local_addr()),
                database_url,
                Some(token),
                Some(node),
                dir,
            )
        } else {
            let url = options.url.clone().ok_or(BenchError::Usage(
                "give the node's --url (with --database-url), or --spawn-node",
            ))?;
            let database_url = options.database_url.clone().ok_or(BenchError::Usage(
                "--url needs the node's --database-url: the agents are registered in its local \
                 registry",
            ))?;
            (
                url.trim_end_matches('/').to_owned(),
                database_url,
                options.token.clone(),
                None,
                None,
            )
        };
        let connected = async {
            let store = Store::connect(&StoreOptions::new(database_url.clone()))
                .await
                .map_err(BenchError::Store)?;
            let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
            let node_did = match &node {
                Some(node) => node.did().clone(),
                None => card_did(&http, &base_url).await?,
            };
            let keys = RegistryResolver::new(registry)
                .resolve_peer(&node_did)
                .await
                .map_err(BenchError::Client)?;
            let echo = if options.spawn_node && options.echo_url.is_none() {
                Some(EchoServer::start(([127, 0, 0, 1], 0).into()).await?)
            } else {
                None
            };
            Ok::<_, BenchError>((store, node_did, keys, echo))
        }
        .await;
        let (store, node_did, keys, echo) = match connected {
            Ok(parts) => parts,
            Err(e) => {
                if let Some(node) = node {
                    let _ = node.shutdown().await;
                }
                return Err(e);
            }
        };
        let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
        let echo_url = options
            .echo_url
            .or_else(|| echo.as_ref().map(EchoServer::url));
        let metrics_url = options
            .metrics_url
            .clone()
            .or_else(|| Some(format!("{base_url}/metrics")));
        Ok(Self {
            peer: Peer::Url {
                url: base_url.clone(),
                did: Some(node_did.clone()),
            },
            base_url,
            node_did,
            token,
            echo_url,
            metrics_url,
            database: if database_url.starts_with("postgres") {
                "postgres"
            } else {
                "sqlite"
            },
            in_process: node.is_some(),
            http,
            pinned: PinnedNode(Arc::new(keys)),
            registry,
            store,
            node,
            echo,
            _dir: dir,
        })
    }

    /// Registers and activates `count` new agents named after `run`, whose
    /// clients use `session` for their sessions.
    ///
    /// # Errors
    /// [`BenchError::KeyGeneration`], [`BenchError::Registry`],
    /// [`BenchError::Client`].
    pub async fn register_agents(
        &self,
        count: u32,
        run: &str,
        session: SessionConfig,
    ) -> Result<Vec<Agent>, BenchError> {
        let labels = ProtocolVersion::V1Draft1.labels();
        let mut agents = Vec::new();
        for index in 0..count {
            let did = Did::parse(&format!("did:sage:ethereum:bench-{run}-{index}"))
                .map_err(|e| BenchError::Registry(RegistryError::from(e)))?;
            let key = SigningKey::generate(KeyType::Ed25519, &mut rng())
                .map_err(|_| BenchError::KeyGeneration)?;
            let now = sage_store::instant::system_now();
            let register = Register {
                name: format!("sage-bench agent {index}"),
                description: "a sage-bench virtual agent".to_owned(),
                // Agents receive nothing: the discard port says so.
                endpoint: "http://127.0.0.1:9".to_owned(),
                capabilities: serde_json::Map::new(),
                keys: vec![
                    NewKey::signing(labels, &key, &did).map_err(|_| BenchError::KeyGeneration)?,
                ],
            };
            let header = RequestHeader::new(did.clone(), 0, now, &mut rng());
            self.registry
                .register(&Request::new(header, register).sign(&key))
                .await
                .map_err(BenchError::Registry)?;
            let header = RequestHeader::new(did.clone(), 1, now, &mut rng());
            self.registry
                .activate(&Request::new(header, Activate).sign(&key))
                .await
                .map_err(BenchError::Registry)?;
            let client = SageClient::builder()
                .identity(did.clone(), key)
                .resolver(self.pinned.clone())
                .session_config(session)
                // Every failure is counted: a retry would hide an overload.
                .retry(RetryPolicy::NONE)
                .timeout(HTTP_TIMEOUT)
                .build()
                .map_err(BenchError::Client)?;
            agents.push(Agent { did, client });
        }
        Ok(agents)
    }

    /// The node's metrics now; empty when there is no metrics URL or it
    /// cannot be read (the run does not depend on them).
    pub async fn scrape_metrics(&self) -> BTreeMap<String, f64> {
        let Some(url) = &self.metrics_url else {
            return BTreeMap::new();
        };
        match self.http.get(url).send().await {
            Ok(response) if response.status().is_success() => match response.text().await {
                Ok(text) => parse_prometheus(&text),
                Err(_) => BTreeMap::new(),
            },
            _ => BTreeMap::new(),
        }
    }

    /// Stops the in-process node and echo server, if any, and closes the
    /// database.
    pub async fn close(self) {
        self.store.close().await;
        if let Some(echo) = self.echo {
            echo.shutdown().await;
        }
        if let Some(node) = self.node
            && let Err(error) = node.shutdown().await
        {
            eprintln!("sage-bench: the in-process node did not stop cleanly: {error}");
        }
    }
}

/// The DID the node's agent card names.
async fn card_did(http: &reqwest::Client, base_url: &str) -> Result<Did, BenchError> {
    let response = http
        .get(format!("{base_url}/.well-known/agent-card.json"))
        .send()
        .await
        .map_err(BenchError::Http)?;
    let body = response.bytes().await.map_err(BenchError::Http)?;
    let card: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| BenchError::AgentCard)?;
    let id = card
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or(BenchError::AgentCard)?;
    Did::parse(id).map_err(|_| BenchError::AgentCard)
}

/// Starts a node in this process: data in a temporary directory, the
/// database a SQLite file there unless `database_url` is given, a free
/// loopback port, a management token.
async fn spawn_node(
    database_url: Option<String>,
    token: Option<String>,
) -> Result<(RunningNode, Option<tempfile::TempDir>, String, String), BenchError> {
    let dir = tempfile::tempdir().map_err(|source| BenchError::Io {
        path: std::env::temp_dir(),
        source,
    })?;
    let database_url =
        database_url.unwrap_or_else(|| format!("sqlite://{}/sage.db", dir.path().display()));
    let token = token.unwrap_or_else(|| {
        let mut bytes = [0u8; 24];
        rng().fill_bytes(&mut bytes);
        hex_encode(&bytes)
    });
    let mut config = SageConfig::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.database.url = database_url.parse().map_err(|_| BenchError::BadArgument {
        option: "--database-url",
        value: sage_store::redact_url(&database_url),
    })?;
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.server.shutdown_timeout = Duration::from_secs(5);
    config.management.token =
        Some(Secret::env(TOKEN_VARIABLE).map_err(|_| BenchError::Usage("bad token variable"))?);
    let mut options = NodeOptions::new(config);
    options.name = "sage-bench node".to_owned();
    options.migrate_postgres = true;
    options.env_vars = [(TOKEN_VARIABLE, token.as_str())].into_iter().collect();
    let node = server::start(options).await.map_err(BenchError::Node)?;
    Ok((node, Some(dir), database_url, token))
}
