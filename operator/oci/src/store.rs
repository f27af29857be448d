//! A local image store in OCI image layout: `oci-layout`, `index.json`, `blobs/sha256/<hex>`.
//!
//! skopeo (`oci:DIR:NAME`) and umoci (`--image DIR:NAME`) read it: each image in `index.json`
//! carries the annotation `org.opencontainers.image.ref.name` set to its name (Kiln uses the
//! normalised reference, `127.0.0.1:5000/app:1`). Blobs are written to a temporary file
//! beside their final place, hashed while streaming and renamed once complete, so a store
//! never holds a half-written blob; `index.json` is replaced atomically under a lock.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::digest::HashWriter;
use crate::{Digest, Error, Result};

pub const MEDIA_OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MEDIA_OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const MEDIA_OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const MEDIA_OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const MEDIA_OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const MEDIA_OCI_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const MEDIA_DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const MEDIA_DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const MEDIA_DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const MEDIA_DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

impl Platform {
    /// The host's platform, as Docker names it (`linux/amd64`, `linux/arm64/v8`…).
    pub fn host() -> Platform {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" => ("ppc64le", None),
            other => (other, None),
        };
        Platform {
            architecture: architecture.into(),
            os: "linux".into(),
            variant: variant.map(Into::into),
            os_version: None,
        }
    }

    /// Parses Packer's `platform` option: `os/arch[/variant]`.
    pub fn parse(s: &str) -> Result<Platform> {
        let parts: Vec<&str> = s.split('/').collect();
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(Error::Invalid(format!(
                "platform {s:?}: expected os/arch or os/arch/variant (e.g. linux/amd64)"
            )));
        }
        Ok(Platform {
            os: parts[0].into(),
            architecture: parts[1].into(),
            variant: parts.get(2).map(|v| v.to_string()),
            os_version: None,
        })
    }

    /// Whether an index entry's platform `other` serves this one (an unset variant matches
    /// any; arm64's variant defaults to v8).
    pub fn matches(&self, other: &Platform) -> bool {
        let norm = |p: &Platform| match (p.architecture.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            (_, v) => v.map(Into::into),
        };
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || norm(self) == norm(other))
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// A content descriptor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            platform: None,
            annotations: BTreeMap::new(),
        }
    }
}

/// An image manifest (OCI or Docker schema 2; same shape).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An image index (OCI index or Docker manifest list), also the shape of `index.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Index {
    pub fn empty() -> Index {
        Index {
            schema_version: 2,
            media_type: Some(MEDIA_OCI_INDEX.into()),
            manifests: vec![],
            annotations: BTreeMap::new(),
        }
    }
}

/// The OCI equivalent of a layer/config media type (same bytes, OCI name).
pub fn oci_media_type(mt: &str) -> &str {
    match mt {
        MEDIA_DOCKER_LAYER_GZIP => MEDIA_OCI_LAYER_GZIP,
        "application/vnd.docker.image.rootfs.diff.tar" => MEDIA_OCI_LAYER_TAR,
        MEDIA_DOCKER_CONFIG => MEDIA_OCI_CONFIG,
        MEDIA_DOCKER_MANIFEST => MEDIA_OCI_MANIFEST,
        MEDIA_DOCKER_LIST => MEDIA_OCI_INDEX,
        other => other,
    }
}

/// An image in the store: its manifest descriptor, manifest and raw config.
#[derive(Clone, Debug)]
pub struct StoredImage {
    pub name: String,
    pub descriptor: Descriptor,
    pub manifest: Manifest,
    pub config: serde_json::Value,
}

/// A local OCI image layout.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

/// A blob being written: hashed while it streams, placed only by [`BlobWriter::commit`].
pub struct BlobWriter {
    inner: HashWriter<io::BufWriter<tempfile::NamedTempFile>>,
    store: Store,
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl BlobWriter {
    /// Finishes the blob; with `expected`, a digest mismatch is an error and nothing is kept.
    pub fn commit(self, expected: Option<&Digest>) -> Result<(Digest, u64)> {
        let (buf, digest, size) = self.inner.finish();
        let tmp = buf
            .into_inner()
            .map_err(|e| Error::io("write blob", self.store.root.clone())(e.into_error()))?;
        if let Some(want) = expected
            && *want != digest
        {
            return Err(Error::Invalid(format!(
                "blob has digest {digest}, expected {want}"
            )));
        }
        let dst = self.store.blob_path(&digest);
        tmp.as_file()
            .sync_data()
            .map_err(Error::io("sync blob", &dst))?;
        tmp.persist(&dst)
            .map_err(|e| Error::io("place blob", &dst)(e.error))?;
        Ok((digest, size))
    }
}

impl Store {
    /// Opens (creating if needed) the layout at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store> {
        let root = root.into();
        let blobs = root.join("blobs/sha256");
        fs::create_dir_all(&blobs).map_err(Error::io("create image store", &blobs))?;
        let layout = root.join("oci-layout");
        if !layout.exists() {
            write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        }
        let index = root.join("index.json");
        if !index.exists() {
            write_atomic(&index, &serde_json::to_vec(&Index::empty()).unwrap())?;
        }
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root.join("blobs/sha256").join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    pub fn blob_writer(&self) -> Result<BlobWriter> {
        let dir = self.root.join("blobs/sha256");
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&dir)
            .map_err(Error::io("create blob", &dir))?;
        Ok(BlobWriter {
            inner: HashWriter::new(io::BufWriter::with_capacity(256 * 1024, tmp)),
            store: self.clone(),
        })
    }

    pub fn put_blob(&self, bytes: &[u8]) -> Result<(Digest, u64)> {
        let d = Digest::of(bytes);
        if !self.has_blob(&d) {
            let mut w = self.blob_writer()?;
            w.write_all(bytes)
                .map_err(Error::io("write blob", self.blob_path(&d)))?;
            w.commit(Some(&d))?;
        }
        Ok((d, bytes.len() as u64))
    }

    pub fn open_blob(&self, d: &Digest) -> Result<File> {
        let p = self.blob_path(d);
        File::open(&p).map_err(Error::io("open blob", &p))
    }

    pub fn read_blob(&self, d: &Digest) -> Result<Vec<u8>> {
        let p = self.blob_path(d);
        let b = fs::read(&p).map_err(Error::io("read blob", &p))?;
        if Digest::of(&b) != *d {
            return Err(Error::Invalid(format!(
                "image store {}: blob {d} is corrupt (its content has another digest)",
                self.root.display()
            )));
        }
        Ok(b)
    }

    pub fn index(&self) -> Result<Index> {
        let p = self.root.join("index.json");
        let b = fs::read(&p).map_err(Error::io("read", &p))?;
        serde_json::from_slice(&b)
            .map_err(|e| Error::Invalid(format!("{}: not an OCI index: {e}", p.display())))
    }

    fn update_index(&self, f: impl FnOnce(&mut Index)) -> Result<()> {
        let lock_path = self.root.join(".kiln-index.lock");
        let lock = File::create(&lock_path).map_err(Error::io("create", &lock_path))?;
        let _guard = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| Error::io("lock", &lock_path)(e.into()))?;
        let mut index = self.index()?;
        f(&mut index);
        write_atomic(
            &self.root.join("index.json"),
            &serde_json::to_vec(&index).unwrap(),
        )
    }

    /// Points `name` at the manifest `desc` (replacing what it named before).
    pub fn tag(&self, name: &str, desc: &Descriptor) -> Result<()> {
        let mut d = desc.clone();
        d.annotations.insert(REF_NAME.into(), name.into());
        self.update_index(|idx| {
            idx.manifests
                .retain(|m| m.annotations.get(REF_NAME).map(String::as_str) != Some(name));
            idx.manifests.push(d);
        })
    }

    /// Removes the name `name`; blobs stay (shared by other images).
    pub fn untag(&self, name: &str) -> Result<()> {
        self.update_index(|idx| {
            idx.manifests
                .retain(|m| m.annotations.get(REF_NAME).map(String::as_str) != Some(name))
        })
    }

    /// The names in the store.
    pub fn names(&self) -> Result<Vec<String>> {
        Ok(self
            .index()?
            .manifests
            .iter()
            .filter_map(|m| m.annotations.get(REF_NAME).cloned())
            .collect())
    }

    /// The image named `name`.
    pub fn image(&self, name: &str) -> Result<StoredImage> {
        let idx = self.index()?;
        let desc = idx
            .manifests
            .iter()
            .find(|m| m.annotations.get(REF_NAME).map(String::as_str) == Some(name))
            .cloned()
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "image store {}: no image named {name:?}",
                    self.root.display()
                ))
            })?;
        self.image_by_descriptor(name, desc)
    }

    pub fn image_by_descriptor(&self, name: &str, descriptor: Descriptor) -> Result<StoredImage> {
        let raw = self.read_blob(&descriptor.digest)?;
        let manifest: Manifest = serde_json::from_slice(&raw).map_err(|e| {
            Error::Invalid(format!("image {name}: manifest {}: {e}", descriptor.digest))
        })?;
        let config_raw = self.read_blob(&manifest.config.digest)?;
        let config = serde_json::from_slice(&config_raw).map_err(|e| {
            Error::Invalid(format!(
                "image {name}: config {}: {e}",
                manifest.config.digest
            ))
        })?;
        Ok(StoredImage {
            name: name.into(),
            descriptor,
            manifest,
            config,
        })
    }

    /// Writes a tar of an OCI layout holding the images `names` (their manifests, configs and
    /// layers), as `skopeo copy oci-archive:` reads, with the `manifest.json` of Docker's
    /// `docker save` format beside it (as Docker 25+ writes), so that `docker load` and
    /// `skopeo … docker-archive:` read the same file.
    pub fn export_tar<W: Write>(&self, names: &[&str], out: W) -> Result<W> {
        let mut index = Index::empty();
        let mut blobs = std::collections::BTreeSet::new();
        let mut docker_manifest = vec![];
        // `repositories` (docker save's legacy file): name → tag → the top layer
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for name in names {
            let img = self.image(name)?;
            let reference = crate::Reference::parse(name)
                .ok()
                .filter(|r| r.tag.is_some() && !name.starts_with("sha256:"));
            let repo_tags = reference.as_ref().map(|r| vec![familiar(r)]);
            if let (Some(r), Some(top)) = (&reference, img.manifest.layers.last()) {
                let fam = familiar(r);
                let tag = r.tag.clone().unwrap_or_default();
                let repo = fam
                    .strip_suffix(&format!(":{tag}"))
                    .unwrap_or(&fam)
                    .to_string();
                repositories
                    .entry(repo)
                    .or_default()
                    .insert(tag, top.digest.hex().to_string());
            }
            docker_manifest.push(serde_json::json!({
                "Config": format!("blobs/sha256/{}", img.manifest.config.digest.hex()),
                "RepoTags": repo_tags,
                "Layers": img.manifest.layers.iter().map(|l| format!("blobs/sha256/{}", l.digest.hex())).collect::<Vec<_>>(),
            }));
            let mut d = img.descriptor.clone();
            d.annotations.insert(REF_NAME.into(), name.to_string());
            index.manifests.push(d);
            blobs.insert(img.descriptor.digest.clone());
            blobs.insert(img.manifest.config.digest.clone());
            blobs.extend(img.manifest.layers.iter().map(|l| l.digest.clone()));
        }
        let mut tar = tar::Builder::new(out);
        let epoch = crate::source_date_epoch()?.max(0) as u64;
        let add = |tar: &mut tar::Builder<W>, path: &str, size: u64, data: &mut dyn Read| {
            let mut h = tar::Header::new_ustar();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(size);
            h.set_mtime(epoch);
            tar.append_data(&mut h, path, data)
                .map_err(Error::io("write layout tar entry", path))
        };
        let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
        add(
            &mut tar,
            "oci-layout",
            layout.len() as u64,
            &mut &layout[..],
        )?;
        let idx = serde_json::to_vec(&index).unwrap();
        add(&mut tar, "index.json", idx.len() as u64, &mut &idx[..])?;
        let dm = serde_json::to_vec(&docker_manifest).unwrap();
        add(&mut tar, "manifest.json", dm.len() as u64, &mut &dm[..])?;
        if !repositories.is_empty() {
            let r = serde_json::to_vec(&repositories).unwrap();
            add(&mut tar, "repositories", r.len() as u64, &mut &r[..])?;
        }
        let mut dir = tar::Header::new_ustar();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        dir.set_mtime(epoch);
        for p in ["blobs/", "blobs/sha256/"] {
            tar.append_data(&mut dir.clone(), p, io::empty())
                .map_err(Error::io("write layout tar entry", p))?;
        }
        for b in blobs {
            let f = self.open_blob(&b)?;
            let size = f
                .metadata()
                .map_err(Error::io("stat", self.blob_path(&b)))?
                .len();
            add(
                &mut tar,
                &format!("blobs/sha256/{}", b.hex()),
                size,
                &mut BufReader::new(f),
            )?;
        }
        tar.into_inner()
            .map_err(Error::io("finish layout tar", self.root.clone()))
    }

    /// Imports a tar of an OCI layout: every blob is verified against its name, then each
    /// image of its `index.json` is named `rename(ref.name)` in this store. Returns the names.
    pub fn import_tar<R: Read>(
        &self,
        input: R,
        rename: impl Fn(Option<&str>) -> Option<String>,
    ) -> Result<Vec<String>> {
        let mut ar = tar::Archive::new(input);
        let mut index: Option<Index> = None;
        for entry in ar
            .entries()
            .map_err(Error::io("read layout tar", self.root.clone()))?
        {
            let mut entry = entry.map_err(Error::io("read layout tar", self.root.clone()))?;
            let path = entry
                .path()
                .map_err(Error::io("read layout tar", self.root.clone()))?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            if path == "index.json" {
                let mut b = Vec::new();
                entry
                    .read_to_end(&mut b)
                    .map_err(Error::io("read layout tar", self.root.clone()))?;
                index = Some(serde_json::from_slice(&b).map_err(|e| {
                    Error::Invalid(format!("layout tar: index.json is not an OCI index: {e}"))
                })?);
            } else if let Some(hex) = path.strip_prefix("blobs/sha256/")
                && !hex.is_empty()
                && entry.header().entry_type().is_file()
            {
                let want = Digest::parse(&format!("sha256:{hex}"))?;
                if self.has_blob(&want) {
                    continue;
                }
                let mut w = self.blob_writer()?;
                io::copy(&mut entry, &mut w).map_err(Error::io("import blob", &path))?;
                w.commit(Some(&want))
                    .map_err(|e| Error::Invalid(format!("layout tar: {path}: {e}")))?;
            }
        }
        let index = index.ok_or_else(|| Error::Invalid("layout tar has no index.json".into()))?;
        let mut names = vec![];
        for m in index.manifests {
            if !self.has_blob(&m.digest) {
                return Err(Error::Invalid(format!(
                    "layout tar: index.json names manifest {} but the tar has no such blob",
                    m.digest
                )));
            }
            if let Some(name) = rename(m.annotations.get(REF_NAME).map(String::as_str)) {
                let mut d = m.clone();
                d.annotations.remove(REF_NAME);
                self.tag(&name, &d)?;
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// Docker's short form of a reference: `docker.io/library/busybox:1` → `busybox:1`.
pub fn familiar(r: &crate::Reference) -> String {
    let s = r.to_string();
    s.strip_prefix("docker.io/library/")
        .or_else(|| s.strip_prefix("docker.io/"))
        .unwrap_or(&s)
        .to_string()
}

/// Writes `path` via a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(Error::io("create temporary file in", dir))?;
    tmp.write_all(bytes).map_err(Error::io("write", path))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_parse_and_match() {
        let p = Platform::parse("linux/arm64").unwrap();
        assert!(p.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        assert!(!p.matches(&Platform::parse("linux/amd64").unwrap()));
        assert!(Platform::parse("linux").is_err());
        assert_eq!(
            Platform::parse("linux/arm/v7").unwrap().to_string(),
            "linux/arm/v7"
        );
    }

    #[test]
    fn blob_commit_checks_digest() {
        let d = tempfile::tempdir().unwrap();
        let s = Store::open(d.path()).unwrap();
        let mut w = s.blob_writer().unwrap();
        w.write_all(b"hello").unwrap();
        let e = w.commit(Some(&Digest::of(b"other"))).unwrap_err();
        assert!(e.to_string().contains("expected"), "{e}");
        assert!(!s.has_blob(&Digest::of(b"hello")));
        let (dg, n) = s.put_blob(b"hello").unwrap();
        assert_eq!((dg.clone(), n), (Digest::of(b"hello"), 5));
        assert_eq!(s.read_blob(&dg).unwrap(), b"hello");
        // no temporary file left behind
        let left: Vec<_> = fs::read_dir(d.path().join("blobs/sha256"))
            .unwrap()
            .collect();
        assert_eq!(left.len(), 1);
    }
}
