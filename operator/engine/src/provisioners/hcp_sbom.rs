//! `hcp-sbom`: Packer's built-in provisioner that fetches a software bill of materials from
//! the machine (`source`), checks it is an SPDX or CycloneDX JSON document, keeps it for the
//! build (HCP Packer's registry stores it with the version: in Kiln, the build's
//! [`Sbom`]s) and optionally copies it to `destination`.
//!
//! As Packer's provisioner and its core wrapper (`SBOMInternalProvisioner`) do together:
//! the provisioner reports its own failures (download, format, destination) as errors and
//! returns success, and the wrapper then fails the build when nothing was kept ("malformed
//! packer SBOM output from file …: EOF"), naming the temporary file in the working directory
//! where Packer's provisioner hands the SBOM over. A failure after the SBOM was kept (the
//! copy to `destination`) lets the build go on.
//!
//! `auto_generate` makes Packer download its own latest release from releases.hashicorp.com,
//! upload it to the machine and run `packer sbom-generate` (Syft) there. Kiln detects the
//! machine's system as Packer does, then says it cannot generate the SBOM itself (see
//! docs/templates.md) and the build ends as Packer's does when that download fails.

use async_trait::async_trait;

use crate::communicator::Collect;
use crate::components::{ComponentInfo, ProvisionCtx, Provisioner, Sbom, SbomFormat};
use crate::provisioners::ProvisionError;
use crate::template::ConfigReader;
use crate::value::go_quote;

/// The provisioner's default `execute_command` with `auto_generate`.
pub const DEFAULT_EXECUTE_COMMAND: &str =
    "chmod +x {{.Path}} && sudo {{.Path}} sbom-generate {{.Args}} {{.ScanPath}} > {{.Output}}";

/// The options, as the provisioner's `Prepare` leaves them.
#[derive(Clone, Debug, Default)]
pub struct HcpSbomConfig {
    pub source: String,
    pub destination: String,
    pub sbom_name: String,
    pub auto_generate: bool,
    pub scanner_args: Vec<String>,
    pub scanner_url: String,
    pub scanner_checksum: String,
    pub scan_path: String,
    pub execute_command: String,
    pub elevated_user: String,
    pub elevated_password: String,
}

/// `^[0-9A-Za-z-]{3,36}$`, the provisioner's `sbomFormatRegexp` (its error message also
/// allows `_`; the expression does not).
fn valid_sbom_name(name: &str) -> bool {
    (3..=36).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl HcpSbomConfig {
    /// Decodes the block and checks it as the provisioner's `Prepare` does, in its order.
    pub fn read(r: &mut ConfigReader) -> HcpSbomConfig {
        r.packer_config_options();
        r.render_later(&["execute_command"]);
        let s = |r: &mut ConfigReader, k: &str| r.string(k).unwrap_or_default();
        let mut c = HcpSbomConfig {
            source: s(r, "source"),
            destination: s(r, "destination"),
            sbom_name: s(r, "sbom_name"),
            auto_generate: r.bool("auto_generate").unwrap_or(false),
            scanner_args: r.strings("scanner_args").unwrap_or_default(),
            scanner_url: s(r, "scanner_url"),
            scanner_checksum: s(r, "scanner_checksum"),
            scan_path: s(r, "scan_path"),
            execute_command: s(r, "execute_command"),
            elevated_user: s(r, "elevated_user"),
            elevated_password: s(r, "elevated_password"),
        };
        if !c.source.is_empty() && c.auto_generate {
            r.prepare_error(
                "source and auto_generate are mutually exclusive; use either source for \
                 pre-generated SBOMs or auto_generate to create them",
            );
        }
        if c.auto_generate {
            if c.scan_path.is_empty() {
                c.scan_path = "/".into();
            }
            if c.scanner_args.is_empty() {
                c.scanner_args = vec!["-o".into(), "cyclonedx-json".into()];
            }
            if c.execute_command.is_empty() {
                c.execute_command = DEFAULT_EXECUTE_COMMAND.into();
            }
            if !c.scanner_checksum.is_empty() && c.scanner_url.is_empty() {
                r.prepare_error(
                    "scanner_checksum requires scanner_url to be specified (note: both fields \
                     are deprecated and ignored)",
                );
            }
            if c.elevated_user.is_empty() && !c.elevated_password.is_empty() {
                r.prepare_error("elevated_user must be specified if elevated_password is provided");
            }
        } else if c.source.is_empty() {
            r.prepare_error("source must be specified when auto_generate is not enabled");
        }
        // A name still holding a legacy template's unrendered `<no value>` is let through:
        // Packer prepares provisioners twice and checks the name only once it can be known.
        if !c.sbom_name.is_empty()
            && !valid_sbom_name(&c.sbom_name)
            && !c.sbom_name.contains("<no value>")
        {
            r.prepare_error(format!(
                "`sbom_name` {} doesn't match the expected format, it must contain between 3 \
                 and 36 characters, all from the following set: [A-Za-z0-9_-]",
                go_quote(&c.sbom_name)
            ));
        }
        c
    }
}

pub struct HcpSbom {
    pub config: HcpSbomConfig,
}

pub fn new(r: &mut ConfigReader, _info: &ComponentInfo) -> Option<Box<dyn Provisioner>> {
    Some(Box::new(HcpSbom {
        config: HcpSbomConfig::read(r),
    }))
}

/// Packer's `formatUIWarning`: yellow unless `PACKER_NO_COLOR` is set (whatever `-color`).
fn ui_warning(message: &str) -> String {
    if std::env::var_os("PACKER_NO_COLOR").is_some_and(|v| !v.is_empty()) {
        format!("WARNING: {message}")
    } else {
        format!("\x1b[33mWARNING:\x1b[0m {message}")
    }
}

impl HcpSbom {
    /// The provisioner proper: `Some(sbom)` when it kept one (Packer's provisioner wrote its
    /// hand-over file). Its failures are said on the UI and are not errors.
    async fn fetch(&self, ctx: &ProvisionCtx<'_>) -> Option<Sbom> {
        let c = &self.config;
        if !c.auto_generate {
            let mut data: Vec<u8> = Vec::new();
            if let Err(e) = ctx.comm.download(&c.source, &mut data).await {
                ctx.ui.error(format!("Failed to download SBOM file: {e}"));
                ctx.ui.error("Build will continue without SBOM");
                return None;
            }
            return self.keep(ctx, data, "Build will continue without SBOM");
        }
        ctx.ui.say("Automatic SBOM generation enabled");
        if !c.scanner_url.is_empty() {
            ctx.ui.say(ui_warning(
                "'scanner_url' is deprecated and ignored. This field will be removed in a future version.",
            ));
        }
        if !c.scanner_checksum.is_empty() {
            ctx.ui.say(ui_warning(
                "'scanner_checksum' is deprecated and ignored. This field will be removed in a future version.",
            ));
        }
        let (os, arch) = match self.detect_os(ctx).await {
            Ok(d) => d,
            Err(e) => {
                ctx.ui.error(format!("Failed to detect remote OS: {e}"));
                ctx.ui
                    .error("SBOM generation will be skipped, but build will continue");
                return None;
            }
        };
        ctx.ui.say(format!("Detected: OS={os}, Arch={arch}"));
        ctx.ui.say("Starting Automatic SBOM generation workflow...");
        ctx.ui.error(
            "SBOM generation failed: Kiln cannot generate an SBOM on the machine: Packer \
             downloads its own latest release from releases.hashicorp.com and runs its \
             `sbom-generate` command (Syft) there; generate the SBOM on the machine with a \
             tool of your choice and give its path as `source`",
        );
        ctx.ui.error("Build will continue without SBOM");
        None
    }

    /// `detectRemoteOS`: `uname -s -m` on the machine (Windows over WinRM is not reached:
    /// Kiln has no WinRM communicator).
    async fn detect_os(&self, ctx: &ProvisionCtx<'_>) -> Result<(String, String), String> {
        if let (Some(os), Some(arch)) = (
            ctx.generated.get("OSType").and_then(|v| v.as_str()),
            ctx.generated.get("OSArch").and_then(|v| v.as_str()),
        ) {
            return Ok((os.to_string(), arch.to_string()));
        }
        let mut out = Collect::default();
        let status = ctx
            .comm
            .start("uname -s -m", &mut out, ctx.cancel)
            .await
            .map_err(|e| format!("failed to run OS detection command: {e}"))?;
        let code = match status {
            crate::communicator::ExitStatus::Code(c) => c,
            _ => -1,
        };
        if code != 0 {
            return Err(format!("OS detection command exited with status {code}"));
        }
        let output = out.stdout.join("\n");
        let output = output.trim();
        let mut parts = output.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some(os), Some(arch)) => Ok((os.to_string(), arch.to_string())),
            (Some(os), None) => Ok((os.to_string(), "unknown".to_string())),
            _ => Err(format!("failed to parse OS detection output: {output}")),
        }
    }

    /// `processSBOMForHCP`: checks the format, keeps the SBOM, copies it to `destination`.
    fn keep(&self, ctx: &ProvisionCtx<'_>, data: Vec<u8>, go_on: &str) -> Option<Sbom> {
        let format = match validate_sbom(&data) {
            Ok(f) => f,
            Err(e) => {
                ctx.ui.error(format!(
                    "Failed to process SBOM: SBOM validation failed: {e}"
                ));
                ctx.ui.error(go_on);
                return None;
            }
        };
        let sbom = Sbom {
            name: self.config.sbom_name.clone(),
            format,
            data,
            referrers: Vec::new(),
        };
        if !self.config.destination.is_empty()
            && let Err(e) = self.copy_to_destination(&sbom.data)
        {
            ctx.ui.error(format!("Failed to process SBOM: {e}"));
            ctx.ui.error(go_on);
        }
        Some(sbom)
    }

    /// `getUserDestination` and the write: an existing directory (or a path ending in `/`)
    /// gets a new `packer-user-sbom-<digits>.json` in it; missing parents are made.
    fn copy_to_destination(&self, data: &[u8]) -> Result<(), String> {
        let dst = &self.config.destination;
        let dest_err =
            |e: String| format!("failed to compute destination path {}: {e}", go_quote(dst));
        let in_dir = |dir: &std::path::Path| -> Result<std::path::PathBuf, String> {
            let tmp =
                crate::process::write_executable(dir, "packer-user-sbom-", ".json", b"", 0o600)
                    .map_err(|e| {
                        dest_err(format!(
                            "failed to create temporary file in user SBOM directory {dst}: {}",
                            crate::goerr::path_error(
                                "open",
                                &dir.join("packer-user-sbom-*.json"),
                                &e
                            )
                        ))
                    })?;
            tmp.keep().map_err(|e| dest_err(e.to_string()))
        };
        let path = match std::fs::metadata(dst) {
            Ok(m) if m.is_dir() => in_dir(std::path::Path::new(dst))?,
            Ok(_) => std::path::PathBuf::from(dst),
            Err(_) => {
                let out_dir = crate::gopath::dirname(dst);
                crate::goerr::mkdir_all(std::path::Path::new(&out_dir), 0o755).map_err(|e| {
                    dest_err(format!(
                        "failed to create destination directory for user SBOM: {e}"
                    ))
                })?;
                if std::fs::metadata(dst).is_ok_and(|m| m.is_dir()) {
                    in_dir(std::path::Path::new(&out_dir))?
                } else {
                    std::path::PathBuf::from(dst)
                }
            }
        };
        write_go(&path, data).map_err(|e| {
            format!(
                "failed to write SBOM to destination {}: {}",
                go_quote(&path.to_string_lossy()),
                crate::goerr::path_error("open", &path, &e)
            )
        })
    }
}

/// Go's `os.WriteFile(path, data, 0644)`: truncates an existing file (keeping its mode).
fn write_go(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
    f.write_all(data)
}

#[async_trait]
impl Provisioner for HcpSbom {
    async fn provision(&self, ctx: &ProvisionCtx<'_>) -> Result<(), ProvisionError> {
        // Packer core's wrapper: the hand-over file in the working directory, removed after.
        let cwd = std::env::current_dir().map_err(|e| ProvisionError::Command {
            message: format!(
                "failed to get current working directory for Packer SBOM: {}",
                crate::goerr::errno_text(&e)
            ),
        })?;
        let handover = crate::process::write_executable(&cwd, "packer-sbom-", ".json", b"", 0o600)
            .map_err(|e| ProvisionError::Command {
                message: format!(
                    "failed to create internal temporary file for Packer SBOM: {}",
                    crate::goerr::path_error("open", &cwd.join("packer-sbom-*.json"), &e)
                ),
            })?;
        let kept = self.fetch(ctx).await;
        let name = handover.to_string_lossy().to_string();
        drop(handover);
        match kept {
            Some(sbom) => {
                ctx.sboms
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(sbom);
                Ok(())
            }
            None => Err(ProvisionError::Command {
                message: format!(
                    "malformed packer SBOM output from file {}: EOF",
                    go_quote(&name)
                ),
            }),
        }
    }
}

/// `validateSBOM`: SPDX first, then CycloneDX; only their own checks' messages are shown,
/// any other failure is "invalid SBOM format".
pub fn validate_sbom(content: &[u8]) -> Result<SbomFormat, String> {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(content) else {
        return Err("error validating SBOM file: invalid SBOM format".into());
    };
    if spdx_ok(&doc) {
        return Ok(SbomFormat::Spdx);
    }
    if let Some(format) = cyclonedx_format(&doc) {
        return if format.eq_ignore_ascii_case("CycloneDX") {
            Ok(SbomFormat::CycloneDx)
        } else {
            Err(format!(
                "invalid bomFormat: {}, expected CycloneDX",
                go_quote(&format)
            ))
        };
    }
    Err("error validating SBOM file: invalid SBOM format".into())
}

/// The shape Go's `encoding/json` decodes into, as far as Kiln checks it: the fields of
/// the SPDX 2.x and CycloneDX documents whose types or own parsers can refuse a document
/// (the rest of a nested object is taken as it is).
#[derive(Clone, Copy)]
enum Shape {
    Str,
    Int,
    Bool,
    /// A struct: its fields, keys matched as Go matches them (exactly, else ignoring case);
    /// unknown keys are skipped.
    Obj(&'static [(&'static str, Shape)]),
    Arr(&'static Shape),
    /// A field with its own `UnmarshalJSON`: accepts the raw JSON text or not.
    Custom(fn(&serde_json::Value) -> bool),
}

fn fits(v: &serde_json::Value, shape: Shape) -> bool {
    use serde_json::Value as J;
    match (shape, v) {
        (Shape::Custom(f), v) => f(v),
        (_, J::Null) => true,
        (Shape::Str, J::String(_)) | (Shape::Bool, J::Bool(_)) => true,
        (Shape::Int, J::Number(n)) => n.is_i64() && !n.to_string().contains(['.', 'e', 'E']),
        (Shape::Arr(inner), J::Array(items)) => items.iter().all(|i| fits(i, *inner)),
        (Shape::Obj(fields), J::Object(map)) => map.iter().all(|(k, v)| {
            let field = fields
                .iter()
                .find(|(n, _)| n == k)
                .or_else(|| fields.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)));
            field.is_none_or(|(_, s)| fits(v, *s))
        }),
        _ => false,
    }
}

/// The raw JSON text of a value with its quotes trimmed, as the SPDX identifiers' parsers
/// take it (`strings.Trim(string(data), "\"")`).
fn raw_trimmed(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string().trim_matches('"').to_string(),
    }
}

/// `ElementID`: `SPDXRef-` and something after it.
fn element_id(v: &serde_json::Value) -> bool {
    raw_trimmed(v)
        .strip_prefix("SPDXRef-")
        .is_some_and(|rest| !rest.is_empty())
}

/// `DocElementID`: `NOASSERTION`, `NONE`, `[DocumentRef-x:]SPDXRef-y`.
fn doc_element_id(v: &serde_json::Value) -> bool {
    let s = raw_trimmed(v);
    if s == "NOASSERTION" || s == "NONE" {
        return true;
    }
    let id = match s.strip_prefix("DocumentRef-") {
        Some(rest) => match rest.split_once(':') {
            Some((doc, id)) if !doc.is_empty() => id.to_string(),
            _ => return false,
        },
        None => s,
    };
    element_id(&serde_json::Value::String(id))
}

/// `DocumentID`: `DocumentRef-` and something after it.
fn document_id(v: &serde_json::Value) -> bool {
    raw_trimmed(v)
        .strip_prefix("DocumentRef-")
        .is_some_and(|rest| !rest.is_empty())
}

/// `Creator` / `Annotator`: `Type: name`.
fn typed_name(v: &serde_json::Value) -> bool {
    raw_trimmed(v).contains(':')
}

/// `Supplier` / `Originator`: `NOASSERTION` or `Type: name`.
fn agent(v: &serde_json::Value) -> bool {
    raw_trimmed(v) == "NOASSERTION" || typed_name(v)
}

const CHECKSUM: Shape = Shape::Obj(&[("algorithm", Shape::Str), ("checksumValue", Shape::Str)]);
const CHECKSUMS: Shape = Shape::Arr(&CHECKSUM);
const STRINGS: Shape = Shape::Arr(&Shape::Str);

const SPDX_DOCUMENT: Shape = Shape::Obj(&[
    ("spdxVersion", Shape::Str),
    ("dataLicense", Shape::Str),
    ("SPDXID", Shape::Custom(element_id)),
    ("name", Shape::Str),
    ("documentNamespace", Shape::Str),
    (
        "externalDocumentRefs",
        Shape::Arr(&Shape::Obj(&[
            ("externalDocumentId", Shape::Custom(document_id)),
            ("spdxDocument", Shape::Str),
            ("checksum", CHECKSUM),
        ])),
    ),
    ("comment", Shape::Str),
    (
        "creationInfo",
        Shape::Obj(&[
            ("licenseListVersion", Shape::Str),
            ("creators", Shape::Arr(&Shape::Custom(typed_name))),
            ("created", Shape::Str),
            ("comment", Shape::Str),
        ]),
    ),
    (
        "packages",
        Shape::Arr(&Shape::Obj(&[
            ("name", Shape::Str),
            ("SPDXID", Shape::Custom(element_id)),
            ("versionInfo", Shape::Str),
            ("packageFileName", Shape::Str),
            ("supplier", Shape::Custom(agent)),
            ("originator", Shape::Custom(agent)),
            ("downloadLocation", Shape::Str),
            ("filesAnalyzed", Shape::Bool),
            ("checksums", CHECKSUMS),
            ("homepage", Shape::Str),
            ("sourceInfo", Shape::Str),
            ("licenseConcluded", Shape::Str),
            ("licenseInfoFromFiles", STRINGS),
            ("licenseDeclared", Shape::Str),
            ("licenseComments", Shape::Str),
            ("copyrightText", Shape::Str),
            ("summary", Shape::Str),
            ("description", Shape::Str),
            ("comment", Shape::Str),
            ("attributionTexts", STRINGS),
            ("primaryPackagePurpose", Shape::Str),
            ("releaseDate", Shape::Str),
            ("builtDate", Shape::Str),
            ("validUntilDate", Shape::Str),
            ("hasFiles", Shape::Arr(&Shape::Custom(doc_element_id))),
        ])),
    ),
    (
        "files",
        Shape::Arr(&Shape::Obj(&[
            ("fileName", Shape::Str),
            ("SPDXID", Shape::Custom(element_id)),
            ("fileTypes", STRINGS),
            ("checksums", CHECKSUMS),
            ("licenseConcluded", Shape::Str),
            ("licenseInfoInFiles", STRINGS),
            ("licenseComments", Shape::Str),
            ("copyrightText", Shape::Str),
            ("comment", Shape::Str),
            ("noticeText", Shape::Str),
            ("fileContributors", STRINGS),
            ("attributionTexts", STRINGS),
        ])),
    ),
    ("hasExtractedLicensingInfos", Shape::Arr(&Shape::Obj(&[]))),
    (
        "relationships",
        Shape::Arr(&Shape::Obj(&[
            ("spdxElementId", Shape::Custom(doc_element_id)),
            ("relatedSpdxElement", Shape::Custom(doc_element_id)),
            ("relationshipType", Shape::Str),
            ("comment", Shape::Str),
        ])),
    ),
    (
        "annotations",
        Shape::Arr(&Shape::Obj(&[
            ("annotator", Shape::Custom(typed_name)),
            ("annotationDate", Shape::Str),
            ("annotationType", Shape::Str),
            ("comment", Shape::Str),
        ])),
    ),
    (
        "snippets",
        Shape::Arr(&Shape::Obj(&[
            ("SPDXID", Shape::Custom(element_id)),
            ("snippetFromFile", Shape::Custom(doc_element_id)),
            ("name", Shape::Str),
            ("comment", Shape::Str),
        ])),
    ),
    (
        "documentDescribes",
        Shape::Arr(&Shape::Custom(doc_element_id)),
    ),
]);

/// spdx/tools-golang's `json.Read`: an object whose `spdxVersion` (exactly that key) is a
/// version it reads, decoding into that version's document.
fn spdx_ok(doc: &serde_json::Value) -> bool {
    let Some(version) = doc.as_object().and_then(|m| m.get("spdxVersion")) else {
        return false;
    };
    matches!(version.as_str(), Some("SPDX-2.1" | "SPDX-2.2" | "SPDX-2.3"))
        && fits(doc, SPDX_DOCUMENT)
}

/// CycloneDX's `SpecVersion`: a string naming a version it knows.
fn spec_version(v: &serde_json::Value) -> bool {
    matches!(
        v.as_str(),
        Some("1.0" | "1.1" | "1.2" | "1.3" | "1.4" | "1.5" | "1.6" | "1.7")
    )
}

const OBJECTS: Shape = Shape::Arr(&Shape::Obj(&[]));

const CYCLONEDX_BOM: Shape = Shape::Obj(&[
    ("$schema", Shape::Str),
    ("bomFormat", Shape::Str),
    ("specVersion", Shape::Custom(spec_version)),
    ("serialNumber", Shape::Str),
    ("version", Shape::Int),
    ("metadata", Shape::Obj(&[])),
    ("components", OBJECTS),
    ("services", OBJECTS),
    ("externalReferences", OBJECTS),
    ("dependencies", OBJECTS),
    ("compositions", OBJECTS),
    ("properties", OBJECTS),
    ("vulnerabilities", OBJECTS),
    (
        "annotations",
        Shape::Arr(&Shape::Obj(&[
            ("bom-ref", Shape::Str),
            ("subjects", STRINGS),
            ("annotator", Shape::Obj(&[])),
            ("timestamp", Shape::Str),
            ("text", Shape::Str),
        ])),
    ),
    ("formulation", OBJECTS),
    ("declarations", Shape::Obj(&[])),
    ("definitions", Shape::Obj(&[])),
    ("citations", OBJECTS),
]);

/// cyclonedx-go's JSON decoder: the document's `bomFormat` (`""` when absent) when it
/// decodes into a `BOM`.
fn cyclonedx_format(doc: &serde_json::Value) -> Option<String> {
    if doc.is_null() {
        return Some(String::new());
    }
    let map = doc.as_object()?;
    if !fits(doc, CYCLONEDX_BOM) {
        return None;
    }
    // The field Go fills last: the exact key, else one differing in case.
    let format = map
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("bomFormat"))
        .filter_map(|(_, v)| v.as_str())
        .next_back();
    Some(format.unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::communicator::ssh::decode_hcl;

    #[test]
    fn prepare_like_packer() {
        let e = decode_hcl("", HcpSbomConfig::read).unwrap_err();
        assert!(
            e[0].contains("source must be specified when auto_generate is not enabled"),
            "{e:?}"
        );
        let e = decode_hcl(
            "source = \"x\"\nauto_generate = true\nelevated_password = \"p\"\nscanner_checksum = \"c\"\n",
            HcpSbomConfig::read,
        )
        .unwrap_err();
        let all = e.join("\n");
        assert!(all.contains("3 error(s) occurred"), "{all}");
        let first = all.find("mutually exclusive").unwrap();
        let second = all.find("scanner_checksum requires").unwrap();
        let third = all.find("elevated_user must be").unwrap();
        assert!(first < second && second < third, "{all}");
        let e =
            decode_hcl("source = \"x\"\nsbom_name = \"a b\"\n", HcpSbomConfig::read).unwrap_err();
        assert!(e[0].contains("`sbom_name` \"a b\" doesn't match"), "{e:?}");
        // The expression refuses `_`, whatever its message says.
        assert!(decode_hcl("source = \"x\"\nsbom_name = \"a_b\"\n", HcpSbomConfig::read).is_err());
        let c = decode_hcl("auto_generate = true\n", HcpSbomConfig::read).unwrap();
        assert_eq!(c.scan_path, "/");
        assert_eq!(c.scanner_args, ["-o", "cyclonedx-json"]);
        assert_eq!(c.execute_command, DEFAULT_EXECUTE_COMMAND);
    }

    #[test]
    fn formats_as_the_go_libraries_read_them() {
        let table = include_str!("../../tests/fixtures/hcp-sbom-formats.tsv");
        let mut n = 0;
        for line in table.lines().filter(|l| !l.starts_with('#')) {
            let (want, doc) = line.split_once('\t').unwrap();
            let got = match validate_sbom(doc.as_bytes()) {
                Ok(f) => format!("OK {}", f.as_str()),
                Err(e) => format!("ERR {e}"),
            };
            assert_eq!(got, want, "{doc}");
            n += 1;
        }
        assert!(n >= 50, "{n} documents");
    }
}
