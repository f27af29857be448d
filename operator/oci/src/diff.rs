//! Snapshots of a root filesystem and the one layer that turns one snapshot into the next.
//!
//! A [`Snapshot`] is cheap: one `lstat` per path (inode, ctime, mtime, size, mode, owner),
//! no content read. Any write to a file changes its mtime/ctime, any chmod/chown/xattr
//! change its ctime, and a replaced file has a new inode, so comparing these fields finds
//! every change without hashing contents. (A path whose only change is its ctime — `touch`
//! back to the same time, an identical rewrite — is written again: correct, merely not
//! minimal.)
//!
//! [`write_layer`] streams the changes as one tar layer through sha256 (the `diff_id`),
//! gzip and sha256 again (the blob digest) into the store: memory stays flat whatever the
//! layer's size. The bytes are reproducible: entries sorted by path, parents before
//! children; times clamped to the epoch ([`crate::source_date_epoch`]); owners numeric with no
//! user or group names; PAX records only for xattrs and long names; gzip with no name and
//! mtime 0 at a fixed level. Deleted paths become `.wh.NAME` whiteouts (one per deleted
//! subtree); hard links inside the layer stay links; parent directories of changed paths are
//! included so the layer applies on its own.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, BufReader, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::digest::HashWriter;
use crate::store::{Descriptor, MEDIA_OCI_LAYER_GZIP, Store};
use crate::{Digest, Error, Result};

/// Metadata of one path, as far as change detection needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub nlink: u64,
    pub rdev: u64,
}

impl Meta {
    fn of(m: &fs::Metadata) -> Meta {
        Meta {
            dev: m.dev(),
            ino: m.ino(),
            mode: m.mode(),
            uid: m.uid(),
            gid: m.gid(),
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            nlink: m.nlink(),
            rdev: m.rdev(),
        }
    }
    fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }
    fn file_type(&self) -> u32 {
        self.mode & libc::S_IFMT
    }
}

/// The metadata of every path under a root filesystem, in path order (component by
/// component, parents before children), kept in an unnamed temporary file rather than in
/// memory: a snapshot of a root with a million files costs this process no more memory than
/// one of a hundred. Cloning shares the file.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// `None`: the empty snapshot.
    file: Option<Arc<fs::File>>,
    len: u64,
    /// where the file is (for errors)
    dir: PathBuf,
}

impl Snapshot {
    /// The number of paths recorded.
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The recorded paths (relative to the root) and their metadata, in path order.
    pub fn iter(&self) -> SnapshotIter<'_> {
        SnapshotIter {
            r: self
                .file
                .as_deref()
                .map(|f| BufReader::with_capacity(64 * 1024, PosReader { file: f, pos: 0 })),
            left: self.len,
            dir: &self.dir,
        }
    }
}

/// Reads a file from offset 0 with its own position (`pread`), so several readers of one
/// snapshot can run at once.
struct PosReader<'a> {
    file: &'a fs::File,
    pos: u64,
}

impl io::Read for PosReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The entries of a [`Snapshot`], read back from its file.
pub struct SnapshotIter<'a> {
    r: Option<BufReader<PosReader<'a>>>,
    left: u64,
    dir: &'a Path,
}

impl Iterator for SnapshotIter<'_> {
    type Item = Result<(PathBuf, Meta)>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let r = self.r.as_mut()?;
        Some(read_record(r).map_err(|e| Error::io("read snapshot file in", self.dir)(e)))
    }
}

const META_BYTES: usize = 84;

fn write_record(w: &mut impl Write, rel: &Path, m: &Meta) -> io::Result<()> {
    let p = rel.as_os_str().as_bytes();
    w.write_all(&(p.len() as u32).to_le_bytes())?;
    w.write_all(p)?;
    let mut b = [0u8; META_BYTES];
    let mut at = 0;
    let mut put = |v: &[u8]| {
        b[at..at + v.len()].copy_from_slice(v);
        at += v.len();
    };
    put(&m.dev.to_le_bytes());
    put(&m.ino.to_le_bytes());
    put(&m.mode.to_le_bytes());
    put(&m.uid.to_le_bytes());
    put(&m.gid.to_le_bytes());
    put(&m.size.to_le_bytes());
    put(&m.mtime.0.to_le_bytes());
    put(&m.mtime.1.to_le_bytes());
    put(&m.ctime.0.to_le_bytes());
    put(&m.ctime.1.to_le_bytes());
    put(&m.nlink.to_le_bytes());
    put(&m.rdev.to_le_bytes());
    w.write_all(&b)
}

fn read_record(r: &mut impl io::Read) -> io::Result<(PathBuf, Meta)> {
    let mut n = [0u8; 4];
    r.read_exact(&mut n)?;
    let mut p = vec![0u8; u32::from_le_bytes(n) as usize];
    r.read_exact(&mut p)?;
    let mut b = [0u8; META_BYTES];
    r.read_exact(&mut b)?;
    let mut at = 0;
    let mut take = |n: usize| {
        at += n;
        &b[at - n..at]
    };
    let u64_ = |v: &[u8]| u64::from_le_bytes(v.try_into().expect("8 bytes"));
    let u32_ = |v: &[u8]| u32::from_le_bytes(v.try_into().expect("4 bytes"));
    let m = Meta {
        dev: u64_(take(8)),
        ino: u64_(take(8)),
        mode: u32_(take(4)),
        uid: u32_(take(4)),
        gid: u32_(take(4)),
        size: u64_(take(8)),
        mtime: (u64_(take(8)) as i64, u64_(take(8)) as i64),
        ctime: (u64_(take(8)) as i64, u64_(take(8)) as i64),
        nlink: u64_(take(8)),
        rdev: u64_(take(8)),
    };
    Ok((PathBuf::from(std::ffi::OsString::from_vec(p)), m))
}

/// What [`snapshot`] leaves out, and where it keeps its file.
#[derive(Clone, Debug, Default)]
pub struct SnapshotOptions {
    /// Paths relative to the root not to descend into nor record (e.g. `packer-files`).
    pub exclude: Vec<PathBuf>,
    /// Paths relative to the root recorded themselves but not descended into: mount points
    /// a container runtime makes in the container's own layer (Docker's commit holds them
    /// as empty directories or files), whose contents are another file system's.
    pub keep: Vec<PathBuf>,
    /// The directory of the snapshot's unnamed file (default: the system's temporary
    /// directory). When the root is `/` (a build in its own image), a directory left out of
    /// the snapshot.
    pub spill_dir: Option<PathBuf>,
}

/// The order a [`Walk`] gives paths in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    /// `Path`'s order, component by component: a directory's whole subtree comes right
    /// after it (`a`, `a/x`, `a.b`).
    Components,
    /// The byte order of the paths (`a`, `a.b`, `a/x`): the order of the entries in a layer.
    Bytes,
}

enum Event {
    /// A path, and whether a directory's contents follow it.
    Entry(PathBuf, Meta, bool),
    Subtree(PathBuf),
}

/// A walk of a root filesystem that does not follow symlinks nor cross into other file
/// systems mounted below the root, holding only the listings of the directories it is in
/// (sorted), never the whole tree.
struct Walk<'a> {
    root: &'a Path,
    dev: u64,
    exclude: &'a [PathBuf],
    keep: &'a [PathBuf],
    order: Order,
    /// one frame per directory being walked: its pending events, last one first
    frames: Vec<Vec<(Vec<u8>, Event)>>,
}

impl<'a> Walk<'a> {
    fn new(root: &'a Path, opts: &'a SnapshotOptions, order: Order) -> Result<Walk<'a>> {
        let root_meta =
            fs::symlink_metadata(root).map_err(Error::io("stat root filesystem", root))?;
        let mut w = Walk {
            root,
            dev: root_meta.dev(),
            exclude: &opts.exclude,
            keep: &opts.keep,
            order,
            frames: vec![],
        };
        w.enter(PathBuf::new())?;
        Ok(w)
    }

    /// Lists the directory `rel` as a new frame.
    fn enter(&mut self, rel: PathBuf) -> Result<()> {
        let dir = self.root.join(&rel);
        let rd = fs::read_dir(&dir).map_err(Error::io("read directory", &dir))?;
        let mut events = vec![];
        for e in rd {
            let e = e.map_err(Error::io("read directory", &dir))?;
            let name = e.file_name();
            let r = rel.join(&name);
            if self.exclude.iter().any(|x| x == &r) {
                continue;
            }
            let p = self.root.join(&r);
            let m = fs::symlink_metadata(&p).map_err(Error::io("stat", &p))?;
            if m.dev() != self.dev {
                continue; // a mount point below the root
            }
            let meta = Meta::of(&m);
            let key = name.as_bytes().to_vec();
            let descend = meta.is_dir() && !self.keep.iter().any(|x| x == &r);
            if descend && self.order == Order::Bytes {
                let mut sub = key.clone();
                sub.push(b'/');
                events.push((sub, Event::Subtree(r.clone())));
            }
            events.push((key, Event::Entry(r, meta, descend)));
        }
        // last one first, so that `pop` gives them in order
        events.sort_unstable_by(|a, b| b.0.cmp(&a.0));
        self.frames.push(events);
        Ok(())
    }
}

impl Iterator for Walk<'_> {
    type Item = Result<(PathBuf, Meta)>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let frame = self.frames.last_mut()?;
            let Some((_, ev)) = frame.pop() else {
                self.frames.pop();
                continue;
            };
            match ev {
                Event::Subtree(r) => {
                    if let Err(e) = self.enter(r) {
                        return Some(Err(e));
                    }
                }
                Event::Entry(r, m, descend) => {
                    if descend
                        && self.order == Order::Components
                        && let Err(e) = self.enter(r.clone())
                    {
                        return Some(Err(e));
                    }
                    return Some(Ok((r, m)));
                }
            }
        }
    }
}

/// Records the metadata of every path under `root` (not following symlinks, not crossing
/// into other file systems mounted below it) into a [`Snapshot`].
pub fn snapshot(root: &Path, opts: &SnapshotOptions) -> Result<Snapshot> {
    let dir = opts.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let file = tempfile::tempfile_in(&dir).map_err(Error::io("create snapshot file in", &dir))?;
    let werr = |e: io::Error| Error::io("write snapshot file in", &dir)(e);
    let mut w = io::BufWriter::with_capacity(64 * 1024, file);
    let mut len = 0;
    for e in Walk::new(root, opts, Order::Components)? {
        let (r, m) = e?;
        write_record(&mut w, &r, &m).map_err(werr)?;
        len += 1;
    }
    let file = w.into_inner().map_err(|e| werr(e.into_error()))?;
    Ok(Snapshot {
        file: Some(Arc::new(file)),
        len,
        dir,
    })
}

/// The new layer written by [`write_layer`].
#[derive(Clone, Debug)]
pub struct NewLayer {
    /// The gzip blob's descriptor (OCI `tar+gzip`).
    pub descriptor: Descriptor,
    /// sha256 of the uncompressed tar (goes into the config's `rootfs.diff_ids`).
    pub diff_id: Digest,
    pub added: usize,
    pub modified: usize,
    pub deleted: usize,
}

/// Options of [`write_layer`].
#[derive(Clone, Debug)]
pub struct LayerOptions {
    /// File times later than this are set to it (`SOURCE_DATE_EPOCH`).
    pub epoch: i64,
    /// gzip level (0–9); part of what makes the digest, so fixed by default (6).
    pub gzip_level: u32,
}

impl Default for LayerOptions {
    fn default() -> Self {
        LayerOptions {
            epoch: crate::DEFAULT_SOURCE_DATE_EPOCH,
            gzip_level: 6,
        }
    }
}

enum Item {
    Whiteout,
    Path(Meta),
}

fn changed(a: &Meta, b: &Meta) -> bool {
    a.file_type() != b.file_type()
        || a.ino != b.ino
        || a.dev != b.dev
        || a.mtime != b.mtime
        || a.ctime != b.ctime
        || a.size != b.size
        || a.mode != b.mode
        || a.uid != b.uid
        || a.gid != b.gid
        || a.rdev != b.rdev
}

/// Writes the changes from `before` to `after` (both snapshots of `root`) as one gzip tar
/// layer into `store`.
pub fn write_layer(
    root: &Path,
    before: &Snapshot,
    after: &Snapshot,
    store: &Store,
    opts: &LayerOptions,
) -> Result<NewLayer> {
    // Both snapshots are in path order: one pass over the two side by side, holding only
    // the changes (and `after`'s entries above the current path) in memory.
    let mut items: BTreeMap<Vec<u8>, (PathBuf, Item)> = BTreeMap::new();
    let (mut added, mut modified, mut deleted) = (0, 0, 0);
    let key = |p: &Path| p.as_os_str().as_bytes().to_vec();
    // `after`'s entries that are ancestors of the current path, outermost first
    let mut above: Vec<(PathBuf, Meta)> = vec![];
    let up_to = |above: &mut Vec<(PathBuf, Meta)>, p: &Path| {
        while above
            .last()
            .is_some_and(|(a, _)| !(p.starts_with(a) && p != a))
        {
            above.pop();
        }
    };
    // adds the entries of `above` not yet in `items` (innermost first, stopping at the
    // first one there: its own parents are there too)
    let with_parents = |items: &mut BTreeMap<Vec<u8>, (PathBuf, Item)>,
                        above: &[(PathBuf, Meta)]| {
        for (a, am) in above.iter().rev() {
            if items.contains_key(&key(a)) {
                break;
            }
            items.insert(key(a), (a.clone(), Item::Path(*am)));
        }
    };
    let mut bi = before.iter();
    let mut ai = after.iter();
    let mut b = bi.next().transpose()?;
    let mut a = ai.next().transpose()?;
    loop {
        let order = match (&a, &b) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some((ap, _)), Some((bp, _))) => ap.as_path().cmp(bp.as_path()),
        };
        if order == std::cmp::Ordering::Greater {
            // in `before` only: deleted
            let (p, _) = b.take().expect("a before entry");
            b = bi.next().transpose()?;
            up_to(&mut above, &p);
            let parent = p.parent().unwrap_or(Path::new(""));
            let parent_is_dir = parent.as_os_str().is_empty()
                || above
                    .last()
                    .is_some_and(|(ap, am)| ap == parent && am.is_dir());
            if !parent_is_dir {
                continue; // covered by the parent's own whiteout or replacement
            }
            deleted += 1;
            let mut name = b".wh.".to_vec();
            name.extend_from_slice(p.file_name().unwrap_or_default().as_bytes());
            let wh = parent.join(std::ffi::OsStr::from_bytes(&name));
            items.insert(key(&wh), (wh, Item::Whiteout));
            // the parent directory's entry comes with it
            with_parents(&mut items, &above);
            continue;
        }
        let (p, m) = a.take().expect("an after entry");
        a = ai.next().transpose()?;
        let is_new = if order == std::cmp::Ordering::Equal {
            let (_, bm) = b.take().expect("a before entry");
            b = bi.next().transpose()?;
            let c = changed(&bm, &m);
            modified += usize::from(c);
            c
        } else {
            added += 1;
            true
        };
        up_to(&mut above, &p);
        if is_new {
            with_parents(&mut items, &above);
            items.insert(key(&p), (p.clone(), Item::Path(m)));
        }
        above.push((p, m));
    }

    let blob = store.blob_writer()?;
    // Two threads: this one reads files, writes the tar and hashes it (diff_id); the other
    // compresses, hashes and writes the blob. Chunks go through a bounded channel, so memory
    // stays at a few chunks whatever the layer's size; the bytes are the same as in one
    // thread.
    let level = opts.gzip_level;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Option<Vec<u8>>>(4);
    let (diff_id, digest, size) = std::thread::scope(|scope| -> Result<(Digest, Digest, u64)> {
        let compressor = scope.spawn(move || -> Result<(Digest, u64)> {
            let gz = flate2::GzBuilder::new()
                .mtime(0)
                .operating_system(255)
                .write(HashWriter::new(blob), flate2::Compression::new(level));
            let mut gz = gz;
            loop {
                match rx.recv() {
                    Ok(Some(chunk)) => gz
                        .write_all(&chunk)
                        .map_err(|e| Error::io("compress layer", store.root())(e))?,
                    Ok(None) => break,
                    // the tar writer failed: nothing is committed (the temporary blob goes)
                    Err(_) => return Err(Error::Invalid(NOT_FINISHED.into())),
                }
            }
            let comp_hw = gz
                .finish()
                .map_err(|e| Error::io("finish layer", store.root())(e))?;
            let (blob, _, _) = comp_hw.finish();
            blob.commit(None)
        });
        let sink = io::BufWriter::with_capacity(CHUNK, ChannelWriter(tx));
        let written = write_items(
            root,
            items.into_values().map(Ok),
            HashWriter::new(sink),
            opts.epoch,
            None,
        );
        let finished = written.and_then(|hw| {
            let (sink, diff_id, _) = hw.finish();
            // flush the last chunk, then say the end so the compressor commits
            let w = sink
                .into_inner()
                .map_err(|e| Error::io("finish layer", store.root())(e.into_error()))?;
            w.0.send(None)
                .map_err(|_| Error::Invalid("the layer compressor stopped".into()))?;
            Ok(diff_id)
        });
        let compressed = compressor
            .join()
            .map_err(|_| Error::Invalid("the layer compressor panicked".into()))?;
        match (finished, compressed) {
            (Ok(diff_id), Ok((digest, size))) => Ok((diff_id, digest, size)),
            // the compressor stopped on its own (a full disk): its error is the cause, the
            // tar side only saw it stop
            (_, Err(e)) if !matches!(&e, Error::Invalid(m) if m == NOT_FINISHED) => Err(e),
            // the tar side failed first (the compressor then saw the layer unfinished)
            (Err(e), _) | (Ok(_), Err(e)) => Err(e),
        }
    })?;
    Ok(NewLayer {
        descriptor: Descriptor::new(MEDIA_OCI_LAYER_GZIP, digest, size),
        diff_id,
        added,
        modified,
        deleted,
    })
}

const CHUNK: usize = 256 * 1024;

/// What the compressor says when the tar side stopped sending before the end.
const NOT_FINISHED: &str = "layer not finished";

/// Sends what is written, in chunks, to the compressor thread.
struct ChannelWriter(std::sync::mpsc::SyncSender<Option<Vec<u8>>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(Some(buf.to_vec()))
            .map_err(|_| io::Error::other("the layer compressor stopped"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Stores an uncompressed tar read from `input` as one gzip layer (`docker import`): the
/// bytes are kept as they are (`diff_id` is their digest), compressed as [`write_layer`]
/// compresses.
pub fn layer_from_tar(
    store: &Store,
    mut input: impl io::Read,
    opts: &LayerOptions,
) -> Result<NewLayer> {
    let blob = store.blob_writer()?;
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(
            HashWriter::new(blob),
            flate2::Compression::new(opts.gzip_level),
        );
    let mut diff_hw = HashWriter::new(gz);
    io::copy(&mut input, &mut diff_hw)
        .map_err(|e| Error::io("read tar to import", store.root())(e))?;
    let (gz, diff_id, _) = diff_hw.finish();
    let comp = gz
        .finish()
        .map_err(|e| Error::io("finish layer", store.root())(e))?;
    let (blob, _, _) = comp.finish();
    let (digest, size) = blob.commit(None)?;
    Ok(NewLayer {
        descriptor: Descriptor::new(MEDIA_OCI_LAYER_GZIP, digest, size),
        diff_id,
        added: 0,
        modified: 0,
        deleted: 0,
    })
}

/// Owner names written into a tar's entries, by id (`docker export` names owners as Go's
/// `tar.FileInfoHeader` looks them up, inside the container's root: see
/// `kiln_oci::runtime::owner_names`). An id without a name is written as a number only.
#[derive(Clone, Debug, Default)]
pub struct OwnerNames {
    pub users: HashMap<u32, String>,
    pub groups: HashMap<u32, String>,
}

/// Writes the whole tree under `root` as one uncompressed tar to `out` (Docker's `docker
/// export`: no whiteouts), with the same reproducible rules as a layer, and the owners'
/// names when `names` are given.
pub fn export_tar<W: Write>(
    root: &Path,
    opts: &SnapshotOptions,
    out: W,
    epoch: i64,
    names: Option<&OwnerNames>,
) -> Result<W> {
    // the walk gives the paths in the layer's order, one directory listing at a time
    let items = Walk::new(root, opts, Order::Bytes)?.map(|e| e.map(|(p, m)| (p, Item::Path(m))));
    write_items(root, items, out, epoch, names)
}

fn write_items<W: Write>(
    root: &Path,
    items: impl IntoIterator<Item = Result<(PathBuf, Item)>>,
    out: W,
    epoch: i64,
    names: Option<&OwnerNames>,
) -> Result<W> {
    let name_of = |map: fn(&OwnerNames) -> &HashMap<u32, String>, id: u32| -> Vec<u8> {
        names
            .and_then(|n| map(n).get(&id))
            .map(|s| s.as_bytes().to_vec())
            .unwrap_or_default()
    };
    let mut tar = tar::Builder::new(out);
    let mut links: HashMap<(u64, u64), Vec<u8>> = HashMap::new();
    let epoch = epoch.max(0);
    for it in items {
        let (rel, item) = it?;
        let abs = root.join(&rel);
        let werr = |e: io::Error| Error::io("write layer entry", &abs)(e);
        let mut name = rel.as_os_str().as_bytes().to_vec();
        match item {
            Item::Whiteout => {
                let h = TarEntry {
                    name,
                    kind: tar::EntryType::Regular,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                    mtime: epoch,
                    size: 0,
                    link: None,
                    dev: None,
                    xattrs: vec![],
                    uname: vec![],
                    gname: vec![],
                };
                h.append(&mut tar, io::empty()).map_err(werr)?;
            }
            Item::Path(m) => {
                let ft = m.file_type();
                if ft == libc::S_IFSOCK {
                    continue; // sockets are not carried in layers
                }
                let mtime = m.mtime.0.min(epoch).max(0);
                let xattrs = read_xattrs(&abs).map_err(werr)?;
                let mut e = TarEntry {
                    name: vec![],
                    kind: tar::EntryType::Regular,
                    mode: m.mode & 0o7777,
                    uid: m.uid,
                    gid: m.gid,
                    mtime,
                    size: 0,
                    link: None,
                    dev: None,
                    xattrs,
                    uname: name_of(|n| &n.users, m.uid),
                    gname: name_of(|n| &n.groups, m.gid),
                };
                match ft {
                    libc::S_IFDIR => {
                        name.push(b'/');
                        e.kind = tar::EntryType::Directory;
                        e.name = name;
                        e.append(&mut tar, io::empty()).map_err(werr)?;
                    }
                    libc::S_IFLNK => {
                        let t = fs::read_link(&abs).map_err(werr)?;
                        e.kind = tar::EntryType::Symlink;
                        e.link = Some(t.as_os_str().as_bytes().to_vec());
                        e.name = name;
                        e.append(&mut tar, io::empty()).map_err(werr)?;
                    }
                    libc::S_IFREG => {
                        if m.nlink > 1 {
                            if let Some(first) = links.get(&(m.dev, m.ino)) {
                                e.kind = tar::EntryType::Link;
                                e.link = Some(first.clone());
                                e.xattrs.clear();
                                e.name = name;
                                e.append(&mut tar, io::empty()).map_err(werr)?;
                                continue;
                            }
                            links.insert((m.dev, m.ino), name.clone());
                        }
                        let f = fs::File::open(&abs).map_err(werr)?;
                        let len = f.metadata().map_err(werr)?.len();
                        e.size = len;
                        e.name = name;
                        // take exactly `len` bytes even if the file changes under us
                        let r = io::Read::take(BufReader::with_capacity(256 * 1024, f), len);
                        e.append(&mut tar, r).map_err(werr)?;
                    }
                    libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                        e.kind = match ft {
                            libc::S_IFCHR => tar::EntryType::Char,
                            libc::S_IFBLK => tar::EntryType::Block,
                            _ => tar::EntryType::Fifo,
                        };
                        if ft != libc::S_IFIFO {
                            e.dev = Some((libc::major(m.rdev), libc::minor(m.rdev)));
                        }
                        e.name = name;
                        e.append(&mut tar, io::empty()).map_err(werr)?;
                    }
                    _ => continue,
                }
            }
        }
    }
    tar.into_inner()
        .map_err(|e| Error::io("finish tar", root)(e))
}

fn read_xattrs(p: &Path) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut v = vec![];
    let names = match xattr::list(p) {
        Ok(n) => n,
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => return Ok(v),
        Err(e) => return Err(e),
    };
    for n in names {
        let nb = n.as_bytes();
        if nb == b"security.selinux" || nb.starts_with(b"system.") {
            continue; // host labels and ACL internals are not image content
        }
        if let Some(val) = xattr::get(p, &n)? {
            v.push((nb.to_vec(), val));
        }
    }
    v.sort();
    Ok(v)
}

/// One tar entry as Kiln writes it: ustar header, with a PAX header before it only when a
/// name or link is too long for ustar or there are xattrs.
struct TarEntry {
    name: Vec<u8>,
    kind: tar::EntryType,
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    size: u64,
    link: Option<Vec<u8>>,
    dev: Option<(u32, u32)>,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
    /// Owner names (empty: none written).
    uname: Vec<u8>,
    gname: Vec<u8>,
}

fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    // "<len> <key>=<value>\n", where len counts the whole record including its own digits
    let body = key.len() + value.len() + 3; // ' ', '=', '\n'
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn set_raw(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
    for b in &mut field[n..] {
        *b = 0;
    }
}

impl TarEntry {
    fn append<W: Write>(&self, tar: &mut tar::Builder<W>, data: impl io::Read) -> io::Result<()> {
        let mut pax = vec![];
        if self.name.len() > 100 {
            pax_record(&mut pax, b"path", &self.name);
        }
        if let Some(l) = &self.link
            && l.len() > 100
        {
            pax_record(&mut pax, b"linkpath", l);
        }
        if self.uname.len() > 32 {
            pax_record(&mut pax, b"uname", &self.uname);
        }
        if self.gname.len() > 32 {
            pax_record(&mut pax, b"gname", &self.gname);
        }
        for (k, v) in &self.xattrs {
            let mut key = b"SCHILY.xattr.".to_vec();
            key.extend_from_slice(k);
            pax_record(&mut pax, &key, v);
        }
        if !pax.is_empty() {
            let mut ph = tar::Header::new_ustar();
            let mut pname = b"PaxHeaders.0/".to_vec();
            let base = self
                .name
                .trim_ascii_end()
                .strip_suffix(b"/")
                .unwrap_or(&self.name);
            let base = base.rsplit(|&b| b == b'/').next().unwrap_or(base);
            pname.extend_from_slice(base);
            set_raw(&mut ph.as_old_mut().name, &pname);
            ph.set_entry_type(tar::EntryType::XHeader);
            ph.set_mode(0o644);
            ph.set_uid(0);
            ph.set_gid(0);
            ph.set_mtime(self.mtime as u64);
            ph.set_size(pax.len() as u64);
            ph.set_cksum();
            tar.append(&ph, &pax[..])?;
        }
        let mut h = tar::Header::new_ustar();
        set_raw(&mut h.as_old_mut().name, &self.name);
        if let Some(l) = &self.link {
            set_raw(&mut h.as_old_mut().linkname, l);
        }
        h.set_entry_type(self.kind);
        h.set_mode(self.mode);
        h.set_uid(self.uid as u64);
        h.set_gid(self.gid as u64);
        if let Some(u) = h.as_ustar_mut() {
            set_raw(&mut u.uname, &self.uname);
            set_raw(&mut u.gname, &self.gname);
        }
        h.set_mtime(self.mtime as u64);
        h.set_size(self.size);
        if let Some((maj, min)) = self.dev {
            h.set_device_major(maj)?;
            h.set_device_minor(min)?;
        }
        h.set_cksum();
        tar.append(&h, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_record_lengths() {
        let mut v = vec![];
        pax_record(&mut v, b"path", b"x");
        assert_eq!(v, b"9 path=x\n");
        let mut v = vec![];
        let long = vec![b'a'; 95];
        pax_record(&mut v, b"path", &long);
        let s = String::from_utf8(v.clone()).unwrap();
        let n: usize = s.split(' ').next().unwrap().parse().unwrap();
        assert_eq!(n, v.len());
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    /// Names whose byte order and component order differ: `a.b` sorts before `a/x` as
    /// bytes, after it as paths.
    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for dir in ["a/x", "a.b", "a-c", "b"] {
            fs::create_dir_all(d.path().join(dir)).unwrap();
        }
        for f in ["a/x/y", "a/z", "a.b/q", "a-c/r", "a0", "b/s"] {
            fs::write(d.path().join(f), f).unwrap();
        }
        d
    }

    #[test]
    fn snapshots_are_in_path_order_and_read_back() {
        let d = tree();
        let snap = snapshot(d.path(), &SnapshotOptions::default()).unwrap();
        let got: Vec<(PathBuf, Meta)> = snap.iter().map(|e| e.unwrap()).collect();
        let paths: Vec<&str> = got.iter().map(|(p, _)| p.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "a", "a/x", "a/x/y", "a/z", "a-c", "a-c/r", "a.b", "a.b/q", "a0", "b", "b/s"
            ]
        );
        assert_eq!(snap.len(), 11);
        // the metadata survives the file
        for (p, m) in &got {
            let md = fs::symlink_metadata(d.path().join(p)).unwrap();
            assert_eq!(*m, Meta::of(&md), "{}", p.display());
        }
        // two readers at once, and a clone, see the same
        let mut i1 = snap.iter();
        let c = snap.clone();
        let mut i2 = c.iter();
        assert_eq!(i1.next().unwrap().unwrap().0, i2.next().unwrap().unwrap().0);
        assert!(Snapshot::default().iter().next().is_none());
    }

    #[test]
    fn kept_paths_are_recorded_without_their_contents() {
        let d = tree();
        let opts = SnapshotOptions {
            exclude: vec![PathBuf::from("b")],
            keep: vec![PathBuf::from("a/x"), PathBuf::from("a.b")],
            ..Default::default()
        };
        let snap = snapshot(d.path(), &opts).unwrap();
        let paths: Vec<PathBuf> = snap.iter().map(|e| e.unwrap().0).collect();
        let paths: Vec<&str> = paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(paths, ["a", "a/x", "a/z", "a-c", "a-c/r", "a.b", "a0"]);
        let out = export_tar(d.path(), &opts, Vec::new(), 0, None).unwrap();
        let names: Vec<String> = tar::Archive::new(&out[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a/", "a-c/", "a-c/r", "a.b/", "a/x/", "a/z", "a0"]);
        // a kept directory made after the first snapshot is a new, empty entry of the layer
        let before = snapshot(d.path(), &opts).unwrap();
        fs::create_dir_all(d.path().join("a.b/new/deep")).unwrap();
        fs::remove_dir_all(d.path().join("a/x")).unwrap();
        fs::create_dir_all(d.path().join("a/x/inside")).unwrap();
        let after = snapshot(d.path(), &opts).unwrap();
        let store_dir = tempfile::tempdir().unwrap();
        let store = Store::open(store_dir.path()).unwrap();
        let layer =
            write_layer(d.path(), &before, &after, &store, &LayerOptions::default()).unwrap();
        let blob = fs::File::open(store.blob_path(&layer.descriptor.digest)).unwrap();
        let names: Vec<String> = tar::Archive::new(flate2::read::GzDecoder::new(blob))
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(names, ["a/", "a.b/", "a/x/"], "{names:?}");
    }

    #[test]
    fn exports_are_in_byte_order() {
        let d = tree();
        let out = export_tar(d.path(), &SnapshotOptions::default(), Vec::new(), 0, None).unwrap();
        let mut ar = tar::Archive::new(&out[..]);
        let names: Vec<String> = ar
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "a/", "a-c/", "a-c/r", "a.b/", "a.b/q", "a/x/", "a/x/y", "a/z", "a0", "b/", "b/s"
            ]
        );
    }
}
