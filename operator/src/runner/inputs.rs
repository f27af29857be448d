//! What a source was built from, as the runner saw it (`status.sources[].inputs`): the
//! registry builds the `hcp-packer-*` data sources resolved, the source image a `docker`
//! builder pulled (by digest), the base disk or ISO a `qemu` builder started from (by
//! checksum). The operator turns the first of them that names a Kiln build into the build's
//! `status.parent`. Pure functions of the data sources' values and the builder's artifact.

use kiln_crds::BuildInput;
use serde_json::Value as Json;

/// The data source types that read Kiln's registry, and the output naming the build.
const REGISTRY_SOURCES: [(&str, &str); 4] = [
    ("hcp-packer-version", "name"),
    ("hcp-packer-iteration", "name"),
    ("hcp-packer-artifact", "build_id"),
    ("hcp-packer-image", "build_id"),
];

fn str_at<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key)
        .and_then(|s| s.as_str())
        .filter(|s| !s.is_empty())
}

/// The inputs of a source: `data` is the template's `data` object (type → name → outputs),
/// `builder` the builder's artifact (the first of the chain), if any.
pub fn inputs(data: &Json, builder: Option<&kiln_engine::artifact::Artifact>) -> Vec<BuildInput> {
    let mut out = Vec::new();
    for (kind, build_key) in REGISTRY_SOURCES {
        let Some(by_name) = data.get(kind).and_then(|v| v.as_object()) else {
            continue;
        };
        for (name, v) in by_name {
            // `build_id` is `<ImageBuild>/<source>`; `name` the ImageBuild.
            let build = str_at(v, build_key).map(|b| b.split('/').next().unwrap_or(b).to_string());
            if build.is_none() {
                continue;
            }
            out.push(BuildInput {
                kind: kind.to_string(),
                name: Some(format!("data.{kind}.{name}")),
                build,
                channel_id: str_at(v, "channel_id").map(String::from),
                reference: str_at(v, "external_identifier")
                    .or_else(|| str_at(v, "id").filter(|_| kind == "hcp-packer-image"))
                    .map(String::from),
                digest: None,
            });
        }
    }
    if let Some(a) = builder {
        let generated = a.state.get("generated_data");
        // Docker's `RepoDigests[0]` form, `name@sha256:…` (a bare digest is taken too).
        let digest = generated
            .and_then(|g| str_at(g, "SourceImageDigest"))
            .map(|d| d.rsplit('@').next().unwrap_or(d))
            .filter(|d| d.starts_with("sha256:"));
        if let Some(d) = digest {
            out.push(BuildInput {
                kind: "source-image".into(),
                reference: a
                    .state
                    .get("source_image")
                    .and_then(|v| v.as_str())
                    .map(String::from),
                digest: Some(d.to_string()),
                ..BuildInput::default()
            });
        }
        if let Some(sum) = a
            .state
            .get("sourceImageChecksum")
            .and_then(|v| v.as_str())
            .filter(|s| s.starts_with("sha256:"))
        {
            out.push(BuildInput {
                kind: "base-disk".into(),
                reference: a
                    .state
                    .get("sourceImage")
                    .and_then(|v| v.as_str())
                    .map(String::from),
                digest: Some(sum.to_string()),
                ..BuildInput::default()
            });
        }
    }
    out.truncate(64);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn registry_data_sources_and_builder_sources_become_inputs() {
        let data = json!({
            "hcp-packer-version": {"base": {"name": "base-7", "channel_id": "uid-ch", "fingerprint": "fp"}},
            "hcp-packer-artifact": {"img": {"build_id": "base-7/docker.base", "channel_id": "", "external_identifier": "reg/base@sha256:aa"}},
            "kiln-channel": {"x": {"build": "other"}},
            "http": {"y": {"body": "z"}},
        });
        let docker = kiln_engine::artifact::Artifact {
            builder_id: "packer.post-processor.docker-import".into(),
            state: [(
                "generated_data".to_string(),
                json!({"SourceImageDigest": "reg/base@sha256:bb", "ImageSha256": "sha256:cc"}),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let got = inputs(&data, Some(&docker));
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].kind, "hcp-packer-version");
        assert_eq!(got[0].build.as_deref(), Some("base-7"));
        assert_eq!(got[0].channel_id.as_deref(), Some("uid-ch"));
        assert_eq!(got[0].name.as_deref(), Some("data.hcp-packer-version.base"));
        assert_eq!(got[1].kind, "hcp-packer-artifact");
        assert_eq!(got[1].build.as_deref(), Some("base-7"));
        assert_eq!(got[1].channel_id, None);
        assert_eq!(got[1].reference.as_deref(), Some("reg/base@sha256:aa"));
        assert_eq!(got[2].kind, "source-image");
        assert_eq!(got[2].digest.as_deref(), Some("sha256:bb"));

        let qemu = kiln_engine::artifact::Artifact {
            builder_id: "transcend.qemu".into(),
            state: [
                ("sourceImage".to_string(), json!("http://x/base.qcow2")),
                ("sourceImageChecksum".to_string(), json!("sha256:dd")),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let got = inputs(&json!({}), Some(&qemu));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, "base-disk");
        assert_eq!(got[0].digest.as_deref(), Some("sha256:dd"));
        assert_eq!(got[0].reference.as_deref(), Some("http://x/base.qcow2"));
        // A scratch docker build (no source digest) and no data sources: nothing.
        let scratch = kiln_engine::artifact::Artifact {
            state: [(
                "generated_data".to_string(),
                json!({"SourceImageDigest": ""}),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        assert!(inputs(&json!({}), Some(&scratch)).is_empty());
    }
}
