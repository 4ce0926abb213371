//! `sage serve`: run the SAGE node (sage-node) until SIGTERM or SIGINT.
//!
//! The configuration is loaded as for `sage config` (`--env`, `--config`,
//! `--config-dir`, `--set`, `SAGE_<SECTION>__<KEY>`), with `--listen`
//! above every source; with none of them the embedded `local` defaults
//! apply: SQLite under `./data`, an identity created there on first
//! start and registered in the local registry, `127.0.0.1:8080`.
//!
//! Once the node serves, a banner names its DID, its address and the URLs
//! of the docs, the metrics, the agent card and the health check (one
//! JSON object with `--json`). Logs go to stderr (`logging.*`). Shutdown
//! is graceful; exit 0 after a clean one.
//!
//! Unlike the other commands this one runs for as long as the node does,
//! on a multi-thread runtime, and prints its banner itself instead of
//! returning an [`Output`](crate::output::Output).

use std::io::Write as _;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use sage_node::server::{self, NodeError, NodeOptions, RunningNode, Uri};

use crate::cli::ConfigArgs;
use crate::commands::config::load_config;
use crate::error::{CliError, EXIT_INVALID_INPUT, EXIT_IO, EXIT_OK};
use crate::output::print_failure;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Which configuration: environment, files, overrides.
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
    /// Gateway mode: POST each verified application payload to URL (with
    /// the sender's DID in a header) and send its answer back encrypted.
    /// Without it the node answers with a signed receipt.
    #[arg(long, value_name = "URL")]
    pub(crate) upstream: Option<String>,
    /// Listen on ADDR (sets server.listen, e.g. 0.0.0.0:8080; port 0
    /// picks a free port).
    #[arg(long, value_name = "ADDR")]
    pub(crate) listen: Option<String>,
    /// Migrate a PostgreSQL database whose schema is behind (a SQLite
    /// database is always migrated).
    #[arg(long)]
    pub(crate) migrate: bool,
    /// The display name a first start registers.
    #[arg(long, default_value = "sage-node")]
    pub(crate) name: String,
}

/// `sage serve`.
pub(crate) fn run(args: &ServeArgs, json: bool) -> ExitCode {
    let flags = args
        .listen
        .iter()
        .map(|listen| ("server.listen".to_owned(), listen.clone()))
        .collect();
    let loaded = match load_config(&args.config, flags) {
        Ok(loaded) => loaded,
        Err(error) => return failed(&error, json),
    };
    for warning in &loaded.warnings {
        eprintln!("sage: warning: {warning}");
    }
    let Ok(upstream) = args.upstream.as_deref().map(str::parse::<Uri>).transpose() else {
        let error = CliError::BadArgument {
            argument: "--upstream",
            reason: "not a URL".to_owned(),
        };
        return failed(&error, json);
    };
    if let Err(error) = sage_node::ops::init_logging(&loaded.config.logging) {
        eprintln!("sage: {error}");
        return ExitCode::from(EXIT_INVALID_INPUT);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sage: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_IO);
        }
    };
    let config = loaded.config;
    let metrics_path = config.metrics.enabled.then(|| config.metrics.path.clone());
    let mut options = NodeOptions::new(config);
    options.upstream = upstream;
    options.name = args.name.clone();
    options.migrate_postgres = args.migrate;
    let result = runtime.block_on(async move {
        let node = server::start(options).await?;
        print_banner(&node, metrics_path.as_deref(), json);
        node.serve_until(server::shutdown_signal()).await
    });
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => {
            eprintln!("sage: {error}");
            if json {
                println!(
                    "{}",
                    json!({"ok": false, "exit_code": exit_code(&error), "error": error.to_string()})
                );
            }
            ExitCode::from(exit_code(&error))
        }
    }
}

fn failed(error: &CliError, json: bool) -> ExitCode {
    print_failure(error, json);
    ExitCode::from(error.exit_code())
}

/// 2 for what the configuration or the registry must fix, 3 for I/O,
/// the database and the network.
fn exit_code(error: &NodeError) -> u8 {
    match error {
        NodeError::Secret { .. }
        | NodeError::MissingSetting { .. }
        | NodeError::PendingMigrations { .. }
        | NodeError::Identity(_)
        | NodeError::Card(_)
        | NodeError::Protocol(_) => EXIT_INVALID_INPUT,
        _ => EXIT_IO,
    }
}

/// The banner: DID, addresses and URLs, on stdout (flushed, so a
/// supervisor reading the pipe sees it at once).
fn print_banner(node: &RunningNode, metrics_path: Option<&str>, json: bool) {
    let base = node.public_url();
    let metrics = metrics_path.map(|path| match node.metrics_addr() {
        Some(address) => format!("http://{address}{path}"),
        None => format!("{base}{path}"),
    });
    // The Swagger UI lives under `/docs/` (`/docs` redirects there).
    let docs = format!("{base}/docs/");
    let card = format!("{base}{}", sage_node::card::CARD_PATH);
    let health = format!("{base}/health");
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        writeln!(
            stdout,
            "{}",
            json!({
                "did": node.did().as_str(),
                "listen": node.local_addr().to_string(),
                "public_url": base,
                "docs": docs,
                "metrics": metrics,
                "agent_card": card,
                "health": health,
                "registered": node.registered(),
                "management_token_file": node.management_token_file().map(|p| p.display().to_string()),
            })
        )
    } else {
        writeln!(
            stdout,
            "SAGE node serving\n  DID         {}\n  listening   {}\n  public URL  {base}\n  \
             docs        {docs}\n  metrics     {}\n  agent card  {card}\n  health      {health}\n  \
             /v1 token   {}",
            node.did(),
            node.local_addr(),
            metrics.as_deref().unwrap_or("(disabled)"),
            node.management_token_file().map_or_else(
                || "management.token (configured)".to_owned(),
                |path| format!("in {}", path.display())
            ),
        )
    };
    if written.and_then(|()| stdout.flush()).is_err() {
        // A closed stdout does not stop the node; the log still says it
        // started.
        eprintln!("sage: cannot write the banner to stdout");
    }
}
