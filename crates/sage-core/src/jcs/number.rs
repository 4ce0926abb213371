//! Numbers written as ECMAScript `Number.prototype.toString` writes them
//! (RFC 8785 §3.2.2.3, PROTOCOL.md §4.1).
//!
//! Layer: JCS serialiser. Input is an `f64`; output is appended to a byte
//! buffer without allocating. The digits are the shortest ones that read
//! back as the same double (Rust's `{:e}` formatting prints exactly those);
//! this module only lays them out by the ECMAScript rules:
//!
//! - integers below 10^21 in full (`1e20` → `100000000000000000000`);
//! - plain decimals for 10^-6 ≤ |x| < 10^21 (`0.000001`, `4.5`);
//! - otherwise `d[.ddd]e±x` (`1e+21`, `1.5e-7`);
//! - `-0` → `0`.
//!
//! One correction to Rust's digits: when the double lies exactly halfway
//! between two shortest candidates (1424953923781206.25 between …206.2 and
//! …206.3), Rust rounds the tie up but ECMAScript picks the even last digit.
//! [`ShortestDecimal::prefer_even_on_tie`] detects such ties exactly, in
//! integer arithmetic, and switches to the even neighbour.
//!
//! Non-finite values have no JSON form; they are written as `null`, which
//! is what `JSON.stringify` does. The parser never produces them.

use core::fmt::Write as _;

/// Integers below this are exact in a double and take the fast path.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A double has at most 17 significant digits in its shortest form; the
/// buffer leaves headroom so that the layout code never has to care.
const MAX_DIGITS: usize = 24;

/// Appends the ECMAScript `Number::toString` form of `x`.
pub(super) fn write_number(x: f64, out: &mut Vec<u8>) {
    if !x.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    if x == 0.0 {
        // Both +0 and -0.
        out.push(b'0');
        return;
    }
    if x.is_sign_negative() {
        out.push(b'-');
    }
    let magnitude = x.abs();
    if magnitude < EXACT_INTEGER_LIMIT && magnitude.fract() == 0.0 {
        // Exact: the magnitude is a whole number below 2^53.
        write_u64(magnitude as u64, out);
        return;
    }
    let mut decimal = ShortestDecimal::of(magnitude);
    decimal.prefer_even_on_tie(magnitude);
    decimal.write_es(out);
}

/// The shortest round-trip decimal of a positive double, as ECMAScript
/// describes it: value = 0.d1 d2 … dk × 10^point.
struct ShortestDecimal {
    digits: [u8; MAX_DIGITS],
    len: usize,
    point: i32,
}

impl ShortestDecimal {
    fn of(magnitude: f64) -> Self {
        let mut text = StackText::new();
        if write!(text, "{magnitude:e}").is_ok() {
            Self::from_scientific(text.as_bytes())
        } else {
            // Unreachable in practice (`{:e}` of a double is at most 24
            // bytes); kept so that formatting can never fail or panic.
            Self::from_scientific(format!("{magnitude:e}").as_bytes())
        }
    }

    /// Reads Rust's `{:e}` output, `d[.ddd]e[-]x`.
    fn from_scientific(text: &[u8]) -> Self {
        let mut decimal = Self {
            digits: [0; MAX_DIGITS],
            len: 0,
            point: 0,
        };
        let mut exponent: i32 = 0;
        let mut exponent_negative = false;
        let mut in_exponent = false;
        for &byte in text {
            match byte {
                b'e' => in_exponent = true,
                b'-' if in_exponent => exponent_negative = true,
                b'0'..=b'9' if in_exponent => {
                    exponent = exponent
                        .saturating_mul(10)
                        .saturating_add(i32::from(byte - b'0'));
                }
                b'0'..=b'9' => {
                    if let Some(slot) = decimal.digits.get_mut(decimal.len) {
                        *slot = byte;
                        decimal.len += 1;
                    }
                }
                _ => {}
            }
        }
        if exponent_negative {
            exponent = -exponent;
        }
        // d.ddd × 10^e  =  0.dddd × 10^(e+1)
        decimal.point = exponent.saturating_add(1);
        decimal
    }

    /// ECMA-262 Number::toString step 5: among shortest candidates "choose
    /// the value of s for which s × 10^(n−k) is closest in value to m; if
    /// there are two such possible values of s, choose the one that is
    /// even". Rust already returns the closest one; only the tie needs care.
    fn prefer_even_on_tie(&mut self, magnitude: f64) {
        let Some(last_index) = self.len.checked_sub(1) else {
            return;
        };
        let Some(&last) = self.digits.get(last_index) else {
            return;
        };
        if (last - b'0').is_multiple_of(2) {
            return;
        }
        let Some(digits) = self.digits_as_integer() else {
            return;
        };
        let scale = self.point - i32::try_from(self.len).unwrap_or(i32::MAX);
        // The odd last digit means `digits - 1` needs no borrow. For
        // `digits + 1`, a carry (last digit 9) would end in 0; a shorter
        // candidate would then exist, which contradicts shortest digits.
        let lower = digits.checked_sub(1).map(|n| (n, last - 1));
        let upper = (last != b'9')
            .then(|| digits.checked_add(1).map(|n| (n, last + 1)))
            .flatten();
        for (neighbour, neighbour_last) in [lower, upper].into_iter().flatten() {
            let Some(twice_midpoint) = digits.checked_add(neighbour) else {
                continue;
            };
            if is_exactly_half(magnitude, twice_midpoint, scale)
                && reads_back_as(neighbour, scale, magnitude)
            {
                if let Some(slot) = self.digits.get_mut(last_index) {
                    *slot = neighbour_last;
                }
                return;
            }
        }
    }

    /// The digits as one integer (at most 17 digits, so it fits).
    fn digits_as_integer(&self) -> Option<u64> {
        self.digits().iter().try_fold(0u64, |acc, &d| {
            acc.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
    }

    fn digits(&self) -> &[u8] {
        self.digits.get(..self.len).unwrap_or_default()
    }

    /// ECMA-262 Number::toString(x), steps for a positive finite x.
    fn write_es(&self, out: &mut Vec<u8>) {
        let digits = self.digits();
        let count = digits.len();
        let point = self.point;
        match usize::try_from(point) {
            // k ≤ n ≤ 21: the digits, then n − k zeros.
            Ok(n) if count <= n && n <= 21 => {
                out.extend_from_slice(digits);
                out.resize(out.len() + (n - count), b'0');
            }
            // 0 < n ≤ 21 (and n < k): a decimal point inside the digits.
            Ok(n) if 0 < n && n <= 21 => {
                let (whole, fraction) = digits.split_at(n);
                out.extend_from_slice(whole);
                out.push(b'.');
                out.extend_from_slice(fraction);
            }
            // −6 < n ≤ 0: "0." then −n zeros, then the digits.
            _ if -6 < point && point <= 0 => {
                out.extend_from_slice(b"0.");
                out.resize(out.len() + point.unsigned_abs() as usize, b'0');
                out.extend_from_slice(digits);
            }
            // Exponent form: d[.ddd]e±(n − 1).
            _ => {
                let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
                out.push(*first);
                if !rest.is_empty() {
                    out.push(b'.');
                    out.extend_from_slice(rest);
                }
                let exponent = point - 1;
                out.push(b'e');
                out.push(if exponent < 0 { b'-' } else { b'+' });
                write_u64(u64::from(exponent.unsigned_abs()), out);
            }
        }
    }
}

/// `true` when `magnitude` equals `twice_midpoint / 2 × 10^scale` exactly.
///
/// With magnitude = m × 2^e (m a 53-bit integer) and r = `twice_midpoint`
/// (odd), the question is m × 2^(e+1) = r × 2^scale × 5^scale. Split m into
/// odd part × 2^t: the powers of two must match (t + e + 1 = scale) and the
/// odd parts must match (m_odd × 5^-scale = r or m_odd = r × 5^scale). A
/// product that overflows `u128` is far larger than the other side, so it
/// cannot be equal.
fn is_exactly_half(magnitude: f64, twice_midpoint: u64, scale: i32) -> bool {
    let bits = magnitude.to_bits();
    let biased_exponent = i32::try_from((bits >> 52) & 0x7ff).unwrap_or(0);
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exponent) = if biased_exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased_exponent - 1075)
    };
    if mantissa == 0 {
        return false;
    }
    let twos = mantissa.trailing_zeros();
    let odd = u128::from(mantissa >> twos);
    if i32::try_from(twos)
        .unwrap_or(i32::MAX)
        .saturating_add(exponent)
        .saturating_add(1)
        != scale
    {
        return false;
    }
    let fives = 5u128.checked_pow(scale.unsigned_abs());
    let (left, right) = if scale >= 0 {
        (
            Some(odd),
            fives.and_then(|f| f.checked_mul(u128::from(twice_midpoint))),
        )
    } else {
        (
            fives.and_then(|f| f.checked_mul(odd)),
            Some(u128::from(twice_midpoint)),
        )
    };
    matches!((left, right), (Some(l), Some(r)) if l == r)
}

/// `true` when the decimal `digits × 10^scale` reads back as `magnitude`.
fn reads_back_as(digits: u64, scale: i32, magnitude: f64) -> bool {
    let mut text = StackText::new();
    write!(text, "{digits}e{scale}").is_ok()
        && core::str::from_utf8(text.as_bytes())
            .ok()
            .and_then(|t| t.parse::<f64>().ok())
            == Some(magnitude)
}

/// Appends the decimal digits of `n`.
fn write_u64(mut n: u64, out: &mut Vec<u8>) {
    let mut buffer = [0u8; 20];
    let mut start = buffer.len();
    for slot in buffer.iter_mut().rev() {
        // `n % 10` is below 10, so the cast is exact.
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
        start -= 1;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(buffer.get(start..).unwrap_or_default());
}

/// A fixed-size text buffer, so that `{:e}` formatting does not allocate.
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        Self {
            bytes: [0; 32],
            len: 0,
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl core::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        let slot = self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}
