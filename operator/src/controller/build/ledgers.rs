//! The build controller's in-memory ledgers: what this process did that the API server does
//! not show yet. Both are keyed by the build's uid and live in the [`Context`] shared by
//! every reconcile of the process (`Arc`), behind a mutex held only for a map operation.
//!
//! | ledger | holds | written by | read by | on restart |
//! |---|---|---|---|---|
//! | [`Launched`] | builds whose Job this process created, with their snapshot | `apply` (after the Job create); emptied for a build once its status names the snapshot or it finished (`decide` says so, `apply` does it) | `observe`: a build whose Job exists but whose status does not show the snapshot yet follows the Job with that snapshot instead of taking one again | empty: such a build reads its snapshot ConfigMap once (or takes it again; the existing ConfigMap wins on create) |
//! | [`AccessLedger`] | where each running build's runner RBAC (Role, RoleBinding) stands: `Pending` (applied in the background), `Granted`, `Failed` | `apply` (the background task sets `Granted` or `Failed` and re-triggers the build on failure; a RoleBinding found by `observe` is recorded `Granted`) | `observe`: `Granted`/`Pending` need nothing, `Failed` is applied again | empty: each running build's RoleBinding is checked once with a read, then recorded |
//!
//! Both are bounded ([`Launched::MAX`] entries): past the bound a map starts over, which costs
//! only the reads a restart costs. Neither is ever the only record of anything: losing them
//! (restart, leader change) changes the number of API calls, never the outcome.
//!
//! [`Context`]: crate::controller::context::Context

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::super::resources::Snapshot;

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
