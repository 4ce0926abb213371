//! `sage keys generate` and `sage keys show`.
//!
//! `show` prints only public facts, whatever the file holds: a private key
//! is never echoed back. `generate` prints the private key only into a
//! file (mode 0600), into a pipe, or to a terminal when `--stdout` asks
//! for it.

use std::io::IsTerminal as _;

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use sage_core::encoding::{b64url_encode, hex_encode};
use sage_core::primitives::jwk::{jwk_thumbprint, private_to_jwk, public_to_jwk};
use sage_core::primitives::pem::private_to_pem;
use sage_core::primitives::{KeyType, PrivateKey, PublicKey};

use zeroize::Zeroizing;

use crate::cli::{GenerateArgs, KeyFormat, KeyTypeArg, ShowArgs};
use crate::error::CliError;
use crate::files::write_private_file;
use crate::keyfile::KeyFile;
use crate::output::Output;

impl From<KeyTypeArg> for KeyType {
    fn from(arg: KeyTypeArg) -> Self {
        match arg {
            KeyTypeArg::Ed25519 => Self::Ed25519,
            KeyTypeArg::Secp256k1 => Self::Secp256k1,
            KeyTypeArg::P256 => Self::P256,
            KeyTypeArg::X25519 => Self::X25519,
        }
    }
}

/// `sage keys generate`.
pub(crate) fn generate(args: &GenerateArgs) -> Result<Output, CliError> {
    let to_stdout = args.out.is_none();
    if to_stdout && !args.stdout && std::io::stdout().is_terminal() {
        return Err(CliError::BadArgument {
            argument: "--out",
            reason: "refusing to print a private key to a terminal; give --out FILE, \
                     pipe the output, or pass --stdout"
                .into(),
        });
    }
    let key = PrivateKey::generate(args.key_type.into(), &mut UnwrapErr(SysRng));
    let secret = match args.format {
        KeyFormat::Jwk => private_to_jwk(&key),
        KeyFormat::Pem => private_to_pem(&key),
    };

    let mut out = Output::new();
    describe_public(&mut out, &key.public_key());
    match &args.out {
        Some(path) => {
            let mut text = Zeroizing::new(String::with_capacity(secret.as_str().len() + 1));
            text.push_str(secret.as_str());
            if !text.ends_with('\n') {
                text.push('\n');
            }
            write_private_file(path, text.as_bytes(), args.force)?;
            out.field("private key file", "file", path.display().to_string());
        }
        None => {
            let json_form = match args.format {
                // A JWK is JSON already.
                KeyFormat::Jwk => Zeroizing::new(secret.as_str().to_owned()),
                KeyFormat::Pem => json_string(secret.as_str()),
            };
            out.secret(secret.into_zeroizing(), json_form);
        }
    }
    Ok(out)
}

/// `text` as a JSON string literal, built in a zeroizing buffer. PEM text
/// holds only printable ASCII and newlines.
fn json_string(text: &str) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(text.len() + text.len() / 32 + 2));
    out.push('"');
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `sage keys show`.
pub(crate) fn show(args: &ShowArgs) -> Result<Output, CliError> {
    let file = KeyFile::load(&args.file)?;
    let mut out = Output::new();
    out.field("file", "file", args.file.display().to_string());
    out.field(
        "contains",
        "contains",
        if file.is_private() {
            "private key (not shown)"
        } else {
            "public key"
        },
    );
    out.json("private", file.is_private());
    describe_public(&mut out, &file.public_key());
    Ok(out)
}

/// Type, public key (hex and base64url), key id, Ethereum address where it
/// applies, the public JWK and its RFC 7638 thumbprint.
fn describe_public(out: &mut Output, public: &PublicKey) {
    let bytes = public.to_bytes();
    out.field("type", "type", public.key_type().name())
        .field("public key (hex)", "public_key_hex", hex_encode(&bytes))
        .field(
            "public key (base64url)",
            "public_key_base64url",
            b64url_encode(&bytes),
        )
        .field("key id", "key_id", public.key_id());
    let address = public
        .as_verifying()
        .ok()
        .and_then(|k| k.ethereum_address());
    if let Some(address) = address {
        out.field("ethereum address", "ethereum_address", address);
    }
    if let Some(alg) = public.key_type().rfc9421_alg() {
        out.field("rfc 9421 alg", "alg", alg);
    }
    let jwk = public_to_jwk(public);
    out.line(format!("public jwk: {jwk}"));
    out.json("public_jwk", jwk);
    out.field("jwk thumbprint", "jwk_thumbprint", jwk_thumbprint(public));
}
