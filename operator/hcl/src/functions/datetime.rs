//! Date and time functions: cty's `formatdate`, `timeadd`, `timestamp`; Packer's
//! `legacy_isotime` (Go reference layouts), `legacy_strftime` (C strftime, as
//! jehiah/go-strftime), `rfc3339_parse` and `unix_timestamp_parse`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::{Args, FuncError, WHOLE_NUMBER, arg_err, go_quote, other, to_int};
use crate::value::Value;

/// A point in time with the UTC offset it was written in (like a Go `time.Time` in a
/// fixed zone).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Tm {
    /// Wall-clock time in the offset.
    local: NaiveDateTime,
    /// Seconds east of UTC.
    offset: i32,
}

impl Tm {
    fn utc(local: NaiveDateTime) -> Tm {
        Tm { local, offset: 0 }
    }

    fn unix(&self) -> i64 {
        self.local.and_utc().timestamp() - i64::from(self.offset)
    }

    fn weekday(&self) -> u32 {
        self.local.weekday().num_days_from_sunday()
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

fn month_name(t: &Tm) -> &'static str {
    MONTHS[(t.local.month0() as usize).min(11)]
}

fn day_name(t: &Tm) -> &'static str {
    DAYS[(t.weekday() as usize).min(6)]
}

/// The time Packer's `legacy_*` functions report: when the process started evaluating.
fn init_time() -> Tm {
    static INIT: OnceLock<NaiveDateTime> = OnceLock::new();
    Tm::utc(*INIT.get_or_init(|| chrono::Utc::now().naive_utc()))
}

/// The SDK's `isotime` (Go layout, RFC 3339 by default) of the process's start time.
pub(crate) fn init_isotime(layout: Option<&str>) -> String {
    go_layout(layout.unwrap_or("2006-01-02T15:04:05Z07:00"), &init_time())
}

/// The SDK's `strftime` of the process's start time.
pub(crate) fn init_strftime(format: &str) -> String {
    strftime(format, &init_time())
}

/// The SDK's `timestamp`: the process's start time in Unix seconds.
pub(crate) fn init_unix() -> i64 {
    init_time().unix()
}

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "timestamp" => {
            f.exact(&[])?;
            let now = Tm::utc(chrono::Utc::now().naive_utc());
            Ok(Value::String(rfc3339(&now)))
        }
        "formatdate" => {
            f.exact(&["format", "time"])?;
            let fmt = f.string(0, "format")?;
            let ts = f.string(1, "time")?;
            let t = parse_rfc3339(&ts, false).map_err(|e| arg_err(1, "time", e))?;
            formatdate(&fmt, &t)
                .map(Value::String)
                .map_err(|e| arg_err(0, "format", e))
        }
        "timeadd" => {
            f.exact(&["timestamp", "duration"])?;
            let ts = f.string(0, "timestamp")?;
            let dur = f.string(1, "duration")?;
            // cty's TimeAddFunc returns these as failures of the call, not of an argument.
            let t = parse_rfc3339(&ts, false).map_err(other)?;
            let d = parse_duration(&dur).map_err(other)?;
            let local = t
                .local
                .checked_add_signed(chrono::Duration::nanoseconds(d))
                .ok_or_else(|| other("the resulting time is out of range"))?;
            Ok(Value::String(rfc3339(&Tm { local, ..t })))
        }
        "legacy_isotime" | "legacy_strftime" => {
            if f.len() > 1 {
                return Err(other(format!(
                    "too many values, 1 needed: {}",
                    f.args.len()
                )));
            }
            let t = init_time();
            if f.len() == 0 {
                return Ok(Value::String(rfc3339(&t)));
            }
            let fmt = f.string(0, "format")?;
            let out = if f.name == "legacy_isotime" {
                go_layout(&fmt, &t)
            } else {
                strftime(&fmt, &t)
            };
            super::check_len(out.len())?;
            Ok(Value::String(out))
        }
        "rfc3339_parse" => {
            f.exact(&["timestamp"])?;
            let ts = f.string(0, "timestamp")?;
            let t = parse_rfc3339(&ts, true).map_err(|_| {
                arg_err(
                    0,
                    "timestamp",
                    format!("{} is not a valid RFC3339 timestamp", go_quote(&ts)),
                )
            })?;
            let mut o = parts(&t);
            o.insert("unix".into(), Value::Number(t.unix().into()));
            Ok(Value::Object(o))
        }
        "unix_timestamp_parse" => {
            f.exact(&["unix_timestamp"])?;
            let bad = |m: &str| {
                arg_err(
                    0,
                    "unix_timestamp",
                    format!(
                        "unix_timestamp must be a whole number of seconds representable as a 64-bit integer: {m}"
                    ),
                )
            };
            let n = f.number(0, "unix_timestamp")?;
            let secs = to_int(n).ok_or_else(|| bad(WHOLE_NUMBER))?;
            let dt = chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| {
                arg_err(
                    0,
                    "unix_timestamp",
                    "unix_timestamp is outside the range of dates Kiln can represent",
                )
            })?;
            let t = Tm::utc(dt.naive_utc());
            let mut o = parts(&t);
            o.insert("rfc3339".into(), Value::String(rfc3339(&t)));
            Ok(Value::Object(o))
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// The attributes shared by `rfc3339_parse` and `unix_timestamp_parse`.
fn parts(t: &Tm) -> BTreeMap<String, Value> {
    let d = t.local;
    let iso = d.iso_week();
    let num = |x: i64| Value::Number(x.into());
    let mut o = BTreeMap::new();
    o.insert("year".into(), num(i64::from(d.year())));
    o.insert("year_day".into(), num(i64::from(d.ordinal())));
    o.insert("day".into(), num(i64::from(d.day())));
    o.insert("month".into(), num(i64::from(d.month())));
    o.insert("month_name".into(), Value::str(month_name(t)));
    o.insert("weekday".into(), num(i64::from(t.weekday())));
    o.insert("weekday_name".into(), Value::str(day_name(t)));
    o.insert("hour".into(), num(i64::from(d.hour())));
    o.insert("minute".into(), num(i64::from(d.minute())));
    o.insert("second".into(), num(i64::from(d.second())));
    o.insert("iso_year".into(), num(i64::from(iso.year())));
    o.insert("iso_week".into(), num(i64::from(iso.week())));
    o
}

fn push_year(out: &mut String, y: i32) {
    if y < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:04}", y.unsigned_abs()));
}

/// Go's `Format(time.RFC3339)`.
fn rfc3339(t: &Tm) -> String {
    let d = t.local;
    let mut s = String::new();
    push_year(&mut s, d.year());
    s.push_str(&format!(
        "-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.month(),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    ));
    s.push_str(&offset_str(t.offset, true, true, false));
    s
}

/// Formats a UTC offset: `z` uses "Z" for zero; `colon` separates hours and minutes.
fn offset_str(offset: i32, z: bool, colon: bool, hours_only: bool) -> String {
    if z && offset == 0 {
        return "Z".to_string();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let (h, m) = (a / 3600, a / 60 % 60);
    if hours_only {
        return format!("{sign}{h:02}");
    }
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

/// Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, ...)` does, with cty's
/// error wording. `space_ok` also accepts a space between date and time (Packer's
/// `rfc3339_parse`).
pub(crate) fn parse_rfc3339(s: &str, space_ok: bool) -> Result<Tm, String> {
    const P: &str = "not a valid RFC3339 timestamp";
    let b = s.as_bytes();
    let mut i = 0usize;
    let rest = |i: usize| s.get(i..).unwrap_or("");
    let num = |i: &mut usize, n: usize, what: &str| -> Result<u32, String> {
        let r = s.get(*i..).unwrap_or("");
        if r.is_empty() {
            return Err(format!("{P}: end of string before {what}"));
        }
        let digits = r
            .as_bytes()
            .iter()
            .take(n)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits != n {
            return Err(format!("{P}: cannot use {} as {what}", go_quote(r)));
        }
        let v: u32 = r[..n].parse().unwrap_or(0);
        *i += n;
        Ok(v)
    };
    let sep = |i: &mut usize, c: u8| -> Result<(), String> {
        match b.get(*i) {
            Some(x) if *x == c => {
                *i += 1;
                Ok(())
            }
            None => Err(format!(
                "{P}: end of string where {} is expected",
                go_quote(&char::from(c).to_string())
            )),
            Some(_) => Err(format!(
                "{P}: found {} where {} is expected",
                go_quote(rest(*i)),
                go_quote(&char::from(c).to_string())
            )),
        }
    };
    let year = num(&mut i, 4, "year")?;
    sep(&mut i, b'-')?;
    let m_at = i;
    let month = num(&mut i, 2, "month")?;
    if !(1..=12).contains(&month) {
        return Err(format!("{P}: cannot use {} as month", go_quote(rest(m_at))));
    }
    sep(&mut i, b'-')?;
    let d_at = i;
    let day = num(&mut i, 2, "day of month")?;
    match b.get(i) {
        Some(b'T') => i += 1,
        Some(b' ') if space_ok => i += 1,
        _ => return Err(format!("{P}: missing required time introducer 'T'")),
    }
    let h_at = i;
    let hour = num(&mut i, 2, "hour")?;
    if hour > 23 {
        return Err(format!("{P}: cannot use {} as hour", go_quote(rest(h_at))));
    }
    sep(&mut i, b':')?;
    let mi_at = i;
    let minute = num(&mut i, 2, "minute")?;
    if minute > 59 {
        return Err(format!(
            "{P}: cannot use {} as minute",
            go_quote(rest(mi_at))
        ));
    }
    sep(&mut i, b':')?;
    let s_at = i;
    let second = num(&mut i, 2, "second")?;
    if second > 59 {
        return Err(format!(
            "{P}: cannot use {} as second",
            go_quote(rest(s_at))
        ));
    }
    let mut nanos = 0u32;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        let mut scale = 100_000_000u32;
        while let Some(c) = b.get(i).filter(|c| c.is_ascii_digit()) {
            nanos += u32::from(c - b'0') * scale;
            scale /= 10;
            i += 1;
        }
    }
    let offset: i32 = match b.get(i) {
        Some(b'Z') => {
            i += 1;
            0
        }
        Some(b'+') | Some(b'-') => {
            let neg = b[i] == b'-';
            let at = i;
            let ok = b.len() >= i + 6
                && b[i + 1].is_ascii_digit()
                && b[i + 2].is_ascii_digit()
                && b[i + 3] == b':'
                && b[i + 4].is_ascii_digit()
                && b[i + 5].is_ascii_digit();
            if !ok {
                return Err(format!(
                    "{P}: cannot use {} as UTC offset",
                    go_quote(rest(at))
                ));
            }
            let h = i32::from(b[i + 1] - b'0') * 10 + i32::from(b[i + 2] - b'0');
            let m = i32::from(b[i + 4] - b'0') * 10 + i32::from(b[i + 5] - b'0');
            if h > 23 || m > 59 {
                return Err(format!(
                    "{P}: cannot use {} as UTC offset",
                    go_quote(rest(at))
                ));
            }
            i += 6;
            let o = (h * 60 + m) * 60;
            if neg { -o } else { o }
        }
        None => return Err(format!("{P}: end of string before UTC offset")),
        Some(_) => {
            return Err(format!(
                "{P}: cannot use {} as UTC offset",
                go_quote(rest(i))
            ));
        }
    };
    if i < b.len() {
        return Err(format!("{P}: extra text: {}", go_quote(rest(i))));
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| format!("{P}: cannot use {} as day of month", go_quote(rest(d_at))))?;
    let local = date
        .and_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| format!("{P}: cannot use {} as hour", go_quote(rest(h_at))))?;
    Ok(Tm { local, offset })
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub(crate) fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let mut v: u128 = 0;
        for c in &b[..int_len] {
            v = v * 10 + u128::from(c - b'0');
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let mut frac: u128 = 0;
        let mut scale: u128 = 1;
        let mut post = false;
        if s.starts_with('.') {
            s = &s[1..];
            let fl = s.bytes().take_while(|c| c.is_ascii_digit()).count();
            for c in s[..fl].bytes() {
                if scale < 1_000_000_000_000_000_000 {
                    frac = frac * 10 + u128::from(c - b'0');
                    scale *= 10;
                }
            }
            post = fl > 0;
            s = &s[fl..];
        }
        if int_len == 0 && !post {
            return Err(invalid());
        }
        let ul = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(k, _)| k)
            .unwrap_or(s.len());
        if ul == 0 {
            return Err(format!("time: missing unit in duration {}", go_quote(orig)));
        }
        let unit_str = &s[..ul];
        s = &s[ul..];
        let unit: u128 = match unit_str {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_quote(unit_str),
                    go_quote(orig)
                ));
            }
        };
        let mut x = v * unit;
        if frac > 0 {
            x += (frac as f64 * (unit as f64 / scale as f64)) as u128;
        }
        total += x;
        if total > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((total as i128).wrapping_neg() as i64);
    }
    if total > (1u128 << 63) - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

// ---------------------------------------------------------------------------------------
// Formatting

fn is_verb(b: u8) -> bool {
    b.is_ascii_alphabetic()
}

/// cty's `formatdate`.
fn formatdate(fmt: &str, t: &Tm) -> Result<String, String> {
    let b = fmt.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let d = t.local;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            // Quoted literal up to the closing quote; '' inside is an escaped quote.
            let mut j = i + 1;
            let mut lit = String::new();
            let mut closed = false;
            while j < b.len() {
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        lit.push('\'');
                        j += 2;
                        continue;
                    }
                    closed = true;
                    j += 1;
                    break;
                }
                let ch = fmt[j..].chars().next().unwrap_or('\'');
                lit.push(ch);
                j += ch.len_utf8();
            }
            if !closed {
                return Err("unterminated literal '".to_string());
            }
            out.push_str(&lit);
            i = j;
            continue;
        }
        if !is_verb(c) {
            let j = b[i..]
                .iter()
                .position(|x| is_verb(*x) || *x == b'\'')
                .map(|k| i + k)
                .unwrap_or(b.len());
            out.push_str(&fmt[i..j]);
            i = j;
            continue;
        }
        let n = b[i..].iter().take_while(|x| **x == c).count();
        let tok = &fmt[i..i + n];
        i += n;
        let bad = |what: &str| format!("invalid date format verb {}: {what}", go_quote(tok));
        match (c, n) {
            (b'Y', 2) => out.push_str(&format!("{:02}", d.year().rem_euclid(100))),
            (b'Y', 4) => out.push_str(&format!("{:04}", d.year())),
            (b'Y', _) => return Err(bad("year must either be \"YY\" or \"YYYY\"")),
            (b'M', 1) => out.push_str(&d.month().to_string()),
            (b'M', 2) => out.push_str(&format!("{:02}", d.month())),
            (b'M', 3) => out.push_str(&month_name(t)[..3]),
            (b'M', 4) => out.push_str(month_name(t)),
            (b'M', _) => {
                return Err(bad("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\""));
            }
            (b'D', 1) => out.push_str(&d.day().to_string()),
            (b'D', 2) => out.push_str(&format!("{:02}", d.day())),
            (b'D', _) => return Err(bad("day of month must either be \"D\" or \"DD\"")),
            (b'E', 3) => out.push_str(&day_name(t)[..3]),
            (b'E', 4) => out.push_str(day_name(t)),
            (b'E', _) => return Err(bad("day of week must either be \"EEE\" or \"EEEE\"")),
            (b'h', 1) => out.push_str(&d.hour().to_string()),
            (b'h', 2) => out.push_str(&format!("{:02}", d.hour())),
            (b'h', _) => return Err(bad("24-hour must either be \"h\" or \"hh\"")),
            (b'H', 1 | 2) => {
                let h = match d.hour() % 12 {
                    0 => 12,
                    h => h,
                };
                out.push_str(&if n == 1 {
                    h.to_string()
                } else {
                    format!("{h:02}")
                });
            }
            (b'H', _) => return Err(bad("12-hour must either be \"H\" or \"HH\"")),
            (b'A' | b'a', 2) => {
                let pm = d.hour() >= 12;
                out.push_str(match (c == b'A', pm) {
                    (true, false) => "AM",
                    (true, true) => "PM",
                    (false, false) => "am",
                    (false, true) => "pm",
                });
            }
            (b'A' | b'a', _) => {
                let l = char::from(c);
                return Err(bad(&format!("must be \"{l}{l}\"")));
            }
            (b'm', 1) => out.push_str(&d.minute().to_string()),
            (b'm', 2) => out.push_str(&format!("{:02}", d.minute())),
            (b'm', _) => return Err(bad("minute must either be \"m\" or \"mm\"")),
            (b's', 1) => out.push_str(&d.second().to_string()),
            (b's', 2) => out.push_str(&format!("{:02}", d.second())),
            (b's', _) => return Err(bad("second must either be \"s\" or \"ss\"")),
            (b'Z', 1) => out.push_str(&offset_str(t.offset, true, true, false)),
            (b'Z', 3) => {
                if t.offset == 0 {
                    out.push_str("UTC");
                } else {
                    out.push_str(&offset_str(t.offset, false, false, false));
                }
            }
            (b'Z', 4) => out.push_str(&offset_str(t.offset, false, false, false)),
            (b'Z', 5) => out.push_str(&offset_str(t.offset, false, true, false)),
            (b'Z', _) => return Err(bad("timezone must be Z, ZZZZ, or ZZZZZ")),
            _ => return Err(format!("invalid date format verb {}", go_quote(tok))),
        }
    }
    Ok(out)
}

/// Go's `Time.Format` with a reference-time layout ("2006-01-02T15:04:05Z07:00").
pub(crate) fn go_layout(layout: &str, t: &Tm) -> String {
    let d = t.local;
    let b = layout.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let starts = |i: usize, p: &str| layout.get(i..).is_some_and(|r| r.starts_with(p));
    let lower_after = |k: usize| b.get(k).is_some_and(u8::is_ascii_lowercase);
    let h12 = match d.hour() % 12 {
        0 => 12,
        h => h,
    };
    while i < b.len() {
        let c = b[i];
        let mut adv = 0;
        match c {
            b'J' if starts(i, "January") => {
                out.push_str(month_name(t));
                adv = 7;
            }
            b'J' if starts(i, "Jan") && !lower_after(i + 3) => {
                out.push_str(&month_name(t)[..3]);
                adv = 3;
            }
            b'M' if starts(i, "Monday") => {
                out.push_str(day_name(t));
                adv = 6;
            }
            b'M' if starts(i, "Mon") && !lower_after(i + 3) => {
                out.push_str(&day_name(t)[..3]);
                adv = 3;
            }
            b'M' if starts(i, "MST") => {
                if t.offset == 0 {
                    out.push_str("UTC");
                } else {
                    out.push_str(&offset_str(t.offset, false, false, false));
                }
                adv = 3;
            }
            b'0' if starts(i, "002") => {
                out.push_str(&format!("{:03}", d.ordinal()));
                adv = 3;
            }
            b'0' if matches!(b.get(i + 1), Some(b'1'..=b'6')) => {
                let v = match b[i + 1] {
                    b'1' => d.month(),
                    b'2' => d.day(),
                    b'3' => h12,
                    b'4' => d.minute(),
                    b'5' => d.second(),
                    _ => d.year().rem_euclid(100) as u32,
                };
                out.push_str(&format!("{v:02}"));
                adv = 2;
            }
            b'1' if starts(i, "15") => {
                out.push_str(&format!("{:02}", d.hour()));
                adv = 2;
            }
            b'1' => {
                out.push_str(&d.month().to_string());
                adv = 1;
            }
            b'2' if starts(i, "2006") => {
                push_year(&mut out, d.year());
                adv = 4;
            }
            b'2' => {
                out.push_str(&d.day().to_string());
                adv = 1;
            }
            b'_' if starts(i, "_2006") => {
                out.push('_');
                push_year(&mut out, d.year());
                adv = 5;
            }
            b'_' if starts(i, "__2") => {
                out.push_str(&format!("{:>3}", d.ordinal()));
                adv = 3;
            }
            b'_' if starts(i, "_2") => {
                out.push_str(&format!("{:>2}", d.day()));
                adv = 2;
            }
            b'3' => {
                out.push_str(&h12.to_string());
                adv = 1;
            }
            b'4' => {
                out.push_str(&d.minute().to_string());
                adv = 1;
            }
            b'5' => {
                out.push_str(&d.second().to_string());
                adv = 1;
            }
            b'P' if starts(i, "PM") => {
                out.push_str(if d.hour() >= 12 { "PM" } else { "AM" });
                adv = 2;
            }
            b'p' if starts(i, "pm") => {
                out.push_str(if d.hour() >= 12 { "pm" } else { "am" });
                adv = 2;
            }
            b'-' | b'Z' => {
                let z = c == b'Z';
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, false, true),
                    ("07:00:00", true, false, true),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, true, false),
                ];
                for (form, colon, hours_only, with_secs) in forms {
                    if starts(i + 1, form) {
                        let mut s = offset_str(t.offset, z, colon, hours_only);
                        if with_secs && s != "Z" {
                            let secs = t.offset.unsigned_abs() % 60;
                            s.push_str(&if colon {
                                format!(":{secs:02}")
                            } else {
                                format!("{secs:02}")
                            });
                        }
                        out.push_str(&s);
                        adv = 1 + form.len();
                        break;
                    }
                }
            }
            b'.' | b',' if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let digit = b[i + 1];
                let run = b[i + 1..].iter().take_while(|x| **x == digit).count();
                if !b.get(i + 1 + run).is_some_and(u8::is_ascii_digit) {
                    let ns = format!("{:09}", d.nanosecond() % 1_000_000_000);
                    let mut frac = ns[..run.min(9)].to_string();
                    if run > 9 {
                        frac.push_str(&"0".repeat(run - 9));
                    }
                    if digit == b'9' {
                        frac = frac.trim_end_matches('0').to_string();
                    }
                    if !frac.is_empty() {
                        out.push(char::from(c));
                        out.push_str(&frac);
                    }
                    adv = 1 + run;
                }
            }
            _ => {}
        }
        if adv == 0 {
            let ch = layout[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            adv = ch.len_utf8();
        }
        i += adv;
    }
    out
}

/// C `strftime` as jehiah/go-strftime implements it.
pub(crate) fn strftime(fmt: &str, t: &Tm) -> String {
    let d = t.local;
    let mut out = String::new();
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(v) = chars.next() else {
            out.push('%');
            break;
        };
        let yday0 = d.ordinal0() as i64;
        let wday = i64::from(t.weekday());
        match v {
            '%' => out.push('%'),
            'a' => out.push_str(go_layout("Mon", t).as_str()),
            'A' => out.push_str(day_name(t)),
            'b' | 'h' => out.push_str(&month_name(t)[..3]),
            'B' => out.push_str(month_name(t)),
            'c' => out.push_str(&go_layout("Mon Jan _2 15:04:05 2006", t)),
            'd' => out.push_str(&format!("{:02}", d.day())),
            'f' => out.push_str(&format!("{:06}", d.nanosecond() / 1000)),
            'H' => out.push_str(&format!("{:02}", d.hour())),
            'I' => out.push_str(&go_layout("03", t)),
            'j' => out.push_str(&format!("{:03}", d.ordinal())),
            'L' => out.push_str(&format!("{:03}", d.nanosecond() / 1_000_000)),
            'm' => out.push_str(&format!("{:02}", d.month())),
            'M' => out.push_str(&format!("{:02}", d.minute())),
            'p' => out.push_str(if d.hour() >= 12 { "PM" } else { "AM" }),
            'S' => out.push_str(&format!("{:02}", d.second())),
            'U' => out.push_str(&format!("{:02}", (yday0 + 7 - wday) / 7)),
            'w' => out.push_str(&wday.to_string()),
            'W' => out.push_str(&format!("{:02}", (yday0 + 7 - (wday + 6) % 7) / 7)),
            'x' => out.push_str(&go_layout("01/02/06", t)),
            'X' => out.push_str(&go_layout("15:04:05", t)),
            'y' => out.push_str(&go_layout("06", t)),
            'Y' => out.push_str(&go_layout("2006", t)),
            'z' => out.push_str(&offset_str(t.offset, false, false, false)),
            'Z' => out.push_str(&go_layout("MST", t)),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use super::*;

    fn tm(s: &str) -> Tm {
        parse_rfc3339(s, false).unwrap()
    }

    #[test]
    fn formatdate_docs() {
        let fd = |f: &str, t: &str| ok("formatdate", vec![s(f), s(t)]);
        assert_eq!(
            fd("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z"),
            s("02 Jan 2018 23:12 UTC")
        );
        assert_eq!(
            fd("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z"),
            s("Tuesday, 02-Jan-18 23:12:01 UTC")
        );
        assert_eq!(
            fd("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
            s("Tue, 02 Jan 2018 23:12:01 -0800")
        );
        assert_eq!(
            fd("MMM DD, YYYY", "2018-01-02T23:12:01Z"),
            s("Jan 02, 2018")
        );
        assert_eq!(fd("HH:mmaa", "2018-01-02T23:12:01Z"), s("11:12pm"));
        assert_eq!(fd("h 'o''clock'", "2018-01-02T23:12:01Z"), s("23 o'clock"));
        assert_eq!(
            fd("YYYY-MM-DD'T'hh:mm:ssZ", "2018-01-02T23:12:01+05:30"),
            s("2018-01-02T23:12:01+05:30")
        );
        assert_eq!(
            fd("Z ZZZZ ZZZZZ", "2018-01-02T23:12:01Z"),
            s("Z +0000 +00:00")
        );
        assert_eq!(
            fd("M/D h:m:s AA H", "2018-01-02T03:04:05Z"),
            s("1/2 3:4:5 AM 3")
        );
        assert_eq!(fd("HH", "2018-01-02T00:04:05Z"), s("12"));
        assert_eq!(fd("''", "2018-01-02T00:04:05Z"), s("'"));
        assert_eq!(fd("MMMM", "2018-09-02T00:04:05Z"), s("September"));
        assert_eq!(
            fd("YYYYMMDD-hhmmss", "2023-07-25T23:43:16.5Z"),
            s("20230725-234316")
        );
        assert_eq!(fd("日付 YYYY", "2018-01-02T00:04:05Z"), s("日付 2018"));
    }

    #[test]
    fn formatdate_errors() {
        let fe = |f: &str, t: &str| err("formatdate", vec![s(f), s(t)]);
        assert_eq!(
            fe("YYY", "2018-01-02T23:12:01Z"),
            "invalid date format verb \"YYY\": year must either be \"YY\" or \"YYYY\""
        );
        assert_eq!(
            fe("ZZ", "2018-01-02T23:12:01Z"),
            "invalid date format verb \"ZZ\": timezone must be Z, ZZZZ, or ZZZZZ"
        );
        assert_eq!(
            fe("x", "2018-01-02T23:12:01Z"),
            "invalid date format verb \"x\""
        );
        assert_eq!(fe("'abc", "2018-01-02T23:12:01Z"), "unterminated literal '");
        assert_eq!(
            fe("a", "2018-01-02T23:12:01Z"),
            "invalid date format verb \"a\": must be \"aa\""
        );
        assert_eq!(
            fe("YYYY", "2018-01-02 23:12:01Z"),
            "not a valid RFC3339 timestamp: missing required time introducer 'T'"
        );
        assert_eq!(
            fe("YYYY", "2018-01-02T23:12:01"),
            "not a valid RFC3339 timestamp: end of string before UTC offset"
        );
        assert_eq!(
            fe("YYYY", "2018-01"),
            "not a valid RFC3339 timestamp: end of string where \"-\" is expected"
        );
        assert_eq!(
            fe("YYYY", "18-01-02T00:00:00Z"),
            "not a valid RFC3339 timestamp: cannot use \"18-01-02T00:00:00Z\" as year"
        );
        assert_eq!(
            fe("YYYY", "2018-02-30T00:00:00Z"),
            "not a valid RFC3339 timestamp: cannot use \"30T00:00:00Z\" as day of month"
        );
        assert_eq!(
            fe("YYYY", "2018-01-02T24:00:00Z"),
            "not a valid RFC3339 timestamp: cannot use \"24:00:00Z\" as hour"
        );
        assert_eq!(
            fe("YYYY", "2018-01-02T00:00:00Zjunk"),
            "not a valid RFC3339 timestamp: extra text: \"junk\""
        );
    }

    #[test]
    fn timeadd() {
        let ta = |t: &str, d: &str| ok("timeadd", vec![s(t), s(d)]);
        assert_eq!(ta("2017-11-22T00:00:00Z", "10m"), s("2017-11-22T00:10:00Z"));
        assert_eq!(
            ta("2017-11-22T00:00:00Z", "-10m"),
            s("2017-11-21T23:50:00Z")
        );
        assert_eq!(
            ta("2017-11-22T00:00:00Z", "1h30m"),
            s("2017-11-22T01:30:00Z")
        );
        assert_eq!(
            ta("2017-11-22T00:00:00Z", "1.5h"),
            s("2017-11-22T01:30:00Z")
        );
        assert_eq!(
            ta("2017-11-22T00:00:00+05:00", "24h"),
            s("2017-11-23T00:00:00+05:00")
        );
        assert_eq!(
            ta("2017-11-22T00:00:00.9Z", "100ms"),
            s("2017-11-22T00:00:01Z")
        );
        assert_eq!(ta("2017-11-22T00:00:00Z", "0"), s("2017-11-22T00:00:00Z"));
        assert_eq!(
            err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("1d")]),
            "time: unknown unit \"d\" in duration \"1d\""
        );
        assert_eq!(
            err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("10")]),
            "time: missing unit in duration \"10\""
        );
        assert_eq!(
            err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("x")]),
            "time: invalid duration \"x\""
        );
        assert_eq!(
            err("timeadd", vec![s("2017-11-22T00:00:00Z"), s("")]),
            "time: invalid duration \"\""
        );
        assert_eq!(
            err(
                "timeadd",
                vec![s("2017-11-22T00:00:00Z"), s("9999999999999h")]
            ),
            "time: invalid duration \"9999999999999h\""
        );
        assert!(
            err("timeadd", vec![s("nope"), s("1h")]).starts_with("not a valid RFC3339 timestamp")
        );
        assert_eq!(parse_duration("1h2m3.5s").unwrap(), 3_723_500_000_000);
        assert_eq!(parse_duration("-1.5µs").unwrap(), -1500);
        assert_eq!(parse_duration(".5s").unwrap(), 500_000_000);
    }

    #[test]
    fn timestamp_shape() {
        let Value::String(ts) = ok("timestamp", vec![]) else {
            panic!()
        };
        assert_eq!(ts.len(), 20, "{ts}");
        assert!(ts.ends_with('Z'));
        assert!(parse_rfc3339(&ts, false).is_ok());
        assert!(err("timestamp", vec![s("x")]).contains("expects only 0"));
    }

    #[test]
    fn legacy_isotime() {
        let t = tm("2006-01-02T15:04:05.123456789Z");
        assert_eq!(
            go_layout("2006-01-02T15:04:05Z07:00", &t),
            "2006-01-02T15:04:05Z"
        );
        assert_eq!(go_layout("01-02-2006", &t), "01-02-2006");
        assert_eq!(go_layout("Mon Jan 02, 2006", &t), "Mon Jan 02, 2006");
        assert_eq!(
            go_layout("Monday January 2 3:4:5 PM pm", &t),
            "Monday January 2 3:4:5 PM pm"
        );
        assert_eq!(
            go_layout("06 _2 __2 002 MST -0700 -07:00 Z0700", &t),
            "06  2   2 002 UTC +0000 +00:00 Z"
        );
        assert_eq!(
            go_layout("15:04:05.000 .999999 ,00", &t),
            "15:04:05.123 .123456 ,12"
        );
        let t2 = tm("2021-11-09T08:07:06-03:30");
        assert_eq!(
            go_layout("2006-01-02 03:04:05 PM Z07:00 MST", &t2),
            "2021-11-09 08:07:06 AM -03:30 -0330"
        );
        assert_eq!(go_layout("Jan-Mon", &t2), "Nov-Tue");
        assert_eq!(go_layout("Janx Monx", &t2), "Janx Monx");
        assert_eq!(go_layout("Jane", &t2), "Jane");
        // Through the function: no argument gives RFC 3339; one gives the layout.
        let Value::String(v) = ok("legacy_isotime", vec![]) else {
            panic!()
        };
        assert!(parse_rfc3339(&v, false).is_ok(), "{v}");
        let Value::String(v) = ok("legacy_isotime", vec![s("2006")]) else {
            panic!()
        };
        assert_eq!(v.len(), 4);
        assert!(err("legacy_isotime", vec![s("a"), s("b")]).starts_with("too many values"));
    }

    #[test]
    fn legacy_strftime() {
        let t = tm("2006-01-02T15:04:05.123456789Z");
        assert_eq!(strftime("%Y-%m-%d %H:%M:%S", &t), "2006-01-02 15:04:05");
        assert_eq!(
            strftime("%a %A %b %B %y %j %p %I", &t),
            "Mon Monday Jan January 06 002 PM 03"
        );
        assert_eq!(
            strftime("%f %L %z %Z %% %w %U %W", &t),
            "123456 123 +0000 UTC % 1 01 01"
        );
        assert_eq!(
            strftime("%c|%x|%X", &t),
            "Mon Jan  2 15:04:05 2006|01/02/06|15:04:05"
        );
        assert_eq!(strftime("%Q %", &t), "%Q %");
        let Value::String(v) = ok("legacy_strftime", vec![s("%Y")]) else {
            panic!()
        };
        assert_eq!(v.len(), 4);
    }

    fn expect_parts(v: Value, pairs: &[(&str, Value)]) {
        let Value::Object(o) = v else { panic!("{v:?}") };
        assert_eq!(o.len(), pairs.len(), "{o:?}");
        for (k, want) in pairs {
            assert_eq!(o.get(*k), Some(want), "{k}");
        }
    }

    #[test]
    fn rfc3339_parse() {
        let common = |unix: f64| {
            vec![
                ("year", n(2023.0)),
                ("year_day", n(206.0)),
                ("day", n(25.0)),
                ("month", n(7.0)),
                ("month_name", s("July")),
                ("weekday", n(2.0)),
                ("weekday_name", s("Tuesday")),
                ("hour", n(23.0)),
                ("minute", n(43.0)),
                ("second", n(16.0)),
                ("unix", n(unix)),
                ("iso_year", n(2023.0)),
                ("iso_week", n(30.0)),
            ]
        };
        for ts in [
            "2023-07-25T23:43:16Z",
            "2023-07-25 23:43:16Z",
            "2023-07-25T23:43:16.512345Z",
        ] {
            expect_parts(ok("rfc3339_parse", vec![s(ts)]), &common(1690328596.0));
        }
        for ts in ["1996-12-19T16:39:57-08:00", "1996-12-19 16:39:57.25-08:00"] {
            expect_parts(
                ok("rfc3339_parse", vec![s(ts)]),
                &[
                    ("year", n(1996.0)),
                    ("year_day", n(354.0)),
                    ("day", n(19.0)),
                    ("month", n(12.0)),
                    ("month_name", s("December")),
                    ("weekday", n(4.0)),
                    ("weekday_name", s("Thursday")),
                    ("hour", n(16.0)),
                    ("minute", n(39.0)),
                    ("second", n(57.0)),
                    ("unix", n(851042397.0)),
                    ("iso_year", n(1996.0)),
                    ("iso_week", n(51.0)),
                ],
            );
        }
        assert_eq!(
            err("rfc3339_parse", vec![s("abcdef")]),
            "\"abcdef\" is not a valid RFC3339 timestamp"
        );
    }

    #[test]
    fn unix_timestamp_parse() {
        expect_parts(
            ok("unix_timestamp_parse", vec![n(1690328596.0)]),
            &[
                ("year", n(2023.0)),
                ("year_day", n(206.0)),
                ("day", n(25.0)),
                ("month", n(7.0)),
                ("month_name", s("July")),
                ("weekday", n(2.0)),
                ("weekday_name", s("Tuesday")),
                ("hour", n(23.0)),
                ("minute", n(43.0)),
                ("rfc3339", s("2023-07-25T23:43:16Z")),
                ("second", n(16.0)),
                ("iso_year", n(2023.0)),
                ("iso_week", n(30.0)),
            ],
        );
        expect_parts(
            ok("unix_timestamp_parse", vec![n(851042397.0)]),
            &[
                ("year", n(1996.0)),
                ("year_day", n(355.0)),
                ("day", n(20.0)),
                ("month", n(12.0)),
                ("month_name", s("December")),
                ("weekday", n(5.0)),
                ("weekday_name", s("Friday")),
                ("hour", n(0.0)),
                ("minute", n(39.0)),
                ("rfc3339", s("1996-12-20T00:39:57Z")),
                ("second", n(57.0)),
                ("iso_year", n(1996.0)),
                ("iso_week", n(51.0)),
            ],
        );
        assert!(
            err("unix_timestamp_parse", vec![n(1690328596.5)]).starts_with(
                "unix_timestamp must be a whole number of seconds representable as a 64-bit integer"
            )
        );
        assert!(err("unix_timestamp_parse", vec![n(1e20)]).starts_with("unix_timestamp must be"));
        assert!(err("unix_timestamp_parse", vec![n(9e18)]).contains("outside the range"));
    }
}
