//! The operator's errors: one variant per failure site, each carrying its cause. The error
//! policy reads [`Error::is_permanent`] (invalid spec: wait for a change) and
//! [`Error::category`] (metric label and event reason).

use std::time::Duration;

use kube::runtime::controller::Action;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("object has no {0}")]
    MissingObjectKey(&'static str),
    #[error("could not create a scratch directory for the template: {0}")]
    Scratch(#[source] std::io::Error),

    #[error(transparent)]
    BuildObserve(#[from] super::build::observe::ObserveError),
    #[error(transparent)]
    BuildApply(#[from] super::build::apply::ApplyError),
    #[error(transparent)]
    BuildStatus(#[from] super::build::status::StatusError),

    #[error("could not write the status of {kind} {name}: {source}")]
    StatusPatch {
        kind: &'static str,
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
    #[error("could not read ImageBuild {name}: {source}")]
    BuildGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not create ImageBuild {name} (a rebuild): {source}")]
    BuildCreate {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not write ConfigMap {namespace}/{name} (revoked images): {source}")]
    ConfigMapApply {
        namespace: String,
        name: String,
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// Permanent errors need a change to the object; retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Error::MissingObjectKey(_)
                | Error::BuildApply(super::build::apply::ApplyError::SnapshotUnusable { .. })
        ) || self.object_gone()
    }

    /// The status write found the object gone (deleted, or its namespace): nothing to retry;
    /// the watch's delete event (or its next list) drops it from the cache.
    fn object_gone(&self) -> bool {
        let source = match self {
            Error::BuildStatus(super::build::status::StatusError::Write { source, .. })
            | Error::StatusPatch { source, .. } => source,
            _ => return false,
        };
        matches!(source, kube::Error::Api(s) if s.code == 404)
    }

    /// A short label for metrics and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Error::MissingObjectKey(_) => "invalid_spec",
            Error::Scratch(_) => "io",
            Error::BuildObserve(e) => e.category(),
            Error::BuildApply(e) => e.category(),
            Error::BuildStatus(super::build::status::StatusError::Write { source, .. }) => {
                kube_category(source)
            }
            Error::StatusPatch { source, .. }
            | Error::BuildList { source, .. }
            | Error::BuildGet { source, .. }
            | Error::BuildCreate { source, .. }
            | Error::ConfigMapApply { source, .. } => kube_category(source),
        }
    }

    /// What the controller does after this error: permanent ones wait for a change of the
    /// object; transient ones retry after `backoff`.
    pub fn action(&self, backoff: Duration) -> Action {
        if self.is_permanent() {
            Action::await_change()
        } else {
            Action::requeue(backoff)
        }
    }
}

pub fn kube_category(e: &kube::Error) -> &'static str {
    match e {
        kube::Error::Api(s) => match s.code {
            404 => "not_found",
            409 => "conflict",
            401 | 403 => "forbidden",
            422 | 400 => "invalid",
            429 => "throttled",
            _ => "api",
        },
        _ => "transport",
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Whether an API error is a 404.
pub fn is_not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// Whether an API error is a 409 (already exists / conflict).
pub fn is_conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(
            kube::core::Status::failure("x", "y")
                .with_code(code)
                .boxed(),
        )
    }

    #[test]
    fn permanent_and_transient() {
        assert!(Error::MissingObjectKey("uid").is_permanent());
        let e = Error::BuildApply(super::super::build::apply::ApplyError::JobCreate {
            name: "j".into(),
            source: api(409),
        });
        assert!(!e.is_permanent());
        assert_eq!(e.category(), "conflict");
        assert_eq!(
            Error::BuildList {
                namespace: "n".into(),
                source: api(403)
            }
            .category(),
            "forbidden"
        );
        assert!(is_not_found(&api(404)));
        assert!(is_conflict(&api(409)));
        // a status write that finds the object gone is not retried; other failures are
        let gone = Error::StatusPatch {
            kind: "ImageBuild",
            name: "b".into(),
            source: api(404),
        };
        assert!(gone.is_permanent());
        let busy = Error::StatusPatch {
            kind: "ImageBuild",
            name: "b".into(),
            source: api(500),
        };
        assert!(!busy.is_permanent());
    }
}
