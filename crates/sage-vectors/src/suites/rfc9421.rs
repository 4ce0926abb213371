//! `rfc9421` vectors, whatever their name (PROTOCOL.md §5): a vector with
//! `input.request` signs a response bound to that request, any other
//! vector signs a request.
//!
//! The message is built from the inputs (`method`, `url` or `status`,
//! `headers`, `body`), and the signature parameters too (`covered`,
//! `keyid`, `alg`, `created`, optional `expires`, `nonce`, `tag`,
//! `signature_name`); the key comes from `key_label` with the type `alg`
//! names. `deterministic`: sign and compare `content_digest`,
//! `signature_input`, `signature_base` and `signature`, then verify what
//! was produced. `verify`: put the stored fields on the message, rebuild
//! the base and compare it, and verify the stored signature. Verification
//! uses the §16.2 settings: MaxAge disabled, nonce required for requests,
//! ExpectedDID = the DID part of `keyid`.

use serde_json::Value;

use sage_core::httpsig::{
    ComponentId, HttpRequest, HttpResponse, ParsedSignature, SignatureOutput, SignatureParams,
    VerifyOptions, content_digest, sign_request_in_place, sign_response_in_place,
};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::replay::MemoryReplayStore;
use sage_core::time::Timestamp;

use crate::check::{Expected, Fields, Produced, Vector, core};
use crate::outcome::{MemberProblem, Mismatch, Mode};

/// Field names the vectors' outputs describe.
const SIGNATURE_INPUT: &str = "Signature-Input";
const SIGNATURE: &str = "Signature";
const CONTENT_DIGEST: &str = "Content-Digest";

/// Any `rfc9421` vector.
pub(super) fn message_signature(v: &Vector<'_>) -> Result<(), Mismatch> {
    if v.input.has("request") {
        response_vector(v)
    } else {
        request_vector(v)
    }
}

/// What a signing step needs from a vector's inputs.
struct Signer {
    key: SigningKey,
    params: SignatureParams,
}

impl Signer {
    fn from_inputs(input: &Fields<'_>) -> Result<Self, Mismatch> {
        let alg = input.str("alg")?;
        let key_type = KeyType::from_rfc9421_alg(alg)
            .ok_or_else(|| input.invalid("alg", "not an RFC 9421 algorithm of this profile"))?;
        let label = input.str("key_label")?;
        let key = SigningKey::from_label(key_type, label)
            .map_err(core(format!("key from {}", input.member_path("key_label"))))?;
        let mut covered = Vec::new();
        for (i, text) in input.str_list("covered")?.into_iter().enumerate() {
            covered.push(ComponentId::parse(text).map_err(core(format!(
                "{}[{i}] parses",
                input.member_path("covered")
            )))?);
        }
        let mut params = SignatureParams::new(
            covered,
            input.str("keyid")?,
            Timestamp::from_unix_seconds(input.i64("created")?),
        );
        if let Some(label) = input.opt_str("signature_name")? {
            params.label = label.to_owned();
        }
        params.alg = Some(alg.to_owned());
        params.nonce = input.opt_str("nonce")?.map(str::to_owned);
        params.tag = input.opt_str("tag")?.map(str::to_owned);
        if input.has("expires") {
            params.expires = Some(Timestamp::from_unix_seconds(input.i64("expires")?));
        }
        Ok(Self { key, params })
    }

    /// §16.2 verification settings for this signature.
    fn options(&self, base: VerifyOptions) -> VerifyOptions {
        VerifyOptions {
            max_age: None,
            expected_did: Some(did_of(&self.params.keyid).to_owned()),
            ..base
        }
    }

    /// An instant at which the signature is fresh: its own `created`.
    fn now(&self) -> Timestamp {
        self.params.created
    }
}

/// The DID part of a `keyid`: everything before the first `#` (§5.3).
fn did_of(keyid: &str) -> &str {
    keyid.split_once('#').map_or(keyid, |(did, _)| did)
}

/// Header fields from an object of name → string (or array of strings,
/// for a field sent several times), in the object's order.
fn headers(input: &Fields<'_>) -> Result<Vec<(String, String)>, Mismatch> {
    let object = input.object("headers")?;
    let mut out = Vec::new();
    for name in object.names() {
        match object.value(name)? {
            Value::String(value) => out.push((name.to_owned(), value.clone())),
            Value::Array(values) => {
                for value in values {
                    let value = value.as_str().ok_or_else(|| Mismatch::Malformed {
                        member: object.member_path(name),
                        problem: MemberProblem::WrongType {
                            expected: "a string or an array of strings",
                        },
                    })?;
                    out.push((name.to_owned(), value.to_owned()));
                }
            }
            _ => {
                return Err(Mismatch::Malformed {
                    member: object.member_path(name),
                    problem: MemberProblem::WrongType {
                        expected: "a string or an array of strings",
                    },
                });
            }
        }
    }
    Ok(out)
}

fn build_request(input: &Fields<'_>) -> Result<HttpRequest, Mismatch> {
    let mut request = HttpRequest::new(input.str("method")?, input.str("url")?);
    request.headers = headers(input)?;
    request.body = input
        .opt_str("body")?
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    Ok(request)
}

fn build_response(input: &Fields<'_>) -> Result<HttpResponse, Mismatch> {
    let status = u16::try_from(input.u64("status")?)
        .map_err(|_| input.invalid("status", "not an HTTP status code"))?;
    let mut response = HttpResponse::new(status);
    response.headers = headers(input)?;
    response.body = input
        .opt_str("body")?
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    Ok(response)
}

/// The members every signing vector describes about its own signature.
fn describe(expected: &mut Expected, output: &SignatureOutput, digest: Option<String>) {
    expected
        .must(
            "signature_input",
            Produced::text(output.signature_input.as_str()),
        )
        .must("signature", Produced::text(output.signature.as_str()))
        .may("signature_base", Produced::text(output.base.as_str()));
    if let Some(digest) = digest {
        expected.may("content_digest", Produced::Text(digest));
    }
}

fn request_vector(v: &Vector<'_>) -> Result<(), Mismatch> {
    let signer = Signer::from_inputs(&v.input)?;
    let mut request = build_request(&v.input)?;
    let digest = (!request.body.is_empty()).then(|| content_digest(&request.body));
    let mut expected = Expected::new();
    match v.mode {
        Mode::Deterministic => {
            let output = sign_request_in_place(&mut request, &signer.params, &signer.key)
                .map_err(core("signing the request"))?;
            describe(&mut expected, &output, digest);
        }
        Mode::Verify => {
            put_stored_fields(v, &mut |name, value| request.set_header(name, value))?;
            let parsed = ParsedSignature::from_request(&request, Some(&signer.params.label))
                .map_err(core("parsing output.signature_input"))?;
            let base = parsed
                .signature_base()
                .map_err(core("rebuilding the signature base"))?;
            expected
                .verified("signature_input")
                .verified("signature")
                .may("signature_base", Produced::Text(base));
            if let Some(digest) = digest {
                expected.may("content_digest", Produced::Text(digest));
            }
        }
    }
    expected.compare(&v.output)?;
    let parsed = ParsedSignature::from_request(&request, Some(&signer.params.label))
        .map_err(core("parsing the signed request"))?;
    let verify_key = signer.key.verifying_key();
    parsed
        .verify(
            &verify_key,
            &signer.options(VerifyOptions::for_request()),
            signer.now(),
            &mut MemoryReplayStore::new(),
        )
        .map_err(core("the request signature verifies"))?;
    Ok(())
}

fn response_vector(v: &Vector<'_>) -> Result<(), Mismatch> {
    let request_input = v.input.object("request")?;
    let request_signer = Signer::from_inputs(&request_input)?;
    let mut request = build_request(&request_input)?;
    let mut expected = Expected::new();
    let stored_request_signature = v.mode == Mode::Verify && v.output.has("request_signature");
    if stored_request_signature {
        // A randomised request signature cannot be recomputed: use the one
        // the response was bound to.
        if !request.body.is_empty() {
            request.set_header(CONTENT_DIGEST, content_digest(&request.body));
        }
        request.set_header(SIGNATURE_INPUT, v.output.str("request_signature_input")?);
        request.set_header(SIGNATURE, v.output.str("request_signature")?);
        expected
            .verified("request_signature")
            .verified("request_signature_input");
    } else {
        let output =
            sign_request_in_place(&mut request, &request_signer.params, &request_signer.key)
                .map_err(core("signing input.request"))?;
        expected
            .may("request_signature", Produced::Text(output.signature))
            .may(
                "request_signature_input",
                Produced::Text(output.signature_input),
            );
    }

    let signer = Signer::from_inputs(&v.input)?;
    let mut response = build_response(&v.input)?;
    let digest = (!response.body.is_empty()).then(|| content_digest(&response.body));
    match v.mode {
        Mode::Deterministic => {
            let output =
                sign_response_in_place(&mut response, Some(&request), &signer.params, &signer.key)
                    .map_err(core("signing the response"))?;
            describe(&mut expected, &output, digest);
        }
        Mode::Verify => {
            put_stored_fields(v, &mut |name, value| response.set_header(name, value))?;
            let parsed = ParsedSignature::from_response(
                &response,
                Some(&request),
                Some(&signer.params.label),
            )
            .map_err(core("parsing output.signature_input"))?;
            let base = parsed
                .signature_base()
                .map_err(core("rebuilding the signature base"))?;
            expected
                .verified("signature_input")
                .verified("signature")
                .may("signature_base", Produced::Text(base));
            if let Some(digest) = digest {
                expected.may("content_digest", Produced::Text(digest));
            }
        }
    }
    expected.compare(&v.output)?;
    let parsed =
        ParsedSignature::from_response(&response, Some(&request), Some(&signer.params.label))
            .map_err(core("parsing the signed response"))?;
    let options = VerifyOptions {
        // `nonce` is required only if the vector's signer set one.
        require_nonce: signer.params.nonce.is_some(),
        ..signer.options(VerifyOptions::for_response())
    };
    parsed
        .verify(
            &signer.key.verifying_key(),
            &options,
            signer.now(),
            &mut MemoryReplayStore::new(),
        )
        .map_err(core("the response signature verifies"))?;
    Ok(())
}

/// Puts the stored `content_digest`, `signature_input` and `signature` on
/// a message, as a receiver would get them.
fn put_stored_fields(v: &Vector<'_>, set: &mut dyn FnMut(&str, String)) -> Result<(), Mismatch> {
    if let Some(digest) = v.output.opt_str("content_digest")? {
        set(CONTENT_DIGEST, digest.to_owned());
    }
    set(SIGNATURE_INPUT, v.output.str("signature_input")?.to_owned());
    set(SIGNATURE, v.output.str("signature")?.to_owned());
    Ok(())
}
