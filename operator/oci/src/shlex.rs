//! Dockerfile words as Docker reads them: a port of BuildKit v0.8.3's `frontend/dockerfile`
//! word handling, which dockerd 20.10's classic builder (and its `docker commit --change`)
//! uses.
//!
//! - [`Lex`] (`shell/lex.go`): quotes (`'…'` literal, `"…"` with `$` expansions and the
//!   escape character before `"`, `$` or itself), the escape character (`\`, or `` ` `` after
//!   `# escape=`) outside quotes, `$NAME`, `${NAME}`, `${NAME:-word}`, `${NAME:+word}`,
//!   `${NAME?message}`, `${NAME:?message}`, and its errors (`failed to process "…": …`).
//!   `process_word` gives one word (spaces kept), `process_words` splits it after expansion.
//! - [`parse_words`] and [`parse_name_val`] (`parser/line_parsers.go`): how `ENV` and
//!   `LABEL` lines split into `key=value` pairs (quotes and escapes kept for the lexer), or
//!   the old `KEY value with spaces` form.

/// The word lexer with its escape character.
#[derive(Clone, Copy, Debug)]
pub struct Lex {
    pub escape: char,
}

impl Default for Lex {
    fn default() -> Self {
        Lex { escape: '\\' }
    }
}

impl Lex {
    pub fn new(escape: char) -> Lex {
        Lex { escape }
    }

    /// `ProcessWord`: `word` with its quotes removed and its variables expanded from `env`
    /// (`KEY=VALUE`; the first of a name wins).
    pub fn process_word(&self, word: &str, env: &[String]) -> Result<String, String> {
        self.process(word, env).map(|(w, _)| w)
    }

    /// `ProcessWords`: the same, split into words at unquoted spaces after expansion.
    pub fn process_words(&self, word: &str, env: &[String]) -> Result<Vec<String>, String> {
        self.process(word, env).map(|(_, ws)| ws)
    }

    fn process(&self, word: &str, env: &[String]) -> Result<(String, Vec<String>), String> {
        let mut sw = ShellWord {
            chars: word.chars().collect(),
            pos: 0,
            env,
            escape: self.escape,
        };
        sw.process_stop_on(None)
            .map_err(|e| format!("failed to process {}: {e}", go_quote(word)))
    }
}

struct ShellWord<'a> {
    chars: Vec<char>,
    pos: usize,
    env: &'a [String],
    escape: char,
}

#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, ch: char) {
        if ch.is_whitespace() && self.in_word {
            if !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else if !ch.is_whitespace() {
            self.add_raw_char(ch);
        }
    }

    fn add_raw_char(&mut self, ch: char) {
        self.word.push(ch);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        for ch in s.chars() {
            self.add_char(ch);
        }
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn get_words(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(std::mem::take(&mut self.word));
        }
        self.words
    }
}

impl ShellWord<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.chars.get(self.pos).copied();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }

    fn process_stop_on(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(ch) = self.peek() {
            if stop == Some(ch) {
                self.next();
                return Ok((result, words.get_words()));
            }
            match ch {
                '\'' | '"' | '$' => {
                    let tmp = match ch {
                        '\'' => self.single_quote()?,
                        '"' => self.double_quote()?,
                        _ => self.dollar()?,
                    };
                    result.push_str(&tmp);
                    if ch == '$' {
                        words.add_string(&tmp);
                    } else {
                        words.add_raw_string(&tmp);
                    }
                }
                _ => {
                    let mut ch = self.next().unwrap();
                    if ch == self.escape {
                        // escapes the next character, except at the end
                        match self.next() {
                            None => break,
                            Some(n) => ch = n,
                        }
                        words.add_raw_char(ch);
                    } else {
                        words.add_char(ch);
                    }
                    result.push(ch);
                }
            }
        }
        if let Some(stop) = stop {
            return Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            ));
        }
        Ok((result, words.get_words()))
    }

    fn single_quote(&mut self) -> Result<String, String> {
        self.next();
        let mut out = String::new();
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    );
                }
                Some('\'') => return Ok(out),
                Some(c) => out.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        self.next();
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    );
                }
                Some('"') => {
                    self.next();
                    return Ok(out);
                }
                Some('$') => out.push_str(&self.dollar()?),
                Some(_) => {
                    let mut ch = self.next().unwrap();
                    if ch == self.escape {
                        match self.peek() {
                            // an escape at the end of the word is dropped
                            None => continue,
                            Some(n) if n == '"' || n == '$' || n == self.escape => {
                                ch = self.next().unwrap();
                            }
                            Some(_) => {}
                        }
                    }
                    out.push(ch);
                }
            }
        }
    }

    fn get_env(&self, name: &str) -> Option<String> {
        self.env.iter().find_map(|e| match e.split_once('=') {
            Some((k, v)) if k == name => Some(v.to_string()),
            None if e == name => Some(String::new()),
            _ => None,
        })
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.next();
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(self.get_env(&name).unwrap_or_default());
        }
        self.next();
        match self.peek() {
            None => return Err("syntax error: missing '}'".into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            _ => {}
        }
        let name = self.name();
        match self.next() {
            Some('}') => Ok(self.get_env(&name).unwrap_or_default()),
            Some('?') => {
                let word = self.stop_on_brace()?;
                self.get_env(&name)
                    .ok_or_else(|| refused(&name, &word, "is not allowed to be unset"))
            }
            Some(':') => {
                let modifier = self.next();
                let word = self.stop_on_brace()?;
                let value = self.get_env(&name);
                match modifier {
                    Some('+') => Ok(match value {
                        Some(v) if !v.is_empty() => word,
                        v => v.unwrap_or_default(),
                    }),
                    Some('-') => Ok(match value {
                        Some(v) if !v.is_empty() => v,
                        _ => word,
                    }),
                    Some('?') => match value {
                        None => Err(refused(&name, &word, "is not allowed to be unset")),
                        Some(v) if v.is_empty() => {
                            Err(refused(&name, &word, "is not allowed to be empty"))
                        }
                        Some(v) => Ok(v),
                    },
                    m => Err(format!(
                        "unsupported modifier ({}) in substitution",
                        m.map(String::from).unwrap_or_default()
                    )),
                }
            }
            _ => Err("missing ':' in substitution".into()),
        }
    }

    /// The word up to the closing brace of `${…}`.
    fn stop_on_brace(&mut self) -> Result<String, String> {
        match self.process_stop_on(Some('}')) {
            Ok((w, _)) => Ok(w),
            Err(_) if self.peek().is_none() => Err("syntax error: missing '}'".into()),
            Err(e) => Err(e),
        }
    }

    /// `processName`: digits, one special parameter, or letters, digits and `_`.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(ch) = self.peek() {
            if name.is_empty() && ch.is_numeric() {
                while let Some(d) = self.peek().filter(|c| c.is_numeric()) {
                    self.next();
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && "@*#?-$!0".contains(ch) {
                self.next();
                return ch.to_string();
            }
            if !ch.is_alphanumeric() && ch != '_' {
                break;
            }
            self.next();
            name.push(ch);
        }
        name
    }
}

/// `${NAME?word}`'s error: the word given, else `what`.
fn refused(name: &str, word: &str, what: &str) -> String {
    format!("{name}: {}", if word.is_empty() { what } else { word })
}

/// `parseWords`: the words of an `ENV`/`LABEL` line, split at unquoted spaces, their quotes
/// and escapes kept (for [`Lex`]); an escape character at the very end is dropped.
pub fn parse_words(rest: &str, escape: char) -> Vec<String> {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote,
    }
    let chars: Vec<char> = rest.chars().collect();
    let mut words = vec![];
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut quote = '\0';
    let mut blank_ok = false;
    let mut pos = 0;
    loop {
        let at_end = pos >= chars.len();
        let ch = chars.get(pos).copied().unwrap_or('\0');
        if phase == Phase::Spaces {
            if at_end {
                break;
            }
            if ch.is_whitespace() {
                pos += 1;
                continue;
            }
            phase = Phase::Word;
        }
        if at_end {
            if blank_ok || !word.is_empty() {
                words.push(word);
            }
            break;
        }
        if phase == Phase::Word {
            if ch.is_whitespace() {
                phase = Phase::Spaces;
                if blank_ok || !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                blank_ok = false;
                pos += 1;
                continue;
            }
            let mut ch = ch;
            if ch == '\'' || ch == '"' {
                quote = ch;
                blank_ok = true;
                phase = Phase::Quote;
            }
            if ch == escape {
                if pos + 1 == chars.len() {
                    pos += 1;
                    continue;
                }
                word.push(ch);
                pos += 1;
                ch = chars[pos];
            }
            word.push(ch);
            pos += 1;
            continue;
        }
        // in a quote
        let mut ch = ch;
        if ch == quote {
            phase = Phase::Word;
        }
        if ch == escape && quote != '\'' {
            if pos + 1 == chars.len() {
                phase = Phase::Word;
                pos += 1;
                continue;
            }
            pos += 1;
            word.push(ch);
            ch = chars[pos];
        }
        word.push(ch);
        pos += 1;
    }
    words
}

/// `parseNameVal`: `KEY=VALUE …` pairs (quotes kept), or the old `KEY value with spaces`
/// form when the first word has no `=`; `key` (`ENV`, `LABEL`) names the instruction in the
/// errors.
pub fn parse_name_val(
    rest: &str,
    key: &str,
    escape: char,
) -> Result<Vec<(String, String)>, String> {
    let words = parse_words(rest, escape);
    if words.is_empty() {
        return Ok(vec![]);
    }
    if !words[0].contains('=') {
        // `reWhitespace.Split(rest, 2)`
        let rest = rest.trim_matches(|c: char| " \t\r\n\x0b\x0c".contains(c));
        return match rest.split_once(|c: char| " \t\r\n\x0b\x0c".contains(c)) {
            Some((k, v)) => Ok(vec![(
                k.to_string(),
                v.trim_start_matches(|c: char| " \t\r\n\x0b\x0c".contains(c))
                    .to_string(),
            )]),
            None => Err(format!("{key} must have two arguments")),
        };
    }
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => Ok((k.to_string(), v.to_string())),
            None => Err(format!(
                "Syntax error - can't find = in {}. Must be of the form: name=value",
                go_quote(w)
            )),
        })
        .collect()
}

/// Go's `%q` of a string (`strconv.Quote`): printable characters as they are, `"` and `\`
/// escaped, control characters as `\n`, `\t`, `\x..`, `\u….`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<String> {
        vec![
            "A=a".into(),
            "EMPTY=".into(),
            "SP=x y".into(),
            "A=second".into(),
        ]
    }

    // Cases from BuildKit's shell/envVarTest and wordsTest, with its results.
    #[test]
    fn words_and_expansions_as_buildkit() {
        let l = Lex::default();
        let w = |s: &str| l.process_word(s, &env()).unwrap();
        assert_eq!(w("hello"), "hello");
        assert_eq!(w("he'll'o"), "hello");
        assert_eq!(w("he\\'llo"), "he'llo");
        assert_eq!(w("'hello\\'"), "hello\\");
        assert_eq!(w("\"hello\""), "hello");
        assert_eq!(w("\"he\\\"llo\""), "he\"llo");
        assert_eq!(w("\"a\\b\""), "a\\b");
        assert_eq!(w("$A"), "a");
        assert_eq!(w("${A}x"), "ax");
        assert_eq!(w("'$A'"), "$A");
        assert_eq!(w("\"$A $SP\""), "a x y");
        assert_eq!(w("\\$A"), "$A");
        assert_eq!(w("${NOPE:-def}"), "def");
        assert_eq!(w("${EMPTY:-def}"), "def");
        assert_eq!(w("${A:-def}"), "a");
        assert_eq!(w("${A:+alt}"), "alt");
        assert_eq!(w("${EMPTY:+alt}"), "");
        assert_eq!(w("${NOPE:+alt}"), "");
        assert_eq!(w("${A?}"), "a");
        assert_eq!(w("$"), "$");
        assert_eq!(w("a$"), "a$");
        assert_eq!(w("$1x"), "x");
        assert_eq!(w("trailing\\"), "trailing");
        let err = |s: &str| l.process_word(s, &env()).unwrap_err();
        assert_eq!(
            err("\"open"),
            "failed to process \"\\\"open\": unexpected end of statement while looking for matching double-quote"
        );
        assert_eq!(
            err("'open"),
            "failed to process \"'open\": unexpected end of statement while looking for matching single-quote"
        );
        assert_eq!(
            err("${A"),
            "failed to process \"${A\": missing ':' in substitution"
        );
        assert_eq!(
            err("${"),
            "failed to process \"${\": syntax error: missing '}'"
        );
        assert_eq!(
            err("${}"),
            "failed to process \"${}\": syntax error: bad substitution"
        );
        assert_eq!(
            err("${A:-x"),
            "failed to process \"${A:-x\": syntax error: missing '}'"
        );
        assert_eq!(
            err("${A:=x}"),
            "failed to process \"${A:=x}\": unsupported modifier (=) in substitution"
        );
        assert_eq!(
            err("${NOPE?}"),
            "failed to process \"${NOPE?}\": NOPE: is not allowed to be unset"
        );
        assert_eq!(
            err("${EMPTY:?must be set}"),
            "failed to process \"${EMPTY:?must be set}\": EMPTY: must be set"
        );
        let ws = |s: &str| l.process_words(s, &env()).unwrap();
        assert_eq!(ws("a b  c"), ["a", "b", "c"]);
        assert_eq!(ws("$SP z"), ["x", "y", "z"]);
        assert_eq!(ws("\"$SP\" z"), ["x y", "z"]);
        assert_eq!(ws("'a b' \"\""), ["a b"]);
        // the escape character a `# escape=` directive sets
        let bt = Lex::new('`');
        assert_eq!(
            bt.process_word("c:\\dir `$A", &env()).unwrap(),
            "c:\\dir $A"
        );
        assert_eq!(bt.process_word("\"q`\"q\"", &env()).unwrap(), "q\"q");
    }

    #[test]
    fn env_lines_split_as_buildkit() {
        assert_eq!(
            parse_name_val("A=1 B=\"two words\" C='x y'", "ENV", '\\').unwrap(),
            [
                ("A".into(), "1".into()),
                ("B".into(), "\"two words\"".into()),
                ("C".into(), "'x y'".into())
            ]
        );
        assert_eq!(
            parse_name_val("A a\\ b=c", "ENV", '\\').unwrap(),
            [("A".into(), "a\\ b=c".into())]
        );
        assert_eq!(
            parse_name_val("KEY  value with  spaces", "ENV", '\\').unwrap(),
            [("KEY".into(), "value with  spaces".into())]
        );
        assert_eq!(
            parse_name_val("A=1 B", "ENV", '\\').unwrap_err(),
            "Syntax error - can't find = in \"B\". Must be of the form: name=value"
        );
        assert_eq!(
            parse_name_val("ONLY", "LABEL", '\\').unwrap_err(),
            "LABEL must have two arguments"
        );
        assert_eq!(
            parse_words("a\\ b \"c d\" e=''", '\\'),
            ["a\\ b", "\"c d\"", "e=''"]
        );
    }
}
