//! `sage did ... --registry ethereum`: the registry commands on the
//! `AgentCardRegistry` contract, through sage-registry-eth's `EthRegistry`
//! (PROTOCOL.md §8.2–§8.3, §9.3; docs/REGISTRY.md).
//!
//! Layer: CLI. Everything about the chain comes from `registry.ethereum`
//! of the configuration: the node (`rpc_url`, checked to serve `chain_id`
//! and to hold code at `contract_address` before anything is sent), the
//! account that signs and pays for transactions (`sender_key`, a secret
//! reference, needed by writes only), the commit-reveal wait and the
//! client's timeouts. Requests are still signed by the record's controller
//! key (`--key FILE`), which the adapter checks as the local registry
//! does; the contract itself trusts the sender, who owns what it
//! registers, so a DID must be `did:sage:ethereum:<sender address>[:N]`
//! (the default when `--did` is absent).
//!
//! - `register` commits, waits `reveal_wait` with a progress display on
//!   stderr, and reveals; the record is then `created`.
//! - `activate` before the registry's activation delay has passed is
//!   refused, saying from when it is accepted; nothing waits for it.
//! - `resolve` and `list` read the chain directly, through no cache: the
//!   command line wants the authoritative answer, and no database.
//! - `update` changes the endpoint and capabilities only: the contract
//!   keeps a record's name and description for good.
//!
//! Invariants: no transaction is sent before the node has been checked;
//! a registration that cannot succeed (a DID of another account, a DID
//! already taken) is refused before its commitment pays the stake.

use core::time::Duration;

use sage_config::{ConfigError, ConfigErrors, EnvVars, Invalid, LoadedConfig, SageConfig, Secret};
use sage_core::did::{Chain as DidChain, Did};
use sage_core::encoding::hex_encode;
use sage_core::primitives::SigningKey;
use sage_core::time::Timestamp;
use sage_registry::model::key_name;
use sage_registry::{
    Activate, AddKey, Deactivate, ListRequest, Registry, RegistryError, RequestBody,
    ResolvedRecord, RevokeKey, SignedRequest, Update,
};
use sage_registry_eth::{
    ClientOptions, EthRegistry, EthRegistryClient, EthRegistryError, EthRegistryOptions, Sender,
};
use zeroize::Zeroizing;

use super::progress::Progress;
use super::{
    ControllerArgs, ListArgs, RegisterArgs, ResolveArgs, add_key_body, capabilities, controller,
    key_reference, labels, parse_did, print_listing, print_resolution, print_resolved,
    registration, registration_keys, registry_error, sign, signing_key,
};
use crate::cli::DidCommand;
use crate::error::CliError;
use crate::keyfile::KeyFile;
use crate::output::Output;

/// What the registry commands need of `registry.ethereum`.
struct Settings<'a> {
    rpc_url: &'a str,
    contract: [u8; 20],
    chain_id: u64,
    sender_key: Option<&'a Secret>,
    reveal_wait: Duration,
    options: ClientOptions,
}

/// Whether a command sends transactions (and so needs the sender key).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// A checked node and the adapter over it.
struct Chain {
    registry: EthRegistry,
    rpc_url: String,
    contract: String,
}

/// `sage did ...` on the Ethereum registry of `loaded`.
pub(super) async fn execute(
    command: DidCommand,
    loaded: &LoadedConfig,
    json: bool,
) -> Result<Output, CliError> {
    let mut out = Output::new();
    // Now, not with the output: a warned-about setting (a short reveal
    // wait) is often what makes the command fail.
    if !json {
        for warning in loaded
            .warnings
            .iter()
            .filter(|w| w.path.starts_with("registry."))
        {
            eprintln!("sage: warning: {warning}");
        }
    }
    let settings = Settings::of(&loaded.config)?;
    match command {
        DidCommand::Parse(args) => return crate::commands::did::parse(&args),
        DidCommand::Register(args) => register(&args, &settings, json, &mut out).await?,
        DidCommand::Activate(args) => {
            change(&args, &settings, &mut out, |_, _| Ok(Activate)).await?;
        }
        DidCommand::Deactivate(args) => {
            change(&args, &settings, &mut out, |_, _| Ok(Deactivate)).await?;
        }
        DidCommand::AddKey(args) => {
            let new_key = KeyFile::load(&args.new_key)?;
            change(
                &args.controller,
                &settings,
                &mut out,
                |current, controller| {
                    let controller_bytes = controller.verifying_key().to_bytes();
                    // Key names are registry positions (§8.4).
                    let endorser = || {
                        current
                            .record
                            .keys
                            .iter()
                            .position(|k| k.verified && k.key_data == controller_bytes)
                            .map(|position| key_name(labels(), position))
                    };
                    add_key_body(
                        &current.record.did,
                        controller,
                        new_key,
                        &args.new_key,
                        endorser,
                    )
                },
            )
            .await?;
        }
        DidCommand::RevokeKey(args) => {
            let key = key_reference(&args.key_name)?;
            change(&args.controller, &settings, &mut out, |_, _| {
                Ok(RevokeKey { key })
            })
            .await?;
        }
        DidCommand::Update(args) => {
            if args.name.is_some() || args.description.is_some() {
                return Err(CliError::BadArgument {
                    argument: "--name/--description",
                    reason: "the Ethereum registry keeps a record's name and description \
                             for good; only --endpoint and --capability can change"
                        .to_owned(),
                });
            }
            let body = Update {
                name: None,
                description: None,
                endpoint: args.endpoint.clone(),
                capabilities: (!args.capabilities.is_empty())
                    .then(|| capabilities(&args.capabilities)),
            };
            change(&args.controller, &settings, &mut out, |_, _| Ok(body)).await?;
        }
        DidCommand::Resolve(args) => resolve(&args, &settings, &mut out).await?,
        DidCommand::List(args) => list(&args, &settings, &mut out).await?,
    }
    Ok(out)
}

/// The configured registry contract, read-only, after checking that the
/// node serves the configured chain and holds the contract (what `sage
/// send` resolves peers with).
///
/// # Errors
///
/// [`CliError::Config`] when `registry.ethereum` lacks the node or the
/// contract, [`CliError::Chain`] when the node fails the check.
pub(crate) async fn open_read_only(config: &SageConfig) -> Result<EthRegistry, CliError> {
    let chain = Settings::of(config)?.connect(Access::Read).await?;
    Ok(chain.registry)
}

/// A configuration error at `path` (the loader validated the section, so
/// this is only reached when something changed since).
fn config_error(path: &str, reason: Invalid) -> CliError {
    CliError::Config(ConfigErrors {
        errors: vec![ConfigError::Invalid {
            path: path.to_owned(),
            reason,
            origin: None,
        }],
        warnings: Vec::new(),
    })
}

fn required(path: &str, when: &str) -> CliError {
    config_error(
        path,
        Invalid::Required {
            when: when.to_owned(),
        },
    )
}

impl<'a> Settings<'a> {
    fn of(config: &'a SageConfig) -> Result<Self, CliError> {
        let ethereum = &config.registry.ethereum;
        let when = "when registry.backend is ethereum";
        Ok(Self {
            rpc_url: ethereum
                .rpc_url
                .as_deref()
                .ok_or_else(|| required("registry.ethereum.rpc_url", when))?,
            contract: ethereum
                .contract_address
                .ok_or_else(|| required("registry.ethereum.contract_address", when))?
                .to_bytes(),
            chain_id: ethereum
                .chain_id
                .ok_or_else(|| required("registry.ethereum.chain_id", when))?,
            sender_key: ethereum.sender_key.as_ref(),
            reveal_wait: ethereum.reveal_wait,
            options: ClientOptions::new(ethereum.request_timeout, ethereum.receipt_timeout),
        })
    }

    /// The sender's private key, resolved now and wiped when dropped.
    fn sender_key(&self) -> Result<Zeroizing<[u8; 32]>, CliError> {
        let path = "registry.ethereum.sender_key";
        let secret = self.sender_key.ok_or_else(|| {
            required(
                path,
                "to send registry transactions: a reference (file:PATH or env:VAR) to the \
                 secp256k1 private key of the account that signs and pays for them",
            )
        })?;
        secret
            .resolve_key(&EnvVars::from_process())
            .map_err(|e| config_error(path, Invalid::Secret(e.to_string())))
    }

    fn chain_error(&self, error: EthRegistryError) -> CliError {
        CliError::Chain {
            rpc_url: self.rpc_url.to_owned(),
            contract: format!("0x{}", hex_encode(&self.contract)),
            error,
        }
    }

    /// A client of the configured registry, after checking that the node
    /// serves the configured chain and holds the contract.
    async fn connect(&self, access: Access) -> Result<Chain, CliError> {
        let sender = match access {
            Access::Read => Sender::ReadOnly,
            Access::Write => Sender::LocalKey(self.sender_key()?),
        };
        let client = EthRegistryClient::new(
            self.rpc_url,
            self.contract,
            self.chain_id,
            sender,
            self.options,
        )
        .map_err(|e| self.chain_error(e))?;
        client.verify().await.map_err(|e| self.chain_error(e))?;
        Ok(Chain {
            registry: EthRegistry::new(
                client,
                EthRegistryOptions::with_reveal_wait(self.reveal_wait),
            ),
            rpc_url: self.rpc_url.to_owned(),
            contract: format!("0x{}", hex_encode(&self.contract)),
        })
    }
}

impl Chain {
    fn client(&self) -> &EthRegistryClient {
        self.registry.client()
    }

    fn chain_error(&self, error: EthRegistryError) -> CliError {
        CliError::Chain {
            rpc_url: self.rpc_url.clone(),
            contract: self.contract.clone(),
            error,
        }
    }

    /// The sending account (writes only).
    fn sender(&self) -> Result<[u8; 20], CliError> {
        self.client()
            .sender_address()
            .ok_or_else(|| self.chain_error(EthRegistryError::NoSender))
    }

    /// When the registry accepts the activation of `did` (block time), and
    /// its activation delay in seconds.
    async fn activation(&self, did: &Did) -> Result<(Timestamp, u64), CliError> {
        let client = self.client();
        let agent_id = client
            .agent_id_of(did.as_str())
            .await
            .map_err(|e| self.chain_error(e))?;
        let at = client
            .activation_time(agent_id)
            .await
            .map_err(|e| self.chain_error(e))?;
        let delay = client
            .activation_delay()
            .await
            .map_err(|e| self.chain_error(e))?;
        Ok((unix_time(at), delay))
    }

    /// A failed write as the CLI reports it: an activation before its time
    /// says when it becomes possible.
    async fn write_error(&self, did: &Did, error: RegistryError) -> CliError {
        match error {
            RegistryError::Rejected { reason, .. } if reason == "ActivationTooEarly" => {
                match self.activation(did).await {
                    Ok((activatable_at, delay_secs)) => CliError::ActivationTooEarly {
                        did: did.as_str().to_owned(),
                        activatable_at,
                        delay_secs,
                    },
                    Err(e) => e,
                }
            }
            other => registry_error(other),
        }
    }
}

fn unix_time(seconds: u64) -> Timestamp {
    Timestamp::from_unix_seconds(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// `did:sage:ethereum:0x<address>`, the DID an account may register.
fn account_did(address: [u8; 20]) -> Result<Did, CliError> {
    let identifier = format!("0x{}", hex_encode(&address));
    Did::new(DidChain::Ethereum, &identifier).map_err(|error| CliError::BadDid {
        did: identifier,
        error,
    })
}

/// The contract admits only `did:sage:ethereum:0x<sender>` and
/// `…:<sender>:N`, in lower case (contracts/src/DidSage.sol).
fn check_owned(did: &Did, sender: [u8; 20]) -> Result<(), CliError> {
    let own = format!("did:sage:ethereum:0x{}", hex_encode(&sender));
    let owned = did
        .as_str()
        .strip_prefix(&own)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'));
    if owned {
        return Ok(());
    }
    Err(CliError::BadArgument {
        argument: "--did",
        reason: format!(
            "the Ethereum registry admits only DIDs of the sending account \
             (registry.ethereum.sender_key): {own} or {own}:N"
        ),
    })
}

/// `sage did register --registry ethereum`: commit, wait, reveal.
async fn register(
    args: &RegisterArgs,
    settings: &Settings<'_>,
    json: bool,
    out: &mut Output,
) -> Result<(), CliError> {
    let (keys, kem) = registration_keys(args)?;
    let controller = controller(&keys)?;
    let chain = settings.connect(Access::Write).await?;
    let sender = chain.sender()?;
    let did = match &args.did {
        Some(text) => parse_did(text)?,
        None => account_did(sender)?,
    };
    check_owned(&did, sender)?;
    let body = registration(args, &did, &keys, kem.as_ref())?;
    // A DID is never reassigned: find out before the commitment pays.
    match chain.registry.resolve(&did).await {
        Ok(_) => return Err(registry_error(RegistryError::AlreadyRegistered)),
        Err(RegistryError::NotFound) => {}
        Err(e) => return Err(registry_error(e)),
    }
    let signed = sign(&did, 0, body, controller);

    let progress = Progress::new(!json);
    progress.step("1/3 commit", "sending the commitment");
    let pending = chain
        .registry
        .commit(&signed)
        .await
        .map_err(registry_error)?;
    progress
        .count_down("2/3 wait", "reveal", settings.reveal_wait)
        .await;
    progress.step("3/3 reveal", "sending the registration");
    let created = chain
        .registry
        .reveal(&pending)
        .await
        .map_err(|error| match error {
            RegistryError::Rejected { reason, .. } if reason == "RevealTooEarly" => {
                CliError::RevealTooEarly {
                    reveal_wait: settings.reveal_wait,
                }
            }
            other => registry_error(other),
        })?;
    drop(progress);

    let (activatable_at, _) = chain.activation(&did).await?;
    let commit = pending.committed();
    out.json("operation", "registered");
    print_resolved(out, &created);
    out.field(
        "commit transaction",
        "commit_tx",
        format!("0x{}", hex_encode(&commit.receipt.tx_hash)),
    )
    .field(
        "activatable at",
        "activatable_at",
        activatable_at.to_rfc3339(),
    );
    let controller_file = args.keys.first().map(|p| p.display().to_string());
    out.note(format!(
        "next, from {}: sage did activate {did} --key {}",
        activatable_at.to_rfc3339(),
        controller_file.unwrap_or_default()
    ));
    Ok(())
}

/// The registry operation of a request body.
trait Submit<B: RequestBody> {
    async fn submit(&self, request: &SignedRequest<B>) -> Result<ResolvedRecord, RegistryError>;
}

impl Submit<Activate> for EthRegistry {
    async fn submit(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.activate(request).await
    }
}

impl Submit<Deactivate> for EthRegistry {
    async fn submit(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.deactivate(request).await
    }
}

impl Submit<AddKey> for EthRegistry {
    async fn submit(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.add_key(request).await
    }
}

impl Submit<RevokeKey> for EthRegistry {
    async fn submit(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.revoke_key(request).await
    }
}

impl Submit<Update> for EthRegistry {
    async fn submit(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.update(request).await
    }
}

/// A change of an existing record: read it from the chain, build the
/// body, sign it with the controller key, send it, print the record.
async fn change<B, Build>(
    args: &ControllerArgs,
    settings: &Settings<'_>,
    out: &mut Output,
    build: Build,
) -> Result<(), CliError>
where
    B: RequestBody,
    Build: FnOnce(&ResolvedRecord, &SigningKey) -> Result<B, CliError>,
    EthRegistry: Submit<B>,
{
    let did = parse_did(&args.did)?;
    let controller = signing_key(&args.key)?;
    let chain = settings.connect(Access::Write).await?;
    let current = chain.registry.resolve(&did).await.map_err(registry_error)?;
    let body = build(&current, &controller)?;
    // The chain keeps no versions; the adapter does not read this one.
    let signed = sign(&did, 0, body, &controller);
    let changed = match chain.registry.submit(&signed).await {
        Ok(changed) => changed,
        Err(error) => return Err(chain.write_error(&did, error).await),
    };
    out.json("operation", B::OPERATION.as_str());
    print_resolved(out, &changed);
    Ok(())
}

/// `sage did resolve --registry ethereum`.
async fn resolve(
    args: &ResolveArgs,
    settings: &Settings<'_>,
    out: &mut Output,
) -> Result<(), CliError> {
    let did = parse_did(&args.did)?;
    let chain = settings.connect(Access::Read).await?;
    let resolved = chain.registry.resolve(&did).await.map_err(registry_error)?;
    print_resolution(out, &resolved, args.document)
}

/// `sage did list --registry ethereum --owner 0x…`.
async fn list(args: &ListArgs, settings: &Settings<'_>, out: &mut Output) -> Result<(), CliError> {
    let chain = settings.connect(Access::Read).await?;
    let page = ListRequest {
        limit: args.limit,
        after: args.after.clone(),
    };
    let listing = chain
        .registry
        .list_by_owner(&args.owner, &page)
        .await
        .map_err(registry_error)?;
    print_listing(out, &args.owner, listing);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dids_of_the_sending_account_are_admitted() {
        let sender = [0xab; 20];
        let own = account_did(sender).unwrap();
        assert_eq!(
            own.as_str(),
            format!("did:sage:ethereum:0x{}", "ab".repeat(20))
        );
        check_owned(&own, sender).unwrap();
        let numbered = Did::parse(&format!("{}:7", own.as_str())).unwrap();
        check_owned(&numbered, sender).unwrap();
        for other in [
            format!("did:sage:ethereum:0x{}", "cd".repeat(20)),
            format!("did:sage:ethereum:0x{}00", "ab".repeat(20)),
            format!("did:sage:ethereum:0x{}", "AB".repeat(20)),
            "did:sage:ethereum:agent".to_owned(),
        ] {
            let did = Did::parse(&other).unwrap();
            let refused = check_owned(&did, sender).unwrap_err();
            assert!(
                refused.to_string().contains(own.as_str()),
                "{other}: {refused}"
            );
        }
    }
}
