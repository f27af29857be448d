//! Runs last (scripts/e2e.sh runs it after the scenarios): `helm uninstall` leaves nothing
//! of the release but the CRDs.

use kiln_e2e::*;

#[test]
#[ignore = "needs a cluster with Kiln installed, and removes it: run scripts/e2e.sh"]
fn helm_uninstall_leaves_only_the_crds() {
    require_cluster();
    let ns = system_namespace();
    let rel = release();
    helm(&["uninstall", &rel, "-n", &ns, "--wait", "--timeout", "120s"]);
    let sel = format!("app.kubernetes.io/instance={rel}");
    for kind in [
        "deployments",
        "replicasets",
        "pods",
        "services",
        "serviceaccounts",
        "roles",
        "rolebindings",
        "configmaps",
        "secrets",
        "poddisruptionbudgets",
        "leases",
    ] {
        // Pods and ReplicaSets go through the garbage collector after their Deployment.
        let left = wait_for(
            &format!("{kind} of the release to be gone"),
            secs(90),
            || {
                let left: Vec<String> = list(&ns, kind, &sel)
                    .iter()
                    .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
                    .collect();
                left.is_empty().then_some(left)
            },
        );
        assert!(left.is_empty());
    }
    // The leader Lease (the operator may have created it) must be gone too.
    assert!(
        get(&ns, "lease", "kiln-operator").is_none(),
        "the leader Lease is left behind"
    );
    for kind in [
        "clusterroles",
        "clusterrolebindings",
        "validatingadmissionpolicies",
        "validatingadmissionpolicybindings",
    ] {
        let out = kubectl(&["get", kind, "-l", &sel, "-o", "name"]);
        assert!(out.trim().is_empty(), "{kind} left behind: {out}");
    }
    for crd in ["imagetemplates", "imagebuilds", "imagechannels"] {
        kubectl(&["get", "crd", &format!("{crd}.kiln.dev")]);
    }
}
