//! The generated CRDs, pinned: names, printer columns, CEL rules, list markers, defaults and
//! a structural schema. A failure here means the API changed: make sure it was meant to.

use std::sync::OnceLock;

use serde_json::{Value, json};

fn crd(kind: &str) -> Value {
    static CRDS: OnceLock<Vec<Value>> = OnceLock::new();
    CRDS.get_or_init(|| {
        kiln_crds::crds()
            .into_iter()
            .map(|c| serde_json::to_value(c).unwrap())
            .collect()
    })
    .iter()
    .find(|c| c["spec"]["names"]["kind"] == kind)
    .unwrap_or_else(|| panic!("no CRD for {kind}"))
    .clone()
}

fn version(kind: &str) -> Value {
    let crd = crd(kind);
    let versions = crd["spec"]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 1);
    versions[0].clone()
}

fn schema(kind: &str) -> Value {
    version(kind)["schema"]["openAPIV3Schema"].clone()
}

/// The schema node at a dotted path of properties (`spec.runner.image`); `[]` steps into
/// list items.
fn node(root: &Value, path: &str) -> Value {
    let mut n = root;
    for part in path.split('.') {
        let (name, items) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        n = &n["properties"][name];
        assert!(!n.is_null(), "no property {part} in {path}");
        if items {
            n = &n["items"];
        }
    }
    n.clone()
}

fn rules(node: &Value) -> Vec<String> {
    node["x-kubernetes-validations"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| r["rule"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn columns(kind: &str) -> Vec<(String, String)> {
    version(kind)["additionalPrinterColumns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["jsonPath"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn has_column(kind: &str, name: &str, path: &str) -> bool {
    columns(kind).iter().any(|(n, p)| n == name && p == path)
}

const READY_STATUS: &str = r#".status.conditions[?(@.type=="Ready")].status"#;

#[test]
fn names_scope_and_group() {
    for (kind, plural, short) in [
        ("ImageTemplate", "imagetemplates", vec!["imgtpl"]),
        ("ImageBuild", "imagebuilds", vec!["imgbuild", "ib"]),
        ("ImageChannel", "imagechannels", vec!["imgch"]),
    ] {
        let c = crd(kind);
        assert_eq!(c["metadata"]["name"], format!("{plural}.kiln.dev"));
        assert_eq!(c["spec"]["group"], "kiln.dev");
        assert_eq!(c["spec"]["scope"], "Namespaced");
        assert_eq!(c["spec"]["names"]["plural"], plural);
        assert_eq!(c["spec"]["names"]["shortNames"], json!(short));
        assert_eq!(c["spec"]["names"]["categories"], json!(["kiln"]));
        let v = version(kind);
        assert_eq!(v["name"], "v1alpha1");
        assert_eq!(v["served"], true);
        assert_eq!(v["storage"], true);
        assert_eq!(v["subresources"], json!({"status": {}}), "{kind}");
    }
}

#[test]
fn printer_columns() {
    assert!(has_column("ImageTemplate", "Ready", READY_STATUS));
    assert!(has_column("ImageTemplate", "Sources", ".status.sources"));
    assert!(has_column(
        "ImageTemplate",
        "Age",
        ".metadata.creationTimestamp"
    ));

    let names: Vec<_> = columns("ImageBuild").into_iter().map(|c| c.0).collect();
    assert_eq!(
        names,
        [
            "Phase", "Template", "Sources", "Duration", "Reason", "Started", "Age"
        ]
    );
    assert!(has_column("ImageBuild", "Phase", ".status.phase"));
    assert!(has_column(
        "ImageBuild",
        "Template",
        ".spec.templateRef.name"
    ));
    assert!(has_column(
        "ImageBuild",
        "Sources",
        ".status.sourcesSummary"
    ));
    assert!(has_column("ImageBuild", "Duration", ".status.duration"));

    assert!(has_column("ImageChannel", "Build", ".status.currentBuild"));
    assert!(has_column("ImageChannel", "Ready", READY_STATUS));
    assert!(has_column(
        "ImageChannel",
        "Age",
        ".metadata.creationTimestamp"
    ));

    // Every column points at a field that exists in the schema.
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let s = schema(kind);
        for (name, path) in columns(kind) {
            if path.starts_with(".metadata") {
                continue;
            }
            let dotted = path
                .trim_start_matches('.')
                .split('[')
                .next()
                .unwrap()
                .to_string();
            let n = node(&s, &dotted);
            assert!(
                n.is_object(),
                "{kind} column {name}: {path} is not in the schema"
            );
        }
    }
}

#[test]
fn image_template_rules() {
    let s = schema("ImageTemplate");
    assert_eq!(
        rules(&s["properties"]["spec"]),
        ["has(self.template) != has(self.files)"]
    );
    assert_eq!(node(&s, "spec.files")["minItems"], 1);
    assert_eq!(node(&s, "spec.template")["minLength"], 1);
    assert_eq!(
        node(&s, "spec.historyLimits")["default"],
        json!({"successful": 10, "failed": 5})
    );
}

#[test]
fn image_build_spec_rules() {
    let s = schema("ImageBuild");
    assert_eq!(rules(&s), ["self.metadata.name.size() <= 63"]);

    let spec = &s["properties"]["spec"];
    let spec_rules = rules(spec);
    assert_eq!(spec_rules[0], "has(self.templateRef) != has(self.template)");
    assert_eq!(spec_rules[1], "!has(self.only) || !has(self.except)");
    // Presence of every immutable optional field is fixed.
    let presence = &spec_rules[2];
    for f in [
        "templateRef",
        "template",
        "variables",
        "secretVariables",
        "only",
        "except",
        "timeout",
        "runner",
    ] {
        assert!(
            presence.contains(&format!("has(self.{f}) == has(oldSelf.{f})")),
            "presence rule misses {f}"
        );
    }
    assert!(!presence.contains("cancel") && !presence.contains("revoked"));

    // Every field but cancel and revoked is immutable; cancel only goes false -> true.
    let props = spec["properties"].as_object().unwrap();
    for (name, field) in props {
        let r = rules(field);
        match name.as_str() {
            "cancel" => assert_eq!(r, ["self || !oldSelf"]),
            "revoked" => assert!(r.is_empty(), "revoked must stay mutable"),
            _ => assert!(
                r.contains(&"self == oldSelf".to_string()),
                "spec.{name} is not immutable"
            ),
        }
    }
    assert!(props.contains_key("cancel") && props.contains_key("revoked"));

    assert_eq!(
        rules(&node(&s, "spec.template")),
        ["has(self.template) != has(self.files)", "self == oldSelf"]
    );
}

#[test]
fn image_build_spec_fields() {
    let s = schema("ImageBuild");
    assert_eq!(node(&s, "spec.onError")["default"], "cleanup");
    assert_eq!(
        node(&s, "spec.onError")["enum"],
        json!(["cleanup", "abort", "run-cleanup-provisioner"])
    );
    assert_eq!(node(&s, "spec.parallelBuilds")["default"], 0);
    assert_eq!(node(&s, "spec.parallelBuilds")["minimum"], 0.0);
    assert_eq!(node(&s, "spec.retries")["minimum"], 0.0);
    assert_eq!(node(&s, "spec.cancel")["default"], false);
    assert_eq!(
        node(&s, "spec.timeout")["pattern"],
        r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$"
    );
    // Retention's times to live: the same durations, checked by the API server.
    let t = schema("ImageTemplate");
    for f in ["ttlAfterSucceeded", "ttlAfterFailed"] {
        assert_eq!(
            node(&t, &format!("spec.historyLimits.{f}"))["pattern"],
            r"^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$",
            "{f}"
        );
    }
    // Free-form values, but a typed object: CEL can compare it (immutability).
    let vars = node(&s, "spec.variables");
    assert_eq!(vars["type"], "object");
    assert_eq!(vars["x-kubernetes-preserve-unknown-fields"], true);
    assert!(vars.get("additionalProperties").is_none());
    assert_eq!(
        node(&s, "spec.secretVariables[].secretKeyRef")["required"],
        json!(["key", "name"])
    );
    // Runner settings are the upstream Kubernetes types.
    for f in [
        "image",
        "imagePullPolicy",
        "resources",
        "nodeSelector",
        "tolerations",
        "affinity",
        "volumes",
        "volumeMounts",
        "securityContext",
        "serviceAccountName",
        "env",
    ] {
        assert!(node(&s, &format!("spec.runner.{f}")).is_object());
    }
    assert!(node(&s, "spec.runner.volumes[].hostPath.path").is_object());
    assert_eq!(
        node(&s, "spec.runner.resources.limits")["additionalProperties"]["x-kubernetes-int-or-string"],
        true
    );
}

#[test]
fn optional_enum_fields_keep_their_own_description() {
    let s = schema("ImageBuild");
    let phase = node(&s, "status.phase");
    assert!(
        phase["description"]
            .as_str()
            .unwrap()
            .starts_with("Where the build is"),
        "{phase}"
    );
    assert_eq!(
        phase["enum"],
        json!(["Pending", "Running", "Succeeded", "Failed", "Cancelled"])
    );
    assert!(
        node(&s, "spec.runner.imagePullPolicy")["description"]
            .as_str()
            .unwrap()
            .starts_with("When to pull")
    );
}

#[test]
fn image_channel_rules() {
    let s = schema("ImageChannel");
    assert_eq!(
        rules(&s["properties"]["spec"]),
        ["has(self.build) != has(self.follow)"]
    );
    assert_eq!(node(&s, "spec.historyLimit")["default"], 10);
    assert_eq!(s["properties"]["spec"]["required"], json!(["templateRef"]));
    assert!(node(&s, "spec.follow.selector.matchLabels").is_object());
}

#[test]
fn list_map_markers() {
    let cases = [
        ("ImageTemplate", "status.conditions", "type"),
        ("ImageTemplate", "status.variables", "name"),
        ("ImageTemplate", "spec.files", "name"),
        ("ImageBuild", "status.conditions", "type"),
        ("ImageBuild", "status.sources", "name"),
        ("ImageBuild", "spec.secretVariables", "name"),
        ("ImageBuild", "spec.template.files", "name"),
        ("ImageChannel", "status.conditions", "type"),
        ("ImageChannel", "status.artifacts", "source"),
    ];
    for (kind, path, key) in cases {
        let n = node(&schema(kind), path);
        assert_eq!(n["x-kubernetes-list-type"], "map", "{kind} {path}");
        assert_eq!(
            n["x-kubernetes-list-map-keys"],
            json!([key]),
            "{kind} {path}"
        );
        // A list-map key must be required in each item.
        let required = n["items"]["required"].as_array().unwrap();
        assert!(
            required.contains(&json!(key)),
            "{kind} {path}: {key} not required"
        );
    }
}

#[test]
fn conditions_are_metav1_conditions() {
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let item = node(&schema(kind), "status.conditions[]");
        assert_eq!(
            item["required"],
            json!(["lastTransitionTime", "message", "reason", "status", "type"])
        );
        assert_eq!(
            item["properties"]["observedGeneration"]["type"], "integer",
            "{kind}"
        );
        assert!(node(&schema(kind), "status.observedGeneration").is_object());
    }
}

#[test]
fn status_source_entry_shape() {
    let s = schema("ImageBuild");
    let entry = node(&s, "status.sources[]");
    for f in [
        "name",
        "index",
        "phase",
        "step",
        "provisioner",
        "startedAt",
        "finishedAt",
        "artifacts",
        "manifestEntry",
        "error",
        "logTail",
    ] {
        assert!(entry["properties"][f].is_object(), "status.sources[].{f}");
    }
    // The manifest entry keeps Packer's snake_case keys.
    let manifest = node(&s, "status.sources[].manifestEntry");
    let keys: Vec<_> = manifest["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for k in [
        "name",
        "builder_type",
        "build_time",
        "files",
        "artifact_id",
        "packer_run_uuid",
        "custom_data",
    ] {
        assert!(keys.contains(&k.to_string()), "manifestEntry.{k}");
    }
}

/// Every node has a type (or is explicitly int-or-string / preserve-unknown-fields), and
/// nothing uses `$ref`, `anyOf`, `oneOf`, `allOf` or `not` with types: the apiserver's rules
/// for a structural schema.
fn check_structural(n: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(obj) = n.as_object() else {
        problems.push(format!("{path}: not an object"));
        return;
    };
    let typed = obj.contains_key("type")
        || obj.get("x-kubernetes-int-or-string") == Some(&json!(true))
        || obj.get("x-kubernetes-preserve-unknown-fields") == Some(&json!(true));
    if !typed {
        problems.push(format!("{path}: no type"));
    }
    for k in [
        "$ref",
        "anyOf",
        "oneOf",
        "allOf",
        "not",
        "definitions",
        "$defs",
    ] {
        if obj.contains_key(k) {
            problems.push(format!("{path}: uses {k}"));
        }
    }
    if obj.get("type") == Some(&json!("array")) && !obj.contains_key("items") {
        problems.push(format!("{path}: array without items"));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            check_structural(v, &format!("{path}.{k}"), problems);
        }
    }
    if let Some(items) = obj.get("items") {
        check_structural(items, &format!("{path}[]"), problems);
    }
    if let Some(ap) = obj.get("additionalProperties").filter(|v| v.is_object()) {
        check_structural(ap, &format!("{path}{{}}"), problems);
    }
}

#[test]
fn schemas_are_structural() {
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let mut problems = Vec::new();
        check_structural(&schema(kind), kind, &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

/// Every field carries a description for `kubectl explain`, and ours are one line per
/// paragraph.
fn check_described(n: &Value, path: &str, missing: &mut Vec<String>) {
    if let Some(props) = n["properties"].as_object() {
        for (k, v) in props {
            let p = format!("{path}.{k}");
            match v["description"].as_str() {
                Some(d) if !d.trim().is_empty() => {}
                _ => missing.push(p.clone()),
            }
            check_described(v, &p, missing);
        }
    }
    if n["items"].is_object() {
        check_described(&n["items"], &format!("{path}[]"), missing);
    }
}

#[test]
fn every_field_is_described() {
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let s = schema(kind);
        let mut missing = Vec::new();
        for part in ["spec", "status"] {
            // The embedded Kubernetes types under spec.runner come with upstream docs; check
            // our own fields everywhere else.
            check_described(
                &s["properties"][part],
                &format!("{kind}.{part}"),
                &mut missing,
            );
        }
        assert!(
            missing.is_empty(),
            "fields without a description: {missing:#?}"
        );
        let top = s["properties"]["spec"]["description"].as_str().unwrap();
        assert!(
            !top.contains('\n'),
            "{kind}.spec description not reflowed: {top:?}"
        );
    }
}

#[test]
fn selectable_fields() {
    let paths = |kind: &str| -> Vec<String> {
        version(kind)["selectableFields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["jsonPath"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(
        paths("ImageBuild"),
        [".spec.templateRef.name", ".status.phase"]
    );
    assert_eq!(paths("ImageChannel"), [".spec.templateRef.name"]);
    assert!(paths("ImageTemplate").is_empty());
    // Each points at a scalar field.
    for kind in ["ImageBuild", "ImageChannel"] {
        for p in paths(kind) {
            let n = node(&schema(kind), p.trim_start_matches('.'));
            assert_eq!(n["type"], "string", "{kind} {p}");
        }
    }
}

/// The apiserver cannot give CEL a type for a map whose values have no type, and then no
/// rule may mention the field (found on a real apiserver; kube's client-side CEL does not
/// notice). Free-form maps must be `type: object` + `x-kubernetes-preserve-unknown-fields`.
fn check_cel_typable(n: &Value, path: &str, problems: &mut Vec<String>) {
    if let Some(ap) = n.get("additionalProperties").filter(|v| v.is_object()) {
        if ap.get("type").is_none() && ap["x-kubernetes-int-or-string"] != true {
            problems.push(format!("{path}: additionalProperties without a type"));
        }
        check_cel_typable(ap, &format!("{path}{{}}"), problems);
    }
    if let Some(props) = n["properties"].as_object() {
        for (k, v) in props {
            check_cel_typable(v, &format!("{path}.{k}"), problems);
        }
    }
    if n["items"].is_object() {
        check_cel_typable(&n["items"], &format!("{path}[]"), problems);
    }
}

#[test]
fn cel_can_type_every_field() {
    for kind in ["ImageTemplate", "ImageBuild", "ImageChannel"] {
        let mut problems = Vec::new();
        check_cel_typable(&schema(kind), kind, &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
