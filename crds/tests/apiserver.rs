//! The generated CRDs against a real API server: the server accepts them (structural
//! schema, CEL compilation and cost limits), and its CEL rules, defaults, field selectors and
//! server-side apply of `status.sources` behave as the types promise.
//!
//! Ignored by default. Run against any cluster (for example the e2e one) with
//!
//! ```sh
//! KILN_TEST_KUBECONFIG=/var/lib/kiln-e2e/admin.kubeconfig \
//!   cargo test -p kiln-crds --test apiserver -- --ignored
//! ```
//!
//! The CRDs are installed under a throwaway group (`<pid>.kilntest.example`) so the test
//! never touches a real `kiln.dev` installation, and deleted at the end.

use std::io::Write;
use std::process::{Command, Stdio};

struct Cluster {
    kubeconfig: String,
    group: String,
}

impl Cluster {
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> Result<String, String> {
        let mut child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--request-timeout=30s")
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        if let Some(input) = stdin {
            // A kubectl that fails early closes its stdin; its own error says why.
            let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        }
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    fn retarget(&self, yaml: &str) -> String {
        yaml.replace("kiln.dev", &self.group)
    }

    fn apply(&self, yaml: &str) -> Result<String, String> {
        self.kubectl(
            &["-n", "default", "create", "-f", "-"],
            Some(&self.retarget(yaml)),
        )
    }

    fn patch(&self, kind: &str, name: &str, ty: &str, patch: &str) -> Result<String, String> {
        let resource = format!("{kind}.{}", self.group);
        self.kubectl(
            &[
                "-n", "default", "patch", &resource, name, "--type", ty, "-p", patch,
            ],
            None,
        )
    }

    fn status_apply(&self, manager: &str, yaml: &str) -> Result<String, String> {
        self.kubectl(
            &[
                "-n",
                "default",
                "apply",
                "--server-side",
                "--subresource=status",
                &format!("--field-manager={manager}"),
                "-f",
                "-",
            ],
            Some(&self.retarget(yaml)),
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let names: Vec<String> = ["imagetemplates", "imagebuilds", "imagechannels"]
            .iter()
            .map(|p| format!("{p}.{}", self.group))
            .collect();
        let mut args = vec!["delete", "crd", "--ignore-not-found"];
        args.extend(names.iter().map(String::as_str));
        let _ = self.kubectl(&args, None);
    }
}

fn rejected(r: Result<String, String>, needle: &str) {
    match r {
        Ok(out) => panic!("accepted, expected a rejection mentioning {needle:?}: {out}"),
        Err(e) => assert!(e.contains(needle), "rejected, but not with {needle:?}: {e}"),
    }
}

#[test]
#[ignore = "needs a Kubernetes API server: set KILN_TEST_KUBECONFIG"]
fn crds_work_on_a_real_apiserver() {
    let kubeconfig = std::env::var("KILN_TEST_KUBECONFIG").expect(
        "KILN_TEST_KUBECONFIG is not set: start a cluster (e2e/cluster/up.sh) or run scripts/e2e.sh",
    );
    let c = Cluster {
        kubeconfig,
        group: format!("{}.kilntest.example", std::process::id()),
    };

    // The server accepts the CRDs as generated.
    c.kubectl(
        &["create", "-f", "-"],
        Some(&c.retarget(&kiln_crds::crds_yaml())),
    )
    .unwrap();
    for p in ["imagetemplates", "imagebuilds", "imagechannels"] {
        c.kubectl(
            &[
                "wait",
                "--for=condition=Established",
                &format!("crd/{p}.{}", c.group),
                "--timeout=60s",
            ],
            None,
        )
        .unwrap();
    }

    let fixture = |name: &str| {
        let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let mut v: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let m = v.as_mapping_mut().unwrap();
        m.remove("status");
        m["metadata"].as_mapping_mut().unwrap().remove("namespace");
        serde_yaml::to_string(&v).unwrap()
    };
    for f in [
        "imagetemplate.yaml",
        "imagebuild.yaml",
        "imagebuild-inline.yaml",
        "imagechannel.yaml",
        "imagechannel-follow.yaml",
    ] {
        c.apply(&fixture(f))
            .unwrap_or_else(|e| panic!("{f} rejected: {e}"));
    }

    // ImageBuild: immutable but for cancel (one way) and revoked.
    let b = "ubuntu-20250102";
    rejected(
        c.patch(
            "imagebuilds",
            b,
            "merge",
            r#"{"spec":{"variables":{"version":"x"}}}"#,
        ),
        "variables are immutable",
    );
    rejected(
        c.patch(
            "imagebuilds",
            b,
            "json",
            r#"[{"op":"remove","path":"/spec/runner"}]"#,
        ),
        "spec is immutable once created",
    );
    rejected(
        c.patch(
            "imagebuilds",
            b,
            "merge",
            r#"{"spec":{"runner":{"image":"x:2"}}}"#,
        ),
        "runner is immutable",
    );
    c.patch(
        "imagebuilds",
        b,
        "merge",
        r#"{"spec":{"revoked":{"reason":"CVE"}}}"#,
    )
    .unwrap();
    c.patch(
        "imagebuilds",
        b,
        "json",
        r#"[{"op":"remove","path":"/spec/revoked"}]"#,
    )
    .unwrap();
    c.patch("imagebuilds", b, "merge", r#"{"spec":{"cancel":true}}"#)
        .unwrap();
    rejected(
        c.patch("imagebuilds", b, "merge", r#"{"spec":{"cancel":false}}"#),
        "cancel cannot be set back to false",
    );
    rejected(
        c.apply(
            "apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata: {name: both}\n\
             spec: {templateRef: {name: t}, template: {template: x}}\n",
        ),
        "set exactly one of spec.templateRef and spec.template",
    );
    rejected(
        c.apply(
            "apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata: {name: t1}\n\
             spec: {templateRef: {name: t}, timeout: 1d}\n",
        ),
        "spec.timeout",
    );
    rejected(
        c.patch(
            "imagechannels",
            "ubuntu-production",
            "merge",
            r#"{"spec":{"follow":{"selector":{}}}}"#,
        ),
        "set exactly one of spec.build and spec.follow",
    );
    c.patch(
        "imagechannels",
        "ubuntu-production",
        "merge",
        r#"{"spec":{"build":"next"}}"#,
    )
    .unwrap();

    // Defaults are applied by the server.
    let inline = c
        .kubectl(
            &[
                "-n",
                "default",
                "get",
                &format!("imagebuilds.{}", c.group),
                "ubuntu-20250102",
                "-o",
                "jsonpath={.spec.onError}",
            ],
            None,
        )
        .unwrap();
    assert_eq!(inline, "run-cleanup-provisioner");

    // Two runners and the controller share the status with server-side apply.
    for i in 0..2 {
        c.status_apply(
            &format!("kiln-runner-{i}"),
            &format!(
                "apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata: {{name: hello}}\n\
                 status:\n  sources:\n  - {{name: null.s{i}, index: {i}, phase: Running}}\n"
            ),
        )
        .unwrap();
    }
    c.status_apply(
        "kiln-operator",
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata: {name: hello}\n\
         status:\n  phase: Running\n  sourcesSummary: 0/2\n",
    )
    .unwrap();
    c.status_apply(
        "kiln-runner-1",
        "apiVersion: kiln.dev/v1alpha1\nkind: ImageBuild\nmetadata: {name: hello}\n\
         status:\n  sources:\n  - {name: null.s1, index: 1, phase: Succeeded}\n",
    )
    .unwrap();
    let status = c
        .kubectl(
            &[
                "-n",
                "default",
                "get",
                &format!("imagebuilds.{}", c.group),
                "hello",
                "-o",
                "jsonpath={.status}",
            ],
            None,
        )
        .unwrap();
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(status["phase"], "Running");
    assert_eq!(status["sources"][0]["phase"], "Running", "{status}");
    assert_eq!(status["sources"][1]["phase"], "Succeeded", "{status}");

    // Field selectors work on the template reference.
    let listed = c
        .kubectl(
            &[
                "-n",
                "default",
                "get",
                &format!("imagebuilds.{}", c.group),
                "--field-selector",
                "spec.templateRef.name=ubuntu",
                "-o",
                "name",
            ],
            None,
        )
        .unwrap();
    assert_eq!(listed.lines().count(), 1, "{listed}");
}
