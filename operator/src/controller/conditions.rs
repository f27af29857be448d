//! Conditions are set through one helper bound to the object's generation and the time of
//! the reconcile, so no condition can be written with another generation or a second clock.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::{READY, RECONCILING, STALLED};
use kiln_crds::{Condition, ConditionStatus, set_condition};

/// The conditions of one status being computed: the old list (transition times are kept
/// when a condition's status does not change), the generation observed, and now.
pub struct Conditions {
    list: Vec<Condition>,
    generation: Option<i64>,
    now: Time,
}

impl Conditions {
    pub fn new(old: &[Condition], generation: Option<i64>, now: Time) -> Conditions {
        Conditions {
            list: old.to_vec(),
            generation,
            now,
        }
    }

    /// Sets one condition; `lastTransitionTime` moves only when its status changes.
    pub fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: &str) {
        set_condition(
            &mut self.list,
            type_,
            status,
            reason,
            message,
            self.generation,
            self.now.clone(),
        );
    }

    /// Sets the kstatus trio at once: `Ready` with `message`, `Reconciling` and `Stalled`
    /// with `message` when they are `True` and none otherwise, all with `reason`.
    pub fn kstatus(
        &mut self,
        ready: ConditionStatus,
        reconciling: ConditionStatus,
        stalled: ConditionStatus,
        reason: &str,
        message: &str,
    ) {
        let when_true = |s: ConditionStatus| {
            if s == ConditionStatus::True {
                message
            } else {
                ""
            }
        };
        self.set(READY, ready, reason, message);
        self.set(RECONCILING, reconciling, reason, when_true(reconciling));
        self.set(STALLED, stalled, reason, when_true(stalled));
    }

    pub fn into_vec(self) -> Vec<Condition> {
        self.list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    #[test]
    fn bound_to_generation_and_time_transition_only_on_change() {
        let mut c = Conditions::new(&[], Some(3), t(10));
        c.set("Ready", ConditionStatus::Unknown, "Queued", "waiting");
        let first = c.into_vec();
        assert_eq!(first[0].observed_generation, Some(3));
        assert_eq!(first[0].last_transition_time, t(10));
        let mut c = Conditions::new(&first, Some(4), t(20));
        c.set("Ready", ConditionStatus::Unknown, "Building", "1 pod(s)");
        let same = c.into_vec();
        assert_eq!(same[0].last_transition_time, t(10), "status unchanged");
        assert_eq!(same[0].observed_generation, Some(4));
        assert_eq!(same[0].reason, "Building");
        let mut c = Conditions::new(&same, Some(4), t(30));
        c.set("Ready", ConditionStatus::True, "BuildSucceeded", "");
        assert_eq!(c.into_vec()[0].last_transition_time, t(30));
    }
}
