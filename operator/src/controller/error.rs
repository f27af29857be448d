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
    #[error("invalid spec: {0}")]
    InvalidSpec(String),

    #[error("could not write the status of {kind} {name}: {source}")]
    StatusPatch {
        kind: &'static str,
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read ImageTemplate {name}: {source}")]
    TemplateGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply the snapshot ConfigMap {name}: {source}")]
    SnapshotApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read the snapshot ConfigMap {name}: {source}")]
    SnapshotGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply ServiceAccount {name}: {source}")]
    ServiceAccountApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply Role {name}: {source}")]
    RoleApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not apply RoleBinding {name}: {source}")]
    RoleBindingApply {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read Job {name}: {source}")]
    JobGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not create Job {name}: {source}")]
    JobCreate {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not suspend Job {name}: {source}")]
    JobSuspend {
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
    #[error("could not delete ImageBuild {name} (history limit): {source}")]
    BuildDelete {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read RoleBinding {name}: {source}")]
    RoleBindingGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not read ImageChannel {name}: {source}")]
    ChannelGet {
        name: String,
        #[source]
        source: kube::Error,
    },
    #[error("could not list ImageChannels in {namespace}: {source}")]
    ChannelList {
        namespace: String,
        #[source]
        source: kube::Error,
    },
}

impl Error {
    /// Permanent errors need a change to the object; retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Error::InvalidSpec(_) | Error::MissingObjectKey(_))
    }

    /// A short label for metrics and event reasons.
    pub fn category(&self) -> &'static str {
        match self {
            Error::MissingObjectKey(_) | Error::InvalidSpec(_) => "invalid_spec",
            Error::Scratch(_) => "io",
            Error::StatusPatch { source, .. }
            | Error::TemplateGet { source, .. }
            | Error::SnapshotApply { source, .. }
            | Error::SnapshotGet { source, .. }
            | Error::ServiceAccountApply { source, .. }
            | Error::RoleApply { source, .. }
            | Error::RoleBindingApply { source, .. }
            | Error::JobGet { source, .. }
            | Error::JobCreate { source, .. }
            | Error::JobSuspend { source, .. }
            | Error::BuildList { source, .. }
            | Error::BuildGet { source, .. }
            | Error::BuildDelete { source, .. }
            | Error::ChannelGet { source, .. }
            | Error::RoleBindingGet { source, .. }
            | Error::ChannelList { source, .. } => kube_category(source),
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

fn kube_category(e: &kube::Error) -> &'static str {
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
        assert!(Error::InvalidSpec("x".into()).is_permanent());
        let e = Error::JobCreate {
            name: "j".into(),
            source: api(409),
        };
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
    }
}
