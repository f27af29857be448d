//! The `checksum` and `compress` post-processors, run through whole builds of `file` builder
//! templates (session load → plan::prepare → run::run_all), checked against known digests and
//! the system tools (`md5sum`, `sha*sum`, `tar`, `gzip`, `unzip`, `xz`, `bzip2`, `lz4`).

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln_engine::plan::RunOptions;
use kiln_engine::run;

mod support;
use support::build::{load_hcl, run_template};

const FOX: &str = "The quick brown fox jumps over the lazy dog";

/// Known digests of [`FOX`] (the classic test vectors).
const FOX_DIGESTS: &[(&str, &str)] = &[
    ("md5", "9e107d9d372bb6826bd81d3542a419d6"),
    ("sha1", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    (
        "sha224",
        "730e109bd7a8a32b1cb9d9a09aa2325d2430587ddbc0c38bad911525",
    ),
    (
        "sha256",
        "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592",
    ),
    (
        "sha384",
        "ca737f1014a48f4c0b6dd43cb177b0afd9e5169367544c494011e3317dbf9a509cb1e5dc1e85a941bbee3d7f2afbc9b1",
    ),
    (
        "sha512",
        "07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb642e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6",
    ),
];

/// Known digests of the empty input.
const EMPTY_DIGESTS: &[(&str, &str)] = &[
    ("md5", "d41d8cd98f00b204e9800998ecf8427e"),
    ("sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    (
        "sha224",
        "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
    ),
    (
        "sha256",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    (
        "sha384",
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    ),
    (
        "sha512",
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ),
];

const ALL_TYPES: &str = r#"["md5", "sha1", "sha224", "sha256", "sha384", "sha512"]"#;

/// Deterministic bytes: half compressible text, half xorshift noise.
fn generated(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    let mut x = seed | 1;
    let line = b"kiln compresses images the way packer does; ";
    while out.len() < len {
        if (out.len() / 4096) % 2 == 0 {
            out.extend_from_slice(line);
        } else {
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                out.push(x as u8);
            }
        }
    }
    out.truncate(len);
    out
}

/// Writes `t.pkr.hcl` into `dir`, loads it, runs every build; returns the UI lines and
/// outcomes, or the load/prepare diagnostics as text.
async fn build(dir: &Path, hcl: &str) -> Result<(Vec<String>, Vec<run::BuildOutcome>), String> {
    let t = load_hcl(dir, hcl)?;
    run_template(&t, &RunOptions::default()).await
}

/// A `file` source writing `target` from `source` (a path) and a build with one chain.
fn file_template(source: &Path, target: &Path, chain: &str) -> String {
    format!(
        r#"
source "file" "img" {{
  source = "{}"
  target = "{}"
}}
build {{
  sources = ["file.img"]
  post-processors {{
{chain}
  }}
}}
"#,
        source.display(),
        target.display()
    )
}

fn sh(cmd: &str, args: &[&str], cwd: &Path) -> Vec<u8> {
    let out = Command::new(cmd)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e} (install it: scripts/install-deps.sh)"));
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn files_of(o: &run::BuildOutcome) -> Vec<PathBuf> {
    o.artifacts.iter().flat_map(|a| a.files.clone()).collect()
}

#[tokio::test]
async fn checksum_known_digests_for_every_type_appended_and_input_kept() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("fox.src");
    std::fs::write(&src, FOX).unwrap();
    let target = d.path().join("out").join("fox.txt");
    let sums = d.path().join("sums");
    let chain = format!(
        r#"    post-processor "checksum" {{
      checksum_types      = {ALL_TYPES}
      output              = "{}/{{{{.BuildName}}}}_{{{{ .BuilderType }}}}.{{{{.ChecksumType}}}}"
      keep_input_artifact = false
    }}"#,
        sums.display()
    );
    let hcl = file_template(&src, &target, &chain);
    let (_, out) = build(d.path(), &hcl).await.unwrap();
    assert!(out[0].ok(), "{out:?}");
    // Forced keep: keep_input_artifact = false cannot destroy the checksummed file.
    assert!(target.exists(), "input kept");
    for (kind, hex) in FOX_DIGESTS {
        let file = sums.join(format!("img_file.{kind}"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text, format!("{hex}\tfox.txt\n"), "{kind}");
    }
    // The new artifact: the input files, then one checksum file per type, in type order.
    let a = out[0]
        .artifacts
        .iter()
        .find(|a| a.builder_id == "packer.post-processor.checksum")
        .expect("checksum artifact");
    let mut want = vec![target.clone()];
    want.extend(
        FOX_DIGESTS
            .iter()
            .map(|(k, _)| sums.join(format!("img_file.{k}"))),
    );
    assert_eq!(a.files, want);
    assert_eq!(a.id, "");
    // The builder artifact is kept too (the first post-processor kept its input).
    assert_eq!(out[0].artifacts[0].builder_id, "packer.file");

    // A second run appends a line, and an existing checksum file is not listed again.
    let (_, out) = build(d.path(), &hcl).await.unwrap();
    assert!(out[0].ok(), "{out:?}");
    let text = std::fs::read_to_string(sums.join("img_file.sha256")).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    let a = out[0]
        .artifacts
        .iter()
        .find(|a| a.builder_id == "packer.post-processor.checksum")
        .unwrap();
    assert_eq!(a.files, vec![target.clone()]);
}

#[tokio::test]
async fn checksum_of_empty_and_of_several_files_into_one_file() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty.src");
    std::fs::write(&empty, "").unwrap();
    let target = d.path().join("empty.img");
    let fox = d.path().join("fox.txt");
    std::fs::write(&fox, FOX).unwrap();
    // One output for every type: lines land type by type, file by file, as in Packer.
    let all = d.path().join("ALL.sums");
    let chain = format!(
        r#"    post-processor "artifice" {{ files = ["{}", "{}"] }}
    post-processor "checksum" {{
      checksum_types = {ALL_TYPES}
      output         = "{}"
    }}"#,
        target.display(),
        fox.display(),
        all.display()
    );
    let (_, out) = build(d.path(), &file_template(&empty, &target, &chain))
        .await
        .unwrap();
    assert!(out[0].ok(), "{out:?}");
    let mut want = String::new();
    for ((kind, e), (_, f)) in EMPTY_DIGESTS.iter().zip(FOX_DIGESTS) {
        let _ = kind;
        want.push_str(&format!("{e}\tempty.img\n{f}\tfox.txt\n"));
    }
    assert_eq!(std::fs::read_to_string(&all).unwrap(), want);
    let a = out[0].artifacts.last().unwrap();
    assert_eq!(a.files, vec![target.clone(), fox.clone(), all.clone()]);
}

#[tokio::test]
async fn checksum_agrees_with_coreutils_on_a_generated_file() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("gen.src");
    // Not a multiple of the read buffer, and several buffers long.
    std::fs::write(&src, generated(3 * 1024 * 1024 + 12_345, 7)).unwrap();
    let target = d.path().join("disk.raw");
    let chain = format!(
        r#"    post-processor "checksum" {{
      checksum_types = {ALL_TYPES}
      output         = "{}/{{{{.ChecksumType}}}}SUMS"
    }}"#,
        d.path().display()
    );
    let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
        .await
        .unwrap();
    assert!(out[0].ok(), "{out:?}");
    for (kind, _) in FOX_DIGESTS {
        let tool = format!("{kind}sum");
        let stdout = sh(&tool, &["disk.raw"], d.path());
        let tool_hex = String::from_utf8(stdout).unwrap();
        let tool_hex = tool_hex.split_whitespace().next().unwrap().to_string();
        let ours = std::fs::read_to_string(d.path().join(format!("{kind}SUMS"))).unwrap();
        assert_eq!(ours, format!("{tool_hex}\tdisk.raw\n"), "{kind}");
    }
}

#[tokio::test]
async fn checksum_rejects_unknown_types_at_prepare() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("a");
    std::fs::write(&src, "a").unwrap();
    let chain = r#"    post-processor "checksum" { checksum_types = ["sha256", "crc32"] }"#;
    let err = build(d.path(), &file_template(&src, &d.path().join("b"), chain))
        .await
        .map(|_| ())
        .expect_err("prepare fails");
    assert!(err.contains("Unrecognized checksum type: crc32"), "{err}");
    assert!(!err.contains("Unrecognized checksum type: sha256"), "{err}");
    assert!(!d.path().join("b").exists(), "nothing ran");
}

/// How to get the files back out of an archive with the system tools.
enum Unpack {
    /// One compressed file: the tool and its args to decompress to stdout.
    Single(&'static str, &'static [&'static str]),
    /// A tarball: a shell pipeline extracting into the current directory.
    Tar(&'static str),
    Zip,
}

struct Case {
    output: &'static str,
    format: Option<&'static str>,
    unpack: Unpack,
}

const SINGLE_CASES: &[Case] = &[
    Case {
        output: "disk.raw.gz",
        format: None,
        unpack: Unpack::Single("gzip", &["-dc"]),
    },
    Case {
        output: "disk.raw.bgzf",
        format: None,
        unpack: Unpack::Single("gzip", &["-dc"]),
    },
    Case {
        output: "disk.raw.lz4",
        format: None,
        unpack: Unpack::Single("lz4", &["-dc"]),
    },
    Case {
        output: "disk.raw.xz",
        format: None,
        unpack: Unpack::Single("xz", &["-dc"]),
    },
    Case {
        output: "disk.raw.bzip2",
        format: None,
        unpack: Unpack::Single("bzip2", &["-dc"]),
    },
    Case {
        output: "disk",
        format: Some("gz"),
        unpack: Unpack::Single("gzip", &["-dc"]),
    },
];

const ARCHIVE_CASES: &[Case] = &[
    Case {
        output: "b.tar",
        format: None,
        unpack: Unpack::Tar("tar xf"),
    },
    Case {
        output: "b.tar.gz",
        format: None,
        unpack: Unpack::Tar("tar xzf"),
    },
    Case {
        output: "b.tgz",
        format: None,
        unpack: Unpack::Tar("tar xzf"),
    },
    Case {
        output: "packer_{{.BuildName}}_{{.BuilderType}}",
        format: None,
        unpack: Unpack::Tar("tar xzf"),
    },
    Case {
        output: "b.tar.bgzf",
        format: None,
        unpack: Unpack::Tar("gzip -dc < ARCHIVE | tar xf - #"),
    },
    Case {
        output: "b.tar.lz4",
        format: None,
        unpack: Unpack::Tar("lz4 -dc < ARCHIVE | tar xf - #"),
    },
    Case {
        output: "b.tar.xz",
        format: None,
        unpack: Unpack::Tar("tar xJf"),
    },
    Case {
        output: "b.tar.bzip2",
        format: None,
        unpack: Unpack::Tar("tar xjf"),
    },
    Case {
        output: "b.zip",
        format: None,
        unpack: Unpack::Zip,
    },
    Case {
        output: "b",
        format: Some("zip"),
        unpack: Unpack::Zip,
    },
    Case {
        output: "b",
        format: Some("tar.xz"),
        unpack: Unpack::Tar("tar xJf"),
    },
];

fn compress_chain(out_dir: &Path, case: &Case, extra: &str) -> String {
    let format = case
        .format
        .map(|f| format!("      format = \"{f}\"\n"))
        .unwrap_or_default();
    format!(
        "    post-processor \"compress\" {{\n      output = \"{}/{}\"\n{format}{extra}    }}",
        out_dir.display(),
        case.output
    )
}

#[tokio::test]
async fn compress_single_files_round_trip_through_the_system_tools() {
    for case in SINGLE_CASES {
        let d = tempfile::tempdir().unwrap();
        let data = generated(1536 * 1024 + 77, 3);
        let src = d.path().join("disk.src");
        std::fs::write(&src, &data).unwrap();
        let target = d.path().join("disk.raw");
        let outdir = d.path().join("dist");
        let chain = compress_chain(&outdir, case, "");
        let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
            .await
            .unwrap();
        assert!(out[0].ok(), "{} {out:?}", case.output);
        let archive = outdir.join(case.output);
        assert_eq!(files_of(&out[0]), vec![archive.clone()], "{}", case.output);
        assert_eq!(
            out[0].artifacts[0].builder_id,
            "packer.post-processor.compress"
        );
        // compress does not keep its input: the builder's file is gone.
        assert!(!target.exists(), "{}: input destroyed", case.output);
        let Unpack::Single(tool, args) = case.unpack else {
            unreachable!()
        };
        let mut a: Vec<&str> = args.to_vec();
        let p = archive.to_string_lossy().to_string();
        a.push(&p);
        let back = sh(tool, &a, d.path());
        assert!(
            back == data,
            "{}: content differs after {tool}",
            case.output
        );
        assert!(
            std::fs::metadata(&archive).unwrap().len() < data.len() as u64,
            "{} compressed",
            case.output
        );
    }
}

#[tokio::test]
async fn compress_archives_of_several_files_round_trip_through_the_system_tools() {
    for case in ARCHIVE_CASES {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("main.src");
        let main = generated(1200 * 1024 + 5, 11);
        std::fs::write(&src, &main).unwrap();
        let inputs = d.path().join("in");
        std::fs::create_dir_all(&inputs).unwrap();
        let target = inputs.join("main.img");
        let extra1 = inputs.join("notes.txt");
        let extra2 = inputs.join("empty");
        std::fs::write(&extra1, FOX).unwrap();
        std::fs::write(&extra2, "").unwrap();
        let want: Vec<(PathBuf, Vec<u8>)> = vec![
            (target.clone(), main.clone()),
            (extra1.clone(), FOX.as_bytes().to_vec()),
            (extra2.clone(), Vec::new()),
        ];
        let outdir = d.path().join("dist");
        let chain = format!(
            "    post-processor \"artifice\" {{\n      files = [\"{}\", \"{}\", \"{}\"]\n      keep_input_artifact = false\n    }}\n{}",
            target.display(),
            extra1.display(),
            extra2.display(),
            compress_chain(&outdir, case, "")
        );
        let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
            .await
            .unwrap();
        assert!(out[0].ok(), "{} {out:?}", case.output);
        let name = case
            .output
            .replace("{{.BuildName}}", "img")
            .replace("{{.BuilderType}}", "file");
        let archive = outdir.join(&name);
        assert_eq!(files_of(&out[0]), vec![archive.clone()], "{}", case.output);
        // The artifice artifact (the three files) was not kept by compress.
        for (p, _) in &want {
            assert!(!p.exists(), "{}: {} destroyed", case.output, p.display());
        }
        let x = d.path().join("x");
        std::fs::create_dir_all(&x).unwrap();
        let a = archive.to_string_lossy().to_string();
        match case.unpack {
            Unpack::Tar(cmd) => {
                let script = if cmd.contains("ARCHIVE") {
                    cmd.replace("ARCHIVE", &format!("'{a}'"))
                } else {
                    format!("{cmd} '{a}'")
                };
                sh("sh", &["-c", &script], &x);
                // Tar entries are base names, as Go's tar.FileInfoHeader makes them.
                for (p, content) in &want {
                    let got = std::fs::read(x.join(p.file_name().unwrap())).unwrap();
                    assert!(&got == content, "{}: {}", case.output, p.display());
                }
                let listing =
                    String::from_utf8(sh("sh", &["-c", &format!("ls -A '{}'", x.display())], &x))
                        .unwrap();
                assert_eq!(listing.lines().count(), 3, "{}: {listing}", case.output);
            }
            Unpack::Zip => {
                let names = String::from_utf8(sh("unzip", &["-Z1", &a], &x)).unwrap();
                let names: Vec<&str> = names.lines().collect();
                // Zip entries are the artifact paths as given, as Go's archive/zip names them
                // (Packer's bytes: a leading `/` kept).
                let expect: Vec<String> = want
                    .iter()
                    .map(|(p, _)| p.to_string_lossy().to_string())
                    .collect();
                assert_eq!(names, expect, "{}", case.output);
                sh("unzip", &["-q", "-t", &a], &x);
                for (name, (_, content)) in expect.iter().zip(&want) {
                    let got = sh("unzip", &["-p", &a, name], &x);
                    assert!(&got == content, "{}: {name}", case.output);
                }
            }
            Unpack::Single(..) => unreachable!(),
        }
    }
}

#[tokio::test]
async fn compress_keep_input_artifact_and_levels() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("disk.src");
    let data = generated(2 * 1024 * 1024, 5);
    std::fs::write(&src, &data).unwrap();
    let target = d.path().join("disk.raw");

    // keep_input_artifact = true: the builder's file stays, and both artifacts are listed.
    for (level, out_name) in [(1, "fast.gz"), (9, "best.gz"), (42, "clamped.gz")] {
        let chain = format!(
            "    post-processor \"compress\" {{\n      output = \"{}/{out_name}\"\n      compression_level = {level}\n      keep_input_artifact = true\n    }}",
            d.path().display()
        );
        let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
            .await
            .unwrap();
        assert!(out[0].ok(), "{out:?}");
        assert!(target.exists(), "kept with keep_input_artifact = true");
        assert_eq!(
            files_of(&out[0]),
            vec![target.clone(), d.path().join(out_name)]
        );
        let back = sh("gzip", &["-dc", out_name], d.path());
        assert!(back == data);
    }
    let fast = std::fs::metadata(d.path().join("fast.gz")).unwrap().len();
    let best = std::fs::metadata(d.path().join("best.gz")).unwrap().len();
    assert!(
        best <= fast,
        "level 9 ({best}) no larger than level 1 ({fast})"
    );

    // A second post-processor after compress: the intermediate archive is destroyed unless
    // kept, and the builder artifact goes with the default (not kept) compress.
    let chain = format!(
        "    post-processor \"compress\" {{ output = \"{0}/mid.tar\" }}\n    post-processor \"compress\" {{ output = \"{0}/final.gz\" }}",
        d.path().display()
    );
    let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
        .await
        .unwrap();
    assert!(out[0].ok(), "{out:?}");
    assert!(!target.exists());
    assert!(!d.path().join("mid.tar").exists(), "intermediate destroyed");
    assert_eq!(files_of(&out[0]), vec![d.path().join("final.gz")]);
    let tar_bytes = sh("gzip", &["-dc", "final.gz"], d.path());
    assert!(tar_bytes.len() > data.len(), "a tar holding the file");
}

#[tokio::test]
async fn compress_refuses_several_files_without_an_archive_and_bad_levels() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("a.src");
    std::fs::write(&src, "a").unwrap();
    let target = d.path().join("a.img");
    let other = d.path().join("b.img");
    std::fs::write(&other, "b").unwrap();
    let chain = format!(
        "    post-processor \"artifice\" {{ files = [\"{}\", \"{}\"] }}\n    post-processor \"compress\" {{ output = \"{}/two.lz4\" }}",
        target.display(),
        other.display(),
        d.path().display()
    );
    let (_, out) = build(d.path(), &file_template(&src, &target, &chain))
        .await
        .unwrap();
    assert!(!out[0].ok());
    let err = out[0].errors.join("\n");
    assert!(
        err.contains("Can only have 1 input file when not using tar/zip. Found 2 files"),
        "{err}"
    );
    // Packer creates the output and its compressor first: the frame of nothing its
    // deferred Close writes stays (the bytes Packer 1.16.0 leaves).
    assert_eq!(
        std::fs::read(d.path().join("two.lz4")).unwrap(),
        [
            0x04, 0x22, 0x4d, 0x18, 0x64, 0x70, 0xb9, 0, 0, 0, 0, 0x05, 0x5d, 0xcc, 0x02
        ],
        "an empty lz4 frame"
    );

    let chain = "    post-processor \"compress\" {\n      output = \"x.gz\"\n      compression_level = -5\n    }";
    let err = build(d.path(), &file_template(&src, &target, chain))
        .await
        .map(|_| ())
        .expect_err("prepare fails");
    assert!(err.contains("Invalid compression level"), "{err}");
}
