//! Small types shared by more than one kind.

use std::collections::BTreeMap;

use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

/// The API group of every Kiln kind.
pub const GROUP: &str = "kiln.dev";
/// The API version of every Kiln kind.
pub const VERSION: &str = "v1alpha1";
/// `group/version`, as written in `apiVersion`.
pub const API_VERSION: &str = "kiln.dev/v1alpha1";
/// The `kubectl get` category that lists all Kiln objects (`kubectl get kiln`).
pub const CATEGORY: &str = "kiln";

/// Values of template variables, by variable name.
///
/// A value is any JSON value: a string, number, bool, list or object, matching the
/// variable's HCL type (`string`, `number`, `bool`, `list(...)`, `map(...)`, `object(...)`).
pub type VariableValues = BTreeMap<String, serde_json::Value>;

/// One file of a multi-file template, like one `*.pkr.hcl` file in a Packer template
/// directory.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateFile {
    /// File name, used in diagnostics (`file:line:col`) and to order the files. Files
    /// ending in `.pkr.hcl` hold HCL, `.pkrvars.hcl` files hold variable values,
    /// `.pkr.json` files hold the JSON syntax of HCL.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[A-Za-z0-9._-]+$"))]
    pub name: String,
    /// The file's content.
    pub content: String,
}

/// A reference to an ImageTemplate in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// Name of the ImageTemplate, in the same namespace.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// The schema of a variables map: an object whose values are free-form JSON.
///
/// Written as an object preserving unknown fields rather than `additionalProperties` with
/// untyped values: the apiserver cannot give CEL a type for the latter, so no rule (not even
/// `has(self.variables)` on the parent) could mention the field.
pub(crate) fn variables_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "maxProperties": 512,
        "x-kubernetes-preserve-unknown-fields": true
    })
}
