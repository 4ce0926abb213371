//! Signature parameters: the ones a signer emits and the ones a verifier
//! receives in a `Signature-Input` member (PROTOCOL.md §5.1).
//!
//! Layer: RFC 9421, beside components. The signer writes `keyid`, `alg`,
//! `created`, `expires`, `nonce`, `tag` in that order (the \[L\] order),
//! leaving out empty ones; a caller may choose another order
//! ([`SignatureParams::order`]), since RFC 9421 §2.3 fixes none and its
//! Appendix B examples put `created` first. The verifier reads those six,
//! type-checks them, accepts and ignores any other parameter, and keeps
//! the member value text exactly as received: that text, never a
//! re-serialisation, is the `"@signature-params"` line of the base (the
//! draft.2 correction; vector `request-tag-ed25519`).
//!
//! This profile requires `keyid` (replay scope and sender DID) and
//! `created` (freshness). `tag` has no meaning here (open item O-4).
//!
//! Duplicate parameters: RFC 8941 keeps the last value. The raw text, with
//! both, is what the signature covers, so the signer vouched for it.

use sfv::{BareItem, ItemSerializer, KeyRef, ListEntry, StringRef};

use super::component::ComponentId;
use super::error::{HttpSigError, Malformed};
use crate::time::Timestamp;

/// The label a signer uses unless told otherwise (§5.1).
pub const DEFAULT_LABEL: &str = "sig1";

/// Parameter names.
const KEYID: &str = "keyid";
const ALG: &str = "alg";
const CREATED: &str = "created";
const EXPIRES: &str = "expires";
const NONCE: &str = "nonce";
const TAG: &str = "tag";

/// One of the six RFC 9421 §2.3 signature parameters, to name a position
/// in [`SignatureParams::order`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureParam {
    /// `keyid`.
    KeyId,
    /// `alg`.
    Alg,
    /// `created`.
    Created,
    /// `expires`.
    Expires,
    /// `nonce`.
    Nonce,
    /// `tag`.
    Tag,
}

impl SignatureParam {
    /// The \[L\] emission order (§5.1, the Go signer's): `keyid`, `alg`,
    /// `created`, `expires`, `nonce`, `tag`.
    pub const DEFAULT_ORDER: [Self; 6] = [
        Self::KeyId,
        Self::Alg,
        Self::Created,
        Self::Expires,
        Self::Nonce,
        Self::Tag,
    ];

    /// The parameter name as written in `Signature-Input`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::KeyId => KEYID,
            Self::Alg => ALG,
            Self::Created => CREATED,
            Self::Expires => EXPIRES,
            Self::Nonce => NONCE,
            Self::Tag => TAG,
        }
    }

    /// The parameter written `name` (exact, case-sensitive, as RFC 8941
    /// keys are), or `None`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::DEFAULT_ORDER.into_iter().find(|p| p.name() == name)
    }
}

/// What a signer puts in its `Signature-Input` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureParams {
    /// The dictionary label (default [`DEFAULT_LABEL`]).
    pub label: String,
    /// The covered components, in base order.
    pub covered: Vec<ComponentId>,
    /// The key identifier: the signer's DID, optionally `#fragment` (§5.3).
    /// Left out when empty.
    pub keyid: String,
    /// The RFC 9421 algorithm name (§3.3); must match the signing key.
    /// Left out when `None` or empty.
    pub alg: Option<String>,
    /// Creation time; written as whole Unix seconds.
    pub created: Timestamp,
    /// Expiry time; written as whole Unix seconds. The Go signer never
    /// emits it.
    pub expires: Option<Timestamp>,
    /// A replay nonce (the Go gateway uses a UUID). Left out when `None`
    /// or empty.
    pub nonce: Option<String>,
    /// An application tag; no meaning in this profile (O-4). Left out when
    /// `None` or empty.
    pub tag: Option<String>,
    /// The order the parameters are written in. `None` is
    /// [`SignatureParam::DEFAULT_ORDER`]. Otherwise the listed parameters
    /// come first, in list order, then the unlisted ones in the default
    /// order; a listed parameter that is absent (empty) is skipped. A
    /// parameter listed twice is refused when signing. The order changes
    /// the signed bytes, not the meaning: a verifier reads any order.
    pub order: Option<Vec<SignatureParam>>,
}

impl SignatureParams {
    /// Parameters with label `sig1`, the given components, key id and
    /// creation time, and nothing else.
    pub fn new(covered: Vec<ComponentId>, keyid: impl Into<String>, created: Timestamp) -> Self {
        Self {
            label: DEFAULT_LABEL.to_owned(),
            covered,
            keyid: keyid.into(),
            alg: None,
            created,
            expires: None,
            nonce: None,
            tag: None,
            order: None,
        }
    }

    /// The member value: `(<components>)` then the present parameters in
    /// [`Self::order`], by default
    /// `;keyid="…"[;alg="…"];created=…[;expires=…][;nonce="…"][;tag="…"]`.
    ///
    /// # Errors
    /// [`HttpSigError::Malformed`]: [`Malformed::SignerInput`] when the
    /// label is not an RFC 8941 key, a string parameter is not an RFC 8941
    /// string or a time is negative; [`Malformed::DuplicateComponent`] when
    /// a component is covered twice; [`Malformed::DuplicateParameter`] when
    /// `order` lists a parameter twice.
    pub(crate) fn member_value(&self) -> Result<String, HttpSigError> {
        if KeyRef::from_str(&self.label).is_err() {
            return Err(Malformed::SignerInput("label").into());
        }
        for (i, c) in self.covered.iter().enumerate() {
            if self.covered.iter().skip(i + 1).any(|d| d == c) {
                return Err(Malformed::DuplicateComponent.into());
            }
        }
        let items: Vec<&str> = self.covered.iter().map(ComponentId::as_str).collect();
        let mut out = format!("({})", items.join(" "));
        for param in self.emission_order()? {
            match param {
                SignatureParam::KeyId => push_string_param(&mut out, KEYID, Some(&self.keyid)),
                SignatureParam::Alg => push_string_param(&mut out, ALG, self.alg.as_deref()),
                SignatureParam::Created => {
                    push_integer_param(&mut out, CREATED, Some(self.created))
                }
                SignatureParam::Expires => push_integer_param(&mut out, EXPIRES, self.expires),
                SignatureParam::Nonce => push_string_param(&mut out, NONCE, self.nonce.as_deref()),
                SignatureParam::Tag => push_string_param(&mut out, TAG, self.tag.as_deref()),
            }?;
        }
        Ok(out)
    }

    /// All six parameters, in the order they are written: [`Self::order`]
    /// first, then the rest in the default order.
    fn emission_order(&self) -> Result<Vec<SignatureParam>, HttpSigError> {
        let listed = self.order.as_deref().unwrap_or_default();
        for (i, param) in listed.iter().enumerate() {
            if listed.iter().skip(i + 1).any(|p| p == param) {
                return Err(Malformed::DuplicateParameter(param.name()).into());
            }
        }
        let mut order = listed.to_vec();
        order.extend(
            SignatureParam::DEFAULT_ORDER
                .into_iter()
                .filter(|p| !listed.contains(p)),
        );
        Ok(order)
    }
}

fn push_string_param(
    out: &mut String,
    name: &'static str,
    value: Option<&str>,
) -> Result<(), HttpSigError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(());
    };
    let string = StringRef::from_str(value).map_err(|_| Malformed::SignerInput(name))?;
    out.push(';');
    out.push_str(name);
    out.push('=');
    out.push_str(&ItemSerializer::new().bare_item(string).finish());
    Ok(())
}

fn push_integer_param(
    out: &mut String,
    name: &'static str,
    value: Option<Timestamp>,
) -> Result<(), HttpSigError> {
    let Some(value) = value else {
        return Ok(());
    };
    let secs = value.unix_seconds();
    let integer = sfv::Integer::try_from(secs)
        .ok()
        .filter(|_| secs >= 0)
        .ok_or(Malformed::SignerInput(name))?;
    out.push(';');
    out.push_str(name);
    out.push('=');
    out.push_str(&ItemSerializer::new().bare_item(integer).finish());
    Ok(())
}

/// The parameters of one received `Signature-Input` member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceivedParams {
    pub(crate) label: String,
    /// The member value exactly as received.
    pub(crate) raw_value: String,
    pub(crate) covered: Vec<ComponentId>,
    pub(crate) keyid: String,
    pub(crate) alg: Option<String>,
    pub(crate) created: Timestamp,
    pub(crate) expires: Option<Timestamp>,
    pub(crate) nonce: Option<String>,
    pub(crate) tag: Option<String>,
}

impl ReceivedParams {
    /// Reads a member; `raw_value` is its text after `label=`.
    pub(crate) fn from_member(
        label: &str,
        raw_value: &str,
        entry: &ListEntry,
    ) -> Result<Self, HttpSigError> {
        let ListEntry::InnerList(list) = entry else {
            return Err(Malformed::SignatureInput.into());
        };
        let mut covered: Vec<ComponentId> = Vec::with_capacity(list.items.len());
        for item in &list.items {
            let id = ComponentId::from_item(item)?;
            if covered.contains(&id) {
                return Err(Malformed::DuplicateComponent.into());
            }
            covered.push(id);
        }
        let mut keyid = None;
        let mut alg = None;
        let mut created = None;
        let mut expires = None;
        let mut nonce = None;
        let mut tag = None;
        for (key, value) in &list.params {
            match key.as_str() {
                KEYID => keyid = Some(string_param(KEYID, value)?),
                ALG => alg = Some(string_param(ALG, value)?),
                CREATED => created = Some(time_param(CREATED, value)?),
                EXPIRES => expires = Some(time_param(EXPIRES, value)?),
                NONCE => nonce = Some(string_param(NONCE, value)?),
                TAG => tag = Some(string_param(TAG, value)?),
                // Unknown parameters stay in `raw_value` and mean nothing.
                _ => {}
            }
        }
        Ok(Self {
            label: label.to_owned(),
            raw_value: raw_value.to_owned(),
            covered,
            keyid: keyid.ok_or(Malformed::MissingParameter(KEYID))?,
            alg,
            created: created.ok_or(Malformed::MissingParameter(CREATED))?,
            expires,
            nonce,
            tag,
        })
    }
}

fn string_param(name: &'static str, value: &BareItem) -> Result<String, HttpSigError> {
    match value {
        BareItem::String(s) => Ok(s.as_str().to_owned()),
        _ => Err(Malformed::Parameter(name).into()),
    }
}

fn time_param(name: &'static str, value: &BareItem) -> Result<Timestamp, HttpSigError> {
    match value {
        BareItem::Integer(i) => {
            let secs = i64::from(*i);
            if secs < 0 {
                return Err(Malformed::Parameter(name).into());
            }
            Ok(Timestamp::from_unix_seconds(secs))
        }
        _ => Err(Malformed::Parameter(name).into()),
    }
}
