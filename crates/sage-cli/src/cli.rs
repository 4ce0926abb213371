//! The command line: every command, argument and help text of `sage`
//! (clap derive; the `///` comments are what `sage help` prints).
//!
//! Key-file arguments (`--key`, `--kem-key`, `--new-key`, `keys show FILE`)
//! accept values that start with `-`: a PEM key pasted where its file
//! belongs then reaches the key-file check, which refuses it without
//! repeating it, instead of clap's "unexpected argument" error, which would
//! print it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes, printed at the end of `sage --help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  verification failed (bad signature, vector mismatch, digest mismatch, replay, stale, ...)
  2  invalid input (bad arguments, malformed key file, JSON, HTTP message, DID,
     invalid configuration; a database command refused)
  3  I/O error (unreadable or unwritable file, refusing to overwrite) or
     database failure (connection, migration, pg_dump/psql)";

/// SAGE (Secure Agent Guarantee Engine) command-line tool: keys, message
/// signatures, RFC 9421 HTTP signatures, JCS, did:sage and the sage-spec
/// golden vectors.
#[derive(Debug, Parser)]
#[command(name = "sage", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Generate and inspect key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Sign a message with the key type's convention (Ed25519 pure;
    /// secp256k1 Keccak-256 + RFC 6979, 65-byte r||s||v; P-256 SHA-256,
    /// raw r||s).
    Sign(SignArgs),
    /// Verify a message signature made by `sage sign`.
    Verify(VerifyArgs),
    /// RFC 9421 HTTP message signatures (with RFC 9530 Content-Digest).
    #[command(subcommand)]
    Http(HttpCommand),
    /// Canonicalise JSON (RFC 8785) to stdout, with a strict parser.
    Jcs(JcsArgs),
    /// did:sage identifiers.
    #[command(subcommand)]
    Did(DidCommand),
    /// Run sage-spec golden vectors.
    #[command(subcommand)]
    Vectors(VectorsCommand),
    /// Show or check the node configuration (config/ENV.yaml, SAGE_*
    /// variables, flags) without starting anything.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Database tools of the node store: migrate, seed, backup, restore.
    Db(crate::commands::db::DbArgs),
    /// Send a text message to a SAGE node (handshake, encrypted record,
    /// signed answer) and print its reply.
    Send(Box<crate::commands::send::SendArgs>),
    /// Run a handshake with a SAGE node and print the session's kid.
    Handshake(Box<crate::commands::handshake::HandshakeArgs>),
    /// Run the SAGE node: handshakes and encrypted, signed messages on
    /// POST /messages, the management API under /v1, /docs, /metrics,
    /// /health, /ready and the agent card. With no configuration at all it
    /// starts on embedded defaults (SQLite and an identity under ./data,
    /// 127.0.0.1:8080). Stops gracefully on SIGTERM or SIGINT.
    Serve(Box<crate::commands::serve::ServeArgs>),
    /// Load-test nodes with the real protocol: scenarios, thresholds,
    /// JSON/HTML reports, comparisons (docs/LOAD-TESTING.md).
    #[command(subcommand)]
    Bench(sage_bench::BenchCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a key. The private key file is created with mode 0600 and
    /// is never overwritten without --force.
    Generate(GenerateArgs),
    /// Show the public facts of a key file (JWK or PEM, private or public;
    /// never prints the private part).
    Show(ShowArgs),
}

/// Key types `sage keys generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum KeyTypeArg {
    /// Ed25519 (signing, the default key type of SAGE).
    Ed25519,
    /// secp256k1 with the Ethereum (Keccak-256) convention.
    Secp256k1,
    /// NIST P-256 with SHA-256.
    P256,
    /// X25519 (key agreement only; cannot sign).
    X25519,
}

/// Key file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum KeyFormat {
    /// JSON Web Key (RFC 7517).
    #[default]
    Jwk,
    /// PEM: PKCS#8 private key / SubjectPublicKeyInfo public key.
    Pem,
}

#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// Key type.
    #[arg(long = "type", value_enum)]
    pub(crate) key_type: KeyTypeArg,
    /// Write the private key to FILE (created with mode 0600).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Key file format.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) format: KeyFormat,
    /// Replace FILE if it exists (the new file still gets mode 0600).
    #[arg(long, requires = "out")]
    pub(crate) force: bool,
    /// Without --out: print the private key to stdout even when stdout is a
    /// terminal (by default it is printed only into a pipe or file).
    #[arg(long, conflicts_with = "out")]
    pub(crate) stdout: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The key file.
    #[arg(allow_hyphen_values = true)]
    pub(crate) file: PathBuf,
}

/// Encodings of a raw signature on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum SignatureEncodingArg {
    /// Standard base64 with padding.
    #[default]
    Base64,
    /// Lower-case hex.
    Hex,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// Private key file (JWK or PEM).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
    /// The message: a file, or - for stdin (the default).
    #[arg(long = "in", value_name = "FILE", default_value = "-")]
    pub(crate) input: String,
    /// How to print the signature.
    #[arg(long, value_enum, default_value_t)]
    pub(crate) encoding: SignatureEncodingArg,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Key file (JWK or PEM, public or private).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
    /// The signature, in hex or base64 (standard or URL-safe).
    #[arg(long, value_name = "SIG")]
    pub(crate) signature: String,
    /// The message: a file, or - for stdin (the default).
    #[arg(long = "in", value_name = "FILE", default_value = "-")]
    pub(crate) input: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum HttpCommand {
    /// Sign a raw HTTP/1.1 request or response: adds Content-Digest (when
    /// there is a body), Signature-Input and Signature, and prints the
    /// signed message.
    Sign(Box<HttpSignArgs>),
    /// Verify the signature of a raw HTTP/1.1 request or response.
    Verify(Box<HttpVerifyArgs>),
}

#[derive(Debug, Args)]
pub(crate) struct HttpSignArgs {
    /// Private signing key file (JWK or PEM).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
    /// The keyid parameter: the signer's DID, optionally with #fragment.
    #[arg(long, value_name = "KEYID")]
    pub(crate) keyid: String,
    /// The message to sign: a file, or - for stdin (the default).
    #[arg(long = "in", value_name = "FILE", default_value = "-")]
    pub(crate) input: String,
    /// The request a response answers (for ;req components).
    #[arg(long, value_name = "FILE")]
    pub(crate) request: Option<PathBuf>,
    /// Covered components, space separated as in Signature-Input, e.g.
    /// '"@method" "@target-uri" "content-digest"'. Default: the
    /// recommended set for requests (PROTOCOL.md §5.3) or responses (§5.4),
    /// restricted to what the message has.
    #[arg(long, value_name = "LIST")]
    pub(crate) components: Option<String>,
    /// The created parameter (Unix seconds). Default: now.
    #[arg(long, value_name = "N")]
    pub(crate) created: Option<i64>,
    /// The expires parameter (Unix seconds).
    #[arg(long, value_name = "N")]
    pub(crate) expires: Option<i64>,
    /// The nonce parameter. Default: a random UUIDv4.
    #[arg(long, value_name = "S", conflicts_with = "no_nonce")]
    pub(crate) nonce: Option<String>,
    /// Emit no nonce parameter.
    #[arg(long)]
    pub(crate) no_nonce: bool,
    /// The tag parameter.
    #[arg(long, value_name = "S")]
    pub(crate) tag: Option<String>,
    /// The signature label.
    #[arg(long, value_name = "LABEL", default_value = "sig1")]
    pub(crate) label: String,
    /// The alg parameter. Default: the key type's RFC 9421 name; a name
    /// that contradicts the key is refused.
    #[arg(long, value_name = "NAME", conflicts_with = "no_alg")]
    pub(crate) alg: Option<String>,
    /// Emit no alg parameter (the verifier takes the algorithm from the key).
    #[arg(long)]
    pub(crate) no_alg: bool,
    /// Order of the signature parameters, comma separated (default
    /// keyid,alg,created,expires,nonce,tag, as the Go signer emits them).
    /// Parameters not named follow in the default order; e.g. `created` for
    /// the RFC 9421 Appendix B examples.
    #[arg(long, value_name = "LIST")]
    pub(crate) param_order: Option<String>,
    /// Scheme of the request when the request line has an origin-form target.
    #[arg(long, value_name = "SCHEME", default_value = "https")]
    pub(crate) scheme: String,
    /// Also print the signature base (on stderr in text mode, so stdout
    /// holds only the signed message).
    #[arg(long)]
    pub(crate) show_base: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HttpVerifyArgs {
    /// Key file of the signer (JWK or PEM, public or private).
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    pub(crate) key: PathBuf,
    /// The signed message: a file, or - for stdin (the default).
    #[arg(long = "in", value_name = "FILE", default_value = "-")]
    pub(crate) input: String,
    /// The request a response answers (for ;req components).
    #[arg(long, value_name = "FILE")]
    pub(crate) request: Option<PathBuf>,
    /// The signature label to verify. Default: the first label.
    #[arg(long, value_name = "LABEL")]
    pub(crate) label: Option<String>,
    /// Reject signatures created more than SECS ago (0 disables).
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub(crate) max_age: u64,
    /// Allowed clock skew for created in the future, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub(crate) skew: u64,
    /// The DID the keyid must name.
    #[arg(long, value_name = "DID")]
    pub(crate) expected_did: Option<String>,
    /// Accept a signature without a nonce parameter (responses never
    /// require one: `;req` binds them to their request).
    #[arg(long)]
    pub(crate) no_nonce_required: bool,
    /// Accept any covered set. By default the SAGE profile requires
    /// @method, @target-uri, @authority (and content-digest when there is a
    /// body) for a request, and @status plus the request binding for a
    /// response. For RFC 9421 interop tests.
    #[arg(long)]
    pub(crate) not_strict: bool,
    /// Also print the signature base that was rebuilt.
    #[arg(long)]
    pub(crate) show_base: bool,
    /// Verify as of this Unix time instead of now.
    #[arg(long, value_name = "UNIX")]
    pub(crate) now: Option<i64>,
    /// Scheme of the request when the request line has an origin-form target.
    #[arg(long, value_name = "SCHEME", default_value = "https")]
    pub(crate) scheme: String,
}

#[derive(Debug, Args)]
pub(crate) struct JcsArgs {
    /// The JSON: a file, or - for stdin (the default).
    #[arg(long = "in", value_name = "FILE", default_value = "-")]
    pub(crate) input: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum DidCommand {
    /// Parse a did:sage identifier: chain, identifier, original DID (or why
    /// it is rejected).
    Parse(DidParseArgs),
    /// Register an agent (state created) with its signing keys, each with
    /// its proof of possession, and an optional X25519 KEM key endorsed by
    /// the controller (the first key). Local registry: the configured
    /// database, migrated with `sage db migrate up`.
    Register(Box<crate::commands::registry::RegisterArgs>),
    /// Activate a registered agent (signed by its controller key).
    Activate(crate::commands::registry::ControllerArgs),
    /// Resolve a DID to its record (through the resolver cache), or with
    /// --document to its W3C DID document and metadata.
    Resolve(crate::commands::registry::ResolveArgs),
    /// Add a signing key (with its proof of possession) or an X25519 KEM
    /// key (endorsed by the controller) to an active agent.
    AddKey(crate::commands::registry::AddKeyArgs),
    /// Revoke a key of an active agent (kept in the record forever; the
    /// last signing key cannot be revoked: deactivate instead).
    RevokeKey(crate::commands::registry::RevokeKeyArgs),
    /// Change the name, description, endpoint or capabilities of an
    /// active agent.
    Update(crate::commands::registry::UpdateArgs),
    /// Deactivate an agent, for good (its DID is never reassigned).
    Deactivate(crate::commands::registry::ControllerArgs),
    /// List the agents of an owner.
    List(crate::commands::registry::ListArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DidParseArgs {
    /// The DID.
    pub(crate) did: String,
}

#[derive(Debug, Subcommand)]
pub(crate) enum VectorsCommand {
    /// Run every vector file of DIR and print one line per vector. DIR
    /// defaults to $SAGE_VECTORS_DIR, else vectors/sage-spec under the
    /// current directory or the git top level, else the copy this binary
    /// was built next to.
    Run(VectorsRunArgs),
}

#[derive(Debug, Args)]
pub(crate) struct VectorsRunArgs {
    /// Directory of vector files (*.json).
    pub(crate) dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Print the effective configuration as YAML (JSON with --json), with
    /// secrets and database passwords redacted, and which source set each
    /// value. An invalid configuration lists every error and exits 2.
    Show(ConfigArgs),
    /// Validate the configuration: exit 0 when valid (warnings are
    /// printed), 2 when invalid, listing every error.
    Check(ConfigArgs),
}

/// Environments of `--env`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EnvironmentArg {
    /// A developer's machine (SQLite, no secrets required).
    Local,
    /// A shared development deployment.
    Development,
    /// Pre-production.
    Staging,
    /// Production.
    Production,
}

/// Which configuration a command loads; shared by `sage config` and
/// `sage db` (global, so they may follow a subcommand of `db`).
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// The environment whose config/ENV.yaml is loaded. Default:
    /// $SAGE_ENV, else local.
    #[arg(long, value_enum, value_name = "ENV", global = true)]
    pub(crate) env: Option<EnvironmentArg>,
    /// A YAML file merged above the environment file.
    #[arg(long, value_name = "FILE", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// Directory of the environment files. Default: $SAGE_CONFIG_DIR, else
    /// ./config, else the files built into sage.
    #[arg(long, value_name = "DIR", global = true)]
    pub(crate) config_dir: Option<PathBuf>,
    /// Set a key above every other source, e.g. --set server.listen=0.0.0.0:8080
    /// (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE", global = true)]
    pub(crate) set: Vec<String>,
}
