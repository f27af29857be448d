//! Lineage: a build made from a channel records the build it started from as its parent;
//! revoking a build revokes its descendants (HCP Packer's inherited revocation). Pure
//! functions over builds; the parent is read by `observe`.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::{ImageBuild, ImageBuildStatus, RevocationStatus};
use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

/// Why a build is revoked, if it is: its own `spec.revoked`, else the revocation its status
/// carries (inherited from the build named second, when it is).
pub fn revoked_because(b: &ImageBuild) -> Option<(&str, Option<&str>)> {
    if let Some(r) = &b.spec.revoked {
        return Some((r.reason.as_str(), None));
    }
    let r = b.status.as_ref()?.revoked.as_ref()?;
    Some((r.reason.as_str(), r.inherited_from.as_deref()))
}

/// The revocation a build inherits from its parent: the parent's own (`spec.revoked`) or
/// the one the parent inherited, naming the revoked ancestor. `old` keeps the time it was
/// first seen.
pub fn inherited_revocation(
    parent: &ImageBuild,
    old: Option<&RevocationStatus>,
    now: Time,
) -> Option<RevocationStatus> {
    let (reason, from) = match (&parent.spec.revoked, parent.status.as_ref()) {
        (Some(r), _) => (r.reason.clone(), parent.name_any()),
        (None, Some(st)) => {
            let r = st.revoked.as_ref()?;
            (
                r.reason.clone(),
                r.inherited_from
                    .clone()
                    .unwrap_or_else(|| parent.name_any()),
            )
        }
        (None, None) => return None,
    };
    let since = old
        .filter(|o| o.inherited_from.as_deref() == Some(from.as_str()))
        .and_then(|o| o.since.clone())
        .unwrap_or(now);
    Some(RevocationStatus {
        reason,
        since: Some(since),
        inherited_from: Some(from),
    })
}

/// `desired` with the revocation of the build's parent (as `observe` read it), when the
/// build has none of its own. A parent read under another name (the snapshot changed under
/// the status) is ignored: the next reconcile reads the right one.
pub fn with_parent_revocation(
    build: &ImageBuild,
    parent: Option<&ImageBuild>,
    mut desired: ImageBuildStatus,
    now: Time,
) -> ImageBuildStatus {
    if build.spec.revoked.is_some() {
        return desired;
    }
    let named = desired.parent.as_ref().map(|p| p.build.as_str());
    let Some(parent) = parent.filter(|p| Some(p.name_any().as_str()) == named) else {
        return desired;
    };
    if let Some(r) = inherited_revocation(parent, desired.revoked.as_ref(), now) {
        desired.revoked = Some(r);
    }
    desired
}

/// Revoked by its own spec or through its parent.
pub fn is_revoked(b: &ImageBuild) -> bool {
    b.spec.revoked.is_some() || b.status.as_ref().is_some_and(|s| s.revoked.is_some())
}

/// The builds `parent` must pass its revocation to: when it is revoked (by its spec or
/// through its own parent), those of `all` that started from it and are not revoked yet.
pub fn children_to_revoke(
    parent: &ImageBuild,
    all: &[Arc<ImageBuild>],
) -> Vec<ObjectRef<ImageBuild>> {
    if !is_revoked(parent) {
        return Vec::new();
    }
    let (ns, name) = (parent.namespace(), parent.name_any());
    all.iter()
        .filter(|b| b.namespace() == ns && b.spec.revoked.is_none())
        .filter(|b| {
            b.status.as_ref().is_some_and(|s| {
                s.revoked.is_none()
                    && s.parent.as_ref().is_some_and(|p| {
                        p.build == name && (p.namespace.is_none() || p.namespace == ns)
                    })
            })
        })
        .map(|b| ObjectRef::from_obj(b.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::build;
    use kiln_crds::BuildPhase;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    pub(crate) fn child_of(name: &str, parent: &str) -> ImageBuild {
        let mut b = build(name);
        b.status = Some(ImageBuildStatus {
            phase: Some(BuildPhase::Succeeded),
            parent: Some(kiln_crds::BuildParent {
                build: parent.into(),
                namespace: None,
                channel: Some("prod".into()),
                ..Default::default()
            }),
            ..ImageBuildStatus::default()
        });
        b
    }

    #[test]
    fn revocation_flows_down_the_lineage_naming_the_ancestor() {
        let mut base = build("base");
        assert_eq!(inherited_revocation(&base, None, t(1)), None);
        base.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE-1".into(),
        });
        let r = inherited_revocation(&base, None, t(5)).unwrap();
        assert_eq!(r.reason, "CVE-1");
        assert_eq!(r.inherited_from.as_deref(), Some("base"));
        assert_eq!(r.since, Some(t(5)));
        // Seen again later: the time it was first seen stays.
        assert_eq!(inherited_revocation(&base, Some(&r), t(99)).unwrap(), r);
        // A grandchild: the child's inherited revocation names the root ancestor.
        let mut child = child_of("child", "base");
        child.status.as_mut().unwrap().revoked = Some(r.clone());
        let g = inherited_revocation(&child, None, t(7)).unwrap();
        assert_eq!(g.inherited_from.as_deref(), Some("base"));
        assert_eq!(g.reason, "CVE-1");
    }

    #[test]
    fn only_the_named_parent_passes_its_revocation() {
        let child = child_of("child", "base");
        let mut base = build("base");
        base.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE".into(),
        });
        let desired = child.status.clone().unwrap();
        let got = with_parent_revocation(&child, Some(&base), desired.clone(), t(3));
        assert_eq!(got.revoked.unwrap().inherited_from.as_deref(), Some("base"));
        let mut other = base.clone();
        other.metadata.name = Some("other".into());
        let got = with_parent_revocation(&child, Some(&other), desired, t(3));
        assert_eq!(got.revoked, None);
    }

    #[test]
    fn a_revoked_build_wakes_only_its_unrevoked_children() {
        let mut base = build("base");
        let all: Vec<Arc<ImageBuild>> = vec![
            Arc::new(child_of("c1", "base")),
            Arc::new(child_of("c2", "other")),
            Arc::new(build("plain")),
            Arc::new({
                let mut c = child_of("c3", "base");
                c.status.as_mut().unwrap().revoked = Some(RevocationStatus {
                    reason: "x".into(),
                    since: None,
                    inherited_from: Some("base".into()),
                });
                c
            }),
            Arc::new({
                let mut c = child_of("c4", "base");
                c.metadata.namespace = Some("elsewhere".into());
                c
            }),
        ];
        assert!(children_to_revoke(&base, &all).is_empty(), "not revoked");
        base.spec.revoked = Some(kiln_crds::Revocation {
            reason: "CVE".into(),
        });
        let names: Vec<String> = children_to_revoke(&base, &all)
            .into_iter()
            .map(|r| r.name)
            .collect();
        assert_eq!(names, ["c1"]);
    }
}
