//! `iso_url` / `iso_urls` / `iso_checksum` / `iso_target_path` / `iso_target_extension`:
//! packer-plugin-sdk's `ISOConfig` (`iso_config.go`) and `StepDownload` (`step_download.go`),
//! with go-getter's checksum rules: `none`, `md5|sha1|sha256|sha512:<hex>`, `file:<URL or
//! path>` (a `sha256sum`-style or BSD-style checksum file, the entry for the ISO's file name),
//! or a bare hex value whose length picks the type.
//!
//! Local files (plain paths and `file://` URLs) are used in place after verification, as
//! go-getter's `Inplace` mode does. HTTP(S) downloads go to a cache path (Packer's rules:
//! `<cache>/<sha1 of checksum or URL>.<ext>`, or inside / at `iso_target_path`), through a
//! temporary file renamed only once the checksum matched, so nothing half-written is left;
//! a cached file whose checksum matches is reused without downloading.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::Digest as _;
use tokio_util::sync::CancellationToken;

/// A hash algorithm go-getter knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl HashKind {
    fn from_name(s: &str) -> Option<HashKind> {
        Some(match s.to_ascii_lowercase().as_str() {
            "md5" => HashKind::Md5,
            "sha1" => HashKind::Sha1,
            "sha256" => HashKind::Sha256,
            "sha512" => HashKind::Sha512,
            _ => return None,
        })
    }

    /// go-getter's guess from a hex value's length.
    fn from_len(n: usize) -> Option<HashKind> {
        Some(match n {
            32 => HashKind::Md5,
            40 => HashKind::Sha1,
            64 => HashKind::Sha256,
            128 => HashKind::Sha512,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
            HashKind::Sha512 => "sha512",
        }
    }
}

/// A resolved checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    None,
    Hash { kind: HashKind, hex: String },
}

impl std::fmt::Display for Checksum {
    /// go-getter's `FileChecksum.String()`: `type:hex`, or `none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Checksum::None => write!(f, "none"),
            Checksum::Hash { kind, hex } => write!(f, "{}:{hex}", kind.name()),
        }
    }
}

/// A hash value as go-getter's `newChecksumFromType` takes it: any hex string, its length
/// unchecked (a value of the wrong length is a mismatch when the file is verified, Packer's
/// `Checksums did not match … Expected: abcd`).
fn hash_value(kind: HashKind, value: &str) -> anyhow::Result<Checksum> {
    let hex = value.trim().to_ascii_lowercase();
    if let Some(c) = hex.chars().find(|c| !c.is_ascii_hexdigit()) {
        bail!(
            "invalid checksum: encoding/hex: invalid byte: U+{:04X} {c:?}",
            c as u32
        );
    }
    if hex.len() % 2 == 1 {
        bail!("invalid checksum: encoding/hex: odd length hex string");
    }
    Ok(Checksum::Hash { kind, hex })
}

/// The last path segment of a URL or path (the name looked up in checksum files).
pub fn source_file_name(source: &str) -> String {
    let no_query = source.split(['?', '#']).next().unwrap_or(source);
    no_query.rsplit('/').next().unwrap_or(no_query).to_string()
}

/// Resolves an `iso_checksum` for `source` (the first ISO URL), fetching `file:` checksum
/// files over HTTP(S) or from disk. Errors name the checksum and what was wrong.
pub fn resolve_checksum(spec: &str, source: &str) -> anyhow::Result<Checksum> {
    if spec == "none" {
        return Ok(Checksum::None);
    }
    if spec.is_empty() {
        bail!("A checksum must be specified");
    }
    let file_name = source_file_name(source);
    match spec.split_once(':') {
        Some(("file", loc)) => {
            let text = if is_remote(loc) {
                // go-getter's words (`GetChecksum`), with Go's HTTP client's errors
                crate::datasources::http::go_get_text(loc)
                    .map_err(|e| anyhow::anyhow!("Error downloading checksum file: {e}"))?
            } else if local_path(loc).is_none() {
                // a scheme go-getter has no getter for
                bail!("Error downloading checksum file: error downloading '{loc}'");
            } else {
                fetch_text(loc).with_context(|| format!("fetching checksum file {loc}"))?
            };
            checksum_from_file(&text, &file_name).with_context(|| format!("in checksum file {loc}"))
        }
        Some((kind, value)) => {
            let kind = HashKind::from_name(kind)
                .with_context(|| format!("unsupported checksum type: {kind}"))?;
            hash_value(kind, value)
        }
        None => {
            let kind = HashKind::from_len(spec.len())
                .with_context(|| format!("Unknown type for checksum {spec}"))?;
            hash_value(kind, spec)
        }
    }
}

/// Finds `file_name`'s entry in a checksum file: GNU lines (`<hex>  name`, `<hex> *name`)
/// or BSD lines (`SHA256 (name) = <hex>`); `./name` matches too.
pub fn checksum_from_file(text: &str, file_name: &str) -> anyhow::Result<Checksum> {
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (kind, name, value) = match parts.as_slice() {
            [algo, name, "=", value]
                if name.starts_with('(') && name.ends_with(')') && name.len() > 2 =>
            {
                let Some(k) = HashKind::from_name(algo) else {
                    continue;
                };
                (k, &name[1..name.len() - 1], *value)
            }
            [value, name] => {
                let Some(k) = HashKind::from_len(value.len()) else {
                    continue;
                };
                (k, name.trim_start_matches('*'), *value)
            }
            _ => continue,
        };
        let name = name.strip_prefix("./").unwrap_or(name);
        if name == file_name {
            return hash_value(kind, value);
        }
    }
    bail!("no checksum found for {file_name:?}")
}

fn is_remote(source: &str) -> bool {
    let l = source.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// A local source's path (`file://` URLs and plain paths), relative paths from the cwd.
fn local_path(source: &str) -> Option<PathBuf> {
    if let Some(rest) = source.strip_prefix("file://") {
        let p = rest.split(['?', '#']).next().unwrap_or(rest);
        return Some(PathBuf::from(p));
    }
    if let Some(rest) = source.strip_prefix("file:") {
        return Some(PathBuf::from(rest));
    }
    if source.contains("://") {
        return None;
    }
    Some(PathBuf::from(source))
}

/// A local checksum file's text (remote ones go through Go's client: `go_get_text`).
fn fetch_text(loc: &str) -> anyhow::Result<String> {
    let p = local_path(loc).with_context(|| format!("unsupported URL {loc}"))?;
    std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))
}

/// Hashes a file, checking `cancel` between chunks.
pub fn hash_file(
    path: &Path,
    kind: HashKind,
    cancel: &CancellationToken,
) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    macro_rules! run {
        ($h:expr) => {{
            let mut h = $h;
            loop {
                if cancel.is_cancelled() {
                    bail!("cancelled while verifying {}", path.display());
                }
                let n = f.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                h.update(&buf[..n]);
            }
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        }};
    }
    Ok(match kind {
        HashKind::Md5 => run!(md5::Md5::new()),
        HashKind::Sha1 => run!(sha1::Sha1::new()),
        HashKind::Sha256 => run!(sha2::Sha256::new()),
        HashKind::Sha512 => run!(sha2::Sha512::new()),
    })
}

/// go-getter's `ChecksumError`, in its words, ending with `%T` of the hash as Go 1.26
/// names it (`*md5.digest`, `*sha1.digest`; SHA-2 from the FIPS module: `*sha256.Digest`,
/// `*sha512.Digest`).
#[derive(Debug, thiserror::Error)]
#[error(
    "Checksums did not match for {file}.\nExpected: {expected}\nGot: {got}\n*{kind}.{}",
    if matches!(*kind, "sha256" | "sha512") { "Digest" } else { "digest" }
)]
pub struct ChecksumMismatch {
    pub file: String,
    pub expected: String,
    pub got: String,
    pub kind: &'static str,
}

fn verify(path: &Path, checksum: &Checksum, cancel: &CancellationToken) -> anyhow::Result<()> {
    if let Checksum::Hash { kind, hex } = checksum {
        let got = hash_file(path, *kind, cancel)?;
        if &got != hex {
            return Err(ChecksumMismatch {
                file: path.display().to_string(),
                expected: hex.clone(),
                got,
                kind: kind.name(),
            }
            .into());
        }
    }
    Ok(())
}

/// The URL the SDK's StepDownload hands go-getter and says (`Trying …`): the source with
/// the checksum as its `checksum` query parameter (none for `none`).
pub fn getter_url(source: &str, spec: &str) -> String {
    if spec.is_empty() || spec == "none" {
        return source.to_string();
    }
    let (base, query) = match source.split_once('?') {
        Some((b, q)) => (b, q),
        None => (source, ""),
    };
    // `url.Values.Encode`: the parameters sorted by key, `checksum` set to the spec.
    let mut params: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .filter(|(k, _)| k != "checksum")
        .collect();
    params.push(("checksum".into(), kiln_gotemplate::query_escape(spec)));
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let q: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{base}?{}", q.join("&"))
}

/// `iso_url`, `iso_urls`, `iso_checksum`, `iso_target_path`, `iso_target_extension`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IsoConfig {
    pub iso_url: Option<String>,
    pub iso_urls: Vec<String>,
    pub iso_checksum: String,
    pub iso_target_path: Option<String>,
    pub iso_target_extension: Option<String>,
}

/// What `ISOConfig.Prepare` produces.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedIso {
    pub urls: Vec<String>,
    /// `iso_checksum` as written (what the SDK passes go-getter).
    pub spec: String,
    pub checksum: Checksum,
    pub target_path: Option<String>,
    pub extension: String,
    pub warnings: Vec<String>,
}

/// An error of [`IsoConfig::prepare`]: the plugin's `ISOConfig.Prepare` error in its words,
/// or (`kiln_only`) one of Kiln's stricter checks.
#[derive(Debug, Clone, PartialEq)]
pub struct IsoError {
    pub message: String,
    pub kiln_only: bool,
}

impl IsoError {
    fn plugin(message: impl Into<String>) -> IsoError {
        IsoError {
            message: message.into(),
            kiln_only: false,
        }
    }
}

/// go-getter v2's error for a `type:value` or bare checksum it cannot parse (`GetChecksum`:
/// the value is hex-decoded first, then its type is looked up by name or by length); `None`
/// when it parses, or for `file:` checksums (fetched by [`resolve_checksum`]).
pub fn getter_checksum_error(spec: &str) -> Option<String> {
    let (kind, value) = match spec.split_once(':') {
        Some(("file", _)) => return None,
        Some((k, v)) => (Some(k), v),
        None => (None, spec),
    };
    let bytes = match go_hex_decode(value) {
        Ok(b) => b,
        Err(e) => return Some(format!("invalid checksum: {e}")),
    };
    match kind {
        Some(k) => match k.to_ascii_lowercase().as_str() {
            "md5" | "sha1" | "sha256" | "sha512" => None,
            _ => Some(format!("unsupported checksum type: {k}")),
        },
        None => match bytes {
            16 | 20 | 32 | 64 => None,
            _ => Some(format!("Unknown type for checksum {value}")),
        },
    }
}

/// Go's `hex.DecodeString`: the decoded length, or its error text (an invalid byte before a
/// wrong length).
fn go_hex_decode(s: &str) -> Result<usize, String> {
    let b = s.as_bytes();
    let invalid = |c: u8| {
        let r = char::from(c);
        if r.is_control() {
            format!("encoding/hex: invalid byte: U+{c:04X}")
        } else {
            format!("encoding/hex: invalid byte: U+{c:04X} '{r}'")
        }
    };
    for pair in b.chunks(2) {
        for &c in pair {
            if !c.is_ascii_hexdigit() {
                return Err(invalid(c));
            }
        }
    }
    if b.len() % 2 == 1 {
        return Err("encoding/hex: odd length hex string".into());
    }
    Ok(b.len() / 2)
}

impl IsoConfig {
    /// `ISOConfig.Prepare`: one of `iso_url`/`iso_urls`, a checksum (resolved now, as
    /// Packer fetches `file:` checksums at validation), the extension lower-cased
    /// (default `iso`).
    pub fn prepare(&self) -> Result<PreparedIso, Vec<IsoError>> {
        let mut errs = Vec::new();
        if self.iso_url.is_some() && !self.iso_urls.is_empty() {
            return Err(vec![IsoError::plugin(
                "Only one of iso_url or iso_urls must be specified",
            )]);
        }
        let urls: Vec<String> = match &self.iso_url {
            Some(u) => vec![u.clone()],
            None => self.iso_urls.clone(),
        };
        if urls.is_empty() {
            return Err(vec![IsoError::plugin(
                "One of iso_url or iso_urls must be specified",
            )]);
        }
        let extension = self
            .iso_target_extension
            .clone()
            .unwrap_or_else(|| "iso".into())
            .to_ascii_lowercase();
        let mut warnings = Vec::new();
        let spec = self.iso_checksum.as_str();
        let checksum = if spec == "none" {
            warnings.push("A checksum of 'none' was specified. Since ISO files are so big,\na checksum is highly recommended.".into());
            Checksum::None
        } else if spec.is_empty() {
            errs.push(IsoError::plugin("A checksum must be specified"));
            Checksum::None
        } else if let Some(e) = getter_checksum_error(spec) {
            // go-getter's `GetChecksum` error, as `ISOConfig.Prepare` reports it.
            errs.push(IsoError::plugin(format!("{e} in {spec:?}")));
            Checksum::None
        } else {
            match resolve_checksum(spec, &urls[0]) {
                Ok(c) => c,
                Err(e) => {
                    // A `file:` checksum the plugin also fails to fetch or read (in Kiln's
                    // words), or a hash of the wrong length, which only Kiln checks now
                    // (the plugin finds it when it verifies the download).
                    let kiln_only = !spec.starts_with("file:");
                    errs.push(IsoError {
                        message: format!("{e:#} in {spec:?}"),
                        kiln_only,
                    });
                    Checksum::None
                }
            }
        };
        if spec.to_ascii_lowercase().ends_with(".iso") {
            errs.push(IsoError::plugin(
                "Error parsing checksum: .iso is not a valid checksum ending",
            ));
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok(PreparedIso {
            urls,
            spec: spec.to_string(),
            checksum,
            target_path: self.iso_target_path.clone(),
            extension,
            warnings,
        })
    }
}

impl PreparedIso {
    /// Where the download of `url` lands ([`cache_target`]).
    pub fn cache_target(&self, url: &str, cache_dir: &Path) -> PathBuf {
        cache_target(
            url,
            &self.checksum,
            self.target_path.as_deref(),
            &self.extension,
            cache_dir,
        )
    }
}

/// Where a download lands (`UseSourceToFindCacheTarget`): the SHA-1 of the checksum string
/// (or of the URL with `checksum=none`) plus the extension, in `cache_dir`; an
/// `iso_target_path` without extension is a directory for that name; with one, the file.
pub fn cache_target(
    source: &str,
    checksum: &Checksum,
    target_path: Option<&str>,
    extension: &str,
    cache_dir: &Path,
) -> PathBuf {
    let key = match checksum {
        Checksum::None => source.to_string(),
        c => c.to_string(),
    };
    let sha: String = sha1::Sha1::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match target_path {
        None | Some("") => {
            let mut name = sha;
            if !extension.is_empty() {
                name = format!("{name}.{extension}");
            }
            cache_dir.join(name)
        }
        Some(t) if Path::new(t).extension().is_none() => {
            let ext = if extension.is_empty() {
                "iso"
            } else {
                extension
            };
            Path::new(t).join(format!("{sha}.{ext}"))
        }
        Some(t) => PathBuf::from(t),
    }
}

/// The qemu plugin's `stepSetISO` (`iso_skip_cache`): the URL qemu reads the ISO from
/// itself, the last of `urls` that answers a HEAD request with a 2xx status and
/// `Accept-Ranges: bytes` (qemu's curl driver reads byte ranges), in the plugin's words when
/// none does.
pub async fn byte_serving_url(urls: &[String]) -> anyhow::Result<String> {
    let urls = urls.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut found = None;
        for url in &urls {
            let Ok(resp) = ureq::head(url).header("User-Agent", "Packer").call() else {
                continue;
            };
            let ranges = resp
                .headers()
                .get("accept-ranges")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v == "bytes");
            if resp.status().is_success() && ranges {
                found = Some(url.clone());
            }
        }
        found.ok_or_else(|| {
            anyhow::anyhow!(
                "No byte serving support. The HTTP server must support Accept-Ranges=bytes"
            )
        })
    })
    .await?
}

/// `StepDownload`: tries each URL in order, saying so in the SDK's words; returns the local
/// path of the first that arrives and verifies. The error lists every URL's failure, as
/// Go prints a list of errors.
pub async fn download_iso(
    iso: &PreparedIso,
    cache_dir: &Path,
    cancel: &CancellationToken,
    ui: &crate::ui::Ui,
) -> anyhow::Result<PathBuf> {
    let mut errs = Vec::new();
    for url in &iso.urls {
        if cancel.is_cancelled() {
            bail!("Download cancelled: [{}]", errs.join(" "));
        }
        ui.say(format!("Trying {url}"));
        let shown = getter_url(url, &iso.spec);
        ui.say(format!("Trying {shown}"));
        let (url2, iso2, cache2, cancel2) = (
            url.clone(),
            iso.clone(),
            cache_dir.to_path_buf(),
            cancel.clone(),
        );
        let r =
            tokio::task::spawn_blocking(move || fetch_one(&url2, &iso2, &cache2, &cancel2)).await?;
        match r {
            Ok(p) => {
                ui.say(format!("{shown} => {}", p.display()));
                return Ok(p);
            }
            Err(e) => {
                if e.downcast_ref::<ChecksumMismatch>().is_some() {
                    let target = iso.cache_target(url, cache_dir);
                    ui.say(format!(
                        "Checksum did not match, removing {}",
                        target.display()
                    ));
                    // A local ISO is used in place: the cache file was never made.
                    if !is_remote(url) {
                        ui.error(format!(
                            "Failed to remove cache file. Please remove manually: {}",
                            target.display()
                        ));
                    }
                } else {
                    ui.say(format!("Download failed {e:#}"));
                }
                errs.push(format!("{e:#}"));
            }
        }
    }
    bail!("error downloading ISO: [{}]", errs.join(" "))
}

fn fetch_one(
    url: &str,
    iso: &PreparedIso,
    cache_dir: &Path,
    cancel: &CancellationToken,
) -> anyhow::Result<PathBuf> {
    if !is_remote(url) {
        let p = local_path(url).with_context(|| {
            format!("unsupported URL scheme in {url} (file, http and https are)")
        })?;
        // go-getter's FileGetter: the source must exist and be a file
        match std::fs::metadata(&p) {
            Err(e) => bail!(
                "source path error: {}",
                crate::goerr::path_error("stat", &p, &e)
            ),
            Ok(m) if m.is_dir() => bail!("source path must be a file"),
            Ok(_) => {}
        }
        verify(&p, &iso.checksum, cancel)?;
        return Ok(p);
    }
    let target = iso.cache_target(url, cache_dir);
    if iso.checksum != Checksum::None
        && target.is_file()
        && verify(&target, &iso.checksum, cancel).is_ok()
    {
        return Ok(target);
    }
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kiln-download-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
    let mut resp = ureq::get(url)
        .call()
        .with_context(|| format!("GET {url}"))?;
    let mut reader = resp.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        if cancel.is_cancelled() {
            bail!("download of {url} cancelled");
        }
        let n = reader
            .read(&mut buf)
            .with_context(|| format!("reading {url}"))?;
        if n == 0 {
            break;
        }
        tmp.write_all(&buf[..n])?;
    }
    tmp.flush()?;
    verify(tmp.path(), &iso.checksum, cancel)?;
    tmp.persist(&target)
        .with_context(|| format!("moving the download to {}", target.display()))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";

    #[test]
    fn checksum_forms() {
        assert_eq!(resolve_checksum("none", "x.iso").unwrap(), Checksum::None);
        assert_eq!(
            resolve_checksum(&format!("sha256:{SHA256_ABC}"), "x.iso")
                .unwrap()
                .to_string(),
            format!("sha256:{SHA256_ABC}")
        );
        assert_eq!(
            resolve_checksum(&SHA256_ABC.to_uppercase(), "x.iso")
                .unwrap()
                .to_string(),
            format!("sha256:{SHA256_ABC}")
        );
        assert_eq!(
            resolve_checksum(MD5_ABC, "x.iso").unwrap().to_string(),
            format!("md5:{MD5_ABC}")
        );
        assert!(
            format!("{:#}", resolve_checksum("crc32:abcd", "x").unwrap_err())
                .contains("unsupported checksum type: crc32")
        );
        assert!(
            format!("{:#}", resolve_checksum("abc", "x").unwrap_err())
                .contains("Unknown type for checksum abc")
        );
        // go-getter decodes any hex, of any length (a wrong length fails as a mismatch)
        assert_eq!(
            format!("{:#}", resolve_checksum("sha256:abc", "x").unwrap_err()),
            "invalid checksum: encoding/hex: odd length hex string"
        );
        assert_eq!(
            resolve_checksum("sha256:ABCD", "x").unwrap().to_string(),
            "sha256:abcd"
        );
        assert!(resolve_checksum("", "x").is_err());
        let file = format!(
            "{MD5_ABC}  other.iso\n{SHA256_ABC} *debian-12.iso\nSHA256 (bsd.iso) = {SHA256_ABC}\n{SHA256_ABC}  ./dot.iso\n"
        );
        for name in ["debian-12.iso", "bsd.iso", "dot.iso"] {
            assert_eq!(
                checksum_from_file(&file, name).unwrap().to_string(),
                format!("sha256:{SHA256_ABC}"),
                "{name}"
            );
        }
        assert_eq!(
            checksum_from_file(&file, "other.iso").unwrap().to_string(),
            format!("md5:{MD5_ABC}")
        );
        assert!(checksum_from_file(&file, "missing.iso").is_err());
        assert_eq!(
            source_file_name("https://h/d/debian-12.iso?x=1"),
            "debian-12.iso"
        );
    }

    #[test]
    fn cache_targets_follow_packer() {
        let c = Checksum::Hash {
            kind: HashKind::Sha256,
            hex: SHA256_ABC.into(),
        };
        let sha_of = |s: &str| -> String {
            sha1::Sha1::digest(s.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        };
        let key = sha_of(&format!("sha256:{SHA256_ABC}"));
        assert_eq!(
            cache_target("http://h/a.iso", &c, None, "iso", Path::new("/cache")),
            PathBuf::from(format!("/cache/{key}.iso"))
        );
        assert_eq!(
            cache_target(
                "http://h/a.iso",
                &c,
                Some("/isos"),
                "iso",
                Path::new("/cache")
            ),
            PathBuf::from(format!("/isos/{key}.iso"))
        );
        assert_eq!(
            cache_target(
                "http://h/a.iso",
                &c,
                Some("/isos/x.img"),
                "iso",
                Path::new("/cache")
            ),
            PathBuf::from("/isos/x.img")
        );
        assert_eq!(
            cache_target(
                "http://h/a.iso",
                &Checksum::None,
                None,
                "iso",
                Path::new("/c")
            ),
            PathBuf::from(format!("/c/{}.iso", sha_of("http://h/a.iso")))
        );
    }

    #[test]
    fn prepare_rules() {
        let both = IsoConfig {
            iso_url: Some("a".into()),
            iso_urls: vec!["b".into()],
            iso_checksum: "none".into(),
            ..Default::default()
        };
        assert_eq!(
            both.prepare().unwrap_err(),
            vec![IsoError::plugin(
                "Only one of iso_url or iso_urls must be specified"
            )]
        );
        let none = IsoConfig {
            iso_checksum: "none".into(),
            ..Default::default()
        };
        assert!(none.prepare().is_err());
        let ok = IsoConfig {
            iso_url: Some("a.iso".into()),
            iso_checksum: "none".into(),
            iso_target_extension: Some("IMG".into()),
            ..Default::default()
        };
        let p = ok.prepare().unwrap();
        assert_eq!((p.extension.as_str(), p.warnings.len()), ("img", 1));
        let missing = IsoConfig {
            iso_url: Some("a.iso".into()),
            ..Default::default()
        };
        assert_eq!(
            missing.prepare().unwrap_err(),
            vec![IsoError::plugin("A checksum must be specified")]
        );
        // go-getter's words: hex first, then the type.
        let with = |c: &str| {
            IsoConfig {
                iso_url: Some("a.iso".into()),
                iso_checksum: c.into(),
                ..Default::default()
            }
            .prepare()
            .unwrap_err()
        };
        assert_eq!(
            with("sha256:xyz")[0].message,
            "invalid checksum: encoding/hex: invalid byte: U+0078 'x' in \"sha256:xyz\""
        );
        assert_eq!(
            with("abc")[0].message,
            "invalid checksum: encoding/hex: odd length hex string in \"abc\""
        );
        assert_eq!(
            with("crc32:abcd")[0].message,
            "unsupported checksum type: crc32 in \"crc32:abcd\""
        );
        assert_eq!(
            with("abcd")[0].message,
            "Unknown type for checksum abcd in \"abcd\""
        );
        // (a value of the wrong length is the plugin's mismatch when the file is verified)
        assert!(
            IsoConfig {
                iso_url: Some("x.iso".into()),
                iso_checksum: "sha256:abcd".into(),
                ..Default::default()
            }
            .prepare()
            .is_ok()
        );
    }

    #[tokio::test]
    async fn skip_cache_wants_byte_serving() {
        let (port, _) = serve(vec![
            ("/plain.iso", b"iso".to_vec()),
            ("/r/a.iso", b"iso".to_vec()),
            ("/r/b.iso", b"iso".to_vec()),
        ]);
        let u = |p: &str| format!("http://127.0.0.1:{port}{p}");
        // the last URL that serves ranges, as the plugin's loop leaves it
        assert_eq!(
            byte_serving_url(&[
                u("/r/a.iso"),
                u("/missing.iso"),
                u("/r/b.iso"),
                u("/plain.iso")
            ])
            .await
            .unwrap(),
            u("/r/b.iso")
        );
        let e = byte_serving_url(&[u("/plain.iso"), u("/missing.iso"), "a.iso".into()])
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "No byte serving support. The HTTP server must support Accept-Ranges=bytes"
        );
    }

    /// Serves `body` on a loopback port, counting requests.
    fn serve(
        files: Vec<(&'static str, Vec<u8>)>,
    ) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::io::BufRead as _;
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let h2 = hits.clone();
        std::thread::spawn(move || {
            for s in l.incoming() {
                let Ok(mut s) = s else { continue };
                h2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut r = std::io::BufReader::new(s.try_clone().unwrap());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap() <= 2 {
                        break;
                    }
                }
                match files.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) => {
                        // (paths under /r/ serve byte ranges)
                        let ranges = if path.starts_with("/r/") {
                            "Accept-Ranges: bytes\r\n"
                        } else {
                            ""
                        };
                        write!(
                            s,
                            "HTTP/1.1 200 OK\r\n{ranges}Content-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .unwrap();
                        if !line.starts_with("HEAD ") {
                            s.write_all(body).unwrap();
                        }
                    }
                    None => {
                        write!(s, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
                    }
                }
            }
        });
        (port, hits)
    }

    #[tokio::test]
    async fn downloads_verifies_caches_and_falls_back() {
        let rec = std::sync::Arc::new(crate::ui::Recorder::default());
        let ui = crate::ui::Ui::new(
            rec.clone(),
            std::sync::Arc::new(crate::ui::Masker::new(Vec::<String>::new())),
        );
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let sha = hex::encode_sha256(&body);
        let sums = format!("{sha}  good.iso\n").into_bytes();
        let (port, hits) = serve(vec![
            ("/good.iso", body.clone()),
            ("/SHA256SUMS", sums),
            ("/bad.iso", b"tampered".to_vec()),
        ]);
        let cache = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        // file: checksum over HTTP, a dead first mirror, then the good one.
        let cfg = IsoConfig {
            iso_urls: vec![
                format!("http://127.0.0.1:{port}/missing.iso"),
                format!("http://127.0.0.1:{port}/good.iso"),
            ],
            iso_checksum: format!("file:http://127.0.0.1:{port}/SHA256SUMS"),
            ..Default::default()
        };
        // The checksum file names good.iso, not missing.iso (the first URL): Packer looks up the
        // first URL's name, so this configuration is an error at prepare time.
        assert!(cfg.prepare().is_err());
        let cfg = IsoConfig {
            iso_checksum: format!("sha256:{sha}"),
            ..cfg
        };
        let iso = cfg.prepare().unwrap();
        let p = download_iso(&iso, cache.path(), &cancel, &ui)
            .await
            .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), body);
        assert!(p.starts_with(cache.path()));
        let after_first = hits.load(std::sync::atomic::Ordering::SeqCst);
        // Cached under the checksum's key (Packer's rule): the first URL already finds the
        // verified file, so nothing is requested at all.
        let p2 = download_iso(&iso, cache.path(), &cancel, &ui)
            .await
            .unwrap();
        assert_eq!(p, p2);
        assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), after_first);
        // A checksum mismatch fails, names the file, and leaves nothing behind.
        let bad = IsoConfig {
            iso_url: Some(format!("http://127.0.0.1:{port}/bad.iso")),
            iso_checksum: format!("sha256:{SHA256_ABC}"),
            ..Default::default()
        }
        .prepare()
        .unwrap();
        let dir2 = tempfile::tempdir().unwrap();
        let e = download_iso(&bad, dir2.path(), &cancel, &ui)
            .await
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("Checksums did not match"),
            "{e:#}"
        );
        assert_eq!(std::fs::read_dir(dir2.path()).unwrap().count(), 0);
        // file: checksum from a local file and a local ISO used in place.
        let local = tempfile::tempdir().unwrap();
        let iso_path = local.path().join("local.iso");
        std::fs::write(&iso_path, b"abc").unwrap();
        std::fs::write(
            local.path().join("SUMS"),
            format!("SHA256 (local.iso) = {SHA256_ABC}\n"),
        )
        .unwrap();
        let l = IsoConfig {
            iso_url: Some(format!("file://{}", iso_path.display())),
            iso_checksum: format!("file:{}", local.path().join("SUMS").display()),
            ..Default::default()
        }
        .prepare()
        .unwrap();
        assert_eq!(
            download_iso(&l, cache.path(), &cancel, &ui).await.unwrap(),
            iso_path
        );
        let plain = IsoConfig {
            iso_url: Some(iso_path.display().to_string()),
            iso_checksum: MD5_ABC.into(),
            ..Default::default()
        }
        .prepare()
        .unwrap();
        assert_eq!(
            download_iso(&plain, cache.path(), &cancel, &ui)
                .await
                .unwrap(),
            iso_path
        );
        let wrong = IsoConfig {
            iso_url: Some(iso_path.display().to_string()),
            iso_checksum: format!("md5:{}", "0".repeat(32)),
            ..Default::default()
        }
        .prepare()
        .unwrap();
        rec.events.lock().unwrap().clear();
        let e = download_iso(&wrong, cache.path(), &cancel, &ui)
            .await
            .unwrap_err();
        // The SDK's StepDownload and go-getter's words.
        let p = iso_path.display();
        let target = cache_target(&p.to_string(), &wrong.checksum, None, "iso", cache.path());
        assert_eq!(
            rec.lines(),
            [
                format!("Trying {p}"),
                format!("Trying {p}?checksum=md5%3A{}", "0".repeat(32)),
                format!("Checksum did not match, removing {}", target.display()),
                format!(
                    "Failed to remove cache file. Please remove manually: {}",
                    target.display()
                ),
            ]
        );
        assert_eq!(
            format!("{e:#}"),
            format!(
                "error downloading ISO: [Checksums did not match for {p}.\nExpected: {}\nGot: {MD5_ABC}\n*md5.digest]",
                "0".repeat(32)
            )
        );
    }

    mod hex {
        pub fn encode_sha256(b: &[u8]) -> String {
            use sha2::Digest as _;
            sha2::Sha256::digest(b)
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect()
        }
    }
}
