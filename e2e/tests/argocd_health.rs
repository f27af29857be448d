//! The Argo CD health checks in `config/argocd/health/*.lua`, run with a real Lua 5.4
//! (`apt-get install lua5.4`; `LUA=...` to use another) against the sample statuses in
//! `config/argocd/testdata/<kind>-<expected>[-case].json`; and `config/argocd/argocd-cm.yaml`
//! kept in step with the scripts (`UPDATE_ARGOCD_CM=1` rewrites it).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/argocd")
}

/// A JSON value as a Lua table constructor (arrays 1-based, as Argo CD's decoder makes them).
fn lua(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Array(a) => format!("{{{}}}", a.iter().map(lua).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("[{k:?}] = {}", lua(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn run_health(script: &str, obj: &Value) -> (String, String) {
    let program = format!(
        "local function health(obj)\n{script}\nend\nlocal hs = health({})\nio.write(hs.status, \"\\n\", hs.message or \"\", \"\\n\")\n",
        lua(obj)
    );
    let lua_bin = std::env::var("LUA").unwrap_or_else(|_| "lua5.4".into());
    let out = Command::new(&lua_bin)
        .args(["-e", &program])
        .output()
        .unwrap_or_else(|e| {
            panic!("could not run {lua_bin}: {e} (install it: apt-get install lua5.4, or set LUA)")
        });
    assert!(
        out.status.success(),
        "lua failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    (
        lines.next().unwrap_or_default().to_string(),
        lines.next().unwrap_or_default().to_string(),
    )
}

const KINDS: [(&str, &str); 3] = [
    ("imagetemplate", "ImageTemplate"),
    ("imagebuild", "ImageBuild"),
    ("imagechannel", "ImageChannel"),
];

#[test]
fn health_scripts_classify_the_sample_statuses() {
    let mut seen = std::collections::BTreeSet::new();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir().join("testdata"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    for case in cases {
        let stem = case.file_stem().unwrap().to_str().unwrap().to_string();
        let mut parts = stem.split('-');
        let kind = parts.next().unwrap();
        let expected = match parts.next().unwrap() {
            "healthy" => "Healthy",
            "progressing" => "Progressing",
            "degraded" => "Degraded",
            "suspended" => "Suspended",
            other => panic!("{stem}: unknown expected status {other}"),
        };
        let script = std::fs::read_to_string(dir().join(format!("health/{kind}.lua"))).unwrap();
        let obj: Value = serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let (status, message) = run_health(&script, &obj);
        assert_eq!(status, expected, "{stem}: message {message:?}");
        assert!(!message.is_empty(), "{stem}: empty message");
        seen.insert((kind.to_string(), expected));
    }
    for (kind, _) in KINDS {
        for s in ["Healthy", "Progressing", "Degraded"] {
            assert!(
                seen.contains(&(kind.to_string(), s)),
                "no {s} sample for {kind}"
            );
        }
    }
}

#[test]
fn degraded_messages_carry_the_reason() {
    let script = std::fs::read_to_string(dir().join("health/imagechannel.lua")).unwrap();
    let obj: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("testdata/imagechannel-degraded.json")).unwrap(),
    )
    .unwrap();
    let (_, message) = run_health(&script, &obj);
    assert!(
        message.contains("TargetRevoked") && message.contains("CVE-2099-0001"),
        "{message}"
    );
    let script = std::fs::read_to_string(dir().join("health/imagetemplate.lua")).unwrap();
    let obj: Value = serde_json::from_str(
        &std::fs::read_to_string(dir().join("testdata/imagetemplate-degraded.json")).unwrap(),
    )
    .unwrap();
    let (_, message) = run_health(&script, &obj);
    assert!(message.contains("main.pkr.hcl:5:3"), "{message}");
}

fn argocd_cm() -> String {
    let mut out = String::from(
        "# Generated from config/argocd/health/*.lua by e2e/tests/argocd_health.rs\n\
         # (UPDATE_ARGOCD_CM=1 cargo test -p kiln-e2e --test argocd_health). Merge into\n\
         # argocd-cm, e.g. `kubectl -n argocd patch configmap argocd-cm --patch-file \
         config/argocd/argocd-cm.yaml`.\n\
         data:\n",
    );
    for (file, kind) in KINDS {
        let script = std::fs::read_to_string(dir().join(format!("health/{file}.lua"))).unwrap();
        out.push_str(&format!(
            "  resource.customizations.health.kiln.dev_{kind}: |\n"
        ));
        for line in script.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

#[test]
fn argocd_cm_is_in_step_with_the_scripts() {
    let path = dir().join("argocd-cm.yaml");
    let want = argocd_cm();
    if std::env::var("UPDATE_ARGOCD_CM").as_deref() == Ok("1") {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is out of date: run UPDATE_ARGOCD_CM=1 cargo test -p kiln-e2e --test argocd_health",
        path.display()
    );
}
