//! A Markdown reference of the Kiln resources, generated from the CRD schemas (the same text
//! `kubectl explain` shows). Committed as `docs/reference/crds.md` and checked for drift.

use std::fmt::Write;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde_json::Value;

use crate::crds;

/// Where the generated reference is committed, relative to the repository root.
pub const REFERENCE_PATH: &str = "docs/reference/crds.md";

/// Fields whose schema is an upstream Kubernetes type: documented by a link, not expanded.
const UPSTREAM: &[(&str, &str)] = &[
    (
        "spec.runner.imagePullSecrets",
        "core/v1 LocalObjectReference",
    ),
    ("spec.runner.resources", "core/v1 ResourceRequirements"),
    ("spec.runner.tolerations", "core/v1 Toleration"),
    ("spec.runner.affinity", "core/v1 Affinity"),
    ("spec.runner.volumes", "core/v1 Volume"),
    ("spec.runner.volumeMounts", "core/v1 VolumeMount"),
    ("spec.runner.securityContext", "core/v1 SecurityContext"),
    (
        "spec.runner.podSecurityContext",
        "core/v1 PodSecurityContext",
    ),
    ("spec.runner.env", "core/v1 EnvVar"),
    ("spec.follow.selector", "meta/v1 LabelSelector"),
    ("status.conditions", "meta/v1 Condition"),
];

/// The whole reference, one section per kind.
pub fn reference_markdown() -> String {
    let mut out = String::new();
    out.push_str("<!-- Generated from the Rust types in crds/ (kiln-crds). Do not edit.\n");
    out.push_str(
        "     Regenerate with: UPDATE_CRDS=1 cargo test -p kiln-crds --test drift -->\n\n",
    );
    out.push_str("# Resource reference (`kiln.dev/v1alpha1`)\n\n");
    out.push_str(
        "All Kiln resources are namespaced and belong to the `kiln` category \
         (`kubectl get kiln` lists them all). The same descriptions are available in the \
         cluster with `kubectl explain <kind>.<field>`.\n\n",
    );
    let all = crds();
    for crd in &all {
        let kind = &crd.spec.names.kind;
        let _ = writeln!(out, "- [{kind}](#{})", kind.to_lowercase());
    }
    out.push('\n');
    for crd in &all {
        kind_section(&mut out, crd);
    }
    out
}

fn kind_section(out: &mut String, crd: &CustomResourceDefinition) {
    let names = &crd.spec.names;
    let version = &crd.spec.versions[0];
    let schema = serde_json::to_value(
        version
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("generated CRDs have a schema"),
    )
    .expect("a schema serializes");

    let _ = writeln!(out, "## {}\n", names.kind);
    if let Some(d) = schema["description"].as_str() {
        let _ = writeln!(out, "{d}\n");
    }
    let short = names.short_names.clone().unwrap_or_default().join("`, `");
    let _ = writeln!(
        out,
        "`apiVersion: {}/{}` · plural `{}` · short names `{short}`\n",
        crd.spec.group, version.name, names.plural
    );

    if let Some(fields) = version.selectable_fields.as_ref().filter(|f| !f.is_empty()) {
        let paths: Vec<String> = fields
            .iter()
            .map(|f| format!("`{}`", f.json_path.trim_start_matches('.')))
            .collect();
        let _ = writeln!(
            out,
            "Field selectors (`kubectl get {} --field-selector <field>=<value>`): {}.\n",
            names.plural,
            paths.join(", ")
        );
    }

    if let Some(cols) = &version.additional_printer_columns {
        out.push_str("`kubectl get` columns");
        out.push_str(" (those marked *wide* only with `-o wide`):\n\n");
        out.push_str("| Column | From | Meaning |\n|---|---|---|\n");
        for c in cols {
            let wide = if c.priority.unwrap_or(0) > 0 {
                " *wide*"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "| {}{wide} | `{}` | {} |",
                c.name,
                c.json_path,
                cell(c.description.as_deref().unwrap_or(""))
            );
        }
        out.push('\n');
    }

    for rule in validations(&schema) {
        let _ = writeln!(out, "- Rule on the object: {rule}");
    }
    for part in ["spec", "status"] {
        let node = &schema["properties"][part];
        if node.is_null() {
            continue;
        }
        let _ = writeln!(out, "\n### {} `{part}`\n", names.kind);
        if let Some(d) = node["description"].as_str() {
            let _ = writeln!(out, "{d}\n");
        }
        for rule in validations(node) {
            let _ = writeln!(out, "- Rule: {rule}");
        }
        if !validations(node).is_empty() {
            out.push('\n');
        }
        out.push_str("| Field | Type | Description |\n|---|---|---|\n");
        fields(out, node, part);
    }
    out.push('\n');
}

fn fields(out: &mut String, node: &Value, path: &str) {
    let Some(props) = node["properties"].as_object() else {
        return;
    };
    let required: Vec<&str> = node["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for (name, field) in props {
        let full = format!("{path}.{name}");
        let upstream = UPSTREAM.iter().find(|(p, _)| *p == full).map(|(_, t)| *t);
        let mut desc = cell(field["description"].as_str().unwrap_or(""));
        let mut notes = Vec::new();
        if required.contains(&name.as_str()) {
            notes.push("Required.".to_string());
        }
        if let Some(d) = field.get("default") {
            notes.push(format!("Default `{d}`."));
        }
        if let Some(e) = field["enum"].as_array() {
            let values: Vec<String> = e.iter().map(|v| format!("`{}`", plain(v))).collect();
            notes.push(format!("One of {}.", values.join(", ")));
        }
        for (key, label) in [
            ("minimum", "Minimum"),
            ("maximum", "Maximum"),
            ("minLength", "Minimum length"),
            ("maxLength", "Maximum length"),
            ("minItems", "Minimum items"),
            ("maxItems", "Maximum items"),
            ("maxProperties", "Maximum entries"),
        ] {
            if let Some(v) = field[key].as_f64() {
                notes.push(format!("{label} {}.", v as i64));
            }
        }
        if let Some(p) = field["pattern"].as_str() {
            notes.push(format!("Pattern `{}`.", p.replace('|', "\\|")));
        }
        if let Some(keys) = field["x-kubernetes-list-map-keys"].as_array() {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{}`", plain(k))).collect();
            notes.push(format!("List keyed by {}.", keys.join(", ")));
        }
        for rule in validations(field) {
            notes.push(format!("Rule: {rule}."));
        }
        if !notes.is_empty() {
            if !desc.is_empty() {
                desc.push_str("<br>");
            }
            desc.push_str(&notes.join(" "));
        }
        let ty = type_name(field, upstream);
        let _ = writeln!(out, "| `{full}` | {ty} | {desc} |");
        if upstream.is_some() {
            continue;
        }
        if field["type"] == "array" {
            fields(out, &field["items"], &format!("{full}[]"));
        } else {
            fields(out, field, &full);
        }
    }
}

fn type_name(field: &Value, upstream: Option<&str>) -> String {
    let base = |n: &Value| -> String {
        if n["x-kubernetes-int-or-string"] == true {
            return "int or string".into();
        }
        if n["x-kubernetes-preserve-unknown-fields"] == true && n.get("type").is_none() {
            return "any".into();
        }
        match n["type"].as_str() {
            Some("object")
                if n["x-kubernetes-preserve-unknown-fields"] == true
                    && n.get("properties").is_none() =>
            {
                "map[string]any".into()
            }
            Some("object") if n["additionalProperties"].is_object() => {
                let inner = &n["additionalProperties"];
                let v = if inner["x-kubernetes-preserve-unknown-fields"] == true {
                    "any".to_string()
                } else {
                    inner["type"].as_str().unwrap_or("object").to_string()
                };
                format!("map[string]{v}")
            }
            Some("string") if n["format"] == "date-time" => "time".into(),
            Some(t) => t.to_string(),
            None => "any".into(),
        }
    };
    match (field["type"].as_str(), upstream) {
        (Some("array"), Some(u)) => format!("[]{u}"),
        (_, Some(u)) => u.to_string(),
        (Some("array"), None) => format!("[]{}", base(&field["items"])),
        _ => base(field),
    }
}

fn validations(node: &Value) -> Vec<String> {
    node["x-kubernetes-validations"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    let rule = r["rule"].as_str().unwrap_or("");
                    match r["message"].as_str() {
                        Some(m) => m.to_string(),
                        None => format!("`{rule}`"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

fn plain(v: &Value) -> String {
    v.as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string())
}

/// Make text safe for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace("\n\n", "<br><br>")
        .replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_fields_exist() {
        let schemas: Vec<Value> = crds()
            .iter()
            .map(|c| {
                serde_json::to_value(&c.spec.versions[0].schema).unwrap()["openAPIV3Schema"].clone()
            })
            .collect();
        for (path, _) in UPSTREAM {
            let found = schemas.iter().any(|s| {
                let mut n = s;
                for part in path.split('.') {
                    n = &n["properties"][part];
                }
                n.is_object()
            });
            assert!(found, "{path} is listed as upstream but not in any schema");
        }
    }

    #[test]
    fn reference_lists_every_kind_and_rule() {
        let md = reference_markdown();
        for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
            assert!(md.contains(&format!("## {kind}\n")), "{kind}");
        }
        assert!(md.contains("spec is immutable once created, except cancel and revoked"));
        assert!(md.contains("| `status.sources` | []object |"));
    }
}
