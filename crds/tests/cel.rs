//! The CRDs' CEL rules, evaluated client-side with kube's CEL validator (no API server):
//! creation rules on sample objects, and transition rules on updates. Schema defaults are
//! applied first, as the apiserver does.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kube::core::cel::{
    CompiledSchema, ScopeContext, ValidationErrors, Validator, analyze_rule, compile_schema,
};
use serde_json::{Value, json};

fn schema(kind: &str) -> Value {
    let crd = kiln_crds::crds()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .unwrap();
    let v = serde_json::to_value(crd).unwrap();
    v["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone()
}

/// Each kind's schema, compiled once for all tests.
fn compiled(kind: &str) -> &'static CompiledSchema {
    static COMPILED: OnceLock<BTreeMap<&'static str, CompiledSchema>> = OnceLock::new();
    &COMPILED.get_or_init(|| {
        ["ImageTemplate", "ImageBuild", "ImageChannel"]
            .into_iter()
            .map(|k| (k, compile_schema(&schema(k))))
            .collect()
    })[kind]
}

fn object(kind: &str, name: &str, spec: Value) -> Value {
    json!({
        "apiVersion": "kiln.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    })
}

fn check(kind: &str, obj: &Value, old: Option<&Value>) -> Result<(), ValidationErrors> {
    Validator::new().validate_compiled(compiled(kind), obj, old)
}

fn messages(r: Result<(), ValidationErrors>) -> Vec<String> {
    match r {
        Ok(()) => vec![],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    }
}

fn rejected_with(r: Result<(), ValidationErrors>, needle: &str) {
    let m = messages(r);
    assert!(
        m.iter().any(|m| m.contains(needle)),
        "expected a rejection mentioning {needle:?}, got {m:?}"
    );
}

fn build(spec: Value) -> Value {
    object("ImageBuild", "b", spec)
}

#[test]
fn every_rule_compiles_and_stays_in_scope() {
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let s = schema(kind);
        let compiled = compiled(kind);
        assert!(
            !compiled.has_errors(),
            "{kind}: {:?}",
            compiled.compilation_errors()
        );
        let mut rules = Vec::new();
        collect_rules(&s, &mut rules);
        assert!(!rules.is_empty());
        for rule in rules {
            let warnings = analyze_rule(&rule, compiled, ScopeContext::CrdValidation);
            assert!(warnings.is_empty(), "{kind}: {rule}: {warnings:?}");
        }
    }
}

fn collect_rules(n: &Value, out: &mut Vec<String>) {
    if let Some(rs) = n["x-kubernetes-validations"].as_array() {
        out.extend(rs.iter().map(|r| r["rule"].as_str().unwrap().to_string()));
    }
    if let Some(props) = n["properties"].as_object() {
        props.values().for_each(|p| collect_rules(p, out));
    }
    if n["items"].is_object() {
        collect_rules(&n["items"], out);
    }
}

#[test]
fn template_needs_exactly_one_of_template_and_files() {
    let ok = object("ImageTemplate", "t", json!({"template": "build {}"}));
    assert_eq!(
        messages(check("ImageTemplate", &ok, None)),
        Vec::<String>::new()
    );
    let ok = object(
        "ImageTemplate",
        "t",
        json!({"files": [{"name": "a.pkr.hcl", "content": ""}]}),
    );
    assert!(check("ImageTemplate", &ok, None).is_ok());

    let both = object(
        "ImageTemplate",
        "t",
        json!({"template": "x", "files": [{"name": "a.pkr.hcl", "content": ""}]}),
    );
    rejected_with(
        check("ImageTemplate", &both, None),
        "exactly one of spec.template",
    );
    let neither = object("ImageTemplate", "t", json!({}));
    rejected_with(
        check("ImageTemplate", &neither, None),
        "exactly one of spec.template",
    );
}

#[test]
fn build_needs_exactly_one_template_source() {
    assert!(
        check(
            "ImageBuild",
            &build(json!({"templateRef": {"name": "t"}})),
            None
        )
        .is_ok()
    );
    assert!(
        check(
            "ImageBuild",
            &build(json!({"template": {"template": "build {}"}})),
            None
        )
        .is_ok()
    );
    rejected_with(
        check(
            "ImageBuild",
            &build(json!({"templateRef": {"name": "t"}, "template": {"template": "x"}})),
            None,
        ),
        "exactly one of spec.templateRef and spec.template",
    );
    rejected_with(
        check("ImageBuild", &build(json!({})), None),
        "exactly one of spec.templateRef and spec.template",
    );
    rejected_with(
        check("ImageBuild", &build(json!({"template": {}})), None),
        "exactly one of template and files",
    );
}

#[test]
fn build_only_and_except_are_exclusive() {
    rejected_with(
        check(
            "ImageBuild",
            &build(json!({"templateRef": {"name": "t"}, "only": ["a.*"], "except": ["b.*"]})),
            None,
        ),
        "at most one of spec.only and spec.except",
    );
}

#[test]
fn build_name_is_a_valid_label_value_length() {
    let long = "b".repeat(64);
    let obj = object("ImageBuild", &long, json!({"templateRef": {"name": "t"}}));
    rejected_with(check("ImageBuild", &obj, None), "at most 63 characters");
}

fn full_build() -> Value {
    build(json!({
        "templateRef": {"name": "t"},
        "variables": {"version": "24.04", "sizes": [1, 2]},
        "secretVariables": [{"name": "password", "secretKeyRef": {"name": "s", "key": "k"}}],
        "only": ["qemu.*"],
        "parallelBuilds": 2,
        "onError": "abort",
        "timeout": "1h",
        "retries": 1,
        "runner": {"image": "kiln:1", "nodeSelector": {"a": "b"}}
    }))
}

#[test]
fn build_spec_is_immutable_except_cancel_and_revoked() {
    let old = full_build();
    assert!(check("ImageBuild", &old, Some(&old)).is_ok());

    // cancel and revoked may change.
    let mut new = old.clone();
    new["spec"]["cancel"] = json!(true);
    new["spec"]["revoked"] = json!({"reason": "CVE-2025-0001"});
    assert_eq!(
        messages(check("ImageBuild", &new, Some(&old))),
        Vec::<String>::new()
    );

    // Every other field may not: changed, added or removed.
    let changes: Vec<(&str, Value)> = vec![
        ("templateRef", json!({"name": "other"})),
        ("variables", json!({"version": "25.04"})),
        (
            "secretVariables",
            json!([{"name": "password", "secretKeyRef": {"name": "s2", "key": "k"}}]),
        ),
        ("only", json!(["docker.*"])),
        ("parallelBuilds", json!(3)),
        ("onError", json!("cleanup")),
        ("timeout", json!("2h")),
        ("retries", json!(2)),
        ("runner", json!({"image": "kiln:2"})),
    ];
    for (field, value) in changes {
        let mut new = old.clone();
        new["spec"][field] = value;
        assert!(
            check("ImageBuild", &new, Some(&old)).is_err(),
            "changing spec.{field} was accepted"
        );
    }
    for field in ["variables", "secretVariables", "only", "timeout", "runner"] {
        let mut new = old.clone();
        new["spec"].as_object_mut().unwrap().remove(field);
        rejected_with(check("ImageBuild", &new, Some(&old)), "spec is immutable");
    }
    let mut new = old.clone();
    new["spec"]["except"] = json!(["x"]);
    new["spec"].as_object_mut().unwrap().remove("only");
    rejected_with(check("ImageBuild", &new, Some(&old)), "spec is immutable");

    // Swapping the reference for an inline template.
    let mut new = old.clone();
    new["spec"].as_object_mut().unwrap().remove("templateRef");
    new["spec"]["template"] = json!({"template": "build {}"});
    rejected_with(check("ImageBuild", &new, Some(&old)), "spec is immutable");
}

#[test]
fn cancel_cannot_be_undone() {
    let mut cancelled = full_build();
    cancelled["spec"]["cancel"] = json!(true);
    let mut resumed = cancelled.clone();
    resumed["spec"]["cancel"] = json!(false);
    rejected_with(
        check("ImageBuild", &resumed, Some(&cancelled)),
        "cancel cannot be set back to false",
    );
    // Dropping the field defaults it to false: also refused.
    let mut dropped = cancelled.clone();
    dropped["spec"].as_object_mut().unwrap().remove("cancel");
    rejected_with(
        check("ImageBuild", &dropped, Some(&cancelled)),
        "cancel cannot be set back to false",
    );
    // A revocation can be lifted.
    let mut revoked = full_build();
    revoked["spec"]["revoked"] = json!({"reason": "oops"});
    assert!(check("ImageBuild", &full_build(), Some(&revoked)).is_ok());
}

#[test]
fn defaults_satisfy_the_immutability_rules() {
    // An update that omits defaulted fields (as a client built from an old schema would) is
    // the same object once defaulted.
    let old = build(json!({"templateRef": {"name": "t"}}));
    let mut explicit = old.clone();
    explicit["spec"]["parallelBuilds"] = json!(0);
    explicit["spec"]["onError"] = json!("cleanup");
    explicit["spec"]["retries"] = json!(0);
    explicit["spec"]["cancel"] = json!(false);
    assert!(check("ImageBuild", &explicit, Some(&old)).is_ok());
    assert!(check("ImageBuild", &old, Some(&explicit)).is_ok());
}

#[test]
fn channel_needs_exactly_one_of_build_and_follow() {
    let pinned = object(
        "ImageChannel",
        "c",
        json!({"templateRef": {"name": "t"}, "build": "b"}),
    );
    assert!(check("ImageChannel", &pinned, None).is_ok());
    let follow = object(
        "ImageChannel",
        "c",
        json!({"templateRef": {"name": "t"}, "follow": {"selector": {"matchLabels": {"a": "b"}}}}),
    );
    assert!(check("ImageChannel", &follow, None).is_ok());
    let both = object(
        "ImageChannel",
        "c",
        json!({"templateRef": {"name": "t"}, "build": "b", "follow": {"selector": {}}}),
    );
    rejected_with(
        check("ImageChannel", &both, None),
        "exactly one of spec.build",
    );
    let neither = object("ImageChannel", "c", json!({"templateRef": {"name": "t"}}));
    rejected_with(
        check("ImageChannel", &neither, None),
        "exactly one of spec.build",
    );
    // The channel's target moves freely: promotion is an edit of spec.build.
    let mut moved = pinned.clone();
    moved["spec"]["build"] = json!("b2");
    assert!(check("ImageChannel", &moved, Some(&pinned)).is_ok());
}

#[test]
fn fixtures_pass_the_rules() {
    for (kind, file) in [
        ("ImageTemplate", "imagetemplate.yaml"),
        ("ImageBuild", "imagebuild.yaml"),
        ("ImageBuild", "imagebuild-inline.yaml"),
        ("ImageChannel", "imagechannel.yaml"),
        ("ImageChannel", "imagechannel-follow.yaml"),
    ] {
        let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
        let obj: Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            messages(check(kind, &obj, None)),
            Vec::<String>::new(),
            "{file}"
        );
        assert_eq!(
            messages(check(kind, &obj, Some(&obj))),
            Vec::<String>::new(),
            "{file}"
        );
    }
}
