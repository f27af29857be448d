//! Renders templates read as JSON strings, one a line, on stdin, printing one JSON object a
//! line (`{"ok": output}` or `{"err": message}`): the data and functions of the crate's unit
//! tests. Used to compare the engine with Go's text/template on the same lines (a Go program
//! doing the same with `template.New("root").Funcs(...).Parse`).

use std::io::BufRead;

use kiln_gotemplate::{Func, FuncMap, Param, Value, render};

fn main() {
    let mut f = FuncMap::new();
    f.insert(
        "upper",
        Func::new(&[Param::String], None, |a| {
            Ok(Value::str(a[0].as_str().unwrap_or_default().to_uppercase()))
        }),
    );
    f.insert(
        "split",
        Func::new(&[Param::String, Param::String, Param::Int], None, |a| {
            let (s, sep) = (a[0].as_str().unwrap_or(""), a[1].as_str().unwrap_or(""));
            let Value::Int(i) = a[2] else {
                return Err("bad".into());
            };
            // Go's strings.Split: an empty separator splits after each character.
            let parts: Vec<&str> = if sep.is_empty() {
                s.char_indices()
                    .map(|(i, c)| &s[i..i + c.len_utf8()])
                    .collect()
            } else {
                s.split(sep).collect()
            };
            parts
                .get(i as usize)
                .map(|p| Value::str(*p))
                .ok_or_else(|| format!("only {} values were found", parts.len()))
        }),
    );
    f.insert("fail", Func::new(&[], None, |_| Err("boom".into())));
    f.insert(
        "isotime",
        Func::new(&[], Some(Param::String), |a| {
            Ok(Value::str(format!("{}", a.len())))
        }),
    );
    let data = Value::map([
        ("Name", Value::str("web")),
        ("Count", Value::Int(3)),
        ("Empty", Value::str("")),
        ("List", Value::list([Value::str("a"), Value::str("b")])),
        (
            "Sub",
            Value::map([("X", Value::str("x")), ("Y", Value::Int(2))]),
        ),
        (
            "S",
            Value::structure(
                "main.S",
                [("Vars", Value::str("A=1")), ("Path", Value::str("/tmp/s"))],
            ),
        ),
        ("Nil", Value::Nil),
    ]);
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let Ok(t) = serde_json::from_str::<String>(&line) else {
            continue;
        };
        let out = match render("root", &t, &data, &f) {
            Ok(s) => serde_json::json!({ "ok": s }),
            Err(e) => serde_json::json!({ "err": e.message }),
        };
        println!("{out}");
    }
}
