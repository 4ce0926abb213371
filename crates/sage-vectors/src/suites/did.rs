//! `did` vectors: the \[L\] `did:sage` grammar, chain aliases and the
//! "SAGE-PoP" proof of possession (PROTOCOL.md §8.1, §8.5).

use serde_json::{Map, Value};

use sage_core::card::verify_card;
use sage_core::did::{Chain, Did, pop_challenge, sign_pop, verify_pop};
use sage_core::primitives::{KeyType, PublicKey, SigningKey, X25519Secret, derive_seed_from_label};

use crate::check::{Expected, Produced, Vector, core, ensure};
use crate::outcome::{Mismatch, Mode};

/// `did/parse`: every `input.valid` entry parses to `{chain, did,
/// identifier}` (`output.parsed`, in order) and every `input.invalid`
/// entry is refused (`output.rejected`, the list of refused inputs).
/// Parsing has no randomness, so both modes recompute.
pub(super) fn parse(v: &Vector<'_>) -> Result<(), Mismatch> {
    let mut parsed = Vec::new();
    for (i, text) in v.input.str_list("valid")?.into_iter().enumerate() {
        let did = Did::parse(text).map_err(core(format!("input.valid[{i}] parses")))?;
        let mut entry = Map::new();
        entry.insert("chain".into(), did.chain().as_str().into());
        entry.insert("did".into(), did.as_str().into());
        entry.insert("identifier".into(), did.identifier().into());
        parsed.push(Value::Object(entry));
    }
    let mut rejected = Vec::new();
    for (i, text) in v.input.str_list("invalid")?.into_iter().enumerate() {
        ensure(
            Did::parse(text).is_err(),
            &format!("input.invalid[{i}] ({text:?}) is rejected"),
        )?;
        rejected.push(Value::from(text));
    }
    Expected::new()
        .must("parsed", Produced::Json(Value::Array(parsed)))
        .must("rejected", Produced::Json(Value::Array(rejected)))
        .compare(&v.output)
}

/// `did/chain-aliases`: `ParseChain` of every `input.names` entry
/// (`output.chains`, name → normalised chain). `output.generated` has no
/// input of its own: it is checked as a generated DID must be, i.e. it
/// parses, and generating a DID from its chain and identifier gives back
/// exactly that string (so its chain segment is the normalised name).
pub(super) fn chain_aliases(v: &Vector<'_>) -> Result<(), Mismatch> {
    let mut chains = Map::new();
    for (i, name) in v.input.str_list("names")?.into_iter().enumerate() {
        let chain = Chain::parse(name).map_err(core(format!("input.names[{i}] is a chain")))?;
        chains.insert(name.to_owned(), chain.as_str().into());
    }
    let mut expected = Expected::new();
    expected.must("chains", Produced::Json(Value::Object(chains)));
    if v.output.has("generated") {
        let generated = v.output.str("generated")?;
        let did = Did::parse(generated).map_err(core("output.generated parses"))?;
        let regenerated = Did::new(did.chain(), did.identifier())
            .map_err(core("a DID generated from output.generated"))?;
        ensure(
            regenerated.as_str() == generated,
            "output.generated is the DID generated from its own chain and identifier",
        )?;
        expected.verified("generated");
    }
    expected.compare(&v.output)
}

/// `did/a2a-card-proof-*` (verify): the stored `card_json` verifies
/// (proof over JCS of the card without `proof`, with the key its
/// `verificationMethod` names), and it is the card the inputs describe:
/// its DID is `input.did`, its proof key is the key of the signing label
/// (`seed_label` → Ed25519, `scalar_label` → secp256k1), it lists the
/// X25519 key of `kem_label`, and its `name`, service `uri` (`endpoint`)
/// and `created` are the inputs' (each checked when the input is present).
pub(super) fn card_proof(v: &Vector<'_>) -> Result<(), Mismatch> {
    if v.mode != Mode::Verify {
        // `proof.created` is the signing time: there is nothing to recompute.
        return Err(v.unsupported_mode());
    }
    let card_json = v.output.str("card_json")?;
    let verified =
        verify_card(v.labels(), card_json.as_bytes()).map_err(core("output.card_json verifies"))?;
    if let Some(did) = v.input.opt_str("did")? {
        ensure(verified.did().as_str() == did, "the card's id is input.did")?;
    }
    if let Some((key_type, member)) = signing_label(&v.input) {
        let key = SigningKey::from_label(key_type, v.input.str(member)?)
            .map_err(core(format!("key from input.{member}")))?;
        ensure(
            *verified.signing_key() == key.verifying_key(),
            &format!("the proof key is the key of input.{member}"),
        )?;
    }
    if let Some(label) = v.input.opt_str("kem_label")? {
        let kem = PublicKey::X25519(
            X25519Secret::from_bytes(*derive_seed_from_label(label)).public_key(),
        );
        ensure(
            verified.keys().iter().any(|k| *k.key() == kem),
            "the card lists the X25519 key of input.kem_label",
        )?;
    }
    let card = verified.card();
    let text = |name: &str| card.get(name).and_then(|value| value.as_str());
    if let Some(name) = v.input.opt_str("name")? {
        ensure(text("name") == Some(name), "the card's name is input.name")?;
    }
    if let Some(created) = v.input.opt_str("created")? {
        ensure(
            text("created") == Some(created),
            "the card's created is input.created",
        )?;
    }
    if let Some(endpoint) = v.input.opt_str("endpoint")? {
        let listed = card
            .get("service")
            .and_then(|s| s.as_array())
            .is_some_and(|services| {
                services
                    .iter()
                    .any(|s| s.get("uri").and_then(|u| u.as_str()) == Some(endpoint))
            });
        ensure(listed, "the card lists input.endpoint as a service uri")?;
    }
    Expected::new().verified("card_json").compare(&v.output)
}

/// The signing key label a vector carries: `seed_label` (Ed25519) or
/// `scalar_label` (secp256k1).
fn signing_label(input: &crate::check::Fields<'_>) -> Option<(KeyType, &'static str)> {
    if input.has("seed_label") {
        Some((KeyType::Ed25519, "seed_label"))
    } else if input.has("scalar_label") {
        Some((KeyType::Secp256k1, "scalar_label"))
    } else {
        None
    }
}

/// `did/pop-*`: the proof of possession of the key named by the label the
/// vector carries (`seed_label` → Ed25519, `scalar_label` → secp256k1) for
/// `input.did`. `deterministic` recomputes `proof`; `verify` verifies it.
pub(super) fn proof_of_possession(v: &Vector<'_>) -> Result<(), Mismatch> {
    let (key_type, label_member) = signing_label(&v.input).ok_or_else(|| {
        v.input
            .invalid("seed_label", "missing, and so is input.scalar_label")
    })?;
    let label = v.input.str(label_member)?;
    let key = SigningKey::from_label(key_type, label)
        .map_err(core(format!("key from input.{label_member}")))?;
    let did = Did::parse(v.input.str("did")?).map_err(core("input.did parses"))?;
    let public = key.verifying_key();
    let key_data = public.to_bytes();

    let mut expected = Expected::new();
    expected.may("key_data", Produced::bytes(&key_data)).may(
        "challenge",
        Produced::text(pop_challenge(v.labels(), &did, &key_data)),
    );
    match v.mode {
        Mode::Deterministic => {
            let proof = sign_pop(v.labels(), &key, &did).map_err(core("signing the proof"))?;
            expected.must("proof", Produced::Bytes(proof));
        }
        Mode::Verify => {
            let proof = v.output.hex("proof")?;
            verify_pop(v.labels(), &public, &did, &proof).map_err(core("output.proof verifies"))?;
            expected.verified("proof");
        }
    }
    expected.compare(&v.output)
}
