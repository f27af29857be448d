//! Conditions shared by the three kinds, and helpers to maintain them.
//!
//! Kiln writes `metav1.Condition` (the upstream type) into `status.conditions`, a list keyed
//! by `type`, following the Kubernetes API conventions and kstatus:
//!
//! * `Ready` — the summary for humans and for `kubectl wait --for=condition=Ready`;
//! * `Reconciling` — `True` while the controller is still working towards the spec
//!   (kstatus reports *InProgress*);
//! * `Stalled` — `True` when progress stopped and only a change to the spec can help
//!   (kstatus reports *Failed*);
//! * `Succeeded` — only on ImageBuild: monotonic, `Unknown` while the build runs.
//!
//! Never set `Reconciling` and `Stalled` to `True` at the same time.

use std::fmt;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// Condition type `Ready`: the object is in its desired state and usable.
pub const READY: &str = "Ready";
/// Condition type `Reconciling`: the controller is working towards the desired state.
pub const RECONCILING: &str = "Reconciling";
/// Condition type `Stalled`: progress stopped; a change to the spec is needed.
pub const STALLED: &str = "Stalled";
/// Condition type `Succeeded`: an ImageBuild finished successfully (monotonic).
pub const SUCCEEDED: &str = "Succeeded";
/// Condition type `ParentCurrent` of an ImageBuild with a parent read through a channel:
/// True while the channel still points at the parent ("up to date"), False once it moved on
/// ("out of date", reason `ParentMoved`).
pub const PARENT_CURRENT: &str = "ParentCurrent";

/// Condition reasons Kiln's controllers write (one CamelCase word each). Shared so the
/// operator, its events and the documentation use the same words.
pub mod reasons {
    /// ImageTemplate: being parsed and validated.
    pub const VALIDATING: &str = "Validating";
    /// ImageTemplate: parsed and validated.
    pub const VALID: &str = "Valid";
    /// ImageTemplate: HCL or schema error (see `status.diagnostics`).
    pub const INVALID_TEMPLATE: &str = "InvalidTemplate";
    /// ImageBuild: accepted, its Job not running yet.
    pub const QUEUED: &str = "Queued";
    /// ImageBuild: its Job is running.
    pub const BUILDING: &str = "Building";
    /// ImageBuild: every selected source succeeded.
    pub const BUILD_SUCCEEDED: &str = "BuildSucceeded";
    /// ImageBuild: a source failed.
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// ImageBuild: `spec.timeout` ran out.
    pub const TIMEOUT: &str = "Timeout";
    /// ImageBuild: stopped by `spec.cancel`.
    pub const CANCELLED: &str = "Cancelled";
    /// ImageBuild: the template or a variable is invalid; nothing was started.
    pub const INVALID_SPEC: &str = "InvalidSpec";
    /// ImageBuild / ImageChannel: the referenced ImageTemplate does not exist.
    pub const TEMPLATE_NOT_FOUND: &str = "TemplateNotFound";
    /// ImageBuild: a channel the template reads (`kiln-channel`) is still being reconciled.
    pub const WAITING_FOR_CHANNEL: &str = "WaitingForChannel";
    /// ImageBuild: its Job completed, but a source's result never reached `status.sources`
    /// (the build is not a success without it).
    pub const RESULT_MISSING: &str = "ResultMissing";
    /// ImageBuild: a runner pod cannot pull its image (`ErrImagePull`, `ImagePullBackOff`).
    pub const IMAGE_PULL_FAILED: &str = "ImagePullFailed";
    /// ImageBuild: no node can take a runner pod (the scheduler's message is quoted).
    pub const UNSCHEDULABLE: &str = "Unschedulable";
    /// ImageBuild: a runner pod's container cannot be created (a missing Secret or
    /// ConfigMap key, for example).
    pub const CONTAINER_CONFIG_ERROR: &str = "ContainerConfigError";
    /// ImageBuild: a runner pod's volume cannot be mounted (a missing ConfigMap or Secret).
    pub const VOLUME_MOUNT_FAILED: &str = "VolumeMountFailed";
    /// ImageBuild: the Job cannot create its pods because a ResourceQuota is exceeded.
    pub const QUOTA_EXCEEDED: &str = "QuotaExceeded";
    /// ImageBuild: the Job cannot create its pods (refused by admission, for example).
    pub const POD_CREATE_FAILED: &str = "PodCreateFailed";
    /// ImageBuild: revoked because the build it started from (its parent) was.
    pub const PARENT_REVOKED: &str = "ParentRevoked";
    /// ImageBuild: succeeded without a Job by reusing the artifacts of an earlier build with
    /// the same inputs (`dedupe`).
    pub const REUSED: &str = "Reused";
    /// ImageBuild: waiting for an earlier build of the same bucket and version fingerprint
    /// to finish before resuming it.
    pub const FINGERPRINT_IN_USE: &str = "FingerprintInUse";
    /// ImageBuild: an HCP Packer data source (`hcp-packer-version`, `hcp-packer-artifact`…)
    /// failed before the build started: a revoked version, a missing channel or bucket.
    pub const REGISTRY_LOOKUP_FAILED: &str = "RegistryLookupFailed";
    /// ImageChannel: the target build exists, succeeded and is not revoked.
    pub const TARGET_VERIFIED: &str = "TargetVerified";
    /// ImageChannel: waiting for the target build to finish.
    pub const TARGET_PENDING: &str = "TargetPending";
    /// ImageChannel: the target build does not exist (or nothing matches `follow`).
    pub const TARGET_NOT_FOUND: &str = "TargetNotFound";
    /// ImageChannel: the target build failed or was cancelled.
    pub const TARGET_FAILED: &str = "TargetFailed";
    /// ImageChannel: the target build belongs to another template.
    pub const TEMPLATE_MISMATCH: &str = "TemplateMismatch";
    /// ImageChannel: the target build is revoked.
    pub const TARGET_REVOKED: &str = "TargetRevoked";
    /// ImageBuild (`ParentCurrent` True): the parent's channel still points at the parent.
    pub const PARENT_UP_TO_DATE: &str = "ParentUpToDate";
    /// ImageBuild (`ParentCurrent` False): the parent's channel points at a newer build.
    pub const PARENT_MOVED: &str = "ParentMoved";
    /// ImageBuild (`ParentCurrent` Unknown): the parent's channel is missing or not Ready.
    pub const PARENT_CHANNEL_UNKNOWN: &str = "ParentChannelUnknown";
    /// ImageChannel: `spec.requireProvenance` is set and the target has no attestation.
    pub const PROVENANCE_MISSING: &str = "ProvenanceMissing";
    /// ImageChannel: the target's attestation does not verify with the channel's keys.
    pub const PROVENANCE_INVALID: &str = "ProvenanceInvalid";

    /// Every reason above (to map a reason read back from a status to its constant).
    pub const ALL: &[&str] = &[
        VALIDATING,
        VALID,
        INVALID_TEMPLATE,
        QUEUED,
        BUILDING,
        BUILD_SUCCEEDED,
        BUILD_FAILED,
        TIMEOUT,
        CANCELLED,
        INVALID_SPEC,
        TEMPLATE_NOT_FOUND,
        WAITING_FOR_CHANNEL,
        RESULT_MISSING,
        IMAGE_PULL_FAILED,
        UNSCHEDULABLE,
        CONTAINER_CONFIG_ERROR,
        VOLUME_MOUNT_FAILED,
        QUOTA_EXCEEDED,
        POD_CREATE_FAILED,
        PARENT_REVOKED,
        REUSED,
        FINGERPRINT_IN_USE,
        REGISTRY_LOOKUP_FAILED,
        TARGET_VERIFIED,
        TARGET_PENDING,
        TARGET_NOT_FOUND,
        TARGET_FAILED,
        TEMPLATE_MISMATCH,
        TARGET_REVOKED,
        PARENT_UP_TO_DATE,
        PARENT_MOVED,
        PARENT_CHANNEL_UNKNOWN,
        PROVENANCE_MISSING,
        PROVENANCE_INVALID,
    ];
}

/// The three values of a condition's `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// The condition does not hold.
    False,
    /// Not known yet (for example, the build is still running).
    Unknown,
}

impl ConditionStatus {
    /// The string Kubernetes stores: `"True"`, `"False"` or `"Unknown"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConditionStatus::True => "True",
            ConditionStatus::False => "False",
            ConditionStatus::Unknown => "Unknown",
        }
    }

    /// Parse the stored string; anything else than `True`/`False` reads as `Unknown`.
    pub fn parse(s: &str) -> Self {
        match s {
            "True" => ConditionStatus::True,
            "False" => ConditionStatus::False,
            _ => ConditionStatus::Unknown,
        }
    }
}

impl From<bool> for ConditionStatus {
    fn from(b: bool) -> Self {
        if b {
            ConditionStatus::True
        } else {
            ConditionStatus::False
        }
    }
}

impl fmt::Display for ConditionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Insert or update the condition of type `type_`.
///
/// `lastTransitionTime` is set to `now` only when the condition is new or its `status`
/// changes; reason, message and `observedGeneration` are always refreshed. The list keeps
/// its order (new conditions are appended), so repeated calls do not reorder it.
///
/// Returns `true` when anything in the list changed, so a caller can skip a no-op status
/// write.
pub fn set_condition(
    conditions: &mut Vec<Condition>,
    type_: &str,
    status: ConditionStatus,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Time,
) -> bool {
    let status = status.as_str();
    match conditions.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            let before = c.clone();
            if c.status != status {
                c.status = status.to_string();
                c.last_transition_time = now;
            }
            c.reason = reason.to_string();
            c.message = message.to_string();
            c.observed_generation = generation;
            *c != before
        }
        None => {
            conditions.push(Condition {
                type_: type_.to_string(),
                status: status.to_string(),
                reason: reason.to_string(),
                message: message.to_string(),
                observed_generation: generation,
                last_transition_time: now,
            });
            true
        }
    }
}

/// The condition of type `type_`, if present.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// The status of the condition of type `type_`; a missing condition reads as `Unknown`.
pub fn condition_status(conditions: &[Condition], type_: &str) -> ConditionStatus {
    find_condition(conditions, type_)
        .map(|c| ConditionStatus::parse(&c.status))
        .unwrap_or(ConditionStatus::Unknown)
}

/// `true` when the condition of type `type_` is present with status `True`.
pub fn is_condition_true(conditions: &[Condition], type_: &str) -> bool {
    condition_status(conditions, type_) == ConditionStatus::True
}

/// Remove the condition of type `type_`; returns `true` when one was removed.
pub fn remove_condition(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    conditions.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn new_condition_is_appended_with_now() {
        let mut cs = Vec::new();
        assert!(set_condition(
            &mut cs,
            READY,
            ConditionStatus::Unknown,
            "Validating",
            "",
            Some(1),
            t(10)
        ));
        assert!(set_condition(
            &mut cs,
            RECONCILING,
            ConditionStatus::True,
            "Validating",
            "parsing",
            Some(1),
            t(10)
        ));
        assert_eq!(cs.len(), 2);
        assert_eq!(cs[0].type_, READY);
        assert_eq!(cs[0].status, "Unknown");
        assert_eq!(cs[1].message, "parsing");
        assert_eq!(cs[1].last_transition_time, t(10));
        assert_eq!(cs[1].observed_generation, Some(1));
    }

    #[test]
    fn transition_time_moves_only_when_status_changes() {
        let mut cs = Vec::new();
        set_condition(
            &mut cs,
            READY,
            ConditionStatus::False,
            "A",
            "a",
            Some(1),
            t(10),
        );
        // Same status, new reason and generation: time kept, fields refreshed.
        assert!(set_condition(
            &mut cs,
            READY,
            ConditionStatus::False,
            "B",
            "b",
            Some(2),
            t(20)
        ));
        assert_eq!(cs[0].last_transition_time, t(10));
        assert_eq!(cs[0].reason, "B");
        assert_eq!(cs[0].message, "b");
        assert_eq!(cs[0].observed_generation, Some(2));
        // Status flips: time moves.
        assert!(set_condition(
            &mut cs,
            READY,
            ConditionStatus::True,
            "B",
            "b",
            Some(2),
            t(30)
        ));
        assert_eq!(cs[0].last_transition_time, t(30));
        assert_eq!(cs[0].status, "True");
        assert_eq!(cs.len(), 1);
    }

    #[test]
    fn identical_update_reports_no_change() {
        let mut cs = Vec::new();
        set_condition(
            &mut cs,
            READY,
            ConditionStatus::True,
            "Valid",
            "",
            Some(3),
            t(10),
        );
        let before = cs.clone();
        assert!(!set_condition(
            &mut cs,
            READY,
            ConditionStatus::True,
            "Valid",
            "",
            Some(3),
            t(99)
        ));
        assert_eq!(cs, before);
    }

    #[test]
    fn order_is_stable() {
        let mut cs = Vec::new();
        for ty in [READY, RECONCILING, STALLED] {
            set_condition(
                &mut cs,
                ty,
                ConditionStatus::Unknown,
                "Init",
                "",
                None,
                t(1),
            );
        }
        set_condition(&mut cs, READY, ConditionStatus::True, "Ok", "", None, t(2));
        let types: Vec<_> = cs.iter().map(|c| c.type_.as_str()).collect();
        assert_eq!(types, [READY, RECONCILING, STALLED]);
    }

    #[test]
    fn lookups() {
        let mut cs = Vec::new();
        set_condition(&mut cs, STALLED, ConditionStatus::True, "X", "", None, t(1));
        assert!(is_condition_true(&cs, STALLED));
        assert!(!is_condition_true(&cs, READY));
        assert_eq!(condition_status(&cs, READY), ConditionStatus::Unknown);
        assert_eq!(find_condition(&cs, STALLED).unwrap().reason, "X");
        assert!(remove_condition(&mut cs, STALLED));
        assert!(!remove_condition(&mut cs, STALLED));
        assert!(cs.is_empty());
    }

    #[test]
    fn status_strings() {
        assert_eq!(ConditionStatus::True.to_string(), "True");
        assert_eq!(ConditionStatus::from(false), ConditionStatus::False);
        assert_eq!(ConditionStatus::parse("Unknown"), ConditionStatus::Unknown);
        assert_eq!(ConditionStatus::parse("garbage"), ConditionStatus::Unknown);
    }
}
