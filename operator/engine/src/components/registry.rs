//! The component registry: one table per kind, from Packer's type name to the constructor.
//! A new component is its file(s) plus one line in its table; every list of known names,
//! "did you mean" suggestion and unknown-type error comes from these tables.
//!
//! Every constructor has the same shape, `fn(&mut ConfigReader, &ComponentInfo) ->
//! Option<Box<dyn Kind>>`: it decodes and validates its own block through the reader (which
//! collects positioned errors and warnings and reports arguments nobody read), with no side
//! effects, and returns `None` only when it reported an error. [`Table::decode`] is the one
//! decode path for all four kinds.

use crate::components::{Builder, ComponentInfo, DataSource, PostProcessor, Provisioner};
use crate::diag::{Diagnostic, Diagnostics, Subject};
use crate::template::{ConfigReader, EvalEnv, RawBody};

/// A constructor: decodes a block into a component.
pub type Factory<T> = fn(&mut ConfigReader, &ComponentInfo) -> Option<Box<T>>;

/// The four kinds of component a template names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Builder,
    Provisioner,
    PostProcessor,
    DataSource,
}

impl Kind {
    /// How Packer's messages name the kind.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Builder => "builder",
            Kind::Provisioner => "provisioner",
            Kind::PostProcessor => "post-processor",
            Kind::DataSource => "data",
        }
    }

    fn unknown_summary(self) -> &'static str {
        match self {
            Kind::Builder => "Unknown source type",
            Kind::Provisioner => "Unknown provisioner type",
            Kind::PostProcessor => "Unknown post-processor type",
            Kind::DataSource => "Unknown data source type",
        }
    }
}

/// One kind's table.
pub struct Table<T: ?Sized + 'static> {
    pub kind: Kind,
    pub entries: &'static [(&'static str, Factory<T>)],
}

impl<T: ?Sized + 'static> Table<T> {
    /// The constructor of a type name.
    pub fn get(&self, name: &str) -> Option<Factory<T>> {
        self.entries
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }

    /// Every type name, in table order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(n, _)| *n).collect()
    }

    /// The error for a type name the table lacks, with a suggestion and the known names.
    pub fn unknown(&self, name: &str, subject: Option<Subject>) -> Diagnostic {
        let known = self.names();
        let hint = suggest(name, &known)
            .map(|s| format!(" Did you mean {s:?}?"))
            .unwrap_or_default();
        Diagnostic::error(
            self.kind.unknown_summary(),
            format!(
                "The {} {name:?} is unknown by Kiln.{hint} Kiln has: {}.",
                self.kind.label(),
                known.join(", ")
            ),
        )
        .with_subject(subject)
    }

    /// Decodes one block of type `name`: the component and the warnings, or every error.
    pub fn decode(
        &self,
        name: &str,
        block: Block<'_>,
        info: &ComponentInfo,
    ) -> Result<(Box<T>, Diagnostics), Diagnostics> {
        let Some(factory) = self.get(name) else {
            return Err(self.unknown(name, block.subject).into());
        };
        let mut r = ConfigReader::new(block.body, block.env, block.subject, block.what);
        let component = factory(&mut r, info);
        let diags = r.finish();
        match component {
            Some(c) if !diags.has_errors() => Ok((c, diags)),
            _ => Err(diags),
        }
    }
}

/// A block to decode: its body, the evaluation context, where it is, and how messages name
/// it (`source "null" "a"`).
pub struct Block<'a> {
    pub body: &'a RawBody,
    pub env: &'a EvalEnv,
    pub subject: Option<Subject>,
    pub what: String,
}

/// The constructor of a component that lives behind a cargo feature: its own when Kiln is
/// built with the feature, else [`without_feature`]'s for that feature. The name stays in
/// the table either way, so a template naming it gets "built without the … feature", not
/// "unknown".
macro_rules! gated {
    ("docker", $($path:tt)+) => {{
        #[cfg(feature = "docker")]
        let f = $($path)+;
        #[cfg(not(feature = "docker"))]
        let f = without_docker;
        f
    }};
    ("qemu", $($path:tt)+) => {{
        #[cfg(feature = "qemu")]
        let f = $($path)+;
        #[cfg(not(feature = "qemu"))]
        let f = without_qemu;
        f
    }};
}

/// Reports a component whose cargo feature this Kiln was built without (every argument of
/// its block left unchecked).
pub fn without_feature(r: &mut ConfigReader, feature: &str) {
    r.ignore_all();
    let what = r.block_desc.clone();
    r.error(
        "Component not built in",
        format!(
            "{what} needs Kiln's {feature:?} feature: this kiln was built without the {feature} feature (build it with `--features {feature}`)."
        ),
    );
}

#[cfg(not(feature = "docker"))]
fn without_docker<T: ?Sized>(r: &mut ConfigReader, _: &ComponentInfo) -> Option<Box<T>> {
    without_feature(r, "docker");
    None
}

#[cfg(not(feature = "qemu"))]
fn without_qemu<T: ?Sized>(r: &mut ConfigReader, _: &ComponentInfo) -> Option<Box<T>> {
    without_feature(r, "qemu");
    None
}

/// Builders (`source "TYPE" "name"`).
pub static BUILDERS: Table<dyn Builder> = Table {
    kind: Kind::Builder,
    entries: &[
        ("null", crate::builders::null::new),
        ("file", crate::builders::file::new),
        ("docker", gated!("docker", crate::builders::docker::new)),
        ("qemu", gated!("qemu", crate::builders::qemu::builder::new)),
        #[cfg(feature = "test-builders")]
        (
            "kiln-test-requirements",
            crate::builders::test_requirements::new,
        ),
    ],
};

/// Provisioners.
pub static PROVISIONERS: Table<dyn Provisioner> = Table {
    kind: Kind::Provisioner,
    entries: &[
        ("shell-local", crate::provisioners::shell_local::new),
        ("breakpoint", crate::provisioners::breakpoint::new),
        ("sleep", crate::provisioners::sleep::new),
        ("shell", crate::provisioners::shell::new),
        ("file", crate::provisioners::file::new),
    ],
};

/// Post-processors.
pub static POST_PROCESSORS: Table<dyn PostProcessor> = Table {
    kind: Kind::PostProcessor,
    entries: &[
        ("manifest", crate::postprocessors::manifest::new),
        ("shell-local", crate::postprocessors::shell_local::new),
        ("artifice", crate::postprocessors::artifice::new),
        ("checksum", crate::postprocessors::checksum::new),
        ("compress", crate::postprocessors::compress::new),
        (
            "docker-tag",
            gated!("docker", crate::postprocessors::docker_tag::new),
        ),
        (
            "docker-push",
            gated!("docker", crate::postprocessors::docker_push::new),
        ),
        (
            "docker-save",
            gated!("docker", crate::postprocessors::docker_save::new),
        ),
        (
            "docker-import",
            gated!("docker", crate::postprocessors::docker_import::new),
        ),
        (
            "containerdisk",
            gated!("docker", crate::postprocessors::containerdisk::new),
        ),
        ("provenance", crate::postprocessors::provenance::new),
    ],
};

/// Data sources (`data "TYPE" "name"`).
pub static DATA_SOURCES: Table<dyn DataSource> = Table {
    kind: Kind::DataSource,
    entries: &[
        ("null", crate::datasources::null::new),
        ("http", crate::datasources::http::new),
        (
            crate::datasources::kiln_channel::KIND,
            crate::datasources::kiln_channel::new,
        ),
        (
            "hcp-packer-version",
            crate::datasources::hcp_packer::new_version,
        ),
        (
            "hcp-packer-artifact",
            crate::datasources::hcp_packer::new_artifact,
        ),
        (
            "hcp-packer-iteration",
            crate::datasources::hcp_packer::new_iteration,
        ),
        (
            "hcp-packer-image",
            crate::datasources::hcp_packer::new_image,
        ),
    ],
};

/// The closest known name, for "Did you mean" suggestions.
pub fn suggest(name: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

/// Levenshtein distance in characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_suggestions_come_from_the_tables() {
        // A workspace-wide test build unifies the operator's `test-builders` feature in.
        let names: Vec<&str> = BUILDERS
            .names()
            .into_iter()
            .filter(|n| *n != "kiln-test-requirements")
            .collect();
        assert_eq!(names[..4], ["null", "file", "docker", "qemu"]);
        assert!(PROVISIONERS.get("shell").is_some());
        assert!(POST_PROCESSORS.get("shell").is_none());
        assert_eq!(
            suggest("shel", &PROVISIONERS.names()).as_deref(),
            Some("shell")
        );
        let d = DATA_SOURCES.unknown("htp", None);
        assert_eq!(d.summary, "Unknown data source type");
        assert!(d.detail.contains("Did you mean \"http\"?"), "{}", d.detail);
        assert!(
            d.detail.contains("null, http, kiln-channel"),
            "{}",
            d.detail
        );
    }

    /// A template naming a component whose feature is off gets one clear error (no
    /// "unsupported argument" for each of its arguments), and the names stay in the tables.
    #[test]
    fn a_component_built_without_its_feature_says_so() {
        use crate::communicator::ssh::decode_hcl;
        let errs = decode_hcl(
            "image = \"debian\"\ncommit = true\nchanges { x = 1 }\n",
            |r| without_feature(r, "docker"),
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("this kiln was built without the docker feature"),
            "{errs:?}"
        );
        for name in [
            "docker-tag",
            "docker-push",
            "docker-save",
            "docker-import",
            "containerdisk",
        ] {
            assert!(POST_PROCESSORS.get(name).is_some(), "{name}");
        }
    }

    /// Run with `cargo test -p kiln-engine --no-default-features --lib`.
    #[cfg(not(feature = "docker"))]
    #[test]
    fn docker_components_without_the_feature() {
        use crate::communicator::ssh::decode_hcl;
        let info = ComponentInfo::default();
        let errs = decode_hcl("image = \"debian\"\n", |r| {
            BUILDERS.get("docker").unwrap()(r, &info).is_none()
        })
        .unwrap_err();
        assert!(
            errs[0].contains("built without the docker feature"),
            "{errs:?}"
        );
        let errs = decode_hcl("image = \"r/x\"\n", |r| {
            POST_PROCESSORS.get("containerdisk").unwrap()(r, &info).is_none()
        })
        .unwrap_err();
        assert!(
            errs[0].contains("built without the docker feature"),
            "{errs:?}"
        );
    }
}
