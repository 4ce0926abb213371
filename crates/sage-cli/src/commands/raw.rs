//! `sage sign` and `sage verify`: raw message signatures with the §3.2
//! convention of the key type (Ed25519 pure; secp256k1 Keccak-256 +
//! RFC 6979 as 65-byte `r‖s‖v`; P-256 SHA-256 as raw `r‖s`).

use sage_core::encoding::{b64_decode, b64_encode, b64url_decode, hex_decode, hex_encode};

use crate::cli::{SignArgs, SignatureEncodingArg, VerifyArgs};
use crate::error::CliError;
use crate::files::Source;
use crate::keyfile::{load_signing_key, load_verifying_key};
use crate::output::Output;

/// `sage sign`.
pub(crate) fn sign(args: &SignArgs) -> Result<Output, CliError> {
    let key = load_signing_key(&args.key)?;
    let message = Source::from_arg(&args.input).read()?;
    let signature = key.sign(&message);
    let encoded = match args.encoding {
        SignatureEncodingArg::Base64 => b64_encode(&signature),
        SignatureEncodingArg::Hex => hex_encode(&signature),
    };
    let mut out = Output::new();
    out.line(&encoded)
        .json("signature", encoded)
        .json(
            "encoding",
            match args.encoding {
                SignatureEncodingArg::Base64 => "base64",
                SignatureEncodingArg::Hex => "hex",
            },
        )
        .json("type", key.key_type().name())
        .json("key_id", key.verifying_key().key_id());
    Ok(out)
}

/// `sage verify`.
pub(crate) fn verify(args: &VerifyArgs) -> Result<Output, CliError> {
    let key = load_verifying_key(&args.key)?;
    let signature = decode_signature(&args.signature)?;
    let message = Source::from_arg(&args.input).read()?;
    key.verify(&message, &signature)
        .map_err(CliError::BadSignature)?;
    let mut out = Output::new();
    out.line("signature OK")
        .json("valid", true)
        .json("type", key.key_type().name())
        .json("key_id", key.key_id());
    Ok(out)
}

/// Hex when the text is hex (a 64- or 65-byte signature is 128 or 130 hex
/// characters, never a base64 length), otherwise standard base64, then
/// URL-safe base64 without padding.
fn decode_signature(text: &str) -> Result<Vec<u8>, CliError> {
    let text = text.trim();
    let is_hex = !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = if is_hex {
        hex_decode(text)
    } else {
        b64_decode(text).or_else(|_| b64url_decode(text))
    };
    decoded.map_err(|e| CliError::BadArgument {
        argument: "--signature",
        reason: format!("not hex or base64: {e}"),
    })
}
