//! Template semantics as Packer defines them: blocks, precedence, the locals/data graph,
//! dynamic blocks, source reuse, meta-arguments, errors with positions.

use std::path::Path;

use kiln_engine::diag::Diagnostics;
use kiln_engine::plan::{self, RunOptions};
use kiln_engine::run;
use kiln_engine::session::{self, LoadOptions};
use kiln_engine::template::{Template, VarInputs};
use kiln_engine::value::Value;

mod support;
use support::build::run_template;

fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).unwrap();
    }
    d
}

fn load(path: &Path, inputs: VarInputs) -> Result<Template, Diagnostics> {
    session::load_path(
        path,
        &LoadOptions {
            inputs,
            evaluate_datasources: true,
            ..LoadOptions::default()
        },
    )
    .map(|s| s.template)
}

fn errors(r: Result<Template, Diagnostics>) -> Vec<String> {
    match r {
        Ok(_) => panic!("expected errors"),
        Err(d) => d.errors().map(|e| e.one_line()).collect(),
    }
}

/// Runs every build of a template with a recording UI; returns the UI lines and outcomes.
async fn build(t: &Template) -> (Vec<String>, Vec<run::BuildOutcome>) {
    run_template(t, &RunOptions::default())
        .await
        .unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn directory_loading_reads_pkr_files_in_lexical_order_and_auto_var_files() {
    let d = dir_with(&[
        ("b.pkr.hcl", "locals { from_b = var.x }\n"),
        ("a.pkr.hcl", "variable \"x\" { default = \"def\" }\n"),
        ("x.auto.pkrvars.hcl", "x = \"auto\"\n"),
        ("ignored.hcl", "this is not loaded"),
    ]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    assert_eq!(t.files.len(), 2);
    assert!(t.files[0].name.ends_with("a.pkr.hcl"));
    assert_eq!(t.local_values["from_b"], Value::str("auto"));
    // A single-file target ignores auto var files next to it.
    let t = load(&d.path().join("a.pkr.hcl"), VarInputs::default()).unwrap();
    assert_eq!(t.var_values["x"], Value::str("def"));
}

#[test]
fn json_templates_load_like_hcl() {
    let d = dir_with(&[(
        "t.pkr.json",
        r#"{
  "variable": { "name": { "type": "string", "default": "json" } },
  "source": { "null": { "a": { "communicator": "none" } } },
  "build": { "sources": ["source.null.a"] }
}"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    assert_eq!(t.var_values["name"], Value::str("json"));
    assert_eq!(t.instances().unwrap()[0].full_name, "null.a");
}

#[test]
fn types_convert_and_reject_like_packer() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
variable "n" { type = number }
variable "l" { type = list(string) }
variable "o" {
  type = object({ name = string, size = optional(number, 10) })
}
"#,
    )]);
    let inputs = VarInputs {
        vars: vec![
            ("n".into(), "42".into()),
            ("l".into(), "[\"a\", 1]".into()),
            ("o".into(), "{ name = \"x\" }".into()),
        ],
        ..Default::default()
    };
    let t = load(d.path(), inputs).unwrap();
    assert_eq!(t.var_values["n"], Value::Number(42.0.into()));
    assert_eq!(t.var_values["l"], Value::from(vec!["a", "1"]));
    assert_eq!(
        t.var_values["o"].as_object().unwrap()["size"],
        Value::Number(10.0.into())
    );

    let inputs = VarInputs {
        vars: vec![
            ("n".into(), "many".into()),
            ("l".into(), "[]".into()),
            ("o".into(), "{}".into()),
        ],
        ..Default::default()
    };
    let errs = errors(load(d.path(), inputs));
    assert!(
        errs.iter()
            .any(|e| e.contains("Invalid argument value for -var variable")
                && e.contains("a number is required")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("attribute \"name\" is required")),
        "{errs:?}"
    );
}

#[test]
fn validation_rules_and_their_error_messages() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
variable "size" {
  type    = number
  default = 1
  validation {
    condition     = var.size > 5
    error_message = "The size must be more than 5."
  }
}
"#,
    )]);
    let errs = errors(load(d.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("Invalid value for default variable")
                && e.contains("The size must be more than 5.")),
        "{errs:?}"
    );
    let ok = load(
        d.path(),
        VarInputs {
            vars: vec![("size".into(), "6".into())],
            ..Default::default()
        },
    );
    assert!(ok.is_ok());

    let bad = dir_with(&[(
        "t.pkr.hcl",
        "variable \"a\" {\n  default = 1\n  validation {\n    condition     = var.a > 0\n    error_message = \"not a sentence\"\n  }\n}\n",
    )]);
    let errs = errors(load(bad.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("t.pkr.hcl:5:21: Invalid validation error message")),
        "{errs:?}"
    );
}

#[test]
fn env_is_allowed_only_in_variable_defaults() {
    // SAFETY of the test: a unique variable name read only here.
    let d = dir_with(&[(
        "t.pkr.hcl",
        "variable \"home\" { default = env(\"KILN_TEST_ENV_FN\") }\nlocals { bad = env(\"KILN_TEST_ENV_FN\") }\n",
    )]);
    let errs = errors(load(d.path(), VarInputs::default()));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].contains("t.pkr.hcl:2:16"), "{errs:?}");
    assert!(errs[0].contains("env"), "{errs:?}");
}

#[test]
fn locals_and_data_sources_form_one_graph_and_cycles_are_errors() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
locals { prefix = "p" }
data "null" "first" { input = "${local.prefix}-1" }
locals { second = "${data.null.first.output}-2" }
data "null" "third" { input = "${local.second}-3" }
local "final" {
  expression = upper(data.null.third.output)
  sensitive  = true
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    assert_eq!(t.local_values["final"], Value::str("P-1-2-3"));
    assert!(t.sensitive.contains(&"P-1-2-3".to_string()));

    let c = dir_with(&[(
        "t.pkr.hcl",
        "locals {\n  a = local.b\n  b = local.a\n  ok = 1\n}\n",
    )]);
    let errs = errors(load(c.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("Cycle") && e.contains("local.a") && e.contains("local.b")),
        "{errs:?}"
    );
}

#[test]
fn duplicate_locals_and_sources_are_errors() {
    let d = dir_with(&[
        ("a.pkr.hcl", "locals { x = 1 }\n"),
        ("b.pkr.hcl", "local \"x\" { expression = 2 }\n"),
    ]);
    let errs = errors(load(d.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("Duplicate local definition")),
        "{errs:?}"
    );
    // A source declared twice is found after parsing, as Packer's parseConfig finds it.
    let d = dir_with(&[
        ("a.pkr.hcl", "source \"null\" \"s\" {}\n"),
        ("b.pkr.hcl", "source \"null\" \"s\" {}\n"),
    ]);
    let errs = errors(load(d.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("Duplicate source block")
                && e.contains("previous block declared at")),
        "{errs:?}"
    );
}

#[test]
fn unknown_blocks_and_required_version_and_plugins() {
    let d = dir_with(&[("t.pkr.hcl", "nonsense \"x\" {}\nfoo = 1\n")]);
    let errs = errors(load(d.path(), VarInputs::default()));
    assert!(
        errs.iter()
            .any(|e| e.contains("t.pkr.hcl:1:1: Unsupported block type")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("t.pkr.hcl:2:1: Unsupported argument")),
        "{errs:?}"
    );

    let v = dir_with(&[(
        "t.pkr.hcl",
        "packer { required_version = \"< 1.0.0\" }\nnonsense {}\n",
    )]);
    let errs = errors(load(v.path(), VarInputs::default()));
    assert_eq!(
        errs.len(),
        1,
        "version is checked before anything else: {errs:?}"
    );
    assert!(errs[0].contains("Unsupported Packer Core version"));

    let p = dir_with(&[(
        "t.pkr.hcl",
        "packer {\n  required_plugins {\n    amazon = { source = \"amazon\", version = \">= 1\" }\n    ok = { source = \"github.com/hashicorp/qemu\", version = \"~> 1\" }\n    bad = { source = \"github.com/a/b\", version = \">= 1\", extra = 1 }\n  }\n}\n",
    )]);
    let errs = errors(load(p.path(), VarInputs::default()));
    // Packer's words (`decodeRequiredPluginsBlock`).
    assert!(
        errs.iter().any(|e| e.contains("Failed to parse source")
            && e.contains(
                "A source URL must at least contain a host and a path with 2 components"
            )),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains(
            "required_plugins objects can only contain \"version\" and \"source\" attributes."
        )),
        "{errs:?}"
    );
}

#[test]
fn build_sources_in_every_form_with_renames_and_additions() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
source "null" "base" { communicator = "none" }
source "file" "f" { content = "x" }
build {
  name    = "b"
  sources = ["source.null.base", "null.base"]
}
build {
  source "null.base" { name = "renamed" }
  source "sources.file.f" { target = "out.txt" }
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default());
    // The first build names null.base twice: Packer runs both; the operator refuses the
    // duplicate name.
    let t = t.unwrap();
    let instances = t.instances().unwrap();
    let names: Vec<&str> = instances.iter().map(|i| i.full_name.as_str()).collect();
    assert_eq!(
        names,
        ["b.null.base", "b.null.base", "null.renamed", "file.f"]
    );
    let dup = kiln_engine::template::Template::duplicate_names(&instances);
    assert!(dup.to_string().contains("Duplicate build name"), "{dup}");
    assert_eq!(dup.errors().count(), 1);

    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
source "null" "base" { communicator = "none" }
source "file" "f" { content = "x" }
build {
  source "null.base" { name = "renamed" }
  source "sources.file.f" { target = "out.txt" }
}
build {
  name = "second"
  sources = [source.null.base]
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    let names: Vec<String> = t
        .instances()
        .unwrap()
        .into_iter()
        .map(|i| i.full_name)
        .collect();
    assert_eq!(names, vec!["null.renamed", "file.f", "second.null.base"]);

    let dup = dir_with(&[(
        "t.pkr.hcl",
        "source \"null\" \"a\" { communicator = \"none\" }\nbuild {\n  source \"null.a\" { communicator = \"ssh\" }\n}\n",
    )]);
    // A build that does not decode fails loading, as Packer's parseConfig fails Initialize.
    let err = load(dup.path(), VarInputs::default())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("Duplicate argument"), "{err}");
    assert!(err.contains("t.pkr.hcl line 3, in build:"), "{err}");
}

#[tokio::test]
async fn provisioner_only_except_override_and_build_variables() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
source "null" "one" { communicator = "none" }
source "null" "two" { communicator = "none" }
build {
  name    = "b"
  sources = ["null.one", "null.two"]
  provisioner "shell-local" {
    only   = ["null.one"]
    inline = ["echo only-one"]
  }
  provisioner "shell-local" {
    except = ["null.one"]
    inline = ["echo except-one"]
  }
  provisioner "shell-local" {
    inline = ["echo 'default ${source.name} ${build.name} id=${build.ID} conn=${build.ConnType}'"]
    override = {
      two = { inline = ["echo overridden"] }
    }
  }
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    let (lines, out) = build(&t).await;
    assert!(out.iter().all(|o| o.ok()), "{out:?}");
    let joined = lines.join("\n");
    assert!(joined.contains("only-one"));
    assert_eq!(joined.matches("only-one").count(), 1);
    assert_eq!(joined.matches("except-one").count(), 1);
    assert!(
        // As Packer: `communicator = "none"` leaves the communicator's keys unknown.
        joined.contains("default one b id=Null conn=<unknown>"),
        "{joined}"
    );
    assert!(joined.contains("overridden"), "{joined}");
}

#[tokio::test]
async fn post_processor_chains_keep_and_destroy_like_packer() {
    let d = tempfile::tempdir().unwrap();
    let target = d.path().join("out.txt");
    let listed = d.path().join("listed.txt");
    std::fs::write(&listed, "l").unwrap();
    std::fs::write(
        d.path().join("t.pkr.hcl"),
        format!(
            r#"
source "file" "f" {{
  content = "hello"
  target  = "{}"
}}
build {{
  sources = ["file.f"]
  post-processors {{
    post-processor "artifice" {{
      files               = ["{}"]
      keep_input_artifact = false
    }}
    post-processor "shell-local" {{ inline = ["true"] }}
  }}
}}
"#,
            target.display(),
            listed.display()
        ),
    )
    .unwrap();
    let t = load(d.path(), VarInputs::default()).unwrap();
    let (_, out) = build(&t).await;
    assert!(out[0].ok(), "{out:?}");
    // artifice told not to keep its input: the builder's file is destroyed.
    assert!(!target.exists(), "builder artifact destroyed");
    // shell-local keeps its input (the artifice artifact) and returns it again: Packer lists
    // both, and not the destroyed builder artifact.
    let files: Vec<_> = out[0]
        .artifacts
        .iter()
        .flat_map(|a| a.files.clone())
        .collect();
    assert_eq!(files, vec![listed.clone(), listed.clone()]);
    assert!(
        out[0]
            .artifacts
            .iter()
            .all(|a| a.builder_id == "packer.post-processor.artifice")
    );
}

#[tokio::test]
async fn sensitive_values_are_masked_in_streamed_output_and_errors() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
variable "pw" {
  default   = "hunter2\nsecond-line"
  sensitive = true
}
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" { inline = ["echo pw=${var.pw}", "echo also second-line", "echo ${var.pw} >&2", "exit 3"] }
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    let (lines, out) = build(&t).await;
    let joined = lines.join("\n");
    assert!(!joined.contains("hunter2"), "{joined}");
    assert!(!joined.contains("second-line"), "{joined}");
    assert!(joined.contains("pw=<sensitive>"), "{joined}");
    assert!(!out[0].ok());
}

#[test]
fn dynamic_blocks_expand_in_component_bodies() {
    // The dynamic block's iterator and labels reach the generated blocks.
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
locals { names = ["a", "b"] }
build {
  dynamic "source" {
    for_each = local.names
    iterator = n
    labels   = ["null.x"]
    content { name = "gen-${n.value}-${n.key}" }
  }
}
source "null" "x" { communicator = "none" }
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    let names: Vec<String> = t
        .instances()
        .unwrap()
        .into_iter()
        .map(|i| i.full_name)
        .collect();
    assert_eq!(names, vec!["null.gen-a-0", "null.gen-b-1"]);
}

#[test]
fn validate_time_build_variables_are_unknown_strings_and_data_is_unknown() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
data "null" "d" { input = "x" }
locals { from_data = "v-${data.null.d.output}" }
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" { inline = ["echo ${build.Host}"] }
}
"#,
    )]);
    let session::Session { template: t, .. } = session::load_path(
        d.path(),
        &LoadOptions {
            inputs: VarInputs::default(),
            evaluate_datasources: false,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(t.local_values["from_data"], Value::Unknown);
    let r = plan::prepare(&t, t.instances().unwrap(), &RunOptions::default());
    assert!(r.is_ok());
}

#[tokio::test]
async fn post_processors_see_run_time_build_variables() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  name    = "named"
  sources = ["null.a"]
  post-processor "shell-local" {
    inline = ["echo 'pp sees ${build.ID} ${build.name} ${build.ConnType} ${build.PackerRunUUID}'"]
  }
}
"#,
    )]);
    let t = load(d.path(), VarInputs::default()).unwrap();
    let (lines, out) = build(&t).await;
    assert!(out[0].ok(), "{out:?}");
    assert!(
        // As Packer: the null builder's artifact gives post-processors `ID` only.
        lines
            .iter()
            .any(|l| l == "pp sees Null named <unknown> <unknown>"),
        "{lines:?}"
    );
}

#[test]
fn only_and_except_together_are_an_error_on_provisioners_and_post_processors() {
    let d = dir_with(&[(
        "t.pkr.hcl",
        r#"
source "null" "a" { communicator = "none" }
build {
  sources = ["null.a"]
  provisioner "shell-local" {
    inline = ["true"]
    only   = ["null.a"]
    except = ["null.b"]
  }
  post-processor "manifest" {
    only   = ["null.a"]
    except = ["null.b"]
  }
}
"#,
    )]);
    let err = load(d.path(), VarInputs::default())
        .map(|_| ())
        .unwrap_err();
    let msgs: Vec<String> = err.errors().map(|e| e.one_line()).collect();
    // hcl2template's `OnlyExcept.Validate`, in its words and without a range.
    assert_eq!(
        msgs, ["only one of 'only' or 'except' may be specified"; 2],
        "{msgs:?}"
    );
}

/// The SDK's Prepare-time interpolation in the qemu builder's options, as packer-plugin-qemu
/// 1.1.7 reports it (checked by hand: the differential suite runs Packer without plugins):
/// `vm_name` and `output_directory` are rendered, `qemuargs` and `boot_command` only checked
/// (the builder renders them when it runs).
#[test]
fn qemu_options_interpolate_as_the_plugin() {
    let template = |vm_name: &str, arg: &str| {
        format!(
            r#"
source "qemu" "vm" {{
  iso_url          = "file:///dev/null"
  iso_checksum     = "none"
  communicator     = "none"
  vm_name          = "{vm_name}"
  output_directory = "out-{{{{ build_name }}}}"
  qemuargs         = [["-name", "{arg}"]]
  boot_command     = ["{{{{ .HTTPIP }}}}<enter>"]
}}
build {{
  sources = ["source.qemu.vm"]
}}
"#
        )
    };
    let prepare = |text: String| {
        let d = dir_with(&[("t.pkr.hcl", &text)]);
        let t = load(d.path(), VarInputs::default()).unwrap();
        plan::prepare(&t, t.instances().unwrap(), &RunOptions::default())
            .map(|_| ())
            .map_err(|d| d.errors().map(|e| e.summary.clone()).collect::<Vec<_>>())
    };
    assert_eq!(
        prepare(template("{{ build_name }}.qcow2", "{{ .Name }}")),
        Ok(())
    );
    assert_eq!(
        prepare(template("{{ build_name }}-{{ nope }}", "{{ .Name }}")),
        Err(vec![
            "invalid 'vm_name': template: root:1: function \"nope\" not defined in:\n\n{{ build_name }}-{{ nope }}".to_string()
        ])
    );
    assert_eq!(
        prepare(template("x", "{{ .Name }}-{{ nope }}")),
        Err(vec![
            "invalid 'qemuargs': template: root:1: function \"nope\" not defined in:\n\n{{ .Name }}-{{ nope }}".to_string()
        ])
    );
}
