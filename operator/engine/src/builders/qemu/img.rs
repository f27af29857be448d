//! `qemu-img` argv for the disk steps, pure functions of the configuration, as
//! packer-plugin-qemu v1.1.7 builds them: `step_create_disk.go` (`buildCreateCommand`),
//! `step_copy_disk.go` (`buildConvertCommand`), `step_resize_disk.go` (`buildResizeCommand`),
//! `step_convert_disk.go` (`buildConvertCommand`, compaction and compression).

use super::args::go_join;

/// `qemu_img_args { convert, create, resize }`: extra arguments per subcommand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QemuImgArgs {
    pub convert: Vec<String>,
    pub create: Vec<String>,
    pub resize: Vec<String>,
}

/// The disk-related options.
#[derive(Debug, Clone, PartialEq)]
pub struct DiskConfig {
    pub output_dir: String,
    pub vm_name: String,
    /// `disk_size` after Prepare (`40960M` by default; a bare number gets `M`).
    pub disk_size: String,
    /// `disk_additional_size`.
    pub additional_sizes: Vec<String>,
    pub format: String,
    pub disk_image: bool,
    pub use_backing_file: bool,
    pub skip_resize_disk: bool,
    pub skip_compaction: bool,
    pub disk_compression: bool,
    pub qemu_img_args: QemuImgArgs,
}

/// `disk_size` as Prepare normalises it: empty or `0` → `40960M`; digits only → `<n>M`;
/// otherwise it must match `^\d+[bkmgt]?$` (case-insensitive) or it is an error.
pub fn normalize_disk_size(size: &str) -> Result<String, String> {
    if size.is_empty() || size == "0" {
        return Ok("40960M".into());
    }
    let lower = size.to_ascii_lowercase();
    let digits = lower.trim_end_matches(['b', 'k', 'm', 'g', 't']);
    let suffix_len = lower.len() - digits.len();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || suffix_len > 1 {
        return Err(format!(
            "Invalid disk size {size:?}: expected a number with an optional b, k, m, g or t suffix"
        ));
    }
    if suffix_len == 0 {
        Ok(format!("{size}M"))
    } else {
        Ok(size.to_string())
    }
}

impl DiskConfig {
    /// A blank qcow2 disk `<output_dir>/<vm_name>` of `disk_size`, every other option at
    /// its default (as a template that sets only those three gets).
    pub fn qcow2(output_dir: &str, vm_name: &str, disk_size: &str) -> DiskConfig {
        DiskConfig {
            output_dir: output_dir.into(),
            vm_name: vm_name.into(),
            disk_size: disk_size.into(),
            additional_sizes: vec![],
            format: "qcow2".into(),
            disk_image: false,
            use_backing_file: false,
            skip_resize_disk: false,
            skip_compaction: false,
            disk_compression: false,
            qemu_img_args: QemuImgArgs::default(),
        }
    }

    /// The main disk's path: `<output_dir>/<vm_name>`.
    pub fn main_disk(&self) -> String {
        go_join(&self.output_dir, &self.vm_name)
    }

    /// All disk paths (`qemu_disk_paths`): the main disk, then `<vm_name>-1`, `-2`, … for
    /// `disk_additional_size`.
    pub fn disk_paths(&self) -> Vec<String> {
        let mut v = vec![self.main_disk()];
        for i in 0..self.additional_sizes.len() {
            v.push(go_join(
                &self.output_dir,
                &format!("{}-{}", self.vm_name, i + 1),
            ));
        }
        v
    }

    /// The `qemu-img create` commands of `stepCreateDisk`: one per disk, except the main
    /// disk of a `disk_image` build without a backing file (the copy step makes that one).
    /// With `use_backing_file`, the main disk is an overlay of `source` (`-b src -F qcow2`).
    pub fn create_commands(&self, source: &str) -> Vec<Vec<String>> {
        let sizes = std::iter::once(&self.disk_size).chain(self.additional_sizes.iter());
        let mut out = Vec::new();
        for (i, (path, size)) in self.disk_paths().into_iter().zip(sizes).enumerate() {
            if self.disk_image && !self.use_backing_file && i == 0 {
                continue;
            }
            let mut cmd = vec!["create".to_string(), "-f".into(), self.format.clone()];
            if self.disk_image && self.use_backing_file && i == 0 {
                cmd.extend(["-b".into(), source.to_string(), "-F".into(), "qcow2".into()]);
            }
            cmd.extend(self.qemu_img_args.create.iter().cloned());
            cmd.push(path);
            cmd.push(size.clone());
            out.push(cmd);
        }
        out
    }

    /// `stepCopyDisk`: for a `disk_image` without a backing file, what to do with the source.
    pub fn copy_action(&self, source: &str) -> CopyAction {
        if !self.disk_image || self.use_backing_file {
            return CopyAction::None;
        }
        let ext = std::path::Path::new(source)
            .extension()
            .map(|e| e.to_string_lossy().to_string());
        if ext.as_deref() == Some(self.format.as_str()) && self.qemu_img_args.convert.is_empty() {
            // "File extension already matches desired output format": a plain copy.
            return CopyAction::Copy {
                from: source.to_string(),
                to: self.main_disk(),
            };
        }
        let mut cmd = vec!["convert".to_string()];
        cmd.extend(self.qemu_img_args.convert.iter().cloned());
        cmd.extend([
            "-O".into(),
            self.format.clone(),
            source.to_string(),
            self.main_disk(),
        ]);
        CopyAction::Convert(cmd)
    }

    /// `stepResizeDisk`: `qemu-img resize -f <format> [args] <disk> <size>`, only for a
    /// `disk_image` without `skip_resize_disk`.
    pub fn resize_command(&self) -> Option<Vec<String>> {
        if !self.disk_image || self.skip_resize_disk {
            return None;
        }
        let mut cmd = vec!["resize".to_string(), "-f".into(), self.format.clone()];
        cmd.extend(self.qemu_img_args.resize.iter().cloned());
        cmd.push(self.main_disk());
        cmd.push(self.disk_size.clone());
        Some(cmd)
    }

    /// `stepConvertDisk` after the build: `qemu-img convert [-c] [args] -O <format> <disk>
    /// <disk>.convert`, then the result is renamed over the disk. `None` when compaction is
    /// skipped and compression is off (always for raw and for backing-file overlays, which
    /// Prepare forces to `skip_compaction`).
    pub fn convert_command(&self) -> Option<(Vec<String>, String, String)> {
        let (skip, compress) = self.effective_compaction();
        if skip && !compress {
            return None;
        }
        let source = self.main_disk();
        let target = go_join(&self.output_dir, &format!("{}.convert", self.vm_name));
        let mut cmd = vec!["convert".to_string()];
        if compress {
            cmd.push("-c".into());
        }
        cmd.extend(self.qemu_img_args.convert.iter().cloned());
        cmd.extend([
            "-O".into(),
            self.format.clone(),
            source.clone(),
            target.clone(),
        ]);
        Some((cmd, target, source))
    }

    /// Prepare's rules: a non-qcow2 format skips compaction and compression; a backing file
    /// skips compaction. Returns `(skip_compaction, disk_compression)`.
    pub fn effective_compaction(&self) -> (bool, bool) {
        let mut skip = self.skip_compaction;
        let mut compress = self.disk_compression;
        if self.format != "qcow2" {
            skip = true;
            compress = false;
        }
        if self.use_backing_file {
            skip = true;
        }
        (skip, compress)
    }

    /// Prepare's disk checks, each naming the option.
    pub fn validate(&self) -> Vec<String> {
        let mut errs = Vec::new();
        if self.format != "qcow2" && self.format != "raw" {
            errs.push("invalid format, only 'qcow2' or 'raw' are allowed".into());
        }
        if self.use_backing_file && !(self.disk_image && self.format == "qcow2") {
            errs.push(
                "use_backing_file can only be enabled for QCOW2 images and when disk_image is true"
                    .into(),
            );
        }
        if self.skip_resize_disk && !self.disk_image {
            errs.push("skip_resize_disk can only be used when disk_image is true".into());
        }
        errs
    }
}

/// What `stepCopyDisk` does.
#[derive(Debug, Clone, PartialEq)]
pub enum CopyAction {
    None,
    Copy { from: String, to: String },
    Convert(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> DiskConfig {
        DiskConfig::qcow2("output", "vm", "4096M")
    }

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// step_create_disk_test.go's cases.
    #[test]
    fn create_commands_as_the_plugin() {
        // Plain ISO build: the main disk is created.
        assert_eq!(
            cfg().create_commands("/iso"),
            vec![v(&["create", "-f", "qcow2", "output/vm", "4096M"])]
        );
        // disk_image with a backing file and extra create args.
        let c = DiskConfig {
            disk_image: true,
            use_backing_file: true,
            qemu_img_args: QemuImgArgs {
                create: v(&["-foo", "bar"]),
                ..Default::default()
            },
            ..cfg()
        };
        assert_eq!(
            c.create_commands("source.qcow2"),
            vec![v(&[
                "create",
                "-f",
                "qcow2",
                "-b",
                "source.qcow2",
                "-F",
                "qcow2",
                "-foo",
                "bar",
                "output/vm",
                "4096M"
            ])]
        );
        // disk_image without a backing file: only the additional disks are created.
        let c = DiskConfig {
            disk_image: true,
            additional_sizes: v(&["1M", "2M"]),
            ..cfg()
        };
        assert_eq!(
            c.create_commands("src"),
            vec![
                v(&["create", "-f", "qcow2", "output/vm-1", "1M"]),
                v(&["create", "-f", "qcow2", "output/vm-2", "2M"])
            ]
        );
        assert_eq!(
            c.disk_paths(),
            v(&["output/vm", "output/vm-1", "output/vm-2"])
        );
    }

    /// step_copy_disk_test.go and step_resize_disk_test.go.
    #[test]
    fn copy_and_resize() {
        let c = DiskConfig {
            disk_image: true,
            ..cfg()
        };
        assert_eq!(
            c.copy_action("base.qcow2"),
            CopyAction::Copy {
                from: "base.qcow2".into(),
                to: "output/vm".into()
            }
        );
        assert_eq!(
            c.copy_action("base.img"),
            CopyAction::Convert(v(&["convert", "-O", "qcow2", "base.img", "output/vm"]))
        );
        let c2 = DiskConfig {
            qemu_img_args: QemuImgArgs {
                convert: v(&["-o", "preallocation=metadata"]),
                ..Default::default()
            },
            ..c.clone()
        };
        assert_eq!(
            c2.copy_action("base.qcow2"),
            CopyAction::Convert(v(&[
                "convert",
                "-o",
                "preallocation=metadata",
                "-O",
                "qcow2",
                "base.qcow2",
                "output/vm"
            ]))
        );
        assert_eq!(cfg().copy_action("x.iso"), CopyAction::None);
        assert_eq!(
            c.resize_command(),
            Some(v(&["resize", "-f", "qcow2", "output/vm", "4096M"]))
        );
        let c3 = DiskConfig {
            qemu_img_args: QemuImgArgs {
                resize: v(&["--shrink"]),
                ..Default::default()
            },
            ..c.clone()
        };
        assert_eq!(
            c3.resize_command(),
            Some(v(&[
                "resize",
                "-f",
                "qcow2",
                "--shrink",
                "output/vm",
                "4096M"
            ]))
        );
        assert_eq!(
            DiskConfig {
                skip_resize_disk: true,
                ..c
            }
            .resize_command(),
            None
        );
        assert_eq!(cfg().resize_command(), None);
    }

    /// step_convert_disk_test.go, plus Prepare's format/backing-file rules.
    #[test]
    fn convert_for_compaction_and_compression() {
        assert_eq!(
            cfg().convert_command().unwrap().0,
            v(&["convert", "-O", "qcow2", "output/vm", "output/vm.convert"])
        );
        let c = DiskConfig {
            disk_compression: true,
            qemu_img_args: QemuImgArgs {
                convert: v(&["-o", "compat=1.1"]),
                ..Default::default()
            },
            ..cfg()
        };
        let (cmd, target, source) = c.convert_command().unwrap();
        assert_eq!(
            cmd,
            v(&[
                "convert",
                "-c",
                "-o",
                "compat=1.1",
                "-O",
                "qcow2",
                "output/vm",
                "output/vm.convert"
            ])
        );
        assert_eq!(
            (target.as_str(), source.as_str()),
            ("output/vm.convert", "output/vm")
        );
        assert_eq!(
            DiskConfig {
                skip_compaction: true,
                ..cfg()
            }
            .convert_command(),
            None
        );
        assert_eq!(
            DiskConfig {
                format: "raw".into(),
                disk_compression: true,
                ..cfg()
            }
            .convert_command(),
            None
        );
        assert_eq!(
            DiskConfig {
                disk_image: true,
                use_backing_file: true,
                ..cfg()
            }
            .convert_command(),
            None
        );
    }

    #[test]
    fn disk_size_and_validation() {
        assert_eq!(normalize_disk_size("").unwrap(), "40960M");
        assert_eq!(normalize_disk_size("0").unwrap(), "40960M");
        assert_eq!(normalize_disk_size("2048").unwrap(), "2048M");
        assert_eq!(normalize_disk_size("10G").unwrap(), "10G");
        assert!(normalize_disk_size("10GB").is_err());
        assert!(normalize_disk_size("ten").is_err());
        assert!(normalize_disk_size("G").is_err());
        let bad = DiskConfig {
            format: "vmdk".into(),
            use_backing_file: true,
            skip_resize_disk: true,
            ..cfg()
        };
        assert_eq!(bad.validate().len(), 3);
        assert!(cfg().validate().is_empty());
    }
}
