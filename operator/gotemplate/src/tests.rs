//! Behaviour checked against Go 1.26's text/template (each expectation is what Go prints).

use super::*;

fn funcs() -> FuncMap {
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
            let (s, sep) = (a[0].as_str().unwrap(), a[1].as_str().unwrap());
            let Value::Int(i) = a[2] else { unreachable!() };
            let parts: Vec<&str> = s.split(sep).collect();
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
    f
}

fn run(t: &str, data: &Value) -> Result<String, String> {
    render("root", t, data, &funcs()).map_err(|e| e.message)
}

fn ok(t: &str) -> String {
    run(t, &data()).unwrap_or_else(|e| panic!("{t}: {e}"))
}

fn err(t: &str) -> String {
    run(t, &data()).expect_err(t)
}

fn data() -> Value {
    Value::map([
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
                "*shell.ExecuteCommandTemplate",
                [("Vars", Value::str("A=1")), ("Path", Value::str("/tmp/s"))],
            ),
        ),
        ("Nil", Value::Nil),
    ])
}

#[test]
fn text_fields_and_literals() {
    assert_eq!(ok("plain"), "plain");
    assert_eq!(ok(""), "");
    assert_eq!(ok("{{.Name}}-{{ .Sub.X }}-{{.Sub.Y}}"), "web-x-2");
    assert_eq!(
        ok("{{.Missing}}|{{.Sub.Missing}}|{{.Missing.Deeper}}"),
        "<no value>|<no value>|<no value>"
    );
    assert_eq!(ok("{{.Nil}}"), "<no value>");
    assert_eq!(
        ok("{{ \"a\\tb\" }}{{ `r\\n` }}{{ 42 }}{{ 1.5 }}{{ true }}{{ 'a' }}{{ 0x10 }}"),
        "a\tbr\\n421.5true9716"
    );
    assert_eq!(
        ok("{{ 1e6 }} {{ -0 }} {{ 1i }} {{ 1.0 }}"),
        "1e+06 0 (0+1i) 1"
    );
    assert_eq!(
        ok("{{.List}} {{.Sub}} {{.S}}"),
        "[a b] map[X:x Y:2] {A=1 /tmp/s}"
    );
    assert_eq!(ok("{{ .S.Vars }} {{ .S.Path }}"), "A=1 /tmp/s");
    assert_eq!(
        ok("{{.}}"),
        "map[Count:3 Empty: List:[a b] Name:web Nil:<nil> S:{A=1 /tmp/s} Sub:map[X:x Y:2]]"
    );
    assert_eq!(
        run("{{.}}|{{.X}}", &Value::Invalid).unwrap(),
        "<no value>|<no value>"
    );
}

#[test]
fn trim_markers_and_comments() {
    assert_eq!(ok("a  {{- .Name -}}  \n b"), "awebb");
    assert_eq!(ok("a {{/* note */}} b"), "a  b");
    assert_eq!(ok("a {{- /* note */ -}} b"), "ab");
    assert_eq!(ok("{{-3}}"), "-3");
    assert_eq!(ok("{{3 -}} x"), "3x");
}

#[test]
fn pipelines_functions_and_variables() {
    assert_eq!(ok("{{ .Name | upper }}"), "WEB");
    assert_eq!(ok("{{ upper .Name }}"), "WEB");
    assert_eq!(ok("{{ split \"a-b-c\" \"-\" 2 }}"), "c");
    assert_eq!(
        ok("{{ $x := upper .Name }}{{ $x }}{{ $x = \"y\" }}{{ $x }}"),
        "WEBy"
    );
    assert_eq!(ok("{{ (upper .Name) }}"), "WEB");
    assert_eq!(ok("{{ printf \"%s-%d\" .Name .Count }}"), "web-3");
    assert_eq!(
        ok("{{ print 1 2 \"a\" 3 }}|{{ println .Name 1 }}"),
        "1 2a3|web 1\n"
    );
    assert_eq!(
        ok("{{ len .List }} {{ len .Name }} {{ index .List 1 }} {{ index .Sub \"X\" }}"),
        "2 3 b x"
    );
    assert_eq!(ok("{{ slice .Name 1 }} {{ slice .List 0 1 }}"), "eb [a]");
    assert_eq!(
        ok("{{ html \"<a href='x'>\" }} {{ js \"a'b<\" }} {{ urlquery \"a b&c\" }}"),
        "&lt;a href=&#39;x&#39;&gt; a\\'b\\u003C a+b%26c"
    );
    assert_eq!(
        ok(
            "{{ eq .Name \"web\" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ ge \"a\" \"b\" }} {{ eq 1 2 3 1 }}"
        ),
        "true true true false true"
    );
    assert_eq!(
        ok("{{ and 1 0 2 }} {{ or 0 \"\" 5 }} {{ not .Empty }} {{ and 1 2 }}"),
        "0 5 true 2"
    );
    assert_eq!(ok("{{ isotime }}{{ isotime \"a\" \"b\" }}"), "02");
    assert_eq!(ok("{{ .Name | printf \"%s!\" }}"), "web!");
    assert_eq!(ok("{{ print .Missing }}"), "<nil>");
}

#[test]
fn control_structures() {
    assert_eq!(ok("{{if .Name}}y{{else}}n{{end}}"), "y");
    assert_eq!(ok("{{if .Empty}}y{{else if .Count}}c{{else}}n{{end}}"), "c");
    assert_eq!(
        ok("{{with .Sub}}{{.X}}{{end}}{{with .Empty}}no{{else}}else{{end}}"),
        "xelse"
    );
    assert_eq!(ok("{{with .Empty}}{{else with .Name}}{{.}}{{end}}"), "web");
    assert_eq!(ok("{{range .List}}[{{.}}]{{end}}"), "[a][b]");
    assert_eq!(
        ok("{{range $i, $e := .List}}{{$i}}={{$e}};{{end}}"),
        "0=a;1=b;"
    );
    assert_eq!(
        ok("{{range $k, $v := .Sub}}{{$k}}:{{$v}} {{end}}"),
        "X:x Y:2 "
    );
    assert_eq!(ok("{{range .Missing}}x{{else}}empty{{end}}"), "empty");
    assert_eq!(ok("{{range 3}}{{.}}{{end}}"), "012");
    assert_eq!(
        ok("{{range .List}}{{if eq . \"a\"}}{{continue}}{{end}}{{.}}{{break}}{{end}}"),
        "b"
    );
    assert_eq!(
        ok("{{define \"T\"}}<{{.}}>{{end}}{{template \"T\" .Name}}{{block \"B\" 1}}b{{.}}{{end}}"),
        "<web>b1"
    );
    assert_eq!(ok("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}"), "2");
}

#[test]
fn parse_errors_as_go() {
    assert_eq!(
        err("{{ foo }}"),
        "template: root:1: function \"foo\" not defined"
    );
    assert_eq!(
        err("a\n{{ foo }}"),
        "template: root:2: function \"foo\" not defined"
    );
    assert_eq!(err("{{ .Name "), "template: root:1: unclosed action");
    assert_eq!(
        err("{{ .Name\n\n"),
        "template: root:3: unclosed action started at root:1"
    );
    assert_eq!(err("{{ if .Name }}"), "template: root:1: unexpected EOF");
    assert_eq!(err("{{ end }}"), "template: root:1: unexpected {{end}}");
    assert_eq!(err("{{ else }}"), "template: root:1: unexpected {{else}}");
    assert_eq!(err("{{}}"), "template: root:1: missing value for command");
    assert_eq!(
        err("{{ \"a }}"),
        "template: root:1: unterminated quoted string"
    );
    assert_eq!(
        err("{{ $x }}"),
        "template: root:1: undefined variable \"$x\""
    );
    assert_eq!(
        err("{{ 3k }}"),
        "template: root:1: bad number syntax: \"3k\""
    );
    assert_eq!(
        err("{{ .A | 3 }}"),
        "template: root:1: non executable command in pipeline stage 2"
    );
    assert_eq!(err("{{ \"\\q\" }}"), "template: root:1: invalid syntax");
    assert_eq!(
        err("{{ break }}"),
        "template: root:1: {{break}} outside {{range}}"
    );
    assert_eq!(
        err("{{ 1.X }}"),
        "template: root:1: bad number syntax: \"1.X\""
    );
    assert_eq!(
        err("{{ true.X }}"),
        "template: root:1: unexpected . after term \"true\""
    );
    assert_eq!(
        err("{{ if }}{{ end }}"),
        "template: root:1: missing value for if"
    );
    assert_eq!(
        err("{{ .A\n}x }}"),
        "template: root:2: unexpected \"}\" in operand"
    );
    assert_eq!(
        err("{{ upper (.A }}"),
        "template: root:1: unclosed left paren"
    );
    assert_eq!(
        err("{{ 99999999999999999999 }}"),
        "template: root:1: integer overflow: \"99999999999999999999\""
    );
    assert_eq!(
        err("x\n{{ .A\n\n.B ` }}"),
        "template: root:4: unterminated raw quoted string in action started at root:2"
    );
    assert_eq!(
        err("{{ range $a, $b, $c := . }}{{end}}"),
        "template: root:1: too many declarations in range"
    );
    assert_eq!(
        err("{{ range $a, 1 }}{{end}}"),
        "template: root:1: range can only initialize variables"
    );
    assert_eq!(
        err("{{ $a, $b := . }}"),
        "template: root:1: too many declarations in command"
    );
    assert_eq!(
        err("{{ \"abcdefghijklmnop\" 1 | }}"),
        "template: root:1:3: executing \"root\" at <\"abcdefghijklmnop\">: can't give argument to non-function \"abcdefghijklmnop\""
    );
    assert_eq!(
        err("{{ if 1 }}{{ else }}{{ else }}{{ end }}"),
        "template: root:1: expected end; found {{else}}"
    );
    assert_eq!(
        err("{{ .A \"abcdefghijkl\"x }}"),
        "template: root:1: unexpected \"x\" in operand"
    );
    assert_eq!(
        err("{{ if .A }}{{ else \"abcdefghijklm\" }}{{ end }}"),
        "template: root:1: unexpected \"\\\"abcdefghi\"... in else"
    );
}

#[test]
fn exec_errors_as_go() {
    // A value read from a map of interfaces is reported by its static type.
    assert_eq!(
        err("{{ .S.Nope }}"),
        "template: root:1:5: executing \"root\" at <.S.Nope>: can't evaluate field Nope in type interface {}"
    );
    let s = Value::structure(
        "*shell.ExecuteCommandTemplate",
        [("Vars", Value::str("A=1"))],
    );
    assert_eq!(
        run("{{ .Vars }} {{ .Nope }}", &s).unwrap_err(),
        "template: root:1:15: executing \"root\" at <.Nope>: can't evaluate field Nope in type *shell.ExecuteCommandTemplate"
    );
    assert_eq!(
        err("{{ upper 1 }}"),
        "template: root:1:9: executing \"root\" at <1>: expected string; found 1"
    );
    assert_eq!(
        err("{{ upper .Count }}"),
        "template: root:1:9: executing \"root\" at <.Count>: wrong type for value; expected string; got int"
    );
    assert_eq!(
        err("{{ upper .Missing }}"),
        "template: root:1:9: executing \"root\" at <.Missing>: invalid value; expected string"
    );
    assert_eq!(
        err("{{ upper }}"),
        "template: root:1:3: executing \"root\" at <upper>: wrong number of args for upper: want 1 got 0"
    );
    assert_eq!(
        err("{{ upper \"a\" \"b\" }}"),
        "template: root:1:3: executing \"root\" at <upper>: wrong number of args for upper: want 1 got 2"
    );
    assert_eq!(
        err("x\n  {{ fail }}"),
        "template: root:2:5: executing \"root\" at <fail>: error calling fail: boom"
    );
    assert_eq!(
        err("{{ split \"a\" \"-\" 3 }}"),
        "template: root:1:3: executing \"root\" at <split \"a\" \"-\" 3>: error calling split: only 1 values were found"
    );
    assert_eq!(
        err("{{ .Name.X }}"),
        "template: root:1:8: executing \"root\" at <.Name.X>: can't evaluate field X in type interface {}"
    );
    assert_eq!(
        err("{{ $n := .Name }}{{ $n.X }}"),
        "template: root:1:22: executing \"root\" at <$n.X>: can't evaluate field X in type string"
    );
    assert_eq!(
        err("{{ .Name 1 }}"),
        "template: root:1:3: executing \"root\" at <.Name>: Name is not a method but has arguments"
    );
    assert_eq!(
        err("{{ range .Name }}{{ end }}"),
        "template: root:1:9: executing \"root\" at <.Name>: range can't iterate over web"
    );
    assert_eq!(
        err("{{ index .List 5 }}"),
        "template: root:1:3: executing \"root\" at <index .List 5>: error calling index: index out of range: 5"
    );
    assert_eq!(
        err("{{ lt .Name 1 }}"),
        "template: root:1:3: executing \"root\" at <lt .Name 1>: error calling lt: incompatible types for comparison: string and int"
    );
    assert_eq!(
        err("{{ len .Missing }}"),
        "template: root:1:3: executing \"root\" at <len .Missing>: error calling len: reflect: call of reflect.Value.Type on zero Value"
    );
    assert_eq!(
        err("{{ template \"nope\" }}"),
        "template: root:1:12: executing \"root\" at <{{template \"nope\"}}>: template \"nope\" not defined"
    );
    assert_eq!(
        err("{{ nil }}"),
        "template: root:1:3: executing \"root\" at <nil>: nil is not a command"
    );
    assert_eq!(
        err("{{ .Name | .Sub }}"),
        "template: root:1:11: executing \"root\" at <.Sub>: Sub is not a method but has arguments"
    );
    assert_eq!(
        err("{{ 1 2 }}"),
        "template: root:1:3: executing \"root\" at <1>: can't give argument to non-function 1"
    );
}

#[test]
fn parse_once_execute_many() {
    let f = funcs();
    let t = Template::parse("root", "{{ .Path }}", &f).unwrap();
    for p in ["/a", "/b"] {
        let d = Value::map([("Path", Value::str(p))]);
        assert_eq!(t.execute(&d, &f).unwrap(), p);
    }
    let e = Template::parse("root", "{{ nope }}", &f).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Parse);
    let e = t.execute(&Value::str("s"), &f).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Exec);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "{{ if 1 }}".repeat(10_000);
    assert_eq!(
        err(&deep),
        "template: root:1: max expression depth exceeded"
    );
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        err(&parens),
        "template: root:1: max expression depth exceeded"
    );
    let rec = "{{define \"a\"}}{{template \"a\"}}{{end}}{{template \"a\"}}";
    assert!(
        err(rec).ends_with("exceeded maximum template depth (100)"),
        "{}",
        err(rec)
    );
    // Nesting just under the parser's bound, inside a recursive template, on a thread with
    // the 2 MiB stack tokio's workers have.
    let body = format!(
        "{{{{define \"a\"}}}}{}{{{{template \"a\" (print (print (print 1)))}}}}{}{{{{end}}}}{{{{template \"a\"}}}}",
        "{{ if 1 }}".repeat(95),
        "{{ end }}".repeat(95)
    );
    let e = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || run(&body, &data()))
        .unwrap()
        .join()
        .unwrap()
        .unwrap_err();
    assert!(e.ends_with("exceeded maximum nesting depth (200)"), "{e}");
    let parens = format!("{{{{ {}1{} }}}}", "(".repeat(95), ")".repeat(95));
    assert_eq!(ok(&parens), "1");
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("{{".to_string()),
            Just("}}".to_string()),
            Just("{{- ".to_string()),
            Just(" -}}".to_string()),
            Just(".Name".to_string()),
            Just(".List".to_string()),
            Just(".S.Vars".to_string()),
            Just("$x := ".to_string()),
            Just("$x".to_string()),
            Just(" | ".to_string()),
            Just("upper".to_string()),
            Just("split".to_string()),
            Just("printf \"%v\"".to_string()),
            Just("if ".to_string()),
            Just("else".to_string()),
            Just("range ".to_string()),
            Just("with ".to_string()),
            Just("end".to_string()),
            Just("break".to_string()),
            Just("define \"a\"".to_string()),
            Just("template \"a\"".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("\"s\"".to_string()),
            Just("`r`".to_string()),
            Just("1".to_string()),
            Just("'c'".to_string()),
            Just("/* c */".to_string()),
            Just(" ".to_string()),
            Just("\n".to_string()),
            "[ -~]{0,4}".prop_map(|s| s),
            any::<char>().prop_map(|c| c.to_string()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        /// No input makes parsing or executing panic.
        #[test]
        fn never_panics(pieces in proptest::collection::vec(piece(), 0..40)) {
            let text: String = pieces.concat();
            let _ = run(&text, &data());
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
            let _ = run(&text, &data());
        }
    }
}
