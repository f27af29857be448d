//! Durations written the way Go (and so Packer and Kubernetes) writes them: `90s`, `1h30m`,
//! `1.5h`, `250ms`.

use std::fmt;
use std::time::Duration;

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The rejected input.
    pub input: String,
    /// What is wrong with it.
    pub problem: &'static str,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid duration {:?}: {} (expected e.g. 90s, 30m, 1h30m)",
            self.input, self.problem
        )
    }
}

impl std::error::Error for DurationError {}

/// Parse a Go-style duration: one or more `<number><unit>` with units `ns`, `us`, `ms`, `s`,
/// `m`, `h` and an optional fraction (`1.5h`). The same strings `spec.timeout`'s pattern
/// accepts; signs and a bare `0` are not accepted.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    let err = |problem| DurationError {
        input: input.to_string(),
        problem,
    };
    if input.is_empty() {
        return Err(err("empty"));
    }
    let mut rest = input;
    let mut total_nanos: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if int_len == 0 {
            return Err(err("expected a number"));
        }
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return Err(err("expected digits after '.'"));
                }
                a.split_at(n)
            }
            None => ("", after),
        };
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let unit_nanos: u128 = match unit {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            "" => return Err(err("missing unit")),
            _ => return Err(err("unknown unit")),
        };
        let int: u128 = int_part.parse().map_err(|_| err("number too large"))?;
        let mut nanos = int
            .checked_mul(unit_nanos)
            .ok_or_else(|| err("number too large"))?;
        if !frac_part.is_empty() {
            // Keep at most 18 fraction digits: more cannot matter at nanosecond resolution.
            let digits = &frac_part[..frac_part.len().min(18)];
            let frac: u128 = digits.parse().map_err(|_| err("bad fraction"))?;
            nanos += frac * unit_nanos / 10u128.pow(digits.len() as u32);
        }
        total_nanos = total_nanos
            .checked_add(nanos)
            .ok_or_else(|| err("number too large"))?;
        rest = after;
    }
    let secs = u64::try_from(total_nanos / 1_000_000_000).map_err(|_| err("number too large"))?;
    Ok(Duration::new(secs, (total_nanos % 1_000_000_000) as u32))
}

/// Format a duration the short way Go does, at second resolution: `45s`, `12m3s`, `1h0m5s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(
            parse_duration("2m3s4ms").unwrap(),
            Duration::from_millis(123_004)
        );
        assert_eq!(parse_duration("10us").unwrap(), Duration::from_micros(10));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "1", "h", "1d", "-1h", "1.h", "1h 30m", "0x10s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        let e = parse_duration("1d").unwrap_err();
        assert!(e.to_string().contains("unknown unit"), "{e}");
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_duration(Duration::from_secs(45)), "45s");
        assert_eq!(format_duration(Duration::from_secs(723)), "12m3s");
        assert_eq!(format_duration(Duration::from_secs(3605)), "1h0m5s");
        assert_eq!(format_duration(Duration::from_millis(999)), "0s");
    }
}
