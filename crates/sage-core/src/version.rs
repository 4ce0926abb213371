//! Protocol versions and the wire labels each one uses.
//!
//! Every domain-separation label, protocol string and suite name that
//! crosses the wire is read from a [`Labels`] table, never written inline at
//! a call site. Today there is one profile, [`ProtocolVersion::V1Draft1`]
//! (sage-spec `1.0.0-draft.1`, the \[L\] layer of PROTOCOL.md). The 0.10.0
//! profile reuses none of these labels (PROTOCOL.md §13.3), so it will be a
//! second `Labels` value beside this one, selected by a new variant.

/// A protocol profile this crate can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// sage-spec `1.0.0-draft.1` plus the two draft.2 corrections to the
    /// RFC 9421 chapter: the wire format of the deployed Go core (v1.5.2).
    #[default]
    V1Draft1,
}

impl ProtocolVersion {
    /// The `spec_version` string of this profile (as in the vector files).
    pub const fn spec_version(self) -> &'static str {
        match self {
            Self::V1Draft1 => "1.0.0-draft.1",
        }
    }

    /// The label table of this profile.
    pub const fn labels(self) -> &'static Labels {
        match self {
            Self::V1Draft1 => &V1_DRAFT1,
        }
    }

    /// Parses a `spec_version` string.
    pub fn from_spec_version(s: &str) -> Option<Self> {
        match s {
            "1.0.0-draft.1" => Some(Self::V1Draft1),
            _ => None,
        }
    }
}

/// Every wire label of one profile (PROTOCOL.md §13.3 and the protocol
/// strings listed under it).
#[derive(Debug)]
#[non_exhaustive]
pub struct Labels {
    // §6.1 HPKE suite strings.
    /// HPKE suite name inside `info`/`exportCtx`.
    pub hpke_suite: &'static str,
    /// Combiner id inside `info`/`exportCtx`.
    pub hpke_combiner: &'static str,
    /// Prefix of `info`, up to and including `|suite=`.
    pub hpke_info_prefix: &'static str,
    /// Prefix of `exportCtx`, up to and including `|suite=`.
    pub hpke_export_prefix: &'static str,
    /// HKDF-Expand info of the combiner (§6.2).
    pub combiner_info: &'static str,
    /// Counter-expansion labels of §6.3.
    pub traffic_c2s_key: &'static str,
    /// See [`Labels::traffic_c2s_key`].
    pub traffic_c2s_iv: &'static str,
    /// See [`Labels::traffic_c2s_key`].
    pub traffic_s2c_key: &'static str,
    /// See [`Labels::traffic_c2s_key`].
    pub traffic_s2c_iv: &'static str,
    /// Channel-binding label (§6.3).
    pub channel_binding: &'static str,
    /// Ack key label (§6.4).
    pub ack_key: &'static str,
    /// Ack message prefix (§6.4).
    pub ack_msg_prefix: &'static str,
    /// `task_id` of the handshake transport message and `task` of the ack envelope.
    pub hpke_task: &'static str,
    /// `v` member of the ack envelope.
    pub hpke_envelope_version: &'static str,
    /// The generic handshake failure text sent to peers.
    pub hpke_generic_error: &'static str,
    /// The only other failure text a responder may send.
    pub hpke_suite_error: &'static str,
    /// `role` of the transport message that carries the init payload (Go core).
    pub hpke_init_role: &'static str,
    /// `metadata` key of the optional anti-DoS cookie on the init message.
    pub hpke_cookie_key: &'static str,
    /// Prefix of the session key id the responder issues (`kid-<uuid>`).
    pub hpke_kid_prefix: &'static str,
    // §7.1 session labels.
    /// Session seed/id label after the HPKE handshake.
    pub session_label_hpke_e2e: &'static str,
    /// Session seed/id label of the manager path.
    pub session_label_hpke: &'static str,
    /// Legacy label used in the salt when the label is empty.
    pub session_label_legacy: &'static str,
    /// HKDF info of the shared (non-directional) key pair.
    pub session_keys_info: &'static str,
    /// HKDF info of the directional keys.
    pub session_directional_info: &'static str,
    /// HKDF info prefix of rekeyed generations.
    pub session_rekey_info: &'static str,
    /// Rekey direction string, client to server.
    pub dir_c2s: &'static str,
    /// Rekey direction string, server to client.
    pub dir_s2c: &'static str,
    /// Rekey direction string of the shared key (Go core, not in the spec text).
    pub dir_single: &'static str,
    // §8.5 proof of possession.
    /// PoP challenge prefix.
    pub pop_prefix: &'static str,
    // §11 A2A agent card vocabulary.
    /// `@context` of the agent card, in order.
    pub card_context: &'static [&'static str],
    /// `type` of the agent card, in order.
    pub card_types: &'static [&'static str],
    /// `publicKey[].type` of an Ed25519 key.
    pub card_key_ed25519: &'static str,
    /// `publicKey[].type` of a secp256k1 key.
    pub card_key_secp256k1: &'static str,
    /// `publicKey[].type` of an X25519 key.
    pub card_key_x25519: &'static str,
    /// Fragment prefix of `publicKey[].id` (`<DID>#key-<n>`).
    pub card_key_fragment_prefix: &'static str,
    /// `service[].type` of the record's endpoint.
    pub card_service_type: &'static str,
    /// `capabilities` of a card whose record names none (Go core default).
    pub card_default_capabilities: &'static [&'static str],
    /// `proof.type` of an Ed25519 card proof.
    pub card_proof_ed25519: &'static str,
    /// `proof.type` of a secp256k1 card proof.
    pub card_proof_secp256k1: &'static str,
    /// `proof.proofPurpose` of a card proof.
    pub card_proof_purpose: &'static str,
}

/// The \[L\] profile's labels.
pub static V1_DRAFT1: Labels = Labels {
    hpke_suite: "hpke-base+x25519+hkdf-sha256",
    hpke_combiner: "e2e-x25519-hkdf-v1",
    hpke_info_prefix: "sage/hpke-info|v1|suite=",
    hpke_export_prefix: "sage/hpke-export|v1|suite=",
    combiner_info: "SAGE-HPKE+E2E-Combiner",
    traffic_c2s_key: "SAGE-c2s:key",
    traffic_c2s_iv: "SAGE-c2s:iv",
    traffic_s2c_key: "SAGE-s2c:key",
    traffic_s2c_iv: "SAGE-s2c:iv",
    channel_binding: "SAGE-cb-v1",
    ack_key: "SAGE-ack-key-v1",
    ack_msg_prefix: "SAGE-ack-msg|v1|",
    hpke_task: "hpke/complete@v1",
    hpke_envelope_version: "v1",
    hpke_generic_error: "authentication failed",
    hpke_suite_error: "suite not allowed",
    hpke_init_role: "user",
    hpke_cookie_key: "cookie",
    hpke_kid_prefix: "kid-",
    session_label_hpke_e2e: "sage/hpke+e2e v1",
    session_label_hpke: "sage/hpke v1",
    session_label_legacy: "a2a/handshake v1",
    session_keys_info: "sage-session-keys-v1",
    session_directional_info: "sage-directional-keys-v1",
    session_rekey_info: "sage-session-rekey-v1",
    dir_c2s: "c2s",
    dir_s2c: "s2c",
    dir_single: "single",
    pop_prefix: "SAGE-PoP:",
    card_context: &[
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://w3id.org/security/suites/secp256k1-2019/v1",
    ],
    card_types: &["Agent", "AIAgent"],
    card_key_ed25519: "Ed25519VerificationKey2020",
    card_key_secp256k1: "EcdsaSecp256k1VerificationKey2019",
    card_key_x25519: "X25519KeyAgreementKey2019",
    card_key_fragment_prefix: "key-",
    card_service_type: "MessageService",
    card_default_capabilities: &["message-signing", "message-verification"],
    card_proof_ed25519: "Ed25519Signature2020",
    card_proof_secp256k1: "EcdsaSecp256k1Signature2019",
    card_proof_purpose: "assertionMethod",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_version_round_trips() {
        let v = ProtocolVersion::default();
        assert_eq!(
            ProtocolVersion::from_spec_version(v.spec_version()),
            Some(v)
        );
        assert_eq!(ProtocolVersion::from_spec_version("0.10.0"), None);
    }
}
