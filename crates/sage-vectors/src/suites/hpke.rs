//! `hpke` vectors: the \[L\] handshake schedule (PROTOCOL.md §6.1–§6.4).
//! Everything but the HPKE encapsulation is deterministic; the
//! `hpke-export-roundtrip` vector stores an `enc` and the exporter it must
//! give, and is checked by decapsulating.

use sage_core::handshake::schedule::{
    KEY_LEN, TRANSCRIPT_ORDER, TrafficKeys, Transcript, ack_tag as compute_ack_tag, combine,
    export_context, hpke_open_export, info,
};
use sage_core::primitives::{X25519Secret, derive_seed_from_label, sha256};

use crate::check::{Expected, Fields, Produced, Vector, core, ensure};
use crate::outcome::{Mismatch, Mode};

/// `hpke/info-and-export-context`: the two §6.1 strings, as text, hex and
/// SHA-256.
pub(super) fn info_and_export_context(v: &Vector<'_>) -> Result<(), Mismatch> {
    let (info, export_ctx) = schedule_strings(&v.input, v)?;
    let mut expected = Expected::new();
    for (name, text) in [("info", &info), ("export_context", &export_ctx)] {
        expected
            .must(name, Produced::text(text.as_str()))
            .may(&format!("{name}_hex"), Produced::bytes(text.as_bytes()))
            .may(
                &format!("{name}_sha256"),
                Produced::bytes(sha256(text.as_bytes())),
            );
    }
    expected.compare(&v.output)
}

/// `hpke/x25519-e2e-shared-secret`: both keys from their labels (§3.5) and
/// the X25519 agreement, which must be the same from either side.
pub(super) fn x25519_shared_secret(v: &Vector<'_>) -> Result<(), Mismatch> {
    let init = x25519_from_label(&v.input, "init_label")?;
    let resp = x25519_from_label(&v.input, "resp_label")?;
    let shared = init
        .diffie_hellman(&resp.public_key())
        .map_err(core("X25519(init, resp_public)"))?;
    let reverse = resp
        .diffie_hellman(&init.public_key())
        .map_err(core("X25519(resp, init_public)"))?;
    ensure(*shared == *reverse, "both sides agree on the shared secret")?;
    Expected::new()
        .may("init_private", Produced::bytes(*init.to_bytes()))
        .may("init_public", Produced::bytes(init.public_key().as_bytes()))
        .may("resp_private", Produced::bytes(*resp.to_bytes()))
        .may("resp_public", Produced::bytes(resp.public_key().as_bytes()))
        .must("shared_secret", Produced::bytes(*shared))
        .compare(&v.output)
}

/// `hpke/combine-secrets`: the §6.2 combiner, salted with the export
/// context of `input.context_id`.
pub(super) fn combine_secrets(v: &Vector<'_>) -> Result<(), Mismatch> {
    let export_ctx = export_context(v.labels(), v.input.str("context_id")?);
    let exporter: [u8; KEY_LEN] = v.input.hex_array("exporter_hpke")?;
    let ss_e2e: [u8; KEY_LEN] = v.input.hex_array("ss_e2e")?;
    let seed = combine(v.labels(), export_ctx.as_bytes(), &exporter, &ss_e2e);
    Expected::new()
        .may("export_context_hex", Produced::bytes(export_ctx.as_bytes()))
        .may("export_context", Produced::text(export_ctx.as_str()))
        .must("seed", Produced::bytes(*seed))
        .compare(&v.output)
}

/// `hpke/traffic-keys`: the §6.3 counter expansion of `input.seed`.
pub(super) fn traffic_keys(v: &Vector<'_>) -> Result<(), Mismatch> {
    let seed: [u8; KEY_LEN] = v.input.hex_array("seed")?;
    let keys = TrafficKeys::derive(v.labels(), &seed);
    Expected::new()
        .must("c2s_key", Produced::bytes(keys.c2s_key()))
        .must("c2s_iv", Produced::bytes(keys.c2s_iv()))
        .must("s2c_key", Produced::bytes(keys.s2c_key()))
        .must("s2c_iv", Produced::bytes(keys.s2c_iv()))
        .must("channel_binding", Produced::bytes(keys.channel_binding()))
        .compare(&v.output)
}

/// `hpke/ack-tag`: §6.4, with `info`/`exportCtx` rebuilt from the context
/// id and the two DIDs (§6.1).
pub(super) fn ack_tag(v: &Vector<'_>) -> Result<(), Mismatch> {
    let (info, export_ctx) = schedule_strings(&v.input, v)?;
    let enc: [u8; KEY_LEN] = v.input.hex_array("enc")?;
    let eph_c: [u8; KEY_LEN] = v.input.hex_array("eph_c")?;
    let eph_s: [u8; KEY_LEN] = v.input.hex_array("eph_s")?;
    let seed: [u8; KEY_LEN] = v.input.hex_array("seed")?;
    let transcript = Transcript {
        info: info.as_bytes(),
        export_ctx: export_ctx.as_bytes(),
        enc: &enc,
        eph_c: &eph_c,
        eph_s: &eph_s,
        init_did: v.input.str("init_did")?,
        resp_did: v.input.str("resp_did")?,
    };
    let tag = compute_ack_tag(
        v.labels(),
        &seed,
        v.input.str("context_id")?,
        v.input.str("nonce")?,
        v.input.str("kid")?,
        &transcript,
    );
    Expected::new()
        .must("ack_tag", Produced::bytes(tag))
        .may("transcript_hash", Produced::bytes(transcript.hash()))
        .may(
            "binds_order",
            // The order `Transcript::hash` iterates, as sage-core declares it.
            Produced::Json(TRANSCRIPT_ORDER.iter().map(|e| e.name()).collect()),
        )
        .compare(&v.output)
}

/// `hpke/hpke-export-roundtrip` (verify): the responder's KEM key from
/// `input.resp_label`, `SetupBaseR(enc, info)` and `Export(exportCtx, 32)`
/// must give the stored `exporter`.
pub(super) fn export_roundtrip(v: &Vector<'_>) -> Result<(), Mismatch> {
    if v.mode != Mode::Verify {
        // The sender side draws a fresh ephemeral key: nothing to recompute.
        return Err(v.unsupported_mode());
    }
    let (info, export_ctx) = schedule_strings(&v.input, v)?;
    let kem = x25519_from_label(&v.input, "resp_label")?;
    let enc: [u8; KEY_LEN] = v.output.hex_array("enc")?;
    let exporter = hpke_open_export(&kem, &enc, info.as_bytes(), export_ctx.as_bytes())
        .map_err(core("SetupBaseR(output.enc, info)"))?;
    Expected::new()
        .verified("enc")
        .may("resp_public", Produced::bytes(kem.public_key().as_bytes()))
        .must("exporter", Produced::bytes(*exporter))
        .compare(&v.output)
}

/// `(info, exportCtx)` of §6.1 from `context_id`, `init_did`, `resp_did`.
fn schedule_strings(input: &Fields<'_>, v: &Vector<'_>) -> Result<(String, String), Mismatch> {
    let ctx = input.str("context_id")?;
    Ok((
        info(
            v.labels(),
            ctx,
            input.str("init_did")?,
            input.str("resp_did")?,
        ),
        export_context(v.labels(), ctx),
    ))
}

/// The X25519 key of a label (§3.5: the seed is the scalar as given).
fn x25519_from_label(input: &Fields<'_>, member: &str) -> Result<X25519Secret, Mismatch> {
    Ok(X25519Secret::from_bytes(*derive_seed_from_label(
        input.str(member)?,
    )))
}
