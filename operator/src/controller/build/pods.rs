//! Why a runner pod never started: read from the pods of a build whose Job has pods that
//! are not running (or none at all), and from the events that say why (the Job
//! controller's `FailedCreate`, the kubelet's `FailedMount`). Pure; `observe` reads.

use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Pod};
use kiln_crds::condition::reasons;

/// How long a Job's pods get to start before the controller looks at why they have not.
pub const START_GRACE: Duration = Duration::from_secs(5);
/// How often a build whose pods do not start looks again.
pub const POLL: Duration = Duration::from_secs(5);

/// Why the pods do not start: a condition reason and the cause, quoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trouble {
    pub reason: &'static str,
    pub message: String,
}

/// Whether the Job has pods that should be running and are not (active but not ready), or
/// none at all while it is not finished and not suspended.
pub fn waiting_for_pods(job: &Job) -> bool {
    let Some(st) = job.status.as_ref() else {
        return true;
    };
    let finished = st.conditions.iter().flatten().any(|c| {
        c.status == "True"
            && matches!(
                c.type_.as_str(),
                "Complete" | "Failed" | "SuccessCriteriaMet" | "FailureTarget"
            )
    });
    let suspended = job.spec.as_ref().and_then(|s| s.suspend).unwrap_or(false);
    if finished || suspended {
        return false;
    }
    let active = st.active.unwrap_or(0);
    let ready = st.ready.unwrap_or(0);
    active > ready || (active == 0 && st.succeeded.unwrap_or(0) + st.failed.unwrap_or(0) == 0)
}

/// The first reason a pod of `pods` does not start, else the Job's own `FailedCreate` (or a
/// pod's `FailedMount`) among `events`.
pub fn trouble(pods: &[Pod], events: &[Event]) -> Option<Trouble> {
    for pod in pods {
        let Some(st) = pod.status.as_ref() else {
            continue;
        };
        for cs in st
            .container_statuses
            .iter()
            .chain(st.init_container_statuses.iter())
            .flatten()
        {
            let Some(w) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
                continue;
            };
            let why = w.reason.as_deref().unwrap_or("");
            let reason = match why {
                "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" | "ErrImageNeverPull" => {
                    reasons::IMAGE_PULL_FAILED
                }
                "CreateContainerConfigError" | "CreateContainerError" => {
                    reasons::CONTAINER_CONFIG_ERROR
                }
                _ => continue,
            };
            return Some(Trouble {
                reason,
                message: format!(
                    "pod {}: container {}: {why}: {}",
                    pod.metadata.name.as_deref().unwrap_or(""),
                    cs.name,
                    w.message.as_deref().unwrap_or("")
                ),
            });
        }
        if let Some(c) = st.conditions.iter().flatten().find(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        }) {
            return Some(Trouble {
                reason: reasons::UNSCHEDULABLE,
                message: format!(
                    "pod {}: {}",
                    pod.metadata.name.as_deref().unwrap_or(""),
                    c.message.as_deref().unwrap_or("no node fits")
                ),
            });
        }
    }
    let mut events: Vec<&Event> = events.iter().collect();
    // Newest first.
    events.sort_by(|a, b| {
        let at = |e: &Event| e.last_timestamp.clone().map(|t| t.0);
        at(b).cmp(&at(a))
    });
    events.into_iter().find_map(|e| {
        let message = e.message.clone().unwrap_or_default();
        let reason = match e.reason.as_deref() {
            Some("FailedCreate") if message.contains("exceeded quota") => reasons::QUOTA_EXCEEDED,
            Some("FailedCreate") => reasons::POD_CREATE_FAILED,
            Some("FailedMount") => reasons::VOLUME_MOUNT_FAILED,
            _ => return None,
        };
        Some(Trouble {
            reason,
            message: format!(
                "{} {}: {message}",
                e.involved_object.kind.as_deref().unwrap_or(""),
                e.involved_object.name.as_deref().unwrap_or("")
            ),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::batch::v1::JobStatus;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "kiln-b1-0-abcde"}, "status": status}))
            .unwrap()
    }

    fn event(reason: &str, kind: &str, message: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": "e"},
            "involvedObject": {"kind": kind, "name": "kiln-b1"},
            "reason": reason,
            "message": message,
        }))
        .unwrap()
    }

    #[test]
    fn each_cause_is_named_and_quoted() {
        let pull = pod(
            json!({"phase": "Pending", "containerStatuses": [{"name": "runner", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image \"ghcr.io/nope:1\""}}}]}),
        );
        let t = trouble(&[pull], &[]).unwrap();
        assert_eq!(t.reason, reasons::IMAGE_PULL_FAILED);
        assert!(
            t.message
                .contains("Back-off pulling image \"ghcr.io/nope:1\""),
            "{}",
            t.message
        );

        let secret = pod(
            json!({"phase": "Pending", "containerStatuses": [{"name": "runner", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"creds\" not found"}}}]}),
        );
        let t = trouble(&[secret], &[]).unwrap();
        assert_eq!(t.reason, reasons::CONTAINER_CONFIG_ERROR);
        assert!(
            t.message.ends_with("secret \"creds\" not found"),
            "{}",
            t.message
        );

        let unsched = pod(
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient devices.kubevirt.io/kvm."}]}),
        );
        let t = trouble(&[unsched], &[]).unwrap();
        assert_eq!(t.reason, reasons::UNSCHEDULABLE);
        assert!(
            t.message.contains("Insufficient devices.kubevirt.io/kvm"),
            "{}",
            t.message
        );

        let quota = event(
            "FailedCreate",
            "Job",
            "Error creating: pods \"kiln-b1-0-x\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2",
        );
        let t = trouble(&[], &[quota]).unwrap();
        assert_eq!(t.reason, reasons::QUOTA_EXCEEDED);
        assert!(
            t.message.starts_with("Job kiln-b1: Error creating"),
            "{}",
            t.message
        );

        let admission = event(
            "FailedCreate",
            "Job",
            "Error creating: pods \"kiln-b1-0-x\" is forbidden: violates PodSecurity \"restricted:latest\": privileged",
        );
        assert_eq!(
            trouble(&[], &[admission]).unwrap().reason,
            reasons::POD_CREATE_FAILED
        );
        let mount = event(
            "FailedMount",
            "Pod",
            "MountVolume.SetUp failed for volume \"snapshot\" : configmap \"b1-snapshot\" not found",
        );
        assert_eq!(
            trouble(&[], &[mount]).unwrap().reason,
            reasons::VOLUME_MOUNT_FAILED
        );
        let running = pod(json!({"phase": "Running"}));
        assert_eq!(trouble(&[running], &[event("Started", "Pod", "")]), None);
    }

    #[test]
    fn only_jobs_with_pods_not_running_are_looked_at() {
        let job = |active, ready| Job {
            status: Some(JobStatus {
                active: Some(active),
                ready: Some(ready),
                ..JobStatus::default()
            }),
            ..Job::default()
        };
        assert!(waiting_for_pods(&job(2, 1)));
        assert!(waiting_for_pods(&job(0, 0)), "no pod at all");
        assert!(!waiting_for_pods(&job(2, 2)));
    }
}
