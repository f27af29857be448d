//! `uuidv4` and `uuidv5`.

use uuid::Uuid;

use super::{Args, FuncError, other};
use crate::value::Value;

pub(super) fn call(f: &Args) -> Result<Value, FuncError> {
    match f.name {
        "uuidv4" => {
            f.exact(&[])?;
            Ok(Value::String(Uuid::new_v4().hyphenated().to_string()))
        }
        "uuidv5" => {
            f.exact(&["namespace", "name"])?;
            let ns = f.string(0, "namespace")?;
            let name = f.string(1, "name")?;
            let namespace = match ns.as_str() {
                "dns" => Uuid::NAMESPACE_DNS,
                "url" => Uuid::NAMESPACE_URL,
                "oid" => Uuid::NAMESPACE_OID,
                "x500" => Uuid::NAMESPACE_X500,
                other_ns => parse_uuid(other_ns).map_err(|e| {
                    other(format!(
                        "uuidv5() doesn't support namespace {other_ns} ({e})"
                    ))
                })?,
            };
            Ok(Value::String(
                Uuid::new_v5(&namespace, name.as_bytes())
                    .hyphenated()
                    .to_string(),
            ))
        }
        _ => Err(other(format!("There is no function named \"{}\".", f.name))),
    }
}

/// Parses a UUID in the forms google/uuid's `Parse` accepts: canonical, `urn:uuid:`
/// prefixed, braced, or 32 hex digits.
fn parse_uuid(s: &str) -> Result<Uuid, String> {
    let len_ok = matches!(s.len(), 32 | 36 | 38 | 45);
    if !len_ok {
        return Err(format!("invalid UUID length: {}", s.len()));
    }
    if s.len() == 45 && !s.to_ascii_lowercase().starts_with("urn:uuid:") {
        return Err(format!("invalid urn prefix: {}", super::go_quote(&s[..9])));
    }
    Uuid::parse_str(s).map_err(|_| "invalid UUID format".to_string())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::*;
    use crate::value::Value;

    #[test]
    fn uuidv4_shape() {
        let Value::String(a) = ok("uuidv4", vec![]) else {
            panic!()
        };
        let Value::String(b) = ok("uuidv4", vec![]) else {
            panic!()
        };
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'4');
        assert!(matches!(a.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn uuidv5() {
        assert_eq!(
            ok("uuidv5", vec![s("dns"), s("www.terraform.io")]),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            ok("uuidv5", vec![s("url"), s("https://www.terraform.io/")]),
            s("9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5")
        );
        assert_eq!(
            ok("uuidv5", vec![s("oid"), s("1.3.6.1.4")]),
            s("af9d40a5-7a36-5c07-b23a-851cd99fbfa5")
        );
        assert_eq!(
            ok("uuidv5", vec![s("x500"), s("CN=Example,C=GB")]),
            s("84e09961-4aa4-57f8-95b7-03edb1073253")
        );
        assert_eq!(
            ok(
                "uuidv5",
                vec![
                    s("6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
                    s("www.terraform.io")
                ]
            ),
            s("a5008fae-b28c-5ba5-96cd-82b4c53552d6")
        );
        assert_eq!(
            err("uuidv5", vec![s("tada"), s("www.terraform.io")]),
            "uuidv5() doesn't support namespace tada (invalid UUID length: 4)"
        );
    }
}
