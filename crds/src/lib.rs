//! Kiln's Kubernetes API: the `kiln.dev/v1alpha1` kinds and the CRDs generated from them.
//!
//! * [`ImageTemplate`] — a Packer HCL2 template and default variable values; its status says
//!   what the template declares (sources, builds, variables) or what is wrong with it.
//! * [`ImageBuild`] — one run of a template, executed as an Indexed Job with one completion
//!   per selected source; its status carries phase, kstatus conditions, per-source progress,
//!   artifacts and the Packer manifest.
//! * [`ImageChannel`] — a named pointer to a successful build, pinned or following a label
//!   selector.
//!
//! Conditions are upstream `metav1.Condition`s kept with [`set_condition`]. The CRD
//! manifests come from [`crds`] / [`crds_yaml`]; the copies committed under
//! `charts/kiln/crds/` and `config/crd/bases/` are checked by `tests/drift.rs`
//! (`UPDATE_CRDS=1 cargo test -p kiln-crds` rewrites them).

// Several `printcolumn(type_ = "string", ...)` in one `#[kube(...)]` read to clippy as
// duplicated attributes.
#![allow(clippy::duplicated_attributes)]

pub mod common;
pub mod condition;
pub mod duration;
pub mod image_build;
pub mod image_channel;
pub mod image_template;
pub mod reference;

pub use common::*;
pub use condition::{
    Condition, ConditionStatus, condition_status, find_condition, is_condition_true,
    remove_condition, set_condition,
};
pub use duration::{DurationError, format_duration, parse_duration};
pub use image_build::*;
pub use image_channel::*;
pub use image_template::*;
pub use reference::{REFERENCE_PATH, reference_markdown};

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

/// The header written at the top of every generated CRD file.
pub const GENERATED_HEADER: &str = "# Generated from the Rust types in crds/ (kiln-crds). Do not edit.\n# Regenerate with: UPDATE_CRDS=1 cargo test -p kiln-crds --test drift\n";

/// The CRDs of all Kiln kinds, in a stable order: ImageTemplate, ImageBuild, ImageChannel.
///
/// Descriptions are reflowed (a doc comment's wrapped lines joined into one line per
/// paragraph) so `kubectl explain` wraps them itself.
pub fn crds() -> Vec<CustomResourceDefinition> {
    [ImageTemplate::crd(), ImageBuild::crd(), ImageChannel::crd()]
        .into_iter()
        .map(tidy)
        .collect()
}

/// One CRD as a YAML document (without `---` or header).
pub fn crd_yaml(crd: &CustomResourceDefinition) -> String {
    serde_yaml::to_string(crd).expect("a CustomResourceDefinition serializes to YAML")
}

/// All CRDs as one multi-document YAML stream, in the order of [`crds`], starting with
/// [`GENERATED_HEADER`]. This is what `kiln crds` prints.
pub fn crds_yaml() -> String {
    let mut out = String::from(GENERATED_HEADER);
    for crd in crds() {
        out.push_str("---\n");
        out.push_str(&crd_yaml(&crd));
    }
    out
}

/// The kubebuilder file name of a CRD: `<group>_<plural>.yaml`, for example
/// `kiln.dev_imagebuilds.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}_{}.yaml", crd.spec.group, crd.spec.names.plural)
}

/// Every file generated from the types, as (path relative to the repository root,
/// content): one CRD file per kind in `config/crd/bases/` (kubebuilder layout) and in
/// `charts/kiln/crds/` (Helm installs every file there before the chart's templates), and
/// the Markdown reference at [`REFERENCE_PATH`].
pub fn generated_files() -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in ["config/crd/bases", "charts/kiln/crds"] {
        for crd in crds() {
            let content = format!("{GENERATED_HEADER}---\n{}", crd_yaml(&crd));
            files.push((format!("{dir}/{}", crd_file_name(&crd)), content));
        }
    }
    files.push((REFERENCE_PATH.to_string(), reference_markdown()));
    files
}

fn tidy(crd: CustomResourceDefinition) -> CustomResourceDefinition {
    let mut value = serde_json::to_value(&crd).expect("a CRD serializes to JSON");
    reflow_descriptions(&mut value);
    serde_json::from_value(value).expect("a tidied CRD is still a CRD")
}

/// Join the wrapped lines of each paragraph of every `description` (doc comments wrap at
/// 100 columns; `kubectl explain` wraps by itself). Blank lines and list items are kept.
fn reflow_descriptions(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    serde_json::Value::String(s) if key == "description" => *s = reflow(s),
                    _ => reflow_descriptions(v),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(reflow_descriptions),
        _ => {}
    }
}

fn reflow(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        out.push_str(line);
        if let Some(next) = lines.peek() {
            let keep_break = line.trim().is_empty()
                || next.trim().is_empty()
                || next.starts_with("- ")
                || next.starts_with("* ")
                || next.starts_with(' ')
                || next.starts_with('\t');
            out.push(if keep_break { '\n' } else { ' ' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflow_joins_wrapped_lines_only() {
        assert_eq!(reflow("a\nb\n\nc\n- d\n- e"), "a b\n\nc\n- d\n- e");
        assert_eq!(reflow("one line"), "one line");
        assert_eq!(reflow("x\n  indented"), "x\n  indented");
    }
}
