//! History limits: when a build of a template finishes, the finished builds of that
//! template beyond its limits are deleted, oldest first. [`history_victims`] is the pure
//! choice; [`enforce`] reads and deletes.

use kiln_crds::{BuildPhase, ImageBuild, ImageChannel, ImageTemplate};
use kube::api::ListParams;
use kube::{Api, ResourceExt};

use super::super::context::Context;
use super::super::error::is_not_found;

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("could not read ImageTemplate {name}: {source}")]
    TemplateGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list ImageBuilds in {namespace}: {source}")]
    BuildList {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list ImageChannels in {namespace}: {source}")]
    ChannelList {
        namespace: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not delete ImageBuild {name} (history limit): {source}")]
    BuildDelete {
        name: String,
        #[source]
        source: kube::Error,
    },
}

/// Which finished builds of a template to delete: beyond `keep_ok` succeeded and `keep_failed`
/// failed/cancelled ones, oldest first, never one a channel points at.
pub fn history_victims(
    builds: &[ImageBuild],
    keep_ok: usize,
    keep_failed: usize,
    protected: &[String],
) -> Vec<String> {
    let finished_at = |b: &ImageBuild| {
        b.status
            .as_ref()
            .and_then(|s| s.completion_time.clone())
            .or(b.metadata.creation_timestamp.clone())
            .map(|t| t.0)
    };
    let mut victims = Vec::new();
    for (succeeded, keep) in [(true, keep_ok), (false, keep_failed)] {
        let mut group: Vec<&ImageBuild> = builds
            .iter()
            .filter(|b| {
                let p = b.status.as_ref().and_then(|s| s.phase);
                match p {
                    Some(BuildPhase::Succeeded) => succeeded,
                    Some(BuildPhase::Failed | BuildPhase::Cancelled) => !succeeded,
                    _ => false,
                }
            })
            .collect();
        // Newest first.
        group.sort_by(|a, b| {
            finished_at(b)
                .cmp(&finished_at(a))
                .then(b.name_any().cmp(&a.name_any()))
        });
        for b in group.into_iter().skip(keep) {
            let n = b.name_any();
            if !protected.contains(&n) {
                victims.push(n);
            }
        }
    }
    victims
}

/// Applies the history limits of `build`'s template.
pub async fn enforce(build: &ImageBuild, ctx: &Context) -> Result<(), RetentionError> {
    let Some(tref) = &build.spec.template_ref else {
        return Ok(());
    };
    let ns = build.namespace().unwrap_or_default();
    let client = ctx.client.clone();
    let limits = Api::<ImageTemplate>::namespaced(client.clone(), &ns)
        .get_opt(&tref.name)
        .await
        .map_err(|source| RetentionError::TemplateGet {
            name: tref.name.clone(),
            source,
        })?
        .map(|t| t.spec.history_limits)
        .unwrap_or_default();
    let api: Api<ImageBuild> = Api::namespaced(client.clone(), &ns);
    let lp = ListParams::default().fields(&format!("spec.templateRef.name={}", tref.name));
    let list = api
        .list(&lp)
        .await
        .map_err(|source| RetentionError::BuildList {
            namespace: ns.clone(),
            source,
        })?;
    let channels = Api::<ImageChannel>::namespaced(client, &ns)
        .list(&ListParams::default())
        .await
        .map_err(|source| RetentionError::ChannelList {
            namespace: ns.clone(),
            source,
        })?;
    let protected: Vec<String> = channels
        .items
        .iter()
        .flat_map(|c| {
            [
                c.spec.build.clone(),
                c.status.as_ref().and_then(|s| s.current_build.clone()),
            ]
        })
        .flatten()
        .collect();
    for victim in history_victims(
        &list.items,
        limits.successful.max(0) as usize,
        limits.failed.max(0) as usize,
        &protected,
    ) {
        match api.delete(&victim, &Default::default()).await {
            Ok(_) => {
                tracing::info!(build = %victim, "deleted (history limit)");
            }
            Err(e) if is_not_found(&e) => {}
            Err(source) => {
                return Err(RetentionError::BuildDelete {
                    name: victim,
                    source,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::build;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    use kiln_crds::ImageBuildStatus;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn history_keeps_the_newest_and_protected_builds() {
        let mk = |name: &str, phase, at| {
            let mut b = build(name);
            b.status = Some(ImageBuildStatus {
                phase: Some(phase),
                completion_time: Some(t(at)),
                ..ImageBuildStatus::default()
            });
            b
        };
        let builds = vec![
            mk("ok1", BuildPhase::Succeeded, 1),
            mk("ok2", BuildPhase::Succeeded, 2),
            mk("ok3", BuildPhase::Succeeded, 3),
            mk("bad1", BuildPhase::Failed, 1),
            mk("bad2", BuildPhase::Cancelled, 2),
            mk("running", BuildPhase::Running, 9),
        ];
        let v = history_victims(&builds, 1, 1, &["ok1".to_string()]);
        assert_eq!(v, ["ok2", "bad1"]);
        assert!(history_victims(&builds, 10, 10, &[]).is_empty());
    }
}
