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
use crate::template::{ConfigReader, EvalEnv, INTERPOLATION_ERROR, RawBody};

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
}

/// One kind's table.
pub struct Table<T: ?Sized + 'static> {
    pub kind: Kind,
    pub entries: &'static [(&'static str, Factory<T>)],
}

/// What a kind of component does with Kiln's own checks ([`ConfigReader::check_error_at`]:
/// options Kiln accepts as Packer's plugin does but cannot honour, values Kiln alone can tell
/// are wrong before running). A builder defers them: the template validates as it does with
/// Packer, and the build fails at its first step naming them ([`DeferredChecks`]). The other
/// kinds report them when the template is validated, beside the plugin's errors.
pub trait OwnChecks {
    const DEFERS: bool;
    /// A component that fails when it runs with these errors, before its own work (`inner`:
    /// the component, when it could be made); `None` for a kind that does not defer.
    fn refusing(inner: Option<Box<Self>>, errors: Vec<String>) -> Option<Box<Self>>;
}

impl OwnChecks for dyn Builder {
    const DEFERS: bool = true;
    fn refusing(inner: Option<Box<Self>>, errors: Vec<String>) -> Option<Box<Self>> {
        Some(Box::new(DeferredChecks { inner, errors }))
    }
}

impl OwnChecks for dyn PostProcessor {
    const DEFERS: bool = true;
    fn refusing(_inner: Option<Box<Self>>, errors: Vec<String>) -> Option<Box<Self>> {
        Some(Box::new(RefusingPostProcessor(errors)))
    }
}

macro_rules! reports_own_checks {
    ($($t:ty),*) => {$(
        impl OwnChecks for $t {
            const DEFERS: bool = false;
            fn refusing(_inner: Option<Box<Self>>, _errors: Vec<String>) -> Option<Box<Self>> {
                None
            }
        }
    )*};
}
reports_own_checks!(dyn Provisioner, dyn DataSource);

/// What a component that Kiln's own checks refused says when it runs.
fn refusal(errors: &[String]) -> String {
    match errors {
        [one] => format!("Kiln cannot run this build: {one}"),
        many => format!(
            "Kiln cannot run this build: {}",
            crate::template::multi_error(many)
        ),
    }
}

/// A builder whose options Kiln's own checks refused: its build fails at its first step
/// with their messages (one, or the SDK's `N error(s) occurred:` list); nothing runs.
pub struct DeferredChecks {
    inner: Option<Box<dyn Builder>>,
    errors: Vec<String>,
}

impl Builder for DeferredChecks {
    fn steps(&self) -> Vec<Box<dyn crate::components::Step>> {
        let mut steps: Vec<Box<dyn crate::components::Step>> =
            vec![Box::new(StepOwnChecks(self.errors.clone()))];
        if let Some(b) = &self.inner {
            steps.extend(b.steps());
        }
        steps
    }
    fn artifact(&self, state: &crate::components::BuildState) -> Option<crate::artifact::Artifact> {
        self.inner.as_ref().and_then(|b| b.artifact(state))
    }
    fn generated_keys(&self) -> Vec<String> {
        self.inner
            .as_ref()
            .map(|b| b.generated_keys())
            .unwrap_or_default()
    }
    fn requirements(&self) -> crate::components::Requirements {
        self.inner
            .as_ref()
            .map(|b| b.requirements())
            .unwrap_or_default()
    }
    fn step_runner(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.step_runner())
    }
    fn deferred_checks(&self) -> Vec<String> {
        self.errors.clone()
    }
}

/// A post-processor whose options Kiln's own checks refused: it fails when it runs.
struct RefusingPostProcessor(Vec<String>);

#[async_trait::async_trait]
impl PostProcessor for RefusingPostProcessor {
    async fn post_process(
        &self,
        _ctx: &crate::components::PostProcessCtx<'_>,
        _input: &crate::artifact::Artifact,
    ) -> Result<crate::components::PostProcessed, crate::postprocessors::PostProcessError> {
        Err(anyhow::anyhow!(refusal(&self.0)).into())
    }
    fn deferred_checks(&self) -> Vec<String> {
        self.0.clone()
    }
}

/// The first step of a [`DeferredChecks`] builder.
struct StepOwnChecks(Vec<String>);

#[async_trait::async_trait]
impl crate::components::Step for StepOwnChecks {
    fn name(&self) -> &str {
        "StepKilnChecks"
    }
    async fn run(
        &mut self,
        state: &mut crate::components::BuildState,
    ) -> crate::components::StepAction {
        state.fail(refusal(&self.0))
    }
}

impl<T: ?Sized + OwnChecks + 'static> Table<T> {
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

    /// The error for a type name the table lacks, in Packer's words (hcl2template's
    /// `initializeBlocks` and `startDatasource`): a suggestion within edit distance 2, else
    /// where to find the plugin (data sources: the known names).
    pub fn unknown(&self, name: &str, subject: Option<Subject>) -> Diagnostic {
        self.unknown_as(self.kind.label(), name, subject)
    }

    /// [`Table::unknown`] for a block Packer names otherwise (`error-cleanup-provisioner`).
    pub fn unknown_as(&self, label: &str, name: &str, subject: Option<Subject>) -> Diagnostic {
        let known = self.names();
        if self.kind == Kind::DataSource {
            // Packer lists its own data sources from a Go map: one rotation of this cycle,
            // from a random start. Kiln prints the rotation that starts with the first in
            // name order, one of Packer's six outputs (its own `kiln-channel` is not
            // listed: a user of Packer's templates never meets it).
            const PACKER_ORDER: &[&str] = &[
                "hcp-packer-artifact",
                "hcp-packer-image",
                "hcp-packer-iteration",
                "hcp-packer-version",
                "http",
                "null",
            ];
            return Diagnostic::error(
                format!("Unknown data type {name}"),
                format!("known data sources: [{}]", PACKER_ORDER.join(" ")),
            )
            .with_subject(subject);
        }
        let label = if self.kind == Kind::Builder {
            "source"
        } else {
            label
        };
        let summary = match self.kind {
            Kind::Builder => format!("Unknown {label} type {name}"),
            _ => format!("Unknown {label} type {}", crate::value::go_quote(name)),
        };
        let detail = if let Some(s) = known.iter().find(|k| edit_distance(name, k) < 3) {
            format!("Did you mean to use {}?", crate::value::go_quote(s))
        } else {
            format!(
                "The {label} {name} is unknown by Packer, and is likely part of a plugin that is not installed.\n\
                 You may find the needed plugin along with installation instructions documented on the Packer integrations page.\n\n\
                 https://developer.hashicorp.com/packer/integrations?filter={}",
                name.split('-').next().unwrap_or(name)
            )
        };
        Diagnostic::error(summary, detail).with_subject(subject)
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
        let block_name = block.name;
        let subject = block.subject.clone();
        let legacy = block.legacy;
        let mut r = self.reader(name, block, info);
        let component = factory(&mut r, info);
        let finished = r.finish_parts();
        let (mut diags, error) = (finished.decoding, finished.error);
        if !legacy && !diags.0.iter().any(|d| d.summary == INTERPOLATION_ERROR) {
            diags = self.failed_preparing(name, block_name, diags, &subject);
        }
        let own_checks = finished.own_checks;
        if !T::DEFERS {
            diags.extend(own_checks.clone());
        }
        if let Some(d) = diags.0.iter().find(|d| d.summary == INTERPOLATION_ERROR) {
            diags = self.interpolation_error(name, block_name, d).into();
        } else if let Some(text) = error {
            // As hcl2template reports a plugin's `Prepare` (`Configure`) error: a builder's
            // and a data source's as the summary; a provisioner's and a post-processor's
            // under "Failed preparing <kind>-block "TYPE" "NAME"".
            diags.push(
                match self.kind {
                    Kind::Builder | Kind::DataSource => Diagnostic::error(text, ""),
                    Kind::Provisioner | Kind::PostProcessor => {
                        Diagnostic::error(self.failed_preparing_summary(name, block_name), text)
                    }
                }
                .with_subject(subject),
            );
        }
        let deferred: Vec<String> = own_checks
            .0
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.detail.clone())
            .collect();
        if T::DEFERS && !diags.has_errors() {
            // (their warnings stay warnings of the template)
            diags.extend(Diagnostics(
                own_checks.0.into_iter().filter(|d| !d.is_error()).collect(),
            ));
            if !deferred.is_empty() {
                // Made or not, the component fails when it runs, with Kiln's reasons.
                if let Some(c) = T::refusing(component, deferred) {
                    return Ok((c, diags));
                }
                return Err(diags);
            }
        }
        match component {
            Some(c) if !diags.has_errors() => Ok((c, diags)),
            _ => Err(diags),
        }
    }

    /// hcldec's phase of [`Table::decode`] alone: the errors of decoding the block against
    /// the component's schema (types, unknown arguments), without the component's own
    /// checks. hcl2template decodes a provisioner's block on its own before the SDK merges
    /// its `override` into the config, so the block must decode without it.
    pub fn spec_errors(&self, name: &str, block: Block<'_>, info: &ComponentInfo) -> Diagnostics {
        let Some(factory) = self.get(name) else {
            return self.unknown(name, block.subject).into();
        };
        let (block_name, subject) = (block.name, block.subject.clone());
        let mut r = self.reader(name, block, info);
        let _ = factory(&mut r, info);
        let decoding = r.finish_parts().decoding;
        // (Templates are rendered by the SDK's Decode, with the override merged.)
        if decoding.0.iter().any(|d| d.summary == INTERPOLATION_ERROR) {
            return Diagnostics::new();
        }
        let errors = self.failed_preparing(name, block_name, decoding, &subject);
        Diagnostics(errors.0.into_iter().filter(|d| d.is_error()).collect())
    }

    /// A reader for the block, with the arguments hcl2template itself decodes set aside
    /// and the component's template context.
    fn reader<'b>(&self, name: &str, block: Block<'b>, info: &ComponentInfo) -> ConfigReader<'b> {
        let mut r = ConfigReader::new(block.body, block.env, block.subject, block.what);
        // Every component's config crosses Packer's plugin RPC (its own components are
        // served by its own binary as plugins too).
        r.rpc_plugin = true;
        // The SDK's shell configs' untagged fields, named as Go names them.
        r.ms_go_names = match (self.kind, name) {
            (Kind::Provisioner, "shell" | "powershell" | "windows-shell") => &[
                ("inline", "Inline"),
                ("script", "Script"),
                ("scripts", "Scripts"),
                ("binary", "Binary"),
            ],
            (Kind::Provisioner | Kind::PostProcessor, "shell-local") => &[
                ("inline", "Inline"),
                ("script", "Script"),
                ("scripts", "Scripts"),
                ("command", "Command"),
            ],
            _ => &[],
        };
        // Every component of Packer's but the sleep provisioner embeds `common.PackerConfig`.
        if !(self.kind == Kind::Provisioner && name == "sleep") {
            r.packer_config_options();
        }
        // hcl2template's own arguments of the block are in the schema hcl's suggestions come
        // from (a misspelt `timout` gets `Did you mean "timeout"?`).
        match self.kind {
            Kind::Provisioner => r.ignore(&[
                "name",
                "only",
                "except",
                "pause_before",
                "max_retries",
                "timeout",
                "override",
            ]),
            Kind::PostProcessor => r.ignore(&["name", "only", "except", "keep_input_artifact"]),
            Kind::Builder | Kind::DataSource => {}
        }
        if self.kind != Kind::DataSource {
            r.interpolation = Some(crate::interpolate::Context::for_component(
                &info.build_name,
                &info.builder_type,
                crate::template::PACKER_VERSION,
            ));
        }
        r
    }

    /// hcl2template's summary for a provisioner or post-processor that failed to prepare:
    /// `Failed preparing provisioner-block "TYPE" "NAME"`.
    fn failed_preparing_summary(&self, type_name: &str, name: &str) -> String {
        format!(
            "Failed preparing {}-block {} {}",
            self.kind.label(),
            crate::value::go_quote(type_name),
            crate::value::go_quote(name)
        )
    }

    /// A provisioner's or post-processor's decoding errors as hcl2template reports them:
    /// hcldec's diagnostics returned by its `HCL2Prepare`, under "Failed preparing …" as Go
    /// prints `hcl.Diagnostics` (the warnings kept as they are).
    fn failed_preparing(
        &self,
        name: &str,
        block_name: &str,
        diags: Diagnostics,
        subject: &Option<Subject>,
    ) -> Diagnostics {
        if !matches!(self.kind, Kind::Provisioner | Kind::PostProcessor) || !diags.has_errors() {
            return diags;
        }
        let errors: Vec<&Diagnostic> = diags.0.iter().filter(|d| d.is_error()).collect();
        let text = crate::diag::go_error_text(&errors);
        let mut out = Diagnostics(diags.0.iter().filter(|d| !d.is_error()).cloned().collect());
        out.push(
            Diagnostic::error(self.failed_preparing_summary(name, block_name), text)
                .with_subject(subject.clone()),
        );
        out
    }

    /// An option's template error as Packer reports a component's failed Prepare: builders'
    /// errors as their own summary, provisioners' and post-processors' under "Failed
    /// preparing provisioner-block …", with the component's own wrapping.
    fn interpolation_error(&self, type_name: &str, name: &str, d: &Diagnostic) -> Diagnostic {
        // Components whose Prepare wraps the SDK's Decode error.
        let message = match (self.kind, type_name) {
            (Kind::Provisioner | Kind::PostProcessor, "shell-local") => {
                format!("Error decoding config: {}", d.detail)
            }
            _ => d.detail.clone(),
        };
        let (summary, detail) = match self.kind {
            Kind::Provisioner | Kind::PostProcessor => {
                (self.failed_preparing_summary(type_name, name), message)
            }
            _ => (message, String::new()),
        };
        Diagnostic::error(summary, detail).with_subject(d.subject.clone())
    }
}

/// A block to decode: its body, the evaluation context, where it is, how messages name it
/// (`source "null" "a"`) and its name (a source's label, a provisioner's `name`).
pub struct Block<'a> {
    pub body: &'a RawBody,
    pub env: &'a EvalEnv,
    pub subject: Option<Subject>,
    pub what: String,
    pub name: &'a str,
    /// From a legacy JSON template (the SDK decodes it: its own words for decoding errors).
    pub legacy: bool,
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
        // Validated as Packer does; they fail when run (Kiln has no WinRM communicator).
        ("powershell", crate::provisioners::powershell::new),
        ("windows-shell", crate::provisioners::windows_shell::new),
        ("windows-restart", crate::provisioners::windows_restart::new),
        ("hcp-sbom", crate::provisioners::hcp_sbom::new),
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

/// Packer's `initializeBlocks`: every source, provisioner, error-cleanup-provisioner and
/// post-processor type of every build block that Kiln lacks, all reported at once (a
/// source at its build block, the others at their own block).
pub fn check_build_types(builds: &[crate::template::build::BuildBlock]) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for b in builds {
        // initializeBlocks: a source's type first, then whether it is declared.
        for s in &b.sources {
            if BUILDERS.get(&s.kind).is_none() {
                diags.push(BUILDERS.unknown(&s.kind, b.subject.clone()));
            } else if let Some(d) = &s.unknown {
                diags.push(d.clone());
            }
        }
        for p in &b.provisioners {
            if PROVISIONERS.get(&p.kind).is_none() {
                diags.push(PROVISIONERS.unknown(&p.kind, p.block.subject()));
            }
        }
        if let Some(p) = &b.error_cleanup
            && PROVISIONERS.get(&p.kind).is_none()
        {
            diags.push(PROVISIONERS.unknown_as(
                "error-cleanup-provisioner",
                &p.kind,
                p.block.subject(),
            ));
        }
        for p in b.post_processors.iter().flatten() {
            if POST_PROCESSORS.get(&p.kind).is_none() {
                diags.push(POST_PROCESSORS.unknown(&p.kind, p.block.subject()));
            }
        }
    }
    diags
}

/// The plugins whose components Kiln has built in, as `required_plugins` names them: the
/// source and the plugin release Kiln follows (a constraint that excludes it is unmet).
/// Packer's own built-in components (`null`, `file`, `shell`, `manifest`…) need no entry.
pub const BUILTIN_PLUGINS: &[(&str, &str)] = &[
    ("github.com/hashicorp/docker", "1.1.4"),
    ("github.com/hashicorp/qemu", "1.1.7"),
];

/// Packer's `DetectPluginBinaries`: every `required_plugins` entry Kiln does not have (at
/// a version its constraint accepts) makes one "Missing plugins" error listing them all, as
/// Packer says of plugins that are not installed (with Packer's words: the same advice a
/// Packer user would get).
/// The built-in plugin a `required_plugins` entry names, with its version: `Ok` when the
/// entry's constraint accepts it (Packer would count it as installed), `Err` when not.
/// `None`: Kiln has no such plugin.
pub fn builtin_plugin(
    p: &crate::template::RequiredPlugin,
) -> Option<Result<&'static str, &'static str>> {
    let (_, version) = BUILTIN_PLUGINS
        .iter()
        // (Packer keeps the source's case: its plugin directory is looked up as written)
        .find(|(source, _)| *source == p.source)?;
    let accepted =
        crate::template::version::Constraint::parse(&p.version).is_ok_and(|c| c.matches(version));
    Some(if accepted { Ok(version) } else { Err(version) })
}

pub fn missing_plugins(t: &crate::template::Template) -> Option<Diagnostic> {
    // A map by plugin in Packer: a plugin required twice is listed once, with the last
    // constraint (Packer lists them in Go map order; Kiln in the template's).
    let mut by_source: Vec<(String, String)> = Vec::new();
    for p in t
        .required_plugins
        .iter()
        .filter(|p| !matches!(builtin_plugin(p), Some(Ok(_))))
    {
        // (keyed and printed as written: Packer keeps the source's case)
        let source = p.source.clone();
        match by_source.iter_mut().find(|(s, _)| *s == source) {
            Some(entry) => entry.1 = p.version.clone(),
            None => by_source.push((source, p.version.clone())),
        }
    }
    let missing: Vec<String> = by_source
        .iter()
        .map(|(source, version)| format!("* {source} {version}\n"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(Diagnostic::error(
        "Missing plugins",
        format!(
            "The following plugins are required, but not installed:\n\n{}\nDid you run packer init for this project ?",
            missing.concat()
        ),
    ))
}

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
        assert_eq!(d.summary, "Unknown data type htp");
        assert_eq!(
            d.detail,
            "known data sources: [hcp-packer-artifact hcp-packer-image hcp-packer-iteration hcp-packer-version http null]"
        );
        // Every data source Packer lists is one Kiln has.
        for n in [
            "hcp-packer-artifact",
            "hcp-packer-image",
            "hcp-packer-iteration",
            "hcp-packer-version",
            "http",
            "null",
        ] {
            assert!(DATA_SOURCES.get(n).is_some(), "{n}");
        }
        let d = PROVISIONERS.unknown("shel", None);
        assert_eq!(d.summary, "Unknown provisioner type \"shel\"");
        assert_eq!(d.detail, "Did you mean to use \"shell\"?");
        let d = BUILDERS.unknown("amazon-ebs", None);
        assert_eq!(d.summary, "Unknown source type amazon-ebs");
        assert!(
            d.detail.ends_with("integrations?filter=amazon"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn required_plugins_kiln_has_are_met_others_are_missing() {
        let template = |plugins: &str| {
            let text = format!("packer {{\n  required_plugins {{\n{plugins}  }}\n}}\n");
            crate::template::Template::from_sources(
                std::path::PathBuf::from("."),
                true,
                vec![(std::path::PathBuf::from("t.pkr.hcl"), text)],
            )
            .unwrap()
            .0
        };
        let met = template(
            "    docker = { source = \"github.com/hashicorp/docker\", version = \">= 1.0.8\" }\n    qemu = { source = \"github.com/hashicorp/qemu\", version = \"~> 1\" }\n",
        );
        assert_eq!(missing_plugins(&met), None);
        let unmet = template(
            "    docker = { source = \"github.com/hashicorp/docker\", version = \">= 2.0.0\" }\n    amazon = { source = \"github.com/hashicorp/amazon\", version = \">= 1.2.0, < 2\" }\n",
        );
        let d = missing_plugins(&unmet).expect("missing");
        assert_eq!(d.summary, "Missing plugins");
        assert_eq!(
            d.detail,
            "The following plugins are required, but not installed:\n\n\
             * github.com/hashicorp/docker >= 2.0.0\n\
             * github.com/hashicorp/amazon >= 1.2.0, < 2\n\n\
             Did you run packer init for this project ?"
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
