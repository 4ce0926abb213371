//! `session` vectors: the salted seed and id, and records that must open
//! (PROTOCOL.md §7.1).
//!
//! Record vectors are `verify` only (the record nonce is random). Their
//! stored output holds records and facts about them, recognised by name:
//!
//! - `<record>_header`: the first 20 bytes (`be64(seq) ‖ nonce`) of `<record>`;
//! - `<record>_seq`: the sequence number in `<record>`'s header;
//! - `aad`: the caller AAD (text) of every record whose name mentions `aad`;
//! - any other member is a record, and must open to `input.plaintext`.
//!
//! A fresh receiving session is built from the inputs (`shared_secret`,
//! `context_id`, `eph_a`, `eph_b`, `label`, `rekey_interval`) and opens the
//! records in sequence order, so the replay window and the key generation
//! of each record are exercised as a peer would.

use std::time::Duration;

use sage_core::session::{
    RECORD_HEADER_LEN, Role, SEED_LEN, Session, SessionConfig, SessionId, SessionLabel,
    SessionPolicy, SessionSeed, derive_seed_and_id,
};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;

use crate::check::{Expected, Fields, Produced, Vector, core, ensure};
use crate::outcome::{Mismatch, Mode};

/// Which key a record vector's records are sealed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    /// The shared (non-directional) key, rekey direction `single`.
    Shared,
    /// The initiator's outbound directional key (`c2s`), opened by the responder.
    InitiatorToResponder,
}

/// `session/seed-and-id`: §7.1.1 salted seed and session id. Nothing is
/// random, so both modes recompute.
pub(super) fn seed_and_id(v: &Vector<'_>) -> Result<(), Mismatch> {
    let (seed, id) = seed_and_id_from(v)?;
    Expected::new()
        .must("seed", Produced::bytes(seed.dangerous_as_bytes()))
        .must("session_id", Produced::text(id.as_str()))
        .compare(&v.output)
}

/// `session/encrypt-decrypt`: records under the shared key.
pub(super) fn encrypt_decrypt(v: &Vector<'_>) -> Result<(), Mismatch> {
    open_records(v, Stream::Shared)
}

/// `session/directional-with-aad`: records the initiator sent on `c2s`.
pub(super) fn directional_with_aad(v: &Vector<'_>) -> Result<(), Mismatch> {
    open_records(v, Stream::InitiatorToResponder)
}

fn seed_and_id_from(v: &Vector<'_>) -> Result<(SessionSeed, SessionId), Mismatch> {
    let label = session_label(v.version, &v.input, "label")?;
    let shared_secret: [u8; SEED_LEN] = v.input.hex_array("shared_secret")?;
    let context_id = v.input.str("context_id")?;
    let eph_a = v.input.hex("eph_a")?;
    let eph_b = v.input.hex("eph_b")?;
    Ok(derive_seed_and_id(
        v.version,
        label,
        &shared_secret,
        context_id,
        &eph_a,
        &eph_b,
    ))
}

/// The [`SessionLabel`] whose string (in the file's profile) is the
/// input's label.
fn session_label(
    version: ProtocolVersion,
    input: &Fields<'_>,
    member: &str,
) -> Result<SessionLabel, Mismatch> {
    SessionLabel::from_label(version, input.str(member)?)
        .ok_or_else(|| input.invalid(member, "not a session label of this profile"))
}

fn open_records(v: &Vector<'_>, stream: Stream) -> Result<(), Mismatch> {
    if v.mode != Mode::Verify {
        return Err(v.unsupported_mode());
    }
    let (seed, id) = seed_and_id_from(v)?;
    let plaintext = v.input.str("plaintext")?;
    let config = SessionConfig {
        rekey_interval: v.input.u64("rekey_interval")?,
        // Lifetime is local policy (§7.1.7), not what the vector tests.
        policy: SessionPolicy {
            max_age: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_messages: 0,
        },
    };
    // Any instant will do: the lifetime limits are off.
    let now = Timestamp::from_unix_seconds(0);
    let mut receiver = Session::from_salted(v.version, Role::Responder, seed, id, config, now);
    let aad = v.output.opt_str("aad")?;

    let mut expected = Expected::new();
    let mut records = Vec::new();
    for name in v.output.names() {
        if name == "aad" {
            expected.verified(name);
            continue;
        }
        if name.ends_with("_header") || name.ends_with("_seq") {
            // Checked with the record they name, below.
            continue;
        }
        let record = v.output.hex(name)?;
        let seq = record_seq(&record).ok_or_else(|| {
            v.output
                .invalid(name, "shorter than a record header (be64 seq ‖ nonce)")
        })?;
        records.push((seq, name, record));
    }
    ensure(!records.is_empty(), "output holds at least one record")?;
    records.sort_by_key(|(seq, _, _)| *seq);

    for (seq, name, record) in &records {
        let uses_aad = name.contains("aad");
        let opened = match (stream, uses_aad) {
            (Stream::Shared, false) => receiver.decrypt_shared(now, record),
            (Stream::InitiatorToResponder, false) => receiver.decrypt(now, record),
            (Stream::InitiatorToResponder, true) => {
                let aad = aad.ok_or_else(|| v.output.invalid("aad", "missing"))?;
                receiver.decrypt_with_aad(now, record, aad.as_bytes())
            }
            (Stream::Shared, true) => {
                return Err(v
                    .output
                    .invalid(name, "the shared-key stream takes no caller AAD"));
            }
        }
        .map_err(core(format!("output.{name} opens")))?;
        ensure(
            opened == plaintext.as_bytes(),
            &format!("output.{name} opens to input.plaintext"),
        )?;
        expected.verified(name);
        if let Some(header) = record.get(..RECORD_HEADER_LEN) {
            expected.may(&format!("{name}_header"), Produced::bytes(header));
        }
        expected.may(&format!("{name}_seq"), Produced::Json((*seq).into()));
    }
    expected.compare(&v.output)
}

/// The big-endian sequence number at the start of a record.
fn record_seq(record: &[u8]) -> Option<u64> {
    if record.len() < RECORD_HEADER_LEN {
        return None;
    }
    let seq: [u8; 8] = record.get(..8)?.try_into().ok()?;
    Some(u64::from_be_bytes(seq))
}
