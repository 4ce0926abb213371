//! `sage http sign` and `sage http verify`: RFC 9421 signatures on raw
//! HTTP/1.1 messages (PROTOCOL.md §5), through sage-core's `httpsig`.
//!
//! A message starting with `HTTP/` is a response, anything else a
//! request. Signing adds `Content-Digest` when there is a body, then
//! `Signature-Input` and `Signature`, and prints the message as HTTP/1.1
//! (origin form, CRLF). Verification uses a replay cache that lives for
//! this one invocation only, so it cannot detect a replay across runs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use sage_core::httpsig::http1::{parse_request, parse_response, write_request, write_response};
use sage_core::httpsig::{
    ComponentId, HttpRequest, HttpResponse, HttpSigError, Malformed, ParsedSignature, Scheme,
    SignatureParam, SignatureParams, VerifiedSignature, VerifyOptions, request_components,
    response_components, sign_request_in_place, sign_response_in_place,
};
use sage_core::replay::MemoryReplayStore;
use sage_core::time::Timestamp;

use crate::cli::{HttpSignArgs, HttpVerifyArgs};
use crate::error::CliError;
use crate::files::{Source, read_file};
use crate::keyfile::{load_signing_key, load_verifying_key};
use crate::output::Output;

/// A parsed message: the one being signed or verified.
#[derive(Debug)]
enum Message {
    Request(HttpRequest),
    Response(HttpResponse),
}

impl Message {
    fn parse(bytes: &[u8], scheme: Scheme, source: &str) -> Result<Self, CliError> {
        let bad = |e: sage_core::httpsig::Http1Error| CliError::BadHttpMessage {
            source: source.to_owned(),
            reason: e.to_string(),
        };
        if bytes.starts_with(b"HTTP/") {
            parse_response(bytes).map(Self::Response).map_err(bad)
        } else {
            parse_request(bytes, scheme).map(Self::Request).map_err(bad)
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        match self {
            Self::Request(r) => r.header(name),
            Self::Response(r) => r.header(name),
        }
    }

    fn to_bytes(&self, source: &str) -> Result<Vec<u8>, CliError> {
        match self {
            Self::Request(r) => write_request(r),
            Self::Response(r) => write_response(r),
        }
        .map_err(|e| CliError::BadHttpMessage {
            source: source.to_owned(),
            reason: e.to_string(),
        })
    }

    fn parsed_signature<'m>(
        &'m self,
        request: Option<&'m HttpRequest>,
        label: Option<&str>,
    ) -> Result<ParsedSignature<'m>, HttpSigError> {
        match self {
            Self::Request(r) => ParsedSignature::from_request(r, label),
            Self::Response(r) => ParsedSignature::from_response(r, request, label),
        }
    }
}

fn scheme(arg: &str) -> Result<Scheme, CliError> {
    Scheme::from_name(arg).ok_or_else(|| CliError::BadArgument {
        argument: "--scheme",
        reason: format!("{arg:?} is not http or https"),
    })
}

/// The `--request` message, which must be a request.
fn related_request(
    path: Option<&std::path::Path>,
    scheme: Scheme,
) -> Result<Option<HttpRequest>, CliError> {
    let Some(path) = path else {
        return Ok(None);
    };
    let name = path.display().to_string();
    match Message::parse(&read_file(path)?, scheme, &name)? {
        Message::Request(request) => Ok(Some(request)),
        Message::Response(_) => Err(CliError::BadHttpMessage {
            source: name,
            reason: "--request must be a request, not a response".into(),
        }),
    }
}

/// The current time, for `created` and freshness checks.
fn now() -> Timestamp {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    Timestamp::new(secs, since_epoch.subsec_nanos())
}

/// A random (version 4) UUID, the nonce form the Go gateway uses (§5.1).
fn uuid_v4() -> String {
    sage_core::handshake::uuid_v4(&mut UnwrapErr(SysRng))
}

/// `--components`: identifiers separated by whitespace, as written inside
/// the parentheses of `Signature-Input`.
fn parse_components(list: &str) -> Result<Vec<ComponentId>, CliError> {
    let covered: Vec<ComponentId> = list
        .split_whitespace()
        .map(|item| {
            ComponentId::parse(item).map_err(|e| CliError::BadArgument {
                argument: "--components",
                reason: format!("{item}: {e}"),
            })
        })
        .collect::<Result<_, _>>()?;
    if covered.is_empty() {
        return Err(CliError::BadArgument {
            argument: "--components",
            reason: "names no component".into(),
        });
    }
    Ok(covered)
}

/// `--param-order`: parameter names separated by commas (RFC 9421 lets a
/// signer choose the order; the RFC's own examples put `created` first).
/// Parameters not named follow in the default order.
fn parse_param_order(list: &str) -> Result<Vec<SignatureParam>, CliError> {
    list.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(|name| {
            SignatureParam::from_name(name).ok_or_else(|| CliError::BadArgument {
                argument: "--param-order",
                reason: format!("{name:?} is not one of keyid, alg, created, expires, nonce, tag"),
            })
        })
        .collect()
}

/// `sage http sign`.
pub(crate) fn sign(args: &HttpSignArgs) -> Result<Output, CliError> {
    let scheme = scheme(&args.scheme)?;
    let source = Source::from_arg(&args.input);
    let mut message = Message::parse(&source.read()?, scheme, &source.name())?;
    let request = related_request(args.request.as_deref(), scheme)?;
    let key = load_signing_key(&args.key)?;

    let covered = match (&args.components, &message) {
        (Some(list), _) => parse_components(list)?,
        (None, Message::Request(r)) => request_components(r),
        (None, Message::Response(r)) => response_components(r, request.as_ref()),
    };
    let created = match args.created {
        Some(secs) => Timestamp::from_unix_seconds(secs),
        None => Timestamp::from_unix_seconds(now().unix_seconds()),
    };
    let mut params = SignatureParams::new(covered, args.keyid.clone(), created);
    params.label = args.label.clone();
    params.alg = if args.no_alg {
        None
    } else {
        Some(match &args.alg {
            Some(alg) => alg.clone(),
            None => key.key_type().rfc9421_alg().unwrap_or_default().to_owned(),
        })
    };
    params.expires = args.expires.map(Timestamp::from_unix_seconds);
    params.nonce = match (&args.nonce, args.no_nonce) {
        (_, true) => None,
        (Some(nonce), false) => Some(nonce.clone()),
        (None, false) => Some(uuid_v4()),
    };
    params.tag = args.tag.clone();
    params.order = args
        .param_order
        .as_deref()
        .map(parse_param_order)
        .transpose()?;

    let signed = match &mut message {
        Message::Request(r) => sign_request_in_place(r, &params, &key),
        Message::Response(r) => sign_response_in_place(r, request.as_ref(), &params, &key),
    }
    .map_err(|e| match e {
        HttpSigError::Malformed(Malformed::DuplicateParameter(name)) => CliError::BadArgument {
            argument: "--param-order",
            reason: format!("names {name} twice"),
        },
        e => CliError::BadHttpMessage {
            source: source.name(),
            reason: format!("cannot sign: {e} ({})", e.code()),
        },
    })?;

    let mut out = Output::new();
    out.raw(message.to_bytes(&source.name())?)
        .json("signature_input", signed.signature_input.clone())
        .json("signature", signed.signature.clone());
    if let Some(digest) = message.header("content-digest") {
        out.json("content_digest", digest);
    }
    out.json(
        "message",
        String::from_utf8_lossy(&message.to_bytes(&source.name())?).into_owned(),
    );
    if args.show_base {
        out.note("signature base:").note(&signed.base);
        out.json("signature_base", signed.base.clone());
    }
    Ok(out)
}

/// `sage http verify`.
pub(crate) fn verify(args: &HttpVerifyArgs) -> Result<Output, CliError> {
    let scheme = scheme(&args.scheme)?;
    let source = Source::from_arg(&args.input);
    let message = Message::parse(&source.read()?, scheme, &source.name())?;
    let request = related_request(args.request.as_deref(), scheme)?;
    let key = load_verifying_key(&args.key)?;

    let failed = |e: HttpSigError| CliError::HttpVerification {
        code: e.code(),
        reason: e.to_string(),
    };
    let parsed = message
        .parsed_signature(request.as_ref(), args.label.as_deref())
        .map_err(failed)?;
    let base = match &message {
        Message::Request(_) => VerifyOptions::for_request(),
        Message::Response(_) => VerifyOptions::for_response(),
    };
    let mut options = VerifyOptions {
        max_age: (args.max_age > 0).then(|| Duration::from_secs(args.max_age)),
        max_clock_skew: Duration::from_secs(args.skew),
        expected_did: args.expected_did.clone(),
        ..base
    };
    if args.no_nonce_required {
        options.require_nonce = false;
    }
    if args.not_strict {
        options.strict = false;
        options.required_components = Some(Vec::new());
    }
    let now = args.now.map_or_else(now, Timestamp::from_unix_seconds);
    let shown_base = if args.show_base {
        Some(parsed.signature_base().map_err(failed)?)
    } else {
        None
    };
    let verified = parsed
        .verify(&key, &options, now, &mut MemoryReplayStore::new())
        .map_err(failed)?;
    let mut out = Output::new();
    describe_verified(&mut out, &verified, &parsed);
    if let Some(base) = shown_base {
        out.line("signature base:").line(&base);
        out.json("signature_base", base);
    }
    Ok(out)
}

fn describe_verified(out: &mut Output, verified: &VerifiedSignature, parsed: &ParsedSignature<'_>) {
    let covered: Vec<String> = parsed
        .covered()
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    out.line("signature OK")
        .json("valid", true)
        .field("label", "label", verified.label())
        .field("keyid", "keyid", verified.keyid())
        .field("did", "did", verified.did())
        .field("created", "created", verified.created().unix_seconds());
    if let Some(nonce) = verified.nonce() {
        out.field("nonce", "nonce", nonce);
    }
    out.line(format!("covered: {}", covered.join(" ")))
        .json("covered", covered);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_order_names_parse_in_list_order_and_unknown_names_are_refused() {
        assert_eq!(
            parse_param_order(" created , keyid,,nonce").unwrap(),
            [
                SignatureParam::Created,
                SignatureParam::KeyId,
                SignatureParam::Nonce
            ]
        );
        assert!(parse_param_order("").unwrap().is_empty());
        for bad in ["created,keyId", "created;keyid", "sig1"] {
            assert!(
                matches!(
                    parse_param_order(bad),
                    Err(CliError::BadArgument {
                        argument: "--param-order",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn random_nonces_are_version_4_uuids() {
        let nonce = uuid_v4();
        assert_eq!(nonce.len(), 36);
        assert_eq!(&nonce[14..15], "4");
        assert!(matches!(&nonce[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(nonce, uuid_v4());
    }
}
