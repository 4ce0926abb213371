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
use getrandom::rand_core::{Rng as _, UnwrapErr};
use sage_core::encoding::{b64_encode, hex_encode};
use sage_core::httpsig::http1::{parse_request, parse_response, write_request, write_response};
use sage_core::httpsig::{
    ComponentId, HttpRequest, HttpResponse, HttpSigError, ParsedSignature, Scheme, SignatureOutput,
    SignatureParams, VerifiedSignature, VerifyOptions, request_components, response_components,
    sign_request_in_place, sign_response_in_place,
};
use sage_core::primitives::SigningKey;
use sage_core::replay::MemoryReplayStore;
use sage_core::time::Timestamp;

use crate::cli::{HttpSignArgs, HttpVerifyArgs};
use crate::error::CliError;
use crate::files::{Source, read_file};
use crate::keyfile::{load_signing_key, load_verifying_key};
use crate::output::Output;

const SIGNATURE_INPUT: &str = "Signature-Input";
const SIGNATURE: &str = "Signature";

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

    fn set_header(&mut self, name: &str, value: String) {
        match self {
            Self::Request(r) => r.set_header(name, value),
            Self::Response(r) => r.set_header(name, value),
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
    let mut bytes = [0u8; 16];
    UnwrapErr(SysRng).fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex_encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
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

    let signed = match &mut message {
        Message::Request(r) => sign_request_in_place(r, &params, &key),
        Message::Response(r) => sign_response_in_place(r, request.as_ref(), &params, &key),
    }
    .map_err(|e| CliError::BadHttpMessage {
        source: source.name(),
        reason: format!("cannot sign: {e} ({})", e.code()),
    })?;
    let signed = match &args.param_order {
        Some(order) => reorder_and_resign(
            &mut message,
            request.as_ref(),
            &params.label,
            &signed,
            order,
            &key,
        )?,
        None => signed,
    };

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

/// `--param-order`: rewrites the signature parameters in the given order
/// (RFC 9421 lets a signer choose it; the RFC's own examples put `created`
/// first), then signs the base that order gives. The base is rebuilt by
/// the verifier's code path from the rewritten `Signature-Input`, so it is
/// exactly what a verifier will rebuild.
fn reorder_and_resign(
    message: &mut Message,
    request: Option<&HttpRequest>,
    label: &str,
    signed: &SignatureOutput,
    order: &str,
    key: &SigningKey,
) -> Result<SignatureOutput, CliError> {
    let bad = |reason: String| CliError::BadArgument {
        argument: "--param-order",
        reason,
    };
    let member = signed
        .signature_input
        .strip_prefix(label)
        .and_then(|rest| rest.strip_prefix('='))
        .ok_or_else(|| bad("the signer produced no member for the label".into()))?;
    let order: Vec<&str> = order
        .split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .collect();
    let reordered = reorder_params(member, &order).map_err(bad)?;
    let signature_input = format!("{label}={reordered}");
    message.set_header(SIGNATURE_INPUT, signature_input.clone());
    // A placeholder the parser accepts; the base does not cover it.
    message.set_header(SIGNATURE, format!("{label}=:AA==:"));
    let base = message
        .parsed_signature(request, Some(label))
        .and_then(|parsed| parsed.signature_base())
        .map_err(|e| bad(format!("cannot rebuild the base: {e}")))?;
    let signature = format!("{label}=:{}:", b64_encode(&key.sign(base.as_bytes())));
    message.set_header(SIGNATURE, signature.clone());
    Ok(SignatureOutput {
        signature_input,
        signature,
        base,
    })
}

/// Splits `(<items>);a=1;b="x"` and puts the parameters in `order`. Every
/// parameter present must be named in `order`.
fn reorder_params(member: &str, order: &[&str]) -> Result<String, String> {
    let list_end = inner_list_end(member).ok_or("Signature-Input member is not an inner list")?;
    let (list, mut rest) = member.split_at(list_end);
    let mut params: Vec<(&str, &str)> = Vec::new();
    while let Some(after) = rest.strip_prefix(';') {
        let end = parameter_end(after).ok_or("malformed signature parameter")?;
        let (param, tail) = after.split_at(end);
        let name = param.split_once('=').map_or(param, |(name, _)| name);
        params.push((name, param));
        rest = tail;
    }
    if !rest.is_empty() {
        return Err("unexpected text after the signature parameters".into());
    }
    if let Some((name, _)) = params.iter().find(|(name, _)| !order.contains(name)) {
        return Err(format!("parameter {name} is not named"));
    }
    let mut out = list.to_owned();
    for wanted in order {
        if let Some((_, param)) = params.iter().find(|(name, _)| name == wanted) {
            out.push(';');
            out.push_str(param);
        }
    }
    Ok(out)
}

/// The index just past the `)` that closes the leading inner list
/// (quoted strings may hold parentheses).
fn inner_list_end(text: &str) -> Option<usize> {
    if !text.starts_with('(') {
        return None;
    }
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => in_string = false,
            (false, _, '"') => in_string = true,
            (false, _, ')') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The length of one `name[=value]` parameter at the start of `text` (a
/// quoted value may hold `;`); `None` when a quoted value is followed by
/// anything but `;` or the end.
fn parameter_end(text: &str) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    let mut after_string = false;
    for (i, c) in text.char_indices() {
        if after_string && c != ';' {
            return None;
        }
        match (in_string, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => {
                in_string = false;
                after_string = true;
            }
            (false, _, '"') => in_string = true,
            (false, _, ';') => return Some(i),
            _ => {}
        }
    }
    (!in_string).then_some(text.len())
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
    fn parameters_are_reordered_without_splitting_quoted_strings() {
        let member = r#"("a;b" "@x";req);keyid="k;1)";alg="ed25519";created=5;nonce="n\";x""#;
        let reordered = reorder_params(member, &["created", "nonce", "keyid", "alg"]).unwrap();
        assert_eq!(
            reordered,
            r#"("a;b" "@x";req);created=5;nonce="n\";x";keyid="k;1)";alg="ed25519""#
        );
    }

    #[test]
    fn reordering_must_name_every_parameter_present() {
        let error = reorder_params(r#"("@method");keyid="k";created=1"#, &["created"]).unwrap_err();
        assert!(error.contains("keyid"), "{error}");
        assert!(reorder_params("no list", &["created"]).is_err());
        assert!(reorder_params(r#"("@method");keyid="k"junk"#, &["keyid"]).is_err());
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
