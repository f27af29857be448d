//! Numbers as go-cty has them: binary floating-point numbers of arbitrary precision (Go's
//! `big.Float`), 512 bits for numbers parsed from text, rounded to nearest even.
//!
//! Most numbers in templates are small integers; they stay a plain `i64` ([`Number::Int`]),
//! and only values that do not fit (fractions, integers beyond 64 bits, infinities, negative
//! zero) take the arbitrary-precision form ([`Number::Big`]: a `num-bigint` mantissa, a binary
//! exponent and cty's precision). Arithmetic follows cty's `Value.Add`/`Multiply`/`Divide`/
//! `Modulo`; text follows `big.Float.Text('f', -1)` (cty's conversion to string and JSON), and
//! [`Number::shim_text`] the way Packer's console and `inspect` print a number (hcl2shim: an
//! `int` when exact in 64 bits, else a `float64` printed with Go's `%v`).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

/// The precision of numbers parsed from text (cty's `ParseNumberVal`).
pub const PREC: u32 = 512;
/// The precision of a Go `float64` (cty's `NumberFloatVal`).
const F64_PREC: u32 = 53;

/// A number.
#[derive(Clone)]
pub enum Number {
    /// An exact integer.
    Int(i64),
    /// Any other number.
    Big(Arc<Big>),
}

/// An arbitrary-precision binary float: `(-1)^neg × mant × 2^exp`, `mant` odd (or the value
/// zero or infinite), at most `prec` bits.
#[derive(Clone, Debug)]
pub struct Big {
    neg: bool,
    kind: Kind,
    prec: u32,
}

#[derive(Clone, Debug)]
enum Kind {
    Zero,
    Finite { mant: BigUint, exp: i64 },
    Inf,
}

/// An operation without a result (cty panics with `big.ErrNaN`; HCL reports it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaN(pub &'static str);

impl fmt::Display for NaN {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A finite value taken apart: sign, magnitude `mant × 2^exp`, precision.
struct Parts {
    neg: bool,
    mant: BigUint,
    exp: i64,
    prec: u32,
}

impl Number {
    pub const ZERO: Number = Number::Int(0);

    /// A float64 value (cty's `NumberFloatVal`); `None` for NaN.
    pub fn from_f64(x: f64) -> Option<Number> {
        if x.is_nan() {
            return None;
        }
        if x.is_infinite() {
            return Some(Number::inf(x < 0.0));
        }
        if x == 0.0 {
            return Some(if x.is_sign_negative() {
                Number::neg_zero()
            } else {
                Number::ZERO
            });
        }
        if x.fract() == 0.0 && x.abs() < 9_007_199_254_740_992.0 {
            return Some(Number::Int(x as i64));
        }
        let bits = x.to_bits();
        let neg = bits >> 63 == 1;
        let e = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if e == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), e - 1075)
        };
        Some(Number::finite(neg, BigUint::from(mant), exp, F64_PREC))
    }

    /// Infinity of the given sign.
    pub fn inf(neg: bool) -> Number {
        Number::Big(Arc::new(Big {
            neg,
            kind: Kind::Inf,
            prec: 0,
        }))
    }

    fn neg_zero() -> Number {
        Number::Big(Arc::new(Big {
            neg: true,
            kind: Kind::Zero,
            prec: PREC,
        }))
    }

    /// `mant × 2^exp` exactly (the caller has rounded it), normalised: the `Int` form when the
    /// value is an integer that every precision involved keeps exact.
    fn finite(neg: bool, mut mant: BigUint, mut exp: i64, prec: u32) -> Number {
        if mant.is_zero() {
            return if neg {
                Number::neg_zero()
            } else {
                Number::ZERO
            };
        }
        let tz = mant.trailing_zeros().unwrap_or(0);
        mant >>= tz;
        exp += tz as i64;
        if exp >= 0 && mant.bits() as i64 + exp <= i64::from(prec.min(63)) {
            let m = mant.to_i64().unwrap_or(0) << exp;
            return Number::Int(if neg { -m } else { m });
        }
        Number::Big(Arc::new(Big {
            neg,
            kind: Kind::Finite { mant, exp },
            prec,
        }))
    }

    /// Rounds `mant × 2^exp` (plus a little more when `sticky`) to `prec` bits, to nearest even.
    fn rounded(neg: bool, mant: BigUint, exp: i64, prec: u32, sticky: bool) -> Number {
        let (mant, exp) = round_mant(mant, exp, prec, sticky);
        Number::finite(neg, mant, exp, prec)
    }

    fn parts(&self) -> Option<Parts> {
        match self {
            Number::Int(0) => None,
            Number::Int(i) => Some(Parts {
                neg: *i < 0,
                mant: BigUint::from(i.unsigned_abs()),
                exp: 0,
                prec: PREC,
            }),
            Number::Big(b) => match &b.kind {
                Kind::Finite { mant, exp } => Some(Parts {
                    neg: b.neg,
                    mant: mant.clone(),
                    exp: *exp,
                    prec: b.prec,
                }),
                _ => None,
            },
        }
    }

    fn prec(&self) -> u32 {
        match self {
            Number::Int(_) => PREC,
            Number::Big(b) => b.prec,
        }
    }

    pub fn is_zero(&self) -> bool {
        match self {
            Number::Int(i) => *i == 0,
            Number::Big(b) => matches!(b.kind, Kind::Zero),
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self, Number::Big(b) if matches!(b.kind, Kind::Inf))
    }

    /// The sign bit (true for negative numbers and negative zero).
    pub fn is_negative(&self) -> bool {
        match self {
            Number::Int(i) => *i < 0,
            Number::Big(b) => b.neg,
        }
    }

    /// -1, 0 or 1 (zero of either sign is 0).
    pub fn signum(&self) -> i32 {
        if self.is_zero() {
            0
        } else if self.is_negative() {
            -1
        } else {
            1
        }
    }

    /// Whether this is a whole number (Go's `IsInt`; infinities are not).
    pub fn is_integer(&self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Big(b) => match &b.kind {
                Kind::Zero => true,
                Kind::Finite { exp, .. } => *exp >= 0,
                Kind::Inf => false,
            },
        }
    }

    /// The value as an `i64` when it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(*i),
            Number::Big(b) => match &b.kind {
                Kind::Zero => Some(0),
                Kind::Finite { mant, exp } if *exp >= 0 && *exp < 64 => {
                    let m = (mant << *exp as usize).to_i128()?;
                    i64::try_from(if b.neg { -m } else { m }).ok()
                }
                _ => None,
            },
        }
    }

    /// The whole part (truncated toward zero), exactly; `None` for infinities.
    pub fn trunc_int(&self) -> Option<num_bigint::BigInt> {
        use num_bigint::{BigInt, Sign};
        match self {
            Number::Int(i) => Some(BigInt::from(*i)),
            Number::Big(b) => match &b.kind {
                Kind::Zero => Some(BigInt::zero()),
                Kind::Finite { mant, exp } => {
                    let m = if *exp >= 0 {
                        mant << *exp as usize
                    } else if (-*exp) as u64 >= mant.bits() {
                        BigUint::zero()
                    } else {
                        mant >> (-*exp) as usize
                    };
                    let sign = if b.neg { Sign::Minus } else { Sign::Plus };
                    Some(BigInt::from_biguint(sign, m))
                }
                Kind::Inf => None,
            },
        }
    }

    /// A whole number from a big integer (cty's `SetInt`: precision the integer's size, at
    /// least 64 bits).
    pub fn from_bigint(i: &num_bigint::BigInt) -> Number {
        if let Some(v) = i.to_i64() {
            return Number::Int(v);
        }
        let neg = i.sign() == num_bigint::Sign::Minus;
        let mag = i.magnitude().clone();
        let prec = (mag.bits() as u32).max(64);
        Number::finite(neg, mag, 0, prec)
    }

    /// The nearest `float64` (Go's `big.Float.Float64`).
    pub fn to_f64(&self) -> f64 {
        match self {
            Number::Int(i) => *i as f64,
            Number::Big(b) => {
                let sign = if b.neg { -1.0 } else { 1.0 };
                match &b.kind {
                    Kind::Zero => sign * 0.0,
                    Kind::Inf => sign * f64::INFINITY,
                    Kind::Finite { mant, exp } => sign * to_f64_abs(mant, *exp),
                }
            }
        }
    }

    pub fn neg(&self) -> Number {
        match self {
            Number::Int(i) if *i != 0 && *i != i64::MIN => Number::Int(-i),
            Number::Int(0) => Number::neg_zero(),
            Number::Int(_) => Number::finite(false, BigUint::one() << 63usize, 0, PREC),
            Number::Big(b) => {
                let mut b = (**b).clone();
                b.neg = !b.neg;
                match b.kind {
                    Kind::Zero if !b.neg => Number::ZERO,
                    _ => Number::Big(Arc::new(b)),
                }
            }
        }
    }

    pub fn abs(&self) -> Number {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// cty's `Add`: rounded to the larger precision of the two.
    pub fn add(&self, other: &Number) -> Result<Number, NaN> {
        if let (Number::Int(a), Number::Int(b)) = (self, other)
            && let Some(s) = a.checked_add(*b)
        {
            return Ok(Number::Int(s));
        }
        let prec = self.prec().max(other.prec());
        match (self.is_infinite(), other.is_infinite()) {
            (true, true) if self.is_negative() != other.is_negative() => {
                return Err(NaN("can't compute sum of opposing infinities"));
            }
            (true, _) => return Ok(self.clone()),
            (_, true) => return Ok(other.clone()),
            _ => {}
        }
        let (a, b) = match (self.parts(), other.parts()) {
            (None, None) => {
                // Zeros: -0 + -0 is -0, otherwise +0.
                return Ok(if self.is_negative() && other.is_negative() {
                    Number::neg_zero()
                } else {
                    Number::ZERO
                });
            }
            (Some(a), None) => return Ok(Number::rounded(a.neg, a.mant, a.exp, prec, false)),
            (None, Some(b)) => return Ok(Number::rounded(b.neg, b.mant, b.exp, prec, false)),
            (Some(a), Some(b)) => (a, b),
        };
        // Order by magnitude of the top bit; an operand far below the rounding point of the
        // other only matters as a sticky bit.
        let top = |p: &Parts| p.exp + p.mant.bits() as i64;
        let (hi, mut lo) = if top(&a) >= top(&b) { (a, b) } else { (b, a) };
        let floor = top(&hi) - i64::from(prec) - 4;
        if top(&lo) < floor {
            lo.mant = BigUint::one();
            lo.exp = floor - 1;
        }
        let e = hi.exp.min(lo.exp);
        let hm = &hi.mant << (hi.exp - e) as usize;
        let lm = &lo.mant << (lo.exp - e) as usize;
        let (neg, mant) = if hi.neg == lo.neg {
            (hi.neg, hm + lm)
        } else if hm >= lm {
            (hi.neg, hm - lm)
        } else {
            (lo.neg, lm - hm)
        };
        if mant.is_zero() {
            return Ok(Number::ZERO);
        }
        Ok(Number::rounded(neg, mant, e, prec, false))
    }

    pub fn sub(&self, other: &Number) -> Result<Number, NaN> {
        self.add(&other.neg())
    }

    /// cty's `Multiply`: the product at 512 bits, kept at the larger precision of the operands
    /// or the product's own.
    pub fn mul(&self, other: &Number) -> Result<Number, NaN> {
        if let (Number::Int(a), Number::Int(b)) = (self, other)
            && let Some(p) = a.checked_mul(*b)
            && (p != 0 || (*a >= 0 && *b >= 0))
        {
            return Ok(Number::Int(p));
        }
        let neg = self.is_negative() != other.is_negative();
        if self.is_infinite() || other.is_infinite() {
            if self.is_zero() || other.is_zero() {
                return Err(NaN("can't multiply zero by infinity"));
            }
            return Ok(Number::inf(neg));
        }
        let (Some(a), Some(b)) = (self.parts(), other.parts()) else {
            return Ok(if neg {
                Number::neg_zero()
            } else {
                Number::ZERO
            });
        };
        let (mant, exp) = round_mant(a.mant * b.mant, a.exp + b.exp, PREC, false);
        let min_prec = mant.bits() as u32 - mant.trailing_zeros().unwrap_or(0) as u32;
        let prec = a.prec.max(b.prec).max(min_prec);
        Ok(Number::finite(neg, mant, exp, prec))
    }

    /// cty's `Divide` (Go's `Quo`): rounded to the larger precision; ±Inf when dividing by zero.
    pub fn div(&self, other: &Number) -> Result<Number, NaN> {
        if let (Number::Int(a), Number::Int(b)) = (self, other)
            && *b != 0
            && let Some(0) = a.checked_rem(*b)
            && let Some(q) = a.checked_div(*b)
            && (q != 0 || (*a >= 0) == (*b > 0))
        {
            return Ok(Number::Int(q));
        }
        let neg = self.is_negative() != other.is_negative();
        let prec = self.prec().max(other.prec());
        match (self.is_infinite(), other.is_infinite()) {
            (true, true) => {
                return Err(NaN("can't divide zero by zero or infinity by infinity"));
            }
            (true, false) => return Ok(Number::inf(neg)),
            (false, true) => {
                return Ok(if neg {
                    Number::neg_zero()
                } else {
                    Number::ZERO
                });
            }
            _ => {}
        }
        match (self.parts(), other.parts()) {
            (None, None) => Err(NaN("can't divide zero by zero or infinity by infinity")),
            (Some(_), None) => Ok(Number::inf(neg)),
            (None, Some(_)) => Ok(if neg {
                Number::neg_zero()
            } else {
                Number::ZERO
            }),
            (Some(a), Some(b)) => {
                // Enough quotient bits for the precision, plus guard bits.
                let shift = (i64::from(prec) + 2 + b.mant.bits() as i64 - a.mant.bits() as i64)
                    .max(0) as usize;
                let (q, r) = (&a.mant << shift).div_rem(&b.mant);
                Ok(Number::rounded(
                    neg,
                    q,
                    a.exp - b.exp - shift as i64,
                    prec,
                    !r.is_zero(),
                ))
            }
        }
    }

    /// cty's `Modulo`: `a - trunc(a/b)·b` at `a`'s precision; `a` itself when `b` is zero, and
    /// the product's infinity when either is infinite.
    pub fn rem(&self, other: &Number) -> Result<Number, NaN> {
        if let (Number::Int(a), Number::Int(b)) = (self, other) {
            if *b == 0 {
                return Ok(self.clone());
            }
            if let Some(r) = a.checked_rem(*b) {
                return Ok(Number::Int(r));
            }
        }
        if self.is_infinite() || other.is_infinite() {
            return self.mul(other);
        }
        if other.is_zero() {
            return Ok(self.clone());
        }
        let q = self.div(other)?;
        let Some(t) = q.trunc_int() else {
            return Ok(self.clone());
        };
        let prec = self.prec();
        let t = Number::from_bigint(&t).with_prec(prec);
        let prod = other.mul(&t)?.with_prec(prec);
        self.sub(&prod).map(|r| r.with_prec(prec))
    }

    /// This value rounded to `prec` bits, with that precision (Go's `SetPrec`).
    fn with_prec(&self, prec: u32) -> Number {
        match self.parts() {
            Some(p) => Number::rounded(p.neg, p.mant, p.exp, prec, false),
            None => self.clone(),
        }
    }

    /// Go's `big.Float.Cmp` (zeros of both signs are equal).
    pub fn compare(&self, other: &Number) -> Ordering {
        if let (Number::Int(a), Number::Int(b)) = (self, other) {
            return a.cmp(b);
        }
        let (sa, sb) = (self.signum(), other.signum());
        if sa != sb {
            return sa.cmp(&sb);
        }
        if sa == 0 {
            return Ordering::Equal;
        }
        let mag = match (self.is_infinite(), other.is_infinite()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ => {
                let (Some(a), Some(b)) = (self.parts(), other.parts()) else {
                    return Ordering::Equal;
                };
                let (ta, tb) = (a.exp + a.mant.bits() as i64, b.exp + b.mant.bits() as i64);
                if ta != tb {
                    ta.cmp(&tb)
                } else {
                    let e = a.exp.min(b.exp);
                    (a.mant << (a.exp - e) as usize).cmp(&(b.mant << (b.exp - e) as usize))
                }
            }
        };
        if sa < 0 { mag.reverse() } else { mag }
    }

    /// cty's number equality: whole numbers compare exactly, others by their text.
    pub fn cty_eq(&self, other: &Number) -> bool {
        if let (Number::Int(a), Number::Int(b)) = (self, other) {
            return a == b;
        }
        if self.signum() != other.signum() || self.is_negative() != other.is_negative() {
            return self.is_zero() && other.is_zero();
        }
        match (self.is_integer(), other.is_integer()) {
            (true, true) => self.compare(other) == Ordering::Equal,
            (false, false) => self.text() == other.text(),
            _ => false,
        }
    }

    /// Rounds toward negative infinity (cty's `floor`).
    pub fn floor(&self) -> Number {
        self.to_whole(true)
    }

    /// Rounds toward positive infinity (cty's `ceil`).
    pub fn ceil(&self) -> Number {
        self.to_whole(false)
    }

    fn to_whole(&self, down: bool) -> Number {
        if self.is_integer() || self.is_infinite() {
            return self.clone();
        }
        let Some(mut t) = self.trunc_int() else {
            return self.clone();
        };
        // Truncation moved a negative number up and a positive one down.
        if down && self.is_negative() {
            t -= 1;
        } else if !down && !self.is_negative() {
            t += 1;
        }
        // Go's `SetInt`: a zero result is +0 (`ceil(-0.5)` is 0).
        Number::from_bigint(&t).with_prec(self.prec())
    }

    /// Parses a decimal number as cty's `ParseNumberVal` (Go's `big.ParseFloat`, base 10, 512
    /// bits): an optional sign, digits with an optional fraction, an optional exponent.
    /// `Inf` and the like are refused, as Kiln always did.
    pub fn parse(s: &str) -> Option<Number> {
        let b = s.as_bytes();
        let mut i = 0;
        let neg = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let mut digits = String::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] as char);
            seen_digit = true;
            i += 1;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                digits.push(b[i] as char);
                frac_len += 1;
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return None;
        }
        let mut exp10: i64 = 0;
        if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
            i += 1;
            let eneg = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                // Saturate: far beyond any exponent a float can hold.
                exp10 = (exp10 * 10 + i64::from(b[i] - b'0')).min(1 << 40);
                i += 1;
            }
            if i == start {
                return None;
            }
            if eneg {
                exp10 = -exp10;
            }
        }
        if i != b.len() {
            return None;
        }
        // Go's big.Float holds binary exponents within an int32: "exponent overflow" beyond.
        if (exp10 - frac_len + digits.len() as i64).abs() > 646_000_000 {
            return None;
        }
        let d: BigUint = digits.parse().ok()?;
        if d.is_zero() {
            return Some(if neg {
                Number::neg_zero()
            } else {
                Number::ZERO
            });
        }
        Some(from_decimal(neg, d, exp10 - frac_len))
    }

    /// cty's text for a number (Go's `big.Float.Text('f', -1)`): the shortest decimal that reads
    /// back to the same value at its precision, never in exponent form. Used for conversion to
    /// string and for JSON.
    pub fn text(&self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Big(b) => match &b.kind {
                Kind::Zero => if b.neg { "-0" } else { "0" }.into(),
                Kind::Inf => if b.neg { "-Inf" } else { "+Inf" }.into(),
                Kind::Finite { mant, exp } => {
                    let (digits, dp) = shortest(mant, *exp, b.prec);
                    let mut out = String::new();
                    if b.neg {
                        out.push('-');
                    }
                    out.push_str(&fixed(&digits, dp));
                    out
                }
            },
        }
    }

    /// Go's `%v` of a `big.Float` (cty's `format("%v")`): the shortest digits, in exponent form
    /// when the exponent is below -4 or from 6 on (`1e+06`).
    pub fn g_text(&self) -> String {
        let (neg, digits, dp) = match self {
            Number::Int(i) if i.unsigned_abs() < 1_000_000 => return i.to_string(),
            Number::Int(i) => {
                let (d, dp) = exact_decimal(&BigUint::from(i.unsigned_abs()), 0);
                (*i < 0, d, dp)
            }
            Number::Big(b) => match &b.kind {
                Kind::Finite { mant, exp } => {
                    let (d, dp) = shortest(mant, *exp, b.prec);
                    (b.neg, d, dp)
                }
                _ => return self.text(),
            },
        };
        let sign = if neg { "-" } else { "" };
        let x = dp - 1;
        if !(-4..6).contains(&x) {
            let mut out = format!("{sign}{}", digits[0] as char);
            if digits.len() > 1 {
                out.push('.');
                out.push_str(std::str::from_utf8(&digits[1..]).unwrap_or(""));
            }
            let es = if x < 0 { '-' } else { '+' };
            out.push_str(&format!("e{es}{:02}", x.abs()));
            out
        } else {
            format!("{sign}{}", fixed(&digits, dp))
        }
    }

    /// The decimal digits of a finite number (no trailing zeros) and its decimal exponent,
    /// `|x| = 0.DIGITS × 10^exp`, with its sign: every digit of its exact value, or, with
    /// `shortest`, the fewest that read back to it at its precision (Go's `big.Float`
    /// `roundShortest`); `None` for an infinity.
    pub fn decimal(&self, shortest_digits: bool) -> Option<(bool, Vec<u8>, i64)> {
        match self {
            Number::Int(0) => Some((false, Vec::new(), 0)),
            Number::Int(i) => {
                let (d, dp) = exact_decimal(&BigUint::from(i.unsigned_abs()), 0);
                Some((*i < 0, d, dp))
            }
            Number::Big(b) => match &b.kind {
                Kind::Zero => Some((b.neg, Vec::new(), 0)),
                Kind::Inf => None,
                Kind::Finite { mant, exp } => {
                    let (d, dp) = if shortest_digits {
                        shortest(mant, *exp, b.prec)
                    } else {
                        exact_decimal(mant, *exp)
                    };
                    Some((b.neg, d, dp))
                }
            },
        }
    }

    /// How Packer's `console` and `inspect` print a number (hcl2shim, then Go's `%v`): an
    /// integer when it is exact in 64 bits, else the nearest `float64` in Go's `%v` form.
    pub fn shim_text(&self) -> String {
        match self.to_i64() {
            Some(i) => i.to_string(),
            None => crate::value::go_number(self.to_f64()),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.cty_eq(other)
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.compare(other))
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::Int(i)
    }
}

impl From<usize> for Number {
    fn from(i: usize) -> Number {
        match i64::try_from(i) {
            Ok(i) => Number::Int(i),
            Err(_) => Number::from_bigint(&num_bigint::BigInt::from(i)),
        }
    }
}

impl From<f64> for Number {
    /// `NumberFloatVal`; NaN becomes zero (callers check for NaN first).
    fn from(x: f64) -> Number {
        Number::from_f64(x).unwrap_or(Number::ZERO)
    }
}

/// Rounds `mant × 2^exp` to at most `prec` bits, half to even; `sticky` says the true value is
/// a little above `mant × 2^exp` (bits lost earlier).
fn round_mant(mant: BigUint, exp: i64, prec: u32, sticky: bool) -> (BigUint, i64) {
    let bits = mant.bits();
    if bits <= u64::from(prec) {
        // Exact (a sticky bit below a value that fits only matters past the last bit; the
        // callers always leave guard bits when they pass one).
        return (mant, exp);
    }
    let drop = bits - u64::from(prec);
    let half = BigUint::one() << (drop - 1) as usize;
    let low = &mant & ((BigUint::one() << drop as usize) - 1u32);
    let mut kept = mant >> drop as usize;
    let up = match low.cmp(&half) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => sticky || kept.bit(0),
    };
    if up {
        kept += 1u32;
    }
    (kept, exp + drop as i64)
}

/// The magnitude `mant × 2^exp` as the nearest `float64` (half to even, subnormals included).
fn to_f64_abs(mant: &BigUint, exp: i64) -> f64 {
    let bits = mant.bits() as i64;
    let top = exp + bits - 1; // exponent of the leading bit
    if top > 1023 {
        return f64::INFINITY;
    }
    // Bits the result can hold: 53, fewer for subnormals.
    let p = if top >= -1022 { 53 } else { top + 1075 };
    if p <= 0 {
        // Below half the smallest subnormal, or exactly half (ties to even: zero), or above.
        if p == 0 && (mant.count_ones() > 1) {
            return f64::from_bits(1);
        }
        return 0.0;
    }
    let (m, e) = round_mant(mant.clone(), exp, p as u32, false);
    let m = m.to_u64().unwrap_or(0) as f64; // at most 54 bits after rounding: exact
    ldexp(m, e)
}

/// `x × 2^e` for an `x` whose result is representable (steps keep intermediates normal).
fn ldexp(mut x: f64, mut e: i64) -> f64 {
    let step = |k: i64| f64::from_bits(((k + 1023) as u64) << 52);
    while e > 1000 {
        x *= step(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= step(-1000);
        e += 1000;
    }
    if e < -1022 {
        // Two steps so the last multiplication rounds (exactly) into the subnormals.
        x *= step(-1022);
        e += 1022;
    }
    x * step(e)
}

/// `±d × 10^e10` rounded to 512 bits.
fn from_decimal(neg: bool, d: BigUint, e10: i64) -> Number {
    // Beyond these, the value is far outside anything a template means; cty's big.Float still
    // holds it, so compute with rounded powers rather than exact ones.
    const EXACT: i64 = 4000;
    if e10 >= 0 {
        if e10 <= EXACT {
            let m = d * BigUint::from(10u32).pow(e10 as u32);
            return Number::rounded(neg, m, 0, PREC, false);
        }
        let (pm, pe) = pow10_approx(e10);
        let (m, e) = round_mant(d * pm, pe, PREC, false);
        return Number::finite(neg, m, e, PREC);
    }
    let k = -e10;
    let (den, den_exp) = if k <= EXACT {
        (BigUint::from(10u32).pow(k as u32), 0)
    } else {
        pow10_approx(k)
    };
    let shift = (i64::from(PREC) + 2 + den.bits() as i64 - d.bits() as i64).max(0) as usize;
    let (q, r) = (d << shift).div_rem(&den);
    Number::rounded(neg, q, -(shift as i64) - den_exp, PREC, !r.is_zero())
}

/// 10^k as a mantissa and binary exponent, rounded to 576 bits at each step.
fn pow10_approx(k: i64) -> (BigUint, i64) {
    const P: u32 = PREC + 64;
    let mut result = (BigUint::one(), 0i64);
    let mut base = (BigUint::from(10u32), 0i64);
    let mut k = k as u64;
    while k > 0 {
        if k & 1 == 1 {
            result = round_mant(&result.0 * &base.0, result.1 + base.1, P, false);
        }
        base = round_mant(&base.0 * &base.0, base.1 * 2, P, false);
        k >>= 1;
    }
    result
}

/// The exact decimal digits of `mant × 2^exp` (no trailing zeros) and the position of the
/// decimal point (value = 0.DIGITS × 10^dp).
fn exact_decimal(mant: &BigUint, exp: i64) -> (Vec<u8>, i64) {
    if mant.is_zero() {
        return (Vec::new(), 0);
    }
    let (s, frac) = if exp >= 0 {
        ((mant << exp as usize).to_string(), 0)
    } else {
        let k = (-exp) as u32;
        (
            (mant * BigUint::from(5u32).pow(k)).to_string(),
            i64::from(k),
        )
    };
    let dp = s.len() as i64 - frac;
    let mut digits = s.into_bytes();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    (digits, dp)
}

/// The shortest decimal digits that identify `mant × 2^exp` among numbers of `prec` bits
/// (the interval of half an ulp either side, bounds included when the mantissa is even), as
/// Go's `big.Float` finds them.
fn shortest(mant: &BigUint, exp: i64, prec: u32) -> (Vec<u8>, i64) {
    let (mut digits, mut dp) = exact_decimal(mant, exp);
    // The mantissa with `prec + 1` bits: its last bit is half an ulp.
    let s = mant.bits() as i64 - (i64::from(prec) + 1);
    let (m2, e2) = if s < 0 {
        (mant << (-s) as usize, exp + s)
    } else {
        (mant >> s as usize, exp + s)
    };
    let (lower, _) = exact_decimal(&(&m2 - 1u32), e2);
    let (upper, _) = exact_decimal(&(&m2 + 1u32), e2);
    let inclusive = !m2.bit(1);
    let at = |d: &[u8], i: usize| d.get(i).copied().unwrap_or(b'0');
    for i in 0..digits.len() {
        let m = digits[i];
        let l = at(&lower, i);
        let u = at(&upper, i);
        let okdown = l != m || inclusive && i + 1 == lower.len();
        let okup = m != u && (inclusive || m + 1 < u || i + 1 < upper.len());
        let n = i + 1;
        if okdown && okup {
            // Round to nearest, half to even.
            let next = at(&digits, n);
            let up = next > b'5'
                || next == b'5'
                    && (n + 1 < digits.len() || n > 0 && (digits[n - 1] - b'0') % 2 == 1);
            round_digits(&mut digits, &mut dp, n, up);
            break;
        } else if okdown {
            round_digits(&mut digits, &mut dp, n, false);
            break;
        } else if okup {
            round_digits(&mut digits, &mut dp, n, true);
            break;
        }
    }
    (digits, dp)
}

/// Keeps `n` digits, rounding the last up when `up`, and drops trailing zeros.
fn round_digits(digits: &mut Vec<u8>, dp: &mut i64, n: usize, up: bool) {
    if n >= digits.len() {
        return;
    }
    digits.truncate(n);
    if up {
        let mut i = n;
        loop {
            if i == 0 {
                digits.insert(0, b'1');
                digits.truncate(n);
                *dp += 1;
                break;
            }
            i -= 1;
            if digits[i] == b'9' {
                digits[i] = b'0';
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
}

/// Digits `0.DIGITS × 10^dp` in fixed notation, as many fraction digits as needed.
fn fixed(digits: &[u8], dp: i64) -> String {
    let mut out = String::new();
    let nd = digits.len() as i64;
    if dp > 0 {
        for i in 0..dp {
            out.push(if i < nd {
                digits[i as usize] as char
            } else {
                '0'
            });
        }
    } else {
        out.push('0');
    }
    if nd > dp {
        out.push('.');
        for i in dp..nd {
            out.push(if i < 0 {
                '0'
            } else {
                digits[i as usize] as char
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    // Expected strings are Packer 1.16.0's own output (`packer console`), not derived here.

    #[test]
    fn text_is_the_shortest_at_the_numbers_precision() {
        assert_eq!(p("0.1").text(), "0.1");
        assert_eq!(p("0.1").add(&p("0.2")).unwrap().text(), "0.3");
        assert_eq!(
            p("1").div(&p("3")).unwrap().text(),
            "0.33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333335"
        );
        assert_eq!(p("1e-7").text(), "0.0000001");
        assert_eq!(p("1e21").text(), "1000000000000000000000");
        // pow(2, 60) is a float64 result: 53 bits.
        assert_eq!(Number::from(2f64.powi(60)).text(), "1152921504606847000");
        assert_eq!(
            p("18446744073709551616").mul(&p("3")).unwrap().text(),
            "55340232221128654848"
        );
        assert_eq!(p("-0").text(), "-0");
        assert_eq!(p("0").mul(&p("-1")).unwrap().text(), "-0");
    }

    #[test]
    fn console_prints_int64_exactly_and_the_rest_as_float64() {
        assert_eq!(
            p("9007199254740993").add(&p("1")).unwrap().shim_text(),
            "9007199254740994"
        );
        assert_eq!(
            p("18446744073709551616").shim_text(),
            "1.8446744073709552e+19"
        );
        assert_eq!(
            p("1").div(&p("3")).unwrap().shim_text(),
            "0.3333333333333333"
        );
        assert_eq!(p("0.1").add(&p("0.2")).unwrap().shim_text(), "0.3");
        assert_eq!(p("123456789.123").shim_text(), "1.23456789123e+08");
        assert_eq!(p("1e300").shim_text(), "1e+300");
        assert_eq!(p("1e999999").shim_text(), "+Inf");
        assert_eq!(p("-0").shim_text(), "0");
        assert_eq!(p("1e400").mul(&p("1e-300")).unwrap().shim_text(), "1e+100");
    }

    #[test]
    fn arithmetic_follows_cty() {
        assert_eq!(p("1").div(&p("0")).unwrap().text(), "+Inf");
        assert_eq!(p("-1").div(&p("0")).unwrap().text(), "-Inf");
        assert!(p("0").div(&p("0")).is_err());
        assert!(Number::inf(false).mul(&p("0")).is_err());
        assert_eq!(p("7").rem(&p("0")).unwrap().text(), "7");
        assert_eq!(p("-7").rem(&p("3")).unwrap().text(), "-1");
        assert_eq!(p("2.5").rem(&p("1")).unwrap().text(), "0.5");
        assert_eq!(p("-7.5").rem(&p("2")).unwrap().text(), "-1.5");
        assert_eq!(p("-0.5").ceil().text(), "0");
        assert_eq!(p("-0.5").floor().text(), "-1");
        assert!(p("0.1").add(&p("0.2")).unwrap() == p("0.3"));
        assert_eq!(p("1e400").compare(&p("1e399")), Ordering::Greater);
        assert_eq!(p("-1e-400").compare(&p("0")), Ordering::Less);
        assert_eq!(i64::MIN.to_string(), Number::Int(i64::MIN).text());
        assert_eq!(Number::Int(i64::MIN).neg().text(), "9223372036854775808");
        assert_eq!(
            Number::Int(i64::MAX).add(&Number::Int(1)).unwrap().text(),
            "9223372036854775808"
        );
    }

    #[test]
    fn parse_refuses_what_go_refuses_and_survives_huge_exponents() {
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "inf", "NaN", "0x10", "1_000", " 5", "5 ",
        ] {
            assert!(Number::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(p(".5").text(), "0.5");
        assert_eq!(p("5.").text(), "5");
        assert_eq!(p("+5").text(), "5");
        assert_eq!(p("1e-999999").shim_text(), "0");
        assert!(p("1e999999").to_f64().is_infinite());
        // Beyond big.Float's int32 exponents: "a number is required".
        assert!(Number::parse("1e99999999999999999999").is_none());
        assert_eq!(p("4.9e-324").to_f64(), 5e-324);
        assert_eq!(p("2.5e-324").to_f64(), 5e-324);
        assert_eq!(p("2.4e-324").to_f64(), 0.0);
    }

    #[test]
    fn format_v_is_go_g_shortest() {
        assert_eq!(Number::Int(1_000_000).g_text(), "1e+06");
        assert_eq!(Number::Int(-12_345_678).g_text(), "-1.2345678e+07");
        assert_eq!(Number::Int(999_999).g_text(), "999999");
        assert_eq!(p("0.00001").g_text(), "1e-05");
        assert_eq!(p("0.0001").g_text(), "0.0001");
        assert_eq!(p("2.5").g_text(), "2.5");
    }

    /// Every operation on every pair of edge values: no panic, results consistent with their
    /// text (which reads back to the same text) and with the nearest float64.
    #[test]
    fn edge_values_never_panic_and_stay_consistent() {
        let mut edges: Vec<Number> = [
            "0",
            "-0",
            "1",
            "-1",
            "2",
            "0.1",
            "0.5",
            "123456789.123",
            "1e300",
            "-1e300",
            "1e-300",
            "1e-320",
            "1e5000",
            "1e-5000",
            "9223372036854775807",
            "-9223372036854775808",
            "9223372036854775808",
            "18446744073709551616",
        ]
        .iter()
        .map(|s| p(s))
        .collect();
        edges.push(Number::inf(false));
        edges.push(Number::inf(true));
        edges.push(p("1").div(&p("3")).unwrap());
        edges.push(Number::from(2f64.powi(60)));
        edges.push(Number::from(f64::MIN_POSITIVE / 3.0));
        for a in &edges {
            let t = a.text();
            let _ = (
                a.shim_text(),
                a.g_text(),
                a.floor(),
                a.ceil(),
                a.trunc_int(),
                a.to_i64(),
            );
            if !a.is_infinite() {
                // (Equal text; not always an equal number: a float64's 2^60 prints rounded.)
                let back = Number::parse(&t).unwrap();
                assert_eq!(back.text(), t);
                let f: f64 = t.parse().unwrap();
                assert_eq!(a.to_f64(), f, "{t}");
            }
            for b in &edges {
                for r in [a.add(b), a.sub(b), a.mul(b), a.div(b), a.rem(b)]
                    .into_iter()
                    .flatten()
                {
                    let _ = (r.text(), r.shim_text());
                }
                assert_eq!(a.compare(b), b.compare(a).reverse());
                if a.compare(b) == Ordering::Equal && !a.is_infinite() {
                    assert!(a == b || a.is_zero());
                }
            }
        }
    }

    #[test]
    fn float64_round_trips() {
        for x in [
            0.1,
            1.0 / 3.0,
            1e300,
            5e-324,
            2.2250738585072014e-308,
            123.456,
            -7.25,
        ] {
            let n = Number::from(x);
            assert_eq!(n.to_f64(), x);
            assert_eq!(n.text().parse::<f64>().unwrap(), x);
        }
    }
}
