//! `hcp_packer_registry`: HCP Packer's registry block (Packer's
//! `hcl2template/types.build.hcp_packer_registry.go`, `types.packer_config.go`
//! `GetHCPPackerRegistryBlock`, `internal/hcp/registry`), top level or — deprecated — inside
//! a `build` block, with the `HCP_PACKER_*` environment overrides.
//!
//! Kiln decodes and validates it as Packer does (the same errors, at the block) and exposes
//! the result as [`RegistryConfig`]: the bucket a build belongs to, its labels, the
//! channels that follow it and the version fingerprint. The operator labels ImageBuilds with
//! it (`kiln.dev/bucket`, `kiln.dev/fingerprint`); locally nothing is uploaded anywhere.
//! Arguments Packer does not know are ignored, as Packer's decoder (`,remain`) does.

use std::collections::BTreeMap;

use crate::diag::{Diagnostic, Diagnostics, Subject};
use crate::template::{ConfigReader, RawBlock, Template};

pub const LABEL: &str = "hcp_packer_registry";
/// Overrides `bucket_name`.
pub const ENV_BUCKET: &str = "HCP_PACKER_BUCKET_NAME";
/// The version fingerprint (else a new one per run).
pub const ENV_FINGERPRINT: &str = "HCP_PACKER_BUILD_FINGERPRINT";
/// `off`/`0` turns the registry off; any other value turns it on without a block.
pub const ENV_REGISTRY: &str = "HCP_PACKER_REGISTRY";

/// One decoded `hcp_packer_registry` block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistryBlock {
    pub bucket_name: String,
    pub description: String,
    pub bucket_labels: BTreeMap<String, String>,
    pub build_labels: BTreeMap<String, String>,
    pub channels: Vec<String>,
    /// Inside a `build` block (deprecated since Packer 1.12.1).
    pub in_build: bool,
    pub subject: Option<Subject>,
}

/// What a run publishes to the registry, after the environment overrides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegistryConfig {
    /// The bucket: `HCP_PACKER_BUCKET_NAME`, else the block's `bucket_name`, else (one build
    /// block and no top-level registry block) the build block's `name`. Empty: the operator
    /// uses the ImageTemplate's name.
    pub bucket_name: String,
    pub description: String,
    pub bucket_labels: BTreeMap<String, String>,
    pub build_labels: BTreeMap<String, String>,
    /// Channels to move to the new version once it is complete.
    pub channels: Vec<String>,
    /// `HCP_PACKER_BUILD_FINGERPRINT`, if set.
    pub fingerprint: Option<String>,
}

fn valid_bucket(s: &str) -> bool {
    (3..=36).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Decodes one block with the template's variables, locals and data sources in scope.
pub fn decode(t: &Template, b: &RawBlock, in_build: bool) -> (Option<RegistryBlock>, Diagnostics) {
    let env = t.base_env();
    let mut r = ConfigReader::new(&b.body, &env, b.subject(), LABEL);
    // Packer decodes the block with gohcl (into Go strings, maps and slices).
    r.gohcl = true;
    let bucket_name = r.string("bucket_name").unwrap_or_default();
    let description = r.string("description").unwrap_or_default();
    let labels = r.string_map("labels").unwrap_or_default();
    let mut bucket_labels = r.string_map("bucket_labels").unwrap_or_default();
    let build_labels = r.string_map("build_labels").unwrap_or_default();
    let channels = r.strings("channels").unwrap_or_default();
    let keys: Vec<String> = b.body.attrs.iter().map(|a| a.key.clone()).collect();
    r.ignore(&keys.iter().map(String::as_str).collect::<Vec<_>>());
    let idents: std::collections::BTreeSet<&str> =
        b.body.blocks.iter().map(|i| i.ident.as_str()).collect();
    for ident in idents {
        r.blocks(ident);
    }
    let mut diags = r.finish();
    if diags.has_errors() {
        return (None, diags);
    }
    let at = |d: Diagnostic| d.with_subject(b.subject());
    if description.chars().count() > 255 {
        diags.push(at(Diagnostic::error(
            format!("{LABEL}.description should have a maximum length of 255 characters"),
            "",
        )));
        return (None, diags);
    }
    if !bucket_name.is_empty() && bucket_name != "<unknown>" && !valid_bucket(&bucket_name) {
        diags.push(at(Diagnostic::error(
            format!(
                "{LABEL}.bucket_name can only contain between 3 and 36 ASCII letters, numbers and hyphens"
            ),
            "",
        )));
    }
    if !labels.is_empty() && !bucket_labels.is_empty() {
        diags.push(at(Diagnostic::error(
            format!(
                "{LABEL}.labels and {LABEL}.bucket_labels are mutually exclusive; please use the recommended argument {LABEL}.bucket_labels"
            ),
            "",
        )));
        return (None, diags);
    }
    if !labels.is_empty() {
        diags.push(Diagnostic::warning(
            format!(
                "the argument {LABEL}.labels has been deprecated and will be removed in the next minor release; please use {LABEL}.bucket_labels"
            ),
            "",
        ));
        bucket_labels = labels;
    }
    if diags.has_errors() {
        return (None, diags);
    }
    (
        Some(RegistryBlock {
            bucket_name,
            description,
            bucket_labels,
            build_labels,
            channels,
            in_build,
            subject: b.subject(),
        }),
        diags,
    )
}

impl Template {
    /// The `hcp_packer_registry` blocks of a `build` block, `dynamic "hcp_packer_registry"`
    /// expanded (templates switch the registry on and off with `for_each`). Expansion errors
    /// are the build's, reported when it is decoded.
    fn build_registry_blocks(&self, build: &RawBlock) -> Vec<RawBlock> {
        let env = self.base_env();
        let mut out = Vec::new();
        for b in &build.body.blocks {
            if b.ident == LABEL {
                out.push(b.clone());
            } else if b.ident == "dynamic" && b.labels.first().map(String::as_str) == Some(LABEL) {
                out.extend(crate::template::dynamic::expand(b, &env).unwrap_or_default());
            }
        }
        out
    }

    /// Every `hcp_packer_registry` block, decoded: Packer's parse-time errors ("Only one
    /// hcp_packer_registry is allowed" per scope, description length, bucket name, labels).
    /// `validate` reports these.
    pub fn registry_blocks(&self) -> (Vec<RegistryBlock>, Diagnostics) {
        let mut out = Vec::new();
        let mut diags = Diagnostics::new();
        // One block per scope (the template's top level, each build): the first that
        // decodes counts, any after it is an error.
        let mut scope = |blocks: &[RawBlock], in_build: bool| {
            let mut seen = false;
            for b in blocks {
                if seen {
                    diags.push(
                        Diagnostic::error(format!("Only one {LABEL} is allowed"), "")
                            .with_subject(b.subject()),
                    );
                    continue;
                }
                let (block, d) = decode(self, b, in_build);
                diags.extend(d);
                if let Some(block) = block {
                    seen = true;
                    out.push(block);
                }
            }
        };
        scope(&self.registry, false);
        for build in &self.builds {
            scope(&self.build_registry_blocks(build), true);
        }
        (out, diags)
    }

    /// The top-level `hcp_packer_registry` blocks, each with its diagnostics (Packer's
    /// `parseConfig`: one for the whole template, any after the first that decodes is "Only
    /// one … is allowed").
    pub(crate) fn top_registry_diags(&self) -> Vec<(RawBlock, Diagnostics)> {
        let mut seen = false;
        self.registry
            .iter()
            .map(|b| {
                if seen {
                    let d = Diagnostic::error(format!("Only one {LABEL} is allowed"), "")
                        .with_subject(b.subject());
                    return (b.clone(), d.into());
                }
                let (block, d) = decode(self, b, false);
                seen = block.is_some();
                (b.clone(), d)
            })
            .collect()
    }

    /// Whether HCP Packer's registry is on for this template, as Packer decides
    /// (`IsHCPEnabled`): not when `HCP_PACKER_REGISTRY` is `off`/`0`; else when a block
    /// exists, `HCP_PACKER_BUCKET_NAME` is set, or `HCP_PACKER_REGISTRY` is set.
    pub fn registry_enabled(&self, env: &dyn Fn(&str) -> Option<String>) -> bool {
        let flag = env(ENV_REGISTRY);
        if let Some(f) = &flag
            && (f.eq_ignore_ascii_case("off") || f == "0")
        {
            return false;
        }
        let has_block = !self.registry.is_empty()
            || self
                .builds
                .iter()
                .any(|b| !self.build_registry_blocks(b).is_empty());
        has_block || env(ENV_BUCKET).is_some_and(|v| !v.is_empty()) || flag.is_some()
    }

    /// The registry configuration a build publishes with (Packer's
    /// `GetHCPPackerRegistryBlock` plus the bucket's environment and build-block defaults):
    /// `None` when the registry is off. Warns about a block inside `build` (deprecated) and
    /// fails on several blocks, as `packer build` does.
    pub fn registry_config(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Option<RegistryConfig>, Diagnostics), Diagnostics> {
        let (blocks, decoded) = self.registry_blocks();
        if decoded.has_errors() {
            return Err(decoded);
        }
        // The blocks' own warnings were said with the template's (session::evaluate).
        let mut diags = Diagnostics::new();
        if !self.registry_enabled(env) {
            return Ok((None, diags));
        }
        // internal/hcp/registry's NewHCLRegistry: one build block only.
        if self.builds.len() > 1 {
            diags.push(Diagnostic::error(
                "Multiple build blocks",
                "For HCP Packer Registry enabled builds, only one build block can be defined. Please remove any additional build block(s). If this build is not meant for the HCP Packer registry please clear any HCP_PACKER_* environment variables.",
            ));
            return Err(diags);
        }
        let top = blocks.iter().find(|b| !b.in_build);
        let mut chosen: Option<&RegistryBlock> = None;
        for b in blocks.iter().filter(|b| b.in_build) {
            if chosen.is_some() {
                diags.push(multiple());
                continue;
            }
            chosen = Some(b);
            diags.push(
                Diagnostic::warning(
                    format!("Build block level {LABEL} are deprecated"),
                    "Starting with Packer 1.12.1, it is recommended to move it to the top-level configuration instead of within a build block.",
                )
                // Packer's diagnostic has an unset range: `on  line 0:`.
                .at(Subject::default()),
            );
        }
        if chosen.is_some() && top.is_some() {
            diags.push(multiple());
        }
        if diags.has_errors() {
            return Err(diags);
        }
        let block = top.or(chosen).cloned().unwrap_or_default();
        let mut cfg = RegistryConfig {
            bucket_name: block.bucket_name.clone(),
            description: block.description.clone(),
            bucket_labels: block.bucket_labels.clone(),
            build_labels: block.build_labels.clone(),
            channels: block.channels.clone(),
            fingerprint: env(ENV_FINGERPRINT).filter(|v| !v.is_empty()),
        };
        if let Some(b) = env(ENV_BUCKET).filter(|v| !v.is_empty()) {
            cfg.bucket_name = b;
        }
        if top.is_none() && self.builds.len() == 1 {
            let base = self.base_env();
            let build = &self.builds[0];
            let attr = |k: &str| {
                build
                    .body
                    .attr(k)
                    .and_then(|a| base.eval_attr(a).ok())
                    .and_then(|v| v.to_string_lossless())
                    .unwrap_or_default()
            };
            if cfg.bucket_name.is_empty() {
                cfg.bucket_name = attr("name");
            }
            if cfg.description.is_empty() {
                cfg.description = attr("description");
            }
        }
        Ok((Some(cfg), diags))
    }
}

fn multiple() -> Diagnostic {
    Diagnostic::error(
        "Multiple HCP Packer registry block declaration",
        format!(
            "Multiple {LABEL} blocks have been found, only one can be defined in HCL2 templates. Starting with Packer 1.12.1, it is recommended to move it to the top-level configuration instead of within a build block."
        ),
    )
    // Packer's diagnostic has an unset range: `on  line 0:`.
    .at(Subject::default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn load(src: &str) -> Template {
        let (t, d) = Template::from_sources(
            PathBuf::from("."),
            true,
            vec![(PathBuf::from("t.pkr.hcl"), src.to_string())],
        )
        .unwrap();
        assert!(!d.has_errors());
        t
    }

    fn none(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn top_level_block_with_env_overrides() {
        let t = load(
            r#"
hcp_packer_registry {
  bucket_name   = "ubuntu-base"
  description   = "Base"
  bucket_labels = { os = "ubuntu" }
  build_labels  = { "build-time" = "now" }
  channels      = ["dev", "prod"]
  unknown_arg   = 1
}
build { sources = [] }
"#,
        );
        let (cfg, d) = t.registry_config(&none).unwrap();
        assert!(d.is_empty(), "{d:?}");
        let cfg = cfg.unwrap();
        assert_eq!(cfg.bucket_name, "ubuntu-base");
        assert_eq!(cfg.channels, vec!["dev", "prod"]);
        assert_eq!(cfg.bucket_labels["os"], "ubuntu");
        let env = |k: &str| match k {
            ENV_BUCKET => Some("other".to_string()),
            ENV_FINGERPRINT => Some("fp-1".to_string()),
            _ => None,
        };
        let cfg = t.registry_config(&env).unwrap().0.unwrap();
        assert_eq!(cfg.bucket_name, "other");
        assert_eq!(cfg.fingerprint.as_deref(), Some("fp-1"));
        let off = |k: &str| (k == ENV_REGISTRY).then(|| "OFF".to_string());
        assert_eq!(t.registry_config(&off).unwrap().0, None);
    }

    #[test]
    fn packers_errors_at_the_block() {
        let t = load(
            r#"
hcp_packer_registry {
  bucket_name = "no_underscores"
}
"#,
        );
        let (_, d) = t.registry_blocks();
        let e = d.errors().next().unwrap();
        assert_eq!(
            e.summary,
            "hcp_packer_registry.bucket_name can only contain between 3 and 36 ASCII letters, numbers and hyphens"
        );
        assert_eq!(e.subject.as_ref().unwrap().line, 2);
        let t = load(
            r#"
hcp_packer_registry {
  labels        = { a = "b" }
  bucket_labels = { a = "b" }
}
"#,
        );
        let (_, d) = t.registry_blocks();
        assert!(
            d.errors()
                .next()
                .unwrap()
                .summary
                .contains("mutually exclusive")
        );
        let long = "x".repeat(256);
        let t = load(&format!(
            "hcp_packer_registry {{\n description = \"{long}\"\n}}\n"
        ));
        let (_, d) = t.registry_blocks();
        assert_eq!(
            d.errors().next().unwrap().summary,
            "hcp_packer_registry.description should have a maximum length of 255 characters"
        );
    }

    #[test]
    fn in_build_block_is_deprecated_and_names_the_bucket_from_the_build() {
        let t = load(
            r#"
build {
  name = "golden"
  hcp_packer_registry {
    description = "d"
  }
  sources = []
}
"#,
        );
        let (cfg, d) = t.registry_config(&none).unwrap();
        assert_eq!(cfg.unwrap().bucket_name, "golden");
        assert!(
            d.0.iter()
                .any(|w| w.summary == "Build block level hcp_packer_registry are deprecated")
        );
        let t = load(
            r#"
hcp_packer_registry { bucket_name = "abc" }
build {
  hcp_packer_registry { bucket_name = "def" }
  sources = []
}
"#,
        );
        let e = t.registry_config(&none).unwrap_err();
        assert!(
            e.errors()
                .any(|d| d.summary == "Multiple HCP Packer registry block declaration")
        );
    }

    #[test]
    fn dynamic_blocks_switch_the_registry() {
        let src = |each: &str| {
            format!(
                r#"
build {{
  name = "golden"
  dynamic "hcp_packer_registry" {{
    for_each = {each}
    content {{
      bucket_name = "bucket-${{hcp_packer_registry.value}}"
    }}
  }}
  sources = []
}}
"#
            )
        };
        let t = load(&src("[]"));
        assert_eq!(t.registry_config(&none).unwrap().0, None);
        let t = load(&src(r#"["one"]"#));
        let cfg = t.registry_config(&none).unwrap().0.unwrap();
        assert_eq!(cfg.bucket_name, "bucket-one");
    }
}
