//! The chart's README documents every key of values.yaml (a key counts as documented when
//! it, or a map above it, appears in backticks), and values.yaml satisfies the basics of
//! values.schema.json (no key the schema does not know).

use std::path::Path;

use serde_yaml::Value;

fn chart() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../charts/kiln"))
}

fn leaves(prefix: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Mapping(m) if !m.is_empty() => {
            for (k, v) in m {
                let k = k.as_str().expect("string keys");
                let key = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&key, v, out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

#[test]
fn readme_documents_every_value() {
    let values: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart().join("values.yaml")).unwrap())
            .unwrap();
    let readme = std::fs::read_to_string(chart().join("README.md")).unwrap();
    let mut keys = Vec::new();
    leaves("", &values, &mut keys);
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| {
            let parts: Vec<&str> = k.split('.').collect();
            !(1..=parts.len()).any(|n| readme.contains(&format!("`{}`", parts[..n].join("."))))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "charts/kiln/README.md does not document {missing:?}"
    );
}

#[test]
fn schema_knows_every_value() {
    let values: Value =
        serde_yaml::from_str(&std::fs::read_to_string(chart().join("values.yaml")).unwrap())
            .unwrap();
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(chart().join("values.schema.json")).unwrap())
            .unwrap();
    fn check(v: &Value, s: &serde_json::Value, root: &serde_json::Value, at: &str) {
        let s = match s.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => root
                .pointer(r.trim_start_matches('#'))
                .expect("$ref resolves"),
            None => s,
        };
        if let (Value::Mapping(m), Some(props)) = (v, s.get("properties")) {
            for (k, v) in m {
                let k = k.as_str().unwrap();
                let sub = props
                    .get(k)
                    .unwrap_or_else(|| panic!("values.schema.json does not know {at}{k}"));
                check(v, sub, root, &format!("{at}{k}."));
            }
        }
    }
    check(&values, &schema, &schema, "");
}

/// The chart's operator rules (`kiln.rules` in `_helpers.tpl`, plain YAML) are the ones of
/// the kustomize base `config/rbac/role.yaml`: one RBAC model, two packagings.
#[test]
fn chart_rules_match_config_rbac() {
    let helpers = std::fs::read_to_string(chart().join("templates/_helpers.tpl")).unwrap();
    let start = helpers
        .find("{{- define \"kiln.rules\" -}}")
        .expect("kiln.rules");
    let body = &helpers[start..];
    let body = &body[body.find('\n').unwrap() + 1..body.find("{{- end }}").unwrap()];
    let chart_rules: Value = serde_yaml::from_str(body).unwrap();
    let role_yaml = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/rbac/role.yaml"),
    )
    .unwrap();
    let cluster_role = serde_yaml::Deserializer::from_str(&role_yaml)
        .map(|d| <Value as serde::Deserialize>::deserialize(d).unwrap())
        .find(|d| d["kind"] == "ClusterRole")
        .expect("a ClusterRole in config/rbac/role.yaml");
    let sorted = |v: &Value| {
        let mut r: Vec<String> = v
            .as_sequence()
            .expect("a rule list")
            .iter()
            .map(|r| serde_yaml::to_string(r).unwrap())
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        sorted(&chart_rules),
        sorted(&cluster_role["rules"]),
        "charts/kiln kiln.rules and config/rbac/role.yaml differ"
    );
}
