//! `sage did register|activate|resolve|add-key|revoke-key|update|deactivate|list`:
//! the agent registry (sage-registry; PROTOCOL.md §8–§10, docs/REGISTRY.md).
//!
//! Every command works on the registry the node configuration names
//! (`registry.backend`, overridable with `--registry`), loaded with the
//! same layers and flags as `sage config` and `sage db` (`--env`,
//! `--config`, `--config-dir`, `--set`, `SAGE_<SECTION>__<KEY>`), with
//! `--database-url` above them all:
//!
//! - `local`: the embedded registry in the node's database. The database
//!   must be migrated (`sage db migrate up`); nothing here changes its
//!   schema. Resolution goes through the caching resolver with
//!   `registry.cache_ttl`, as the node's does, and every write drops the
//!   DID's cached answer.
//! - `ethereum`: the `AgentCardRegistry` contract at
//!   `registry.ethereum.*`, driven by sage-registry-eth (the [`eth`]
//!   module). Writes are sent by the account of
//!   `registry.ethereum.sender_key`; no database is involved.
//!
//! Changes are requests signed by the record's controller key (its first
//! accepted signing key): `--key FILE` names the private key file. Private
//! keys are only ever read from files, never taken as arguments. The
//! version a request is made against is read from the registry first.
//!
//! The CLI is synchronous: each command runs on a single-threaded tokio
//! runtime built for it, with the system clock and the OS RNG.

mod eth;
mod progress;

pub(crate) use eth::open_read_only;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};

use sage_config::{LoadedConfig, RegistryBackend, SageConfig};
use sage_core::did::{Chain, Did, DidUrl};
use sage_core::encoding::hex_encode;
use sage_core::primitives::{KeyError, PrivateKey, PublicKey, SigningKey, key_id};
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::model::key_name;
use sage_registry::{
    Activate, AddKey, CachingResolver, Deactivate, ListRequest, Listing, LocalRegistry, NewKey,
    RecordState, Register, Registry, RegistryError, RegistryRecord, Request, RequestBody,
    RequestHeader, ResolvedRecord, RevokeKey, SignedRequest, Source, Update,
};
use sage_store::{Store, SystemClock};

use crate::cli::{ConfigArgs, DidCommand};
use crate::commands::config::load_config;
use crate::error::{CliError, KeyFileProblem};
use crate::keyfile::KeyFile;
use crate::output::Output;
use crate::runtime::block_on;
use crate::store_options::store_settings;

/// Registry backends of `--registry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RegistryArg {
    /// The embedded registry in the node's database.
    Local,
    /// The Ethereum registry contract (registry.ethereum).
    Ethereum,
}

/// Which registry, from which configuration.
#[derive(Debug, Args)]
pub(crate) struct BackendArgs {
    /// Which configuration: environment, files, overrides.
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// The registry backend (sets registry.backend). Default:
    /// registry.backend of the configuration.
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub(crate) registry: Option<RegistryArg>,
    /// The database of the local registry, above every configuration
    /// source (database.url).
    #[arg(long, value_name = "URL")]
    pub(crate) database_url: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RegisterArgs {
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    /// Private signing key file (Ed25519 or secp256k1; JWK or PEM). The
    /// first becomes the controller; repeat for more signing keys.
    #[arg(long = "key", value_name = "FILE", required = true)]
    pub(crate) keys: Vec<PathBuf>,
    /// X25519 key file (private or public) to register as the HPKE KEM
    /// key, endorsed by the controller key.
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) kem_key: Option<PathBuf>,
    /// The DID. Default, for a secp256k1 controller key only:
    /// did:sage:ethereum:<its address>.
    #[arg(long, value_name = "DID")]
    pub(crate) did: Option<String>,
    /// Display name.
    #[arg(long)]
    pub(crate) name: String,
    /// The agent's endpoint URL (http or https).
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: String,
    /// Description.
    #[arg(long, default_value = "")]
    pub(crate) description: String,
    /// A capability name (repeatable); stored as capabilities.capabilities.
    #[arg(long = "capability", value_name = "NAME")]
    pub(crate) capabilities: Vec<String>,
}

/// A change signed by the controller.
#[derive(Debug, Args)]
pub(crate) struct ControllerArgs {
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    /// The agent's DID.
    pub(crate) did: String,
    /// The controller's private key file (the record's first accepted
    /// signing key).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct AddKeyArgs {
    #[command(flatten)]
    pub(crate) controller: ControllerArgs,
    /// The key to add: a private signing key file (its proof of possession
    /// is made with it), or an X25519 key file (private or public),
    /// endorsed by the controller key.
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) new_key: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct RevokeKeyArgs {
    #[command(flatten)]
    pub(crate) controller: ControllerArgs,
    /// The key to revoke: its name (key-2) or its URL (DID#key-2).
    #[arg(value_name = "KEY")]
    pub(crate) key_name: String,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    #[command(flatten)]
    pub(crate) controller: ControllerArgs,
    /// New display name.
    #[arg(long)]
    pub(crate) name: Option<String>,
    /// New description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// New endpoint URL.
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: Option<String>,
    /// Replace the capabilities with these names (repeatable).
    #[arg(long = "capability", value_name = "NAME")]
    pub(crate) capabilities: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct ResolveArgs {
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    /// The DID.
    pub(crate) did: String,
    /// Print the W3C DID document and its metadata instead of the record.
    #[arg(long)]
    pub(crate) document: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) backend: BackendArgs,
    /// The owner label: an Ethereum address, or the key id of an Ed25519
    /// controller (as `sage did register` prints it).
    #[arg(long)]
    pub(crate) owner: String,
    /// Most records listed.
    #[arg(long, default_value_t = 100)]
    pub(crate) limit: u32,
    /// Continue after this DID.
    #[arg(long, value_name = "DID")]
    pub(crate) after: Option<String>,
}

/// The caching resolver in front of the local registry, on its database.
pub(crate) type LocalResolver = CachingResolver<Arc<LocalRegistry<Store>>, Store>;

/// The opened local registry: the registry itself (for full records) and
/// the caching resolver in front of it (for resolution and writes).
pub(crate) struct Local {
    /// The registry, for full records.
    pub(crate) registry: Arc<LocalRegistry<Store>>,
    /// The caching resolver, for resolution and writes.
    pub(crate) resolver: LocalResolver,
    /// Its database, to close when done.
    pub(crate) store: Store,
}

/// `sage did ...` (every subcommand but `parse` is a registry command).
/// `json` is the global `--json` (it hides progress displays).
pub(crate) fn run(command: DidCommand, json: bool) -> Result<Output, CliError> {
    if let DidCommand::Parse(args) = &command {
        return crate::commands::did::parse(args);
    }
    block_on(execute(command, json))
}

/// The configuration and backend flags of a registry command.
fn backend_args(command: &DidCommand) -> Option<&BackendArgs> {
    Some(match command {
        DidCommand::Parse(_) => return None,
        DidCommand::Register(args) => &args.backend,
        DidCommand::Activate(args) | DidCommand::Deactivate(args) => &args.backend,
        DidCommand::AddKey(args) => &args.controller.backend,
        DidCommand::RevokeKey(args) => &args.controller.backend,
        DidCommand::Update(args) => &args.controller.backend,
        DidCommand::Resolve(args) => &args.backend,
        DidCommand::List(args) => &args.backend,
    })
}

/// Loads the configuration with `--registry` and `--database-url` as
/// overrides above every other source, so that the backend they select
/// is validated as if the configuration named it.
///
/// # Errors
///
/// [`CliError::Config`] (or a file error) when the configuration does not
/// load or validate.
pub(crate) fn load(args: &BackendArgs) -> Result<LoadedConfig, CliError> {
    let mut flags: Vec<(String, String)> = args
        .database_url
        .iter()
        .map(|url| ("database.url".to_owned(), url.clone()))
        .collect();
    if let Some(registry) = args.registry {
        let backend = match registry {
            RegistryArg::Local => "local",
            RegistryArg::Ethereum => "ethereum",
        };
        flags.push(("registry.backend".to_owned(), backend.to_owned()));
    }
    load_config(&args.config, flags)
}

async fn execute(command: DidCommand, json: bool) -> Result<Output, CliError> {
    let Some(args) = backend_args(&command) else {
        if let DidCommand::Parse(args) = &command {
            return crate::commands::did::parse(args);
        }
        return Ok(Output::new());
    };
    let loaded = load(args)?;
    if loaded.config.registry.backend == RegistryBackend::Ethereum {
        return eth::execute(command, &loaded, json).await;
    }
    let config = &loaded.config;
    let mut out = Output::new();
    match command {
        DidCommand::Parse(args) => return crate::commands::did::parse(&args),
        DidCommand::Register(args) => register(&args, config, &mut out).await?,
        DidCommand::Activate(args) => {
            change(
                &args,
                config,
                &mut out,
                |_, _| Ok(Activate),
                |local, signed| async move { local.resolver.activate(&signed).await },
            )
            .await?;
        }
        DidCommand::Deactivate(args) => {
            change(
                &args,
                config,
                &mut out,
                |_, _| Ok(Deactivate),
                |local, signed| async move { local.resolver.deactivate(&signed).await },
            )
            .await?;
        }
        DidCommand::AddKey(args) => {
            let new_key = KeyFile::load(&args.new_key)?;
            change(
                &args.controller,
                config,
                &mut out,
                |record, controller| {
                    let controller_bytes = controller.verifying_key().to_bytes();
                    let endorser = || {
                        record
                            .keys
                            .iter()
                            .find(|k| k.key_data == controller_bytes)
                            .map(|k| k.name.clone())
                    };
                    add_key_body(&record.did, controller, new_key, &args.new_key, endorser)
                },
                |local, signed| async move { local.resolver.add_key(&signed).await },
            )
            .await?;
        }
        DidCommand::RevokeKey(args) => {
            let key = key_reference(&args.key_name)?;
            change(
                &args.controller,
                config,
                &mut out,
                |_, _| Ok(RevokeKey { key }),
                |local, signed| async move { local.resolver.revoke_key(&signed).await },
            )
            .await?;
        }
        DidCommand::Update(args) => {
            let body = Update {
                name: args.name.clone(),
                description: args.description.clone(),
                endpoint: args.endpoint.clone(),
                capabilities: (!args.capabilities.is_empty())
                    .then(|| capabilities(&args.capabilities)),
            };
            change(
                &args.controller,
                config,
                &mut out,
                |_, _| Ok(body),
                |local, signed| async move { local.resolver.update(&signed).await },
            )
            .await?;
        }
        DidCommand::Resolve(args) => resolve(&args, config, &mut out).await?,
        DidCommand::List(args) => list(&args, config, &mut out).await?,
    }
    Ok(out)
}

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn now() -> sage_core::time::Timestamp {
    sage_store::instant::system_now()
}

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// Opens the local registry of `config` (its database, which must be
/// migrated) and the caching resolver in front of it.
///
/// # Errors
///
/// [`CliError::Store`] when the database cannot be reached,
/// [`CliError::BadArgument`] when it has pending migrations.
pub(crate) async fn open_local(config: &SageConfig) -> Result<Local, CliError> {
    let settings = store_settings(config);
    let store_error = |error| CliError::Store {
        database: settings.shown_url.clone(),
        error,
    };
    let store = Store::connect(&settings.options)
        .await
        .map_err(store_error)?;
    let status = store.migration_status().await.map_err(store_error)?;
    if status.pending() > 0 {
        store.close().await;
        return Err(CliError::BadArgument {
            argument: "database",
            reason: format!(
                "{} has {} pending migration(s): run `sage db migrate up` first",
                settings.shown_url,
                status.pending()
            ),
        });
    }
    let clock = Arc::new(SystemClock);
    let registry = Arc::new(LocalRegistry::new(store.clone(), clock.clone()));
    let resolver = CachingResolver::new(
        registry.clone(),
        store.clone(),
        config.registry.cache_ttl,
        clock,
    );
    Ok(Local {
        registry,
        resolver,
        store,
    })
}

fn parse_did(text: &str) -> Result<Did, CliError> {
    Did::parse(text).map_err(|error| CliError::BadDid {
        did: text.to_owned(),
        error,
    })
}

/// A private signing key from a file.
fn signing_key(path: &Path) -> Result<SigningKey, CliError> {
    match KeyFile::load(path)? {
        KeyFile::Private(PrivateKey::Signing(key)) => Ok(key),
        KeyFile::Private(_) => Err(CliError::key_file(
            path,
            KeyFileProblem::Unusable(KeyError::NotASigningKey),
        )),
        KeyFile::Public(_) => Err(CliError::key_file(path, KeyFileProblem::NotPrivate)),
    }
}

/// The X25519 public key of a key file (private or public).
fn kem_key(path: &Path) -> Result<sage_core::primitives::X25519PublicKey, CliError> {
    match KeyFile::load(path)?.public_key() {
        PublicKey::X25519(key) => Ok(key),
        _ => Err(CliError::key_file(
            path,
            KeyFileProblem::Unusable(KeyError::NotAnAgreementKey),
        )),
    }
}

fn capabilities(names: &[String]) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(
        "capabilities".into(),
        Value::Array(names.iter().map(|n| Value::from(n.as_str())).collect()),
    );
    map
}

/// `key-2` or `<DID>#key-2`.
fn key_reference(text: &str) -> Result<String, CliError> {
    if text.starts_with("did:") {
        let url = DidUrl::parse(text).map_err(|error| CliError::BadDid {
            did: text.to_owned(),
            error,
        })?;
        url.fragment()
            .map(str::to_owned)
            .ok_or_else(|| CliError::BadArgument {
                argument: "KEY",
                reason: "a key URL needs a #fragment".to_owned(),
            })
    } else {
        Ok(text.to_owned())
    }
}

fn registry_error(error: RegistryError) -> CliError {
    CliError::Registry(error)
}

/// The signing keys and the optional KEM key of `sage did register`.
fn registration_keys(
    args: &RegisterArgs,
) -> Result<
    (
        Vec<SigningKey>,
        Option<sage_core::primitives::X25519PublicKey>,
    ),
    CliError,
> {
    let keys = args
        .keys
        .iter()
        .map(|path| signing_key(path))
        .collect::<Result<Vec<_>, _>>()?;
    controller(&keys)?;
    let kem = args.kem_key.as_deref().map(kem_key).transpose()?;
    Ok((keys, kem))
}

/// The controller of a registration: its first signing key.
fn controller(keys: &[SigningKey]) -> Result<&SigningKey, CliError> {
    keys.first().ok_or_else(|| CliError::BadArgument {
        argument: "--key",
        reason: "at least one signing key is needed".to_owned(),
    })
}

/// The registration of `did`: every signing key with its proof of
/// possession, the KEM key endorsed by the first (the controller).
fn registration(
    args: &RegisterArgs,
    did: &Did,
    keys: &[SigningKey],
    kem: Option<&sage_core::primitives::X25519PublicKey>,
) -> Result<Register, CliError> {
    let mut new_keys = keys
        .iter()
        .zip(&args.keys)
        .map(|(key, path)| {
            NewKey::signing(labels(), key, did).map_err(|_| {
                CliError::key_file(path, KeyFileProblem::Unusable(KeyError::UnknownKeyType))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let (Some(kem), Some(controller)) = (kem, keys.first()) {
        new_keys.push(NewKey::kem(
            labels(),
            did,
            kem,
            controller,
            &key_name(labels(), 0),
        ));
    }
    Ok(Register {
        name: args.name.clone(),
        description: args.description.clone(),
        endpoint: args.endpoint.clone(),
        capabilities: if args.capabilities.is_empty() {
            Map::new()
        } else {
            capabilities(&args.capabilities)
        },
        keys: new_keys,
    })
}

/// `sage did register`.
async fn register(
    args: &RegisterArgs,
    config: &SageConfig,
    out: &mut Output,
) -> Result<(), CliError> {
    let (keys, kem) = registration_keys(args)?;
    let controller = controller(&keys)?;
    let did = match &args.did {
        Some(text) => parse_did(text)?,
        None => default_did(controller)?,
    };
    let body = registration(args, &did, &keys, kem.as_ref())?;
    let local = open_local(config).await?;
    let signed = sign(&did, 0, body, controller);
    let result = local.resolver.register(&signed).await;
    finish(&local, result, out, "registered").await?;
    out.note(format!(
        "next: sage did activate {did} --key {}",
        args.keys[0].display()
    ));
    Ok(())
}

/// The DID a secp256k1 key implies: `did:sage:ethereum:<address>`.
fn default_did(controller: &SigningKey) -> Result<Did, CliError> {
    let address = controller
        .verifying_key()
        .ethereum_address()
        .ok_or_else(|| CliError::BadArgument {
            argument: "--did",
            reason: "required unless the first --key is a secp256k1 key \
                     (only those have an address to derive the DID from)"
                .to_owned(),
        })?;
    Did::new(Chain::Ethereum, &address).map_err(|error| CliError::BadDid {
        did: address,
        error,
    })
}

fn sign<B: RequestBody>(did: &Did, version: u64, body: B, key: &SigningKey) -> SignedRequest<B> {
    let header = RequestHeader::new(did.clone(), version, now(), &mut rng());
    Request::new(header, body).sign(key)
}

/// A change of an existing record: read it (for its version), build the
/// body, sign it with the controller key, send it, print the result.
async fn change<B, Build, Submit, Fut>(
    args: &ControllerArgs,
    config: &SageConfig,
    out: &mut Output,
    build: Build,
    submit: Submit,
) -> Result<(), CliError>
where
    B: RequestBody,
    Build: FnOnce(&RegistryRecord, &SigningKey) -> Result<B, CliError>,
    Submit: FnOnce(Arc<Local>, SignedRequest<B>) -> Fut,
    Fut: Future<Output = Result<ResolvedRecord, RegistryError>>,
{
    let did = parse_did(&args.did)?;
    let controller = signing_key(&args.key)?;
    let local = Arc::new(open_local(config).await?);
    let record = local.registry.record(&did).await.map_err(registry_error)?;
    let body = build(&record, &controller)?;
    let signed = sign(&did, record.version, body, &controller);
    let result = submit(local.clone(), signed).await;
    finish(&local, result, out, B::OPERATION.as_str()).await
}

/// The body of `add-key`: a signing key proves possession itself; an
/// X25519 key is endorsed by the controller key, named as `endorser`
/// finds it in the record.
fn add_key_body(
    did: &Did,
    controller: &SigningKey,
    new_key: KeyFile,
    path: &Path,
    endorser: impl FnOnce() -> Option<String>,
) -> Result<AddKey, CliError> {
    let key = match new_key {
        KeyFile::Private(PrivateKey::Signing(key)) => NewKey::signing(labels(), &key, did)
            .map_err(|_| {
                CliError::key_file(path, KeyFileProblem::Unusable(KeyError::UnknownKeyType))
            })?,
        KeyFile::Public(PublicKey::Signing(_)) => {
            return Err(CliError::key_file(path, KeyFileProblem::NotPrivate));
        }
        other => {
            let PublicKey::X25519(kem) = other.public_key() else {
                return Err(CliError::key_file(
                    path,
                    KeyFileProblem::Unusable(KeyError::NotAnAgreementKey),
                ));
            };
            let endorser = endorser().ok_or_else(|| CliError::BadArgument {
                argument: "--key",
                reason: format!("the key is not a key of {did}"),
            })?;
            NewKey::kem(labels(), did, &kem, controller, &endorser)
        }
    };
    Ok(AddKey { key })
}

/// Prints the record after a write, or turns the error into the CLI's.
async fn finish(
    local: &Local,
    result: Result<ResolvedRecord, RegistryError>,
    out: &mut Output,
    verb: &str,
) -> Result<(), CliError> {
    let resolved = result.map_err(registry_error)?;
    let record = local
        .registry
        .record(&resolved.record.did)
        .await
        .map_err(registry_error)?;
    out.json("operation", verb);
    print_record(out, &record);
    local.store.close().await;
    Ok(())
}

/// A full registry record: every key with its name and state.
fn print_record(out: &mut Output, record: &RegistryRecord) {
    out.field("did", "did", record.did.as_str())
        .field("state", "state", record.state.as_str())
        .field("version", "version", record.version)
        .field("owner", "owner", record.owner.as_str())
        .field("name", "name", record.name.as_str())
        .field("endpoint", "endpoint", record.endpoint.as_str());
    out.line("keys:");
    for key in &record.keys {
        out.line(format!(
            "  {} {} {} {}",
            key.name,
            key.key_type.name(),
            key.state().as_str(),
            key_id(&key.key_data)
        ));
    }
    out.json("record", record.to_json_value());
}

/// `sage did resolve`.
async fn resolve(
    args: &ResolveArgs,
    config: &SageConfig,
    out: &mut Output,
) -> Result<(), CliError> {
    let did = parse_did(&args.did)?;
    let local = open_local(config).await?;
    let resolved = local.resolver.resolve(&did).await.map_err(registry_error);
    local.store.close().await;
    print_resolution(out, &resolved?, args.document)
}

/// A resolution: the record, or with `document` the W3C DID document and
/// its metadata.
fn print_resolution(
    out: &mut Output,
    resolved: &ResolvedRecord,
    document: bool,
) -> Result<(), CliError> {
    if !document {
        print_resolved(out, resolved);
        return Ok(());
    }
    let resolution = resolved.resolution(labels()).map_err(registry_error)?;
    let text = serde_json::to_string_pretty(&resolution).unwrap_or_default();
    out.line(text);
    if let Value::Object(members) = resolution {
        for (name, value) in members {
            out.json(&name, value);
        }
    }
    Ok(())
}

/// A resolution: the AgentMetadataV4 record and its metadata.
fn print_resolved(out: &mut Output, resolved: &ResolvedRecord) {
    let record = &resolved.record;
    out.field("did", "did", record.did.as_str())
        .field("state", "state", resolved.state.as_str());
    match resolved.version {
        Some(version) => {
            out.field("version", "version", version);
        }
        None => {
            let why = match resolved.source {
                Source::Cache { .. } => "version: (not in the cached answer)",
                _ => "version: (this registry keeps no versions)",
            };
            out.line(why).json("version", Value::Null);
        }
    }
    out.field("owner", "owner", record.owner.as_str())
        .field("name", "name", record.name.as_str())
        .field("endpoint", "endpoint", record.endpoint.as_str())
        .field("source", "source", resolved.source.as_str());
    out.line("keys:");
    let mut keys = Vec::new();
    for (position, key) in record.keys.iter().enumerate() {
        let name = key_name(labels(), position);
        let state = if key.verified { "accepted" } else { "revoked" };
        out.line(format!(
            "  {name} {} {state} {}",
            key.key_type.name(),
            key_id(&key.key_data)
        ));
        keys.push(json!({
            "name": name,
            "type": key.key_type.name(),
            "state": state,
            "key_id": key_id(&key.key_data),
            "key_data": hex_encode(&key.key_data),
        }));
    }
    out.json("keys", keys);
    out.json(
        "record",
        serde_json::to_value(record).unwrap_or(Value::Null),
    );
    if resolved.state != RecordState::Active {
        out.note(format!(
            "the record is {}: its keys must not be trusted",
            resolved.state
        ));
    }
}

/// `sage did list`.
async fn list(args: &ListArgs, config: &SageConfig, out: &mut Output) -> Result<(), CliError> {
    let local = open_local(config).await?;
    let page = ListRequest {
        limit: args.limit,
        after: args.after.clone(),
    };
    let listing = local
        .resolver
        .list_by_owner(&args.owner, &page)
        .await
        .map_err(registry_error);
    local.store.close().await;
    print_listing(out, &args.owner, listing?);
    Ok(())
}

/// One line per record of `owner`, and where the next page starts.
fn print_listing(out: &mut Output, owner: &str, listing: Listing) {
    let mut items = Vec::new();
    for resolved in &listing.items {
        let version = resolved
            .version
            .map_or_else(|| "-".to_owned(), |v| v.to_string());
        out.line(format!(
            "{} {} version {version} {}",
            resolved.record.did, resolved.state, resolved.record.name
        ));
        items.push(json!({
            "did": resolved.record.did.as_str(),
            "state": resolved.state.as_str(),
            "version": resolved.version,
            "name": resolved.record.name,
        }));
    }
    if listing.items.is_empty() {
        out.line(format!("no records owned by {owner}"));
    }
    out.json("owner", owner).json("records", items);
    if let Some(next) = listing.next.and_then(|n| n.after) {
        out.note(format!("more: --after {next}"))
            .json("next_after", next);
    }
}
