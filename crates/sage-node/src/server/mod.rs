//! Assembling a node from its configuration, serving it, stopping it.
//!
//! Layer: node, the top. [`start`] does, in order:
//!
//! 1. installs the Prometheus recorder (when `metrics.enabled`);
//! 2. connects the database and migrates it ([`storage::open_store`]),
//!    and resolves the key-encryption key ([`storage::key_encryption_key`]);
//! 3. builds the registry (`registry.backend`: the local registry in the
//!    database, or the Ethereum contract) and the caching resolver;
//! 4. binds `server.listen` (port 0 picks a free port), so that the
//!    public URL — `server.public_url`, else `http://<bound address>` —
//!    is known before the identity is registered with it;
//! 5. loads or creates the identity keys and establishes the DID in the
//!    registry ([`crate::identity`]);
//! 6. signs the agent card, builds the protocol service, the management
//!    API, the operations routes and the OpenAPI document with Swagger UI;
//! 7. serves, with the middleware of [`layers`], and runs the store's
//!    sweeper and the session gauges in the background.
//!
//! [`RunningNode::shutdown`] is graceful: `/ready` turns 503, the
//! listener stops accepting, in-flight requests get
//! `server.shutdown_timeout` to finish, then the background tasks stop
//! and the database pool is closed (SQLite checkpoints its WAL on close).
//!
//! Not here: logging setup ([`crate::ops::init_logging`], the binary's
//! choice) and signal handling beyond [`shutdown_signal`].

mod error;
pub mod layers;
pub mod storage;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use sage_config::{EnvVars, RegistryBackend, SageConfig};
use sage_core::did::Did;
use sage_core::version::ProtocolVersion;
use sage_registry::{CachingResolver, LocalRegistry};
use sage_registry_eth::{
    ClientOptions, EthRegistry, EthRegistryClient, EthRegistryOptions, Sender,
};
use sage_store::{Clock, Store, Sweeper, SweeperHandle, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use utoipa_axum::router::OpenApiRouter;
use zeroize::Zeroizing;

pub use self::error::NodeError;
use crate::api::{self, ApiDeps};
use crate::card;
use crate::identity::NodeIdentity;
use crate::identity::bootstrap::{self, Profile};
use crate::identity::keystore::Keystore;
use crate::ops::{self, Readiness};
use crate::protocol::{self, MessageService, ProtocolDeps};
use crate::registry::AnyRegistry;
/// The URL type of [`NodeOptions::upstream`].
pub use http::Uri;

/// How often the store is swept of expired sessions, nonces and cache
/// entries.
const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// How often the session gauges are refreshed.
const GAUGE_INTERVAL: Duration = Duration::from_secs(15);

/// Everything [`start`] needs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct NodeOptions {
    /// The node's configuration (loaded and validated by sage-config).
    pub config: SageConfig,
    /// Gateway mode: application payloads are POSTed to this URL.
    pub upstream: Option<Uri>,
    /// The display name a first start registers (default `sage-node`).
    pub name: String,
    /// Migrate a PostgreSQL database that is behind (SQLite always is).
    pub migrate_postgres: bool,
    /// Where `env:` secret references are read (default: the process
    /// environment).
    pub env_vars: EnvVars,
}

impl NodeOptions {
    /// Options for `config`, with the defaults above.
    pub fn new(config: SageConfig) -> Self {
        Self {
            config,
            upstream: None,
            name: "sage-node".to_owned(),
            migrate_postgres: false,
            env_vars: EnvVars::from_process(),
        }
    }
}

/// The management token file the node generates in its data directory
/// when `management.token` is not configured.
pub const GENERATED_TOKEN_FILE: &str = "management-token";

/// A node that serves; stop it with [`RunningNode::shutdown`].
pub struct RunningNode {
    local_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    public_url: String,
    identity: Arc<NodeIdentity>,
    registered: bool,
    management_token_file: Option<std::path::PathBuf>,
    store: Store,
    draining: Arc<AtomicBool>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    metrics_server: Option<JoinHandle<std::io::Result<()>>>,
    sweeper: SweeperHandle,
    gauges: JoinHandle<()>,
    shutdown_timeout: Duration,
}

impl core::fmt::Debug for RunningNode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RunningNode")
            .field("local_addr", &self.local_addr)
            .field("public_url", &self.public_url)
            .field("did", &self.identity.did().as_str())
            .finish_non_exhaustive()
    }
}

impl RunningNode {
    /// The address the HTTP listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the separate metrics listener, when
    /// `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The URL agents reach the node at (no trailing slash).
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The file holding the management token the node generated, when
    /// none is configured (`management.token`).
    pub fn management_token_file(&self) -> Option<&std::path::Path> {
        self.management_token_file.as_deref()
    }

    /// The node's DID.
    pub fn did(&self) -> &Did {
        self.identity.did()
    }

    /// The node's identity.
    pub fn identity(&self) -> &Arc<NodeIdentity> {
        &self.identity
    }

    /// Whether this start registered the DID (first start on the local
    /// registry).
    pub fn registered(&self) -> bool {
        self.registered
    }

    /// Serves until `signal` completes (or the server fails), then shuts
    /// down gracefully.
    ///
    /// # Errors
    /// [`NodeError::Serve`] when serving failed; as
    /// [`RunningNode::shutdown`].
    pub async fn serve_until<F>(mut self, signal: F) -> Result<(), NodeError>
    where
        F: Future<Output = ()>,
    {
        tokio::select! {
            () = signal => {
                tracing::info!("shutdown requested");
                self.shutdown().await
            }
            finished = &mut self.server => {
                let result = flatten(finished);
                self.stop_background().await;
                result
            }
        }
    }

    /// Stops the node: `/ready` answers 503, no new connection is
    /// accepted, in-flight requests get `server.shutdown_timeout`, then
    /// the sweeper stops and the database pool is closed.
    ///
    /// # Errors
    /// [`NodeError::ShutdownTimedOut`] when requests were cut off;
    /// [`NodeError::Serve`] when the server had failed.
    pub async fn shutdown(mut self) -> Result<(), NodeError> {
        self.draining.store(true, Ordering::Relaxed);
        // Fails only when the server already ended, which is the goal.
        let _ = self.stop.send(true);
        let result = match tokio::time::timeout(self.shutdown_timeout, &mut self.server).await {
            Ok(finished) => flatten(finished),
            Err(_) => {
                self.server.abort();
                Err(NodeError::ShutdownTimedOut)
            }
        };
        if let Some(metrics) = self.metrics_server.take()
            && tokio::time::timeout(Duration::from_secs(1), metrics)
                .await
                .is_err()
        {
            tracing::warn!("the metrics listener did not stop in time");
        }
        self.stop_background().await;
        tracing::info!("node stopped");
        result
    }

    async fn stop_background(self) {
        self.gauges.abort();
        if let Some(metrics) = &self.metrics_server {
            metrics.abort();
        }
        if self.sweeper.shutdown().await.is_err() {
            tracing::warn!("the store sweeper ended abnormally");
        }
        self.store.close().await;
    }
}

fn flatten(finished: Result<std::io::Result<()>, tokio::task::JoinError>) -> Result<(), NodeError> {
    match finished {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(NodeError::Serve(e)),
        Err(e) => Err(NodeError::Serve(std::io::Error::other(e))),
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C); elsewhere than Unix, on
/// Ctrl-C only.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts a node (see the module doc).
///
/// # Errors
/// Any [`NodeError`] of the steps above; nothing is left running when
/// start fails (the database pool is closed).
pub async fn start(options: NodeOptions) -> Result<RunningNode, NodeError> {
    let NodeOptions {
        config,
        upstream,
        name,
        migrate_postgres,
        env_vars,
    } = options;
    let metrics = if config.metrics.enabled {
        Some(crate::metrics::install().map_err(NodeError::Metrics)?)
    } else {
        None
    };
    let store = storage::open_store(&config, migrate_postgres).await?;
    match assemble(config, upstream, name, &env_vars, store.clone(), metrics).await {
        Ok(node) => Ok(node),
        Err(e) => {
            store.close().await;
            Err(e)
        }
    }
}

async fn assemble(
    config: SageConfig,
    upstream: Option<Uri>,
    name: String,
    env: &EnvVars,
    store: Store,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
) -> Result<RunningNode, NodeError> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let kek = storage::key_encryption_key(&config, env)?;
    let registry = build_registry(&config, env, &store, &clock).await?;
    let resolver = Arc::new(CachingResolver::new(
        registry,
        store.clone(),
        config.registry.cache_ttl,
        Arc::clone(&clock),
    ));

    let address = config.server.listen;
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| NodeError::Bind { address, source })?;
    let local_addr = listener
        .local_addr()
        .map_err(|source| NodeError::Bind { address, source })?;
    let public_url = public_url(&config, local_addr);

    let keystore = Keystore::new(
        config.data_path(&config.identity.signing_key),
        config.data_path(&config.identity.kem_key),
        resolve_optional(
            config.identity.passphrase.as_ref(),
            env,
            "identity.passphrase",
        )?,
    );
    let keys = keystore.load_or_create(&mut getrandom::rand_core::UnwrapErr(getrandom::SysRng))?;
    if keys.signing_created || keys.kem_created {
        tracing::info!(
            signing_key = %keystore.signing_path().display(),
            kem_key = %keystore.kem_path().display(),
            "created identity key files"
        );
    }
    let profile = Profile {
        name,
        description: "A SAGE node".to_owned(),
        endpoint: public_url.clone(),
    };
    let established =
        bootstrap::bootstrap(&resolver, keys, config.identity.did.as_deref(), &profile).await?;
    let identity = Arc::new(established.identity);
    let card = card::signed_card(&identity, &established.record, &public_url, clock.now())
        .map_err(NodeError::Card)?;

    let sessions = store.sessions(&kek);
    drop(kek);
    let config = Arc::new(config);
    let service = MessageService::new(ProtocolDeps {
        version: ProtocolVersion::V1Draft1,
        identity: Arc::clone(&identity),
        store: store.clone(),
        sessions: sessions.clone(),
        resolver: Arc::clone(&resolver),
        config: Arc::clone(&config),
        public_url: public_url.parse().ok(),
        upstream,
        clock: Arc::clone(&clock),
    })
    .map_err(NodeError::Protocol)?;
    // Without a configured token the node makes one, as it does the
    // key-encryption key: the management API is never open, and an
    // operator reads the token from a 0600 file in the data directory.
    let (token, management_token_file) =
        match resolve_optional(config.management.token.as_ref(), env, "management.token")? {
            Some(token) => (token, None),
            None => {
                let path = config.storage.data_dir.join(GENERATED_TOKEN_FILE);
                let token = api::auth::load_or_create_token(&path).map_err(NodeError::Token)?;
                (token, Some(path))
            }
        };
    let token = Some(token);
    let api_deps = ApiDeps {
        identity: Arc::clone(&identity),
        store: store.clone(),
        sessions,
        resolver: Arc::clone(&resolver),
        token,
        clock: Arc::clone(&clock),
    };

    let draining = Arc::new(AtomicBool::new(false));
    let readiness = Readiness::new(
        store.clone(),
        Arc::clone(&resolver),
        identity.did().clone(),
        Arc::clone(&draining),
    );
    let metrics_on_main = config.metrics.listen.is_none() && config.metrics.path == "/metrics";
    let (router, openapi) = OpenApiRouter::with_openapi(api::openapi_base())
        .merge(protocol::routes(Arc::new(service)))
        .merge(api::routes(api_deps))
        .merge(card::routes(Arc::from(card)))
        .merge(ops::routes(
            readiness,
            metrics.clone().filter(|_| metrics_on_main),
        ))
        .split_for_parts();
    let mut router: Router = router.merge(api::docs_router(openapi));
    let mut metrics_listener = None;
    if let Some(handle) = metrics.filter(|_| !metrics_on_main) {
        let metrics_router = ops::metrics_router(&config.metrics.path, handle);
        match config.metrics.listen {
            None => router = router.merge(metrics_router),
            Some(address) => {
                let listener = TcpListener::bind(address)
                    .await
                    .map_err(|source| NodeError::Bind { address, source })?;
                metrics_listener = Some((listener, metrics_router));
            }
        }
    }
    let body_limit = usize::try_from(config.server.body_limit.0).unwrap_or(usize::MAX);
    let app = layers::wrap(router, body_limit, config.server.request_timeout);

    let (stop, stopped) = watch::channel(false);
    let read_timeout = config.server.read_timeout;
    let server = tokio::spawn(serve(listener, app, read_timeout, stopped.clone()));
    let mut metrics_addr = None;
    let metrics_server = match metrics_listener {
        Some((listener, router)) => {
            metrics_addr = listener.local_addr().ok();
            Some(tokio::spawn(serve(listener, router, read_timeout, stopped)))
        }
        None => None,
    };
    let sweeper = Sweeper::new(store.clone(), Arc::clone(&clock), SWEEP_INTERVAL);
    let sweep_stats = sweeper.stats();
    let sweeper = sweeper.spawn();
    let gauges = tokio::spawn(refresh_gauges(store.clone(), clock, sweep_stats));

    tracing::info!(
        did = %identity.did(),
        listen = %local_addr,
        public_url = %public_url,
        registry = resolver.registry().backend_name(),
        "node started"
    );
    Ok(RunningNode {
        local_addr,
        metrics_addr,
        public_url,
        identity,
        registered: established.registered,
        management_token_file,
        store,
        draining,
        stop,
        server,
        metrics_server,
        sweeper,
        gauges,
        shutdown_timeout: config.server.shutdown_timeout,
    })
}

/// Serves `app` on `listener` until `stopped` turns true, then lets the
/// open connections finish their requests (idle keep-alive connections
/// close at once).
///
/// The accept loop is ours rather than `axum::serve`'s for one reason:
/// `server.read_timeout`. A connection that does not deliver a complete
/// request head within it is closed (hyper's header read timeout), so
/// slow clients cannot hold connections open; the rest of the request is
/// bounded by `server.request_timeout` ([`layers`]).
async fn serve(
    listener: TcpListener,
    app: Router,
    read_timeout: Duration,
    mut stopped: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            // An error means the sender is gone: stop as well.
            _ = stopped.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors and the like: back off, as
                // axum::serve does, rather than spin or stop serving.
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let service = TowerToHyperService::new(app.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// `server.public_url` without a trailing slash, else `http://<bound
/// address>` (an unspecified address becomes the loopback one, which at
/// least this machine can reach).
fn public_url(config: &SageConfig, bound: SocketAddr) -> String {
    if let Some(url) = &config.server.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let mut address = bound;
    if address.ip().is_unspecified() {
        address.set_ip(match address.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        });
    }
    format!("http://{address}")
}

/// An optional secret, resolved into a zeroizing buffer.
fn resolve_optional(
    secret: Option<&sage_config::Secret>,
    env: &EnvVars,
    key: &'static str,
) -> Result<Option<Zeroizing<Vec<u8>>>, NodeError> {
    secret
        .map(|s| {
            s.resolve(env)
                .map(|v| Zeroizing::new(v.expose().to_vec()))
                .map_err(|source| NodeError::Secret { key, source })
        })
        .transpose()
}

/// The configured registry backend.
async fn build_registry(
    config: &SageConfig,
    env: &EnvVars,
    store: &Store,
    clock: &Arc<dyn Clock>,
) -> Result<AnyRegistry, NodeError> {
    match config.registry.backend {
        RegistryBackend::Local => Ok(AnyRegistry::Local(LocalRegistry::new(
            store.clone(),
            Arc::clone(clock),
        ))),
        RegistryBackend::Ethereum => {
            let ethereum = &config.registry.ethereum;
            let rpc_url = ethereum
                .rpc_url
                .as_deref()
                .ok_or(NodeError::MissingSetting {
                    key: "registry.ethereum.rpc_url",
                })?;
            let contract = ethereum
                .contract_address
                .ok_or(NodeError::MissingSetting {
                    key: "registry.ethereum.contract_address",
                })?
                .to_bytes();
            let chain_id = ethereum.chain_id.ok_or(NodeError::MissingSetting {
                key: "registry.ethereum.chain_id",
            })?;
            // Without a sender key the node resolves but cannot write
            // (the management API's registry operations then fail).
            let sender = match &ethereum.sender_key {
                Some(secret) => Sender::LocalKey(secret.resolve_key(env).map_err(|source| {
                    NodeError::Secret {
                        key: "registry.ethereum.sender_key",
                        source,
                    }
                })?),
                None => Sender::ReadOnly,
            };
            let client = EthRegistryClient::new(
                rpc_url,
                contract,
                chain_id,
                sender,
                ClientOptions::new(ethereum.request_timeout, ethereum.receipt_timeout),
            )
            .map_err(NodeError::Ethereum)?;
            client.verify().await.map_err(NodeError::Ethereum)?;
            Ok(AnyRegistry::Ethereum(EthRegistry::new(
                client,
                EthRegistryOptions::with_reveal_wait(ethereum.reveal_wait),
            )))
        }
    }
}

/// Every [`GAUGE_INTERVAL`]: the live session count, and the sessions the
/// sweeper found expired since the last look.
async fn refresh_gauges(store: Store, clock: Arc<dyn Clock>, stats: Arc<sage_store::SweepStats>) {
    let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut swept = 0;
    loop {
        ticks.tick().await;
        let deleted = stats.snapshot().sessions_deleted;
        if deleted > swept {
            crate::metrics::sessions_expired(deleted - swept);
            swept = deleted;
        }
        match store.count_sessions(clock.now()).await {
            Ok(count) => crate::metrics::sessions_active(count),
            Err(error) => tracing::warn!(%error, "cannot count live sessions"),
        }
    }
}
