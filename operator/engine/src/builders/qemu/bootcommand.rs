//! Packer's `boot_command` key syntax (packer-plugin-sdk v0.6.x `bootcommand/`): the PEG
//! grammar of `boot_command.pigeon`, the expression AST of `boot_command_ast.go`, the VNC
//! keysym table and shift rules of `vnc_driver.go`, and the `boot_command` / `boot_steps` /
//! `boot_wait` / `boot_key_interval` configuration of `config.go`.
//!
//! [`parse`] turns a command into [`Expr`]s; [`vnc_events`] turns those into the key events a
//! VNC client sends ([`KeyStep`]); [`render`] fills in `{{ .HTTPIP }}` and friends first.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::template::body::{go_non_negative_duration, go_parse_duration_nanos};

/// What to do with a key (`KeyAction` in the SDK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAction {
    /// `<xOn>`: press and hold.
    On,
    /// `<xOff>`: release.
    Off,
    /// A plain key: press then release.
    Press,
}

/// One expression of a boot command.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `<wait>`, `<wait5>`, `<wait1m10s>`: wait (1 s when no duration is given).
    Wait(Duration),
    /// `<wait-1m>`: parsed, but rejected by [`validate`] (the SDK's `waitExpression.Validate`).
    NegativeWait(String),
    /// A literal character, or `<xOn>`/`<xOff>` for one character.
    Literal(char, KeyAction),
    /// `<enter>`, `<leftShiftOn>`, ...: the special key's name in lower case.
    Special(String, KeyAction),
}

impl std::fmt::Display for Expr {
    /// The SDK's `String()` forms (`Wait<1s>`, `LIT-Press(a)`, `Spec-On(del)`), used by tests.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn action(a: KeyAction) -> &'static str {
            match a {
                KeyAction::On => "On",
                KeyAction::Off => "Off",
                KeyAction::Press => "Press",
            }
        }
        match self {
            Expr::Wait(d) => write!(f, "Wait<{}>", go_duration(*d)),
            Expr::NegativeWait(s) => write!(f, "Wait<{s}>"),
            Expr::Literal(c, a) => write!(f, "LIT-{}({c})", action(*a)),
            Expr::Special(s, a) => write!(f, "Spec-{}({s})", action(*a)),
        }
    }
}

/// Special key names in the grammar's order (PEG ordered choice: `f10` before `f1`, `left`
/// and `right` last so `leftAlt` wins), matched case-insensitively.
const SPECIAL_KEYS: &[&str] = &[
    "bs",
    "del",
    "enter",
    "esc",
    "f10",
    "f11",
    "f12",
    "f1",
    "f2",
    "f3",
    "f4",
    "f5",
    "f6",
    "f7",
    "f8",
    "f9",
    "return",
    "tab",
    "up",
    "down",
    "spacebar",
    "insert",
    "home",
    "end",
    "pageUp",
    "pageDown",
    "leftAlt",
    "leftCtrl",
    "leftShift",
    "rightAlt",
    "rightCtrl",
    "rightShift",
    "leftSuper",
    "rightSuper",
    "leftCommand",
    "rightCommand",
    "leftOption",
    "rightOption",
    "left",
    "right",
    "menu",
];

/// Go's `time.Duration.String()`, enough for the forms boot commands use.
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim_frac(ns, 1_000));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim_frac(ns, 1_000_000));
    }
    let mut out = String::new();
    let total_s = ns / 1_000_000_000;
    let h = total_s / 3600;
    let m = (total_s % 3600) / 60;
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    let rem_ns = ns - (h * 3600 + m * 60) * 1_000_000_000;
    out.push_str(&format!("{}s", trim_frac(rem_ns, 1_000_000_000)));
    out
}

fn trim_frac(ns: u128, unit: u128) -> String {
    let whole = ns / unit;
    let frac = ns % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.to_string().len() - 1;
    let f = format!("{frac:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Parses a boot command. Like the SDK's generated parser this never fails on valid UTF-8:
/// anything that is not a `<…>` expression is typed literally (`<foo>` is five characters).
pub fn parse(command: &str) -> Vec<Expr> {
    let chars: Vec<char> = command.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '<'
            && let Some((e, n)) = wait(&chars[i..])
                .or_else(|| char_toggle(&chars[i..]))
                .or_else(|| special(&chars[i..]))
        {
            out.push(e);
            i += n;
            continue;
        }
        out.push(Expr::Literal(chars[i], KeyAction::Press));
        i += 1;
    }
    out
}

/// Errors of the SDK's `Validate` (non-positive waits), in order.
pub fn validate(seq: &[Expr]) -> Vec<String> {
    seq.iter()
        .filter_map(|e| match e {
            Expr::NegativeWait(s) => Some(format!("Expecting a positive wait value. Got {s}")),
            Expr::Wait(d) if d.is_zero() => Some("Expecting a positive wait value. Got 0s".into()),
            _ => None,
        })
        .collect()
}

fn starts_with_ci(s: &[char], word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    s.len() >= w.len()
        && s.iter()
            .zip(w.iter())
            .all(|(a, b)| a.to_lowercase().eq(b.to_lowercase()))
}

/// `On = "on"i / Off = "off"i`.
fn on_off(s: &[char]) -> Option<(KeyAction, usize)> {
    if starts_with_ci(s, "on") {
        Some((KeyAction::On, 2))
    } else if starts_with_ci(s, "off") {
        Some((KeyAction::Off, 3))
    } else {
        None
    }
}

/// `Wait = "<" "wait" (Duration / Integer)? ">"` ("wait" is case-sensitive).
fn wait(s: &[char]) -> Option<(Expr, usize)> {
    let prefix: Vec<char> = "<wait".chars().collect();
    if !s.starts_with(&prefix) {
        return None;
    }
    let mut i = prefix.len();
    let expr = if let Some((text, n)) = duration(&s[i..]) {
        i += n;
        match go_parse_duration_nanos(&text).map(u64::try_from) {
            Ok(Ok(ns)) => Expr::Wait(Duration::from_nanos(ns)),
            Ok(Err(_)) => Expr::NegativeWait(text),
            Err(_) => return None,
        }
    } else if let Some((v, n)) = integer(&s[i..]) {
        i += n;
        Expr::Wait(Duration::from_secs(v))
    } else {
        Expr::Wait(Duration::from_secs(1))
    };
    if s.get(i) == Some(&'>') {
        Some((expr, i + 1))
    } else {
        None
    }
}

/// `Integer = '0' / [1-9] [0-9]*`.
fn integer(s: &[char]) -> Option<(u64, usize)> {
    match s.first() {
        Some('0') => Some((0, 1)),
        Some(c) if c.is_ascii_digit() => {
            let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
            let text: String = s[..n].iter().collect();
            text.parse().ok().map(|v| (v, n))
        }
        _ => None,
    }
}

/// `Number = '-'? Integer ('.' Digit+)?`, returns its length.
fn number(s: &[char]) -> Option<usize> {
    let mut i = 0;
    if s.first() == Some(&'-') {
        i = 1;
    }
    let (_, n) = integer(&s[i..])?;
    i += n;
    if s.get(i) == Some(&'.') && s.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        i += s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    Some(i)
}

/// `TimeUnit = "ns" / "us" / "µs" / "ms" / "s" / "m" / "h"`.
fn time_unit(s: &[char]) -> Option<usize> {
    for u in ["ns", "us", "µs", "ms", "s", "m", "h"] {
        let w: Vec<char> = u.chars().collect();
        if s.starts_with(&w) {
            return Some(w.len());
        }
    }
    None
}

/// `Duration = (Number TimeUnit)+`, returns its text.
fn duration(s: &[char]) -> Option<(String, usize)> {
    let mut i = 0;
    while let Some(n) = number(&s[i..]) {
        let Some(u) = time_unit(&s[i + n..]) else {
            break;
        };
        i += n + u;
    }
    if i == 0 {
        None
    } else {
        Some((s[..i].iter().collect(), i))
    }
}

/// `CharToggle = "<" . (On / Off) ">"`.
fn char_toggle(s: &[char]) -> Option<(Expr, usize)> {
    let c = *s.get(1)?;
    let (a, n) = on_off(&s[2..])?;
    if s.get(2 + n) == Some(&'>') {
        Some((Expr::Literal(c, a), 3 + n))
    } else {
        None
    }
}

/// `Special = "<" SpecialKey (On / Off)? ">"` (the first matching key name wins, as in PEG).
fn special(s: &[char]) -> Option<(Expr, usize)> {
    let rest = &s[1..];
    let key = SPECIAL_KEYS.iter().find(|k| starts_with_ci(rest, k))?;
    let mut i = 1 + key.chars().count();
    let mut action = KeyAction::Press;
    if let Some((a, n)) = on_off(&s[i..]) {
        action = a;
        i += n;
    }
    if s.get(i) == Some(&'>') {
        Some((Expr::Special(key.to_lowercase(), action), i + 1))
    } else {
        None
    }
}

/// `PACKER_KEY_INTERVAL`: the environment's default key interval.
pub const PACKER_KEY_ENV: &str = "PACKER_KEY_INTERVAL";
/// The SDK's `PackerKeyDefault`.
pub const PACKER_KEY_DEFAULT: Duration = Duration::from_millis(100);

/// The delay after each VNC key event, as `NewVNCDriver` picks it: `boot_key_interval` when
/// set (> 0), else `PACKER_KEY_INTERVAL` when it parses as a Go duration, else 100 ms.
pub fn key_interval(boot_key_interval: Option<Duration>, env: Option<&str>) -> Duration {
    if let Some(d) = boot_key_interval.filter(|d| !d.is_zero()) {
        return d;
    }
    if let Some(d) = env.and_then(go_non_negative_duration) {
        return d;
    }
    PACKER_KEY_DEFAULT
}

/// `X11` keysym of the left shift key.
pub const KEY_LEFT_SHIFT: u32 = 0xFFE1;

/// Characters the SDK types with shift held (`driver.go`'s `shiftedChars`), besides upper case.
pub const SHIFTED_CHARS: &str = "~!@#$%^&*()_+{}|:\"<>?";

/// The X keysym of a special key (`vnc_driver.go`'s table).
pub fn special_keysym(name: &str) -> Option<u32> {
    Some(match name {
        "bs" => 0xFF08,
        "del" => 0xFFFF,
        "down" => 0xFF54,
        "end" => 0xFF57,
        "enter" | "return" => 0xFF0D,
        "esc" => 0xFF1B,
        "f1" => 0xFFBE,
        "f2" => 0xFFBF,
        "f3" => 0xFFC0,
        "f4" => 0xFFC1,
        "f5" => 0xFFC2,
        "f6" => 0xFFC3,
        "f7" => 0xFFC4,
        "f8" => 0xFFC5,
        "f9" => 0xFFC6,
        "f10" => 0xFFC7,
        "f11" => 0xFFC8,
        "f12" => 0xFFC9,
        "home" => 0xFF50,
        "insert" => 0xFF63,
        "left" => 0xFF51,
        "leftalt" | "leftcommand" => 0xFFE9,
        "leftctrl" => 0xFFE3,
        "leftshift" => 0xFFE1,
        "leftsuper" => 0xFFEB,
        "menu" => 0xFF67,
        "pagedown" => 0xFF56,
        "pageup" => 0xFF55,
        "right" => 0xFF53,
        "rightalt" | "rightcommand" => 0xFFEA,
        "rightctrl" => 0xFFE4,
        "rightshift" => 0xFFE2,
        "rightsuper" => 0xFFEC,
        "spacebar" => 0x20,
        "tab" => 0xFF09,
        "up" => 0xFF52,
        "leftoption" => 0xFFE7,
        "rightoption" => 0xFFE8,
        _ => return None,
    })
}

/// One thing the VNC typer does: a key event (followed by the key interval), or a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStep {
    Key { keysym: u32, down: bool },
    Wait(Duration),
}

/// The key events the SDK's VNC driver sends for a parsed command: literal characters use
/// their code point as keysym (as the SDK does), with left shift around upper-case letters
/// and [`SHIFTED_CHARS`].
pub fn vnc_events(seq: &[Expr]) -> Result<Vec<KeyStep>, String> {
    let mut out = Vec::new();
    let key = |out: &mut Vec<KeyStep>, keysym: u32, down: bool| {
        out.push(KeyStep::Key { keysym, down });
    };
    for e in seq {
        match e {
            Expr::Wait(d) => out.push(KeyStep::Wait(*d)),
            Expr::NegativeWait(s) => {
                return Err(format!("Expecting a positive wait value. Got {s}"));
            }
            Expr::Literal(c, action) => {
                let shift = c.is_uppercase() || SHIFTED_CHARS.contains(*c);
                let code = *c as u32;
                match action {
                    KeyAction::On => {
                        if shift {
                            key(&mut out, KEY_LEFT_SHIFT, true);
                        }
                        key(&mut out, code, true);
                    }
                    KeyAction::Off => {
                        key(&mut out, code, false);
                        if shift {
                            key(&mut out, KEY_LEFT_SHIFT, false);
                        }
                    }
                    KeyAction::Press => {
                        if shift {
                            key(&mut out, KEY_LEFT_SHIFT, true);
                        }
                        key(&mut out, code, true);
                        key(&mut out, code, false);
                        if shift {
                            key(&mut out, KEY_LEFT_SHIFT, false);
                        }
                    }
                }
            }
            Expr::Special(name, action) => {
                let code =
                    special_keysym(name).ok_or_else(|| format!("special {name} not found."))?;
                match action {
                    KeyAction::On => key(&mut out, code, true),
                    KeyAction::Off => key(&mut out, code, false),
                    KeyAction::Press => {
                        key(&mut out, code, true);
                        key(&mut out, code, false);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// What `{{ … }}` placeholders in a boot command see (`bootCommandTemplateData`).
#[derive(Debug, Clone, Default)]
pub struct BootTemplateData {
    pub http_ip: String,
    pub http_port: u16,
    pub name: String,
    pub ssh_public_key: String,
}

/// Renders one boot step with the plugin's `bootCommandTemplateData` (`{{ .HTTPIP }}`,
/// `{{ .HTTPPort }}`, `{{ .Name }}`, `{{ .SSHPublicKey }}`) and the SDK's functions, as the
/// plugin's `interpolate.Render` does; another field is Go's "can't evaluate field".
pub fn render(command: &str, data: &BootTemplateData) -> Result<String, String> {
    let mut fields = BTreeMap::new();
    fields.insert("HTTPIP".to_string(), data.http_ip.clone());
    fields.insert("HTTPPort".to_string(), data.http_port.to_string());
    fields.insert("Name".to_string(), data.name.clone());
    fields.insert("SSHPublicKey".to_string(), data.ssh_public_key.clone());
    render_fields(command, "*qemu.bootCommandTemplateData", &fields)
}

/// Renders a template whose data is a Go struct of type `type_name` with string `fields`
/// (an unknown field is Go's "can't evaluate field X in type T"), with the SDK's functions.
pub fn render_fields(
    command: &str,
    type_name: &str,
    fields: &BTreeMap<String, String>,
) -> Result<String, String> {
    use crate::interpolate::{Context, Value};
    let data = Value::structure(
        type_name,
        fields
            .iter()
            .map(|(k, v)| (k.clone(), Value::str(v.clone()))),
    );
    let name = fields.get("Name").cloned().unwrap_or_default();
    Context::for_component(&name, "qemu", crate::template::PACKER_VERSION)
        .with_data(data)
        .render(command)
        .map_err(|e| e.to_string())
}

/// `boot_command` / `boot_steps` / `boot_wait` / `boot_key_interval` / `disable_vnc`
/// (`VNCConfig` + `BootConfig`, plus the qemu builder's `boot_steps`).
#[derive(Debug, Clone, Default)]
pub struct BootConfig {
    pub boot_command: Vec<String>,
    /// `[command, description?]` pairs.
    pub boot_steps: Vec<Vec<String>>,
    /// `None`: unset (10 s). Zero or negative waits skip the wait, as in the plugin.
    pub boot_wait: Option<Duration>,
    pub boot_key_interval: Option<Duration>,
    pub disable_vnc: bool,
}

/// One step to type: the (unrendered) command and its description.
#[derive(Debug, Clone, PartialEq)]
pub struct BootStep {
    pub command: String,
    pub description: Option<String>,
}

impl BootConfig {
    /// `boot_wait` after `BootConfig.Prepare` (default 10 s).
    pub fn boot_wait(&self) -> Duration {
        self.boot_wait.unwrap_or(Duration::from_secs(10))
    }

    /// `FlatBootCommand`: the list joined with no separator.
    pub fn flat_boot_command(&self) -> String {
        self.boot_command.concat()
    }

    /// `VNCConfig.Prepare` and its `BootConfig.Prepare`, in their words: a boot command
    /// with VNC disabled, then the flat boot command's validation errors.
    pub fn prepare_errors(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if !self.boot_command.is_empty() && self.disable_vnc {
            errs.push("A boot command cannot be used when vnc is disabled.".into());
        }
        errs.extend(validate(&parse(&self.flat_boot_command())));
        errs
    }

    /// Every Prepare-time check: [`prepare_errors`](Self::prepare_errors) and the qemu
    /// config's "boot_command and boot_steps cannot be used together". (`boot_steps` are
    /// checked only when typed, as the plugin's SDK checks them: see `type_boot_command`.)
    pub fn validate(&self) -> Vec<String> {
        let mut errs = self.prepare_errors();
        if !self.boot_command.is_empty() && !self.boot_steps.is_empty() {
            errs.push("boot_command and boot_steps cannot be used together".into());
        }
        errs
    }

    /// The steps the plugin types (`stepTypeBootCommand.Run`): the flat `boot_command` as one
    /// step when set, else `boot_steps` (empty entries skipped).
    pub fn steps(&self) -> Vec<BootStep> {
        let flat = self.flat_boot_command();
        if !flat.is_empty() {
            return vec![BootStep {
                command: flat,
                description: None,
            }];
        }
        self.boot_steps
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| BootStep {
                command: s[0].clone(),
                description: s.get(1).filter(|d| !d.is_empty()).cloned(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(seq: &[Expr]) -> Vec<String> {
        seq.iter().map(|e| e.to_string()).collect()
    }

    /// The SDK's `Test_parse` (boot_command_ast_test.go), same input, same expectations.
    #[test]
    fn sdk_test_parse() {
        let mut input = String::from("<wait><wait20><wait3s><wait4m2ns>");
        input += "foo/bar > one 界";
        input += "<fon> b<fOff>";
        input += "<foo><f3><f12><spacebar><leftalt><rightshift><rightsuper><menu>";
        let expected = [
            "Wait<1s>",
            "Wait<20s>",
            "Wait<3s>",
            "Wait<4m0.000000002s>",
            "LIT-Press(f)",
            "LIT-Press(o)",
            "LIT-Press(o)",
            "LIT-Press(/)",
            "LIT-Press(b)",
            "LIT-Press(a)",
            "LIT-Press(r)",
            "LIT-Press( )",
            "LIT-Press(>)",
            "LIT-Press( )",
            "LIT-Press(o)",
            "LIT-Press(n)",
            "LIT-Press(e)",
            "LIT-Press( )",
            "LIT-Press(界)",
            "LIT-On(f)",
            "LIT-Press( )",
            "LIT-Press(b)",
            "LIT-Off(f)",
            "LIT-Press(<)",
            "LIT-Press(f)",
            "LIT-Press(o)",
            "LIT-Press(o)",
            "LIT-Press(>)",
            "Spec-Press(f3)",
            "Spec-Press(f12)",
            "Spec-Press(spacebar)",
            "Spec-Press(leftalt)",
            "Spec-Press(rightshift)",
            "Spec-Press(rightsuper)",
            "Spec-Press(menu)",
        ];
        assert_eq!(strings(&parse(&input)), expected);
    }

    /// The SDK's `Test_special`.
    #[test]
    fn sdk_test_special() {
        for (input, out) in [
            (
                "<rightShift><rightshift><RIGHTSHIFT>",
                "Spec-Press(rightshift)",
            ),
            ("<delon><delON><deLoN><DELON>", "Spec-On(del)"),
            (
                "<enteroff><enterOFF><eNtErOfF><ENTEROFF>",
                "Spec-Off(enter)",
            ),
        ] {
            let seq = parse(input);
            assert_eq!(seq.len(), input.matches('<').count(), "{input}");
            for e in seq {
                assert_eq!(e.to_string(), out, "{input}");
            }
        }
    }

    /// The SDK's `Test_validation` and `Test_empty`.
    #[test]
    fn sdk_test_validation_and_empty() {
        for (input, valid) in [
            ("<wait1m>", true),
            ("<wait-1m>", false),
            ("<f1>", true),
            ("<", true),
        ] {
            let seq = parse(input);
            assert_eq!(seq.len(), 1, "{input}");
            assert_eq!(validate(&seq).is_empty(), valid, "{input}");
        }
        assert!(parse("").is_empty());
    }

    #[test]
    fn waits_and_near_misses() {
        assert_eq!(parse("<wait5>"), vec![Expr::Wait(Duration::from_secs(5))]);
        assert_eq!(
            parse("<wait1m10s>"),
            vec![Expr::Wait(Duration::from_secs(70))]
        );
        assert_eq!(
            parse("<wait1.5s>"),
            vec![Expr::Wait(Duration::from_millis(1500))]
        );
        assert_eq!(
            parse("<wait250ms>"),
            vec![Expr::Wait(Duration::from_millis(250))]
        );
        assert_eq!(parse("<wait0>"), vec![Expr::Wait(Duration::ZERO)]);
        assert_eq!(validate(&parse("<wait0>")).len(), 1);
        // Near misses are typed literally, character by character.
        for s in [
            "<WAIT>",
            "<wait05>",
            "<wait1.5>",
            "<wait1m5>",
            "<wait-5>",
            "<enter",
            "<foo>",
        ] {
            let seq = parse(s);
            assert_eq!(seq.len(), s.chars().count(), "{s}");
            assert!(
                seq.iter()
                    .all(|e| matches!(e, Expr::Literal(_, KeyAction::Press))),
                "{s}"
            );
        }
        // `<` escapes nothing: `<<enter>` is a literal `<` then Enter.
        assert_eq!(
            parse("<<enter>"),
            vec![
                Expr::Literal('<', KeyAction::Press),
                Expr::Special("enter".into(), KeyAction::Press)
            ]
        );
        // A character toggle beats a special key: `<eon>` is 'e' held, `<f1on>` is F1 held.
        assert_eq!(parse("<eon>"), vec![Expr::Literal('e', KeyAction::On)]);
        assert_eq!(
            parse("<f1on>"),
            vec![Expr::Special("f1".into(), KeyAction::On)]
        );
        assert_eq!(
            parse("<leftShiftOn>"),
            vec![Expr::Special("leftshift".into(), KeyAction::On)]
        );
        assert_eq!(
            parse("<pageUp>"),
            vec![Expr::Special("pageup".into(), KeyAction::Press)]
        );
        assert_eq!(go_duration(Duration::from_secs(3700)), "1h1m40s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
    }

    fn k(keysym: u32, down: bool) -> KeyStep {
        KeyStep::Key { keysym, down }
    }

    /// The SDK's vnc_driver_test.go cases.
    #[test]
    fn sdk_vnc_driver_events() {
        let ev = |s: &str| vnc_events(&parse(s)).unwrap();
        assert_eq!(
            ev("<rightShift><rightshiftoff><RIGHTSHIFTON><menu>"),
            vec![
                k(0xFFE2, true),
                k(0xFFE2, false),
                k(0xFFE2, false),
                k(0xFFE2, true),
                k(0xFF67, true),
                k(0xFF67, false)
            ]
        );
        assert_eq!(
            ev("<leftCommand><RIGHTCOMMAND><leftoption><rightOption>"),
            vec![
                k(0xFFE9, true),
                k(0xFFE9, false),
                k(0xFFEA, true),
                k(0xFFEA, false),
                k(0xFFE7, true),
                k(0xFFE7, false),
                k(0xFFE8, true),
                k(0xFFE8, false)
            ]
        );
        assert_eq!(
            ev("AbC"),
            vec![
                k(0xFFE1, true),
                k(0x41, true),
                k(0x41, false),
                k(0xFFE1, false),
                k(0x62, true),
                k(0x62, false),
                k(0xFFE1, true),
                k(0x43, true),
                k(0x43, false),
                k(0xFFE1, false)
            ]
        );
        assert_eq!(
            ev("<Aon><Aoff>"),
            vec![
                k(0xFFE1, true),
                k(0x41, true),
                k(0x41, false),
                k(0xFFE1, false)
            ]
        );
        // Symbols from shiftedChars get shift too; waits pass through.
        assert_eq!(
            ev(":<wait2>"),
            vec![
                k(0xFFE1, true),
                k(0x3A, true),
                k(0x3A, false),
                k(0xFFE1, false),
                KeyStep::Wait(Duration::from_secs(2))
            ]
        );
        assert!(vnc_events(&parse("<wait-1s>")).is_err());
    }

    /// `Test_vncIntervalNotGiven` / `Test_vncIntervalGiven`, plus `PACKER_KEY_INTERVAL`.
    #[test]
    fn key_interval_rules() {
        assert_eq!(key_interval(None, None), Duration::from_millis(100));
        assert_eq!(
            key_interval(Some(Duration::from_secs(5)), None),
            Duration::from_secs(5)
        );
        assert_eq!(key_interval(None, Some("10ms")), Duration::from_millis(10));
        assert_eq!(
            key_interval(None, Some("bogus")),
            Duration::from_millis(100)
        );
        assert_eq!(
            key_interval(Some(Duration::from_millis(30)), Some("10ms")),
            Duration::from_millis(30)
        );
        assert_eq!(
            key_interval(Some(Duration::ZERO), Some("10ms")),
            Duration::from_millis(10)
        );
    }

    #[test]
    fn templating_and_steps() {
        let data = BootTemplateData {
            http_ip: "10.0.2.2".into(),
            http_port: 8123,
            name: "vm".into(),
            ssh_public_key: "ssh-ed25519 AAAA".into(),
        };
        assert_eq!(
            render("url=http://{{ .HTTPIP }}:{{.HTTPPort}}/ks.cfg n={{ .Name }} k={{ .SSHPublicKey }}<enter>", &data)
                .unwrap(),
            "url=http://10.0.2.2:8123/ks.cfg n=vm k=ssh-ed25519 AAAA<enter>"
        );
        let e = render("{{ .HTTPDir }}", &data).unwrap_err();
        assert_eq!(
            e,
            "template: root:1:3: executing \"root\" at <.HTTPDir>: can't evaluate field HTTPDir in type *qemu.bootCommandTemplateData"
        );
        // The SDK's functions are there too.
        assert_eq!(render("{{ upper .Name }}", &data).unwrap(), "VM");
        // Joined with no separator; validation names the field.
        let c = BootConfig {
            boot_command: vec!["<esc><wait>".into(), "linux<enter>".into()],
            ..Default::default()
        };
        assert_eq!(
            c.steps(),
            vec![BootStep {
                command: "<esc><wait>linux<enter>".into(),
                description: None
            }]
        );
        assert_eq!(c.boot_wait(), Duration::from_secs(10));
        let bad = BootConfig {
            boot_command: vec!["<wait-1s>".into()],
            boot_steps: vec![vec!["x".into()]],
            disable_vnc: true,
            ..Default::default()
        };
        let errs = bad.validate();
        assert_eq!(errs.len(), 3, "{errs:?}");
        let s = BootConfig {
            boot_steps: vec![
                vec![],
                vec!["a<enter>".into(), "first".into()],
                vec!["b".into()],
            ],
            ..Default::default()
        };
        assert_eq!(
            s.steps(),
            vec![
                BootStep {
                    command: "a<enter>".into(),
                    description: Some("first".into())
                },
                BootStep {
                    command: "b".into(),
                    description: None
                }
            ]
        );
    }
}
