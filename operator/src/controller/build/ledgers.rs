//! The build controller's in-memory ledgers: what this process did that the API server (or
//! the watch cache) does not show yet. All are keyed by the build's uid and live in the [`Context`] shared by
//! every reconcile of the process (`Arc`), behind a mutex held only for a map operation.
//!
//! | ledger | holds | written by | read by | on restart |
//! |---|---|---|---|---|
//! | [`Launched`] | builds whose Job this process created, with their snapshot | `apply` (after the Job create); emptied for a build once its status names the snapshot or it finished (`decide` says so, `apply` does it) | `observe`: a build whose Job exists but whose status does not show the snapshot yet follows the Job with that snapshot instead of taking one again | empty: such a build reads its snapshot ConfigMap once (or takes it again; the existing ConfigMap wins on create) |
//! | [`AccessLedger`] | where each running build's runner RBAC (Role, RoleBinding) stands: `Pending` (applied in the background), `Granted`, `Failed` | `apply` (the background task sets `Granted` or `Failed` and re-triggers the build on failure; a RoleBinding found by `observe` is recorded `Granted`) | `observe`: `Granted`/`Pending` need nothing, `Failed` is applied again | empty: each running build's RoleBinding is checked once with a read, then recorded |
//!
//! | [`Written`] | the last status this process wrote for a build (as the API server answered it, with its `resourceVersion`), until the watch cache shows it | `status` (after each status write) | the reconcile's first step: while the cache shows neither that version nor that status (for at most [`Written::PATIENCE`]), the build is left alone — its own write's watch event reconciles it again — instead of acting on a status this process already replaced (which repeated the write and its events) | empty: a reconcile may act once on a cache that lags, as before |
//!
//! All are bounded ([`Launched::MAX`] entries): past the bound a map starts over, which costs
//! only the reads a restart costs. None is ever the only record of anything: losing them
//! (restart, leader change) changes the number of API calls, never the outcome.
//!
//! [`Context`]: crate::controller::context::Context

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiln_crds::{ImageBuild, ImageBuildStatus};
use kube::ResourceExt;

use super::super::resources::Snapshot;
use super::status::controller_part;

/// Background RBAC applies (Role, then RoleBinding) at once.
pub const ACCESS_SLOTS: usize = 16;

/// Builds whose Job this process created, with their snapshot, until their status shows it:
/// a reconcile triggered by the Job's own event before the build's status write is visible
/// then neither takes the snapshot again nor re-applies the RBAC.
#[derive(Default)]
pub struct Launched {
    map: Mutex<HashMap<String, Arc<Snapshot>>>,
}

impl Launched {
    /// Bound on entries (builds deleted before their status was seen are never forgotten
    /// otherwise); past it the set starts over, which only costs a re-check.
    pub const MAX: usize = 10_000;

    pub fn remember(&self, uid: &str, snapshot: &Snapshot) {
        if uid.is_empty() {
            return;
        }
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= Self::MAX {
            m.clear();
        }
        m.insert(uid.to_string(), Arc::new(snapshot.clone()));
    }

    pub fn get(&self, uid: &str) -> Option<Arc<Snapshot>> {
        let m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.get(uid).cloned()
    }

    pub fn forget(&self, uid: &str) {
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.remove(uid);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// Where a build's runner access (Role and RoleBinding) stands, as this process knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Being applied in the background.
    Pending,
    /// Applied (or found).
    Granted,
    /// The last attempt failed: the next reconcile applies it again.
    Failed,
}

/// [`Access`] by build uid; unknown after a restart (then checked once with a read).
#[derive(Default)]
pub struct AccessLedger {
    map: Mutex<HashMap<String, Access>>,
}

impl AccessLedger {
    pub fn get(&self, uid: &str) -> Option<Access> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(uid)
            .copied()
    }

    pub fn set(&self, uid: &str, state: Access) {
        if uid.is_empty() {
            return;
        }
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= Launched::MAX && !m.contains_key(uid) {
            m.clear();
        }
        m.insert(uid.to_string(), state);
    }

    pub fn forget(&self, uid: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(uid);
    }
}

/// The last status this process wrote per build, until the watch cache shows it.
#[derive(Default)]
pub struct Written {
    map: Mutex<HashMap<String, WrittenStatus>>,
}

struct WrittenStatus {
    resource_version: String,
    status: ImageBuildStatus,
    at: Instant,
}

impl Written {
    /// How long a cache may lag behind a write before the build is reconciled anyway.
    pub const PATIENCE: Duration = Duration::from_secs(10);

    /// Records the build as the API server returned it from a status write.
    pub fn remember(&self, written: &ImageBuild) {
        let (Some(uid), Some(rv)) = (written.uid(), written.resource_version()) else {
            return;
        };
        let status = controller_part(&written.status.clone().unwrap_or_default());
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= Launched::MAX && !m.contains_key(&uid) {
            m.clear();
        }
        m.insert(
            uid,
            WrittenStatus {
                resource_version: rv,
                status,
                at: Instant::now(),
            },
        );
    }

    /// Whether `cached` predates a status write of this process: it is neither the version
    /// written nor shows the status written, and the write is recent. Forgets the write once
    /// the cache caught up (or patience ran out).
    pub fn stale(&self, cached: &ImageBuild) -> bool {
        let uid = cached.uid().unwrap_or_default();
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let Some(w) = m.get(&uid) else {
            return false;
        };
        let behind = cached.resource_version().as_deref() != Some(w.resource_version.as_str())
            && controller_part(&cached.status.clone().unwrap_or_default()) != w.status
            && w.at.elapsed() < Self::PATIENCE;
        if !behind {
            m.remove(&uid);
        }
        behind
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::resources::tests::build;
    use kiln_crds::BuildPhase;

    fn with(rv: &str, phase: Option<BuildPhase>) -> ImageBuild {
        let mut b = build("b1");
        b.metadata.resource_version = Some(rv.into());
        b.status = phase.map(|p| ImageBuildStatus {
            phase: Some(p),
            ..ImageBuildStatus::default()
        });
        b
    }

    #[test]
    fn a_cache_behind_this_process_s_write_is_stale_until_it_catches_up() {
        let w = Written::default();
        assert!(!w.stale(&with("1", None)), "nothing written: never stale");
        w.remember(&with("2", Some(BuildPhase::Pending)));
        assert!(w.stale(&with("1", None)), "the version before the write");
        assert!(w.stale(&with("1", None)), "still, until the cache moves");
        assert!(!w.stale(&with("2", Some(BuildPhase::Pending))), "caught up");
        assert_eq!(w.len(), 0, "forgotten once caught up");
        assert!(!w.stale(&with("1", None)));
    }

    #[test]
    fn a_later_version_showing_the_written_status_is_not_stale() {
        // A runner wrote its entry after the controller's write: another version, the same
        // controller part.
        let w = Written::default();
        w.remember(&with("2", Some(BuildPhase::Running)));
        let mut later = with("3", Some(BuildPhase::Running));
        later.status.as_mut().unwrap().sources = vec![kiln_crds::SourceStatus {
            name: "null.one".into(),
            ..Default::default()
        }];
        assert!(!w.stale(&later));
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn patience_runs_out() {
        let w = Written::default();
        w.remember(&with("2", Some(BuildPhase::Pending)));
        w.map.lock().unwrap().get_mut("uid-1").unwrap().at =
            Instant::now() - Written::PATIENCE - Duration::from_millis(1);
        assert!(!w.stale(&with("1", None)));
        assert_eq!(w.len(), 0);
    }
}
