//! The ImageTemplate controller: parse and validate the template with the engine (no side
//! effects, data sources not run) and publish what it declares, or what is wrong with it.

use std::sync::Arc;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kiln_crds::condition::{READY, reasons};
use kiln_crds::{ConditionStatus, ImageTemplate, ImageTemplateStatus};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::analysis::{self, Analysis};
use super::conditions::Conditions;
use super::context::{Context, apply_status};
use super::error::{Error, Result};

pub const CONTROLLER: &str = "imagetemplate";

/// The status a template with this analysis gets. Conditions keep their transition times
/// from `old` when their status does not change.
pub fn desired_status(
    tpl: &ImageTemplate,
    a: &Analysis,
    old: Option<&ImageTemplateStatus>,
    now: Time,
) -> ImageTemplateStatus {
    let generation = tpl.metadata.generation;
    let mut conditions = Conditions::new(
        old.map(|s| s.conditions.as_slice()).unwrap_or_default(),
        generation,
        now,
    );
    use ConditionStatus::{False, True};
    if let Some(err) = a.first_error() {
        conditions.kstatus(False, False, True, reasons::INVALID_TEMPLATE, &err);
    } else {
        let msg = format!(
            "{} source(s), {} build(s), {} variable(s)",
            a.sources.len(),
            a.instances.len(),
            a.variables.len()
        );
        conditions.kstatus(True, False, False, reasons::VALID, &msg);
    }
    ImageTemplateStatus {
        observed_generation: generation,
        conditions: conditions.into_vec(),
        fingerprint: Some(a.fingerprint.clone()),
        sources: a.sources.clone(),
        builds: a.builds.clone(),
        variables: a.variables.clone(),
        diagnostics: a.diagnostics.clone(),
        bucket: super::build::registry::template_bucket(&tpl.name_any(), a),
    }
}

/// Runs the engine on the template's files in a scratch directory (blocking work, off the
/// async threads).
pub async fn analyze(tpl: &ImageTemplate) -> Result<Analysis> {
    let files = analysis::template_files(tpl.spec.template.as_deref(), tpl.spec.files.as_deref());
    let vars = tpl.spec.variables.clone();
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::Builder::new()
            .prefix("kiln-template-")
            .tempdir()
            .map_err(Error::Scratch)?;
        Ok(analysis::analyze(dir.path(), &files, &vars))
    })
    .await
    .map_err(|e| Error::Scratch(std::io::Error::other(e)))?
}

#[tracing::instrument(skip_all, fields(template = %tpl.name_any(), namespace = tpl.namespace()))]
pub async fn reconcile(tpl: Arc<ImageTemplate>, ctx: Arc<Context>) -> Result<Action> {
    let _timer = ctx.metrics.reconcile(CONTROLLER);
    let ns = tpl
        .namespace()
        .ok_or(Error::MissingObjectKey("namespace"))?;
    let name = tpl.name_any();
    let a = analyze(&tpl).await?;
    let old = tpl.status.as_ref();
    let status = desired_status(&tpl, &a, old, super::context::now());
    if old == Some(&status) {
        return Ok(Action::await_change());
    }
    let api: Api<ImageTemplate> = Api::namespaced(ctx.client.clone(), &ns);
    apply_status(&api, &name, &status)
        .await
        .map_err(|source| Error::StatusPatch {
            kind: "ImageTemplate",
            name: name.clone(),
            source,
        })?;
    let was_ready = old.map(|s| kiln_crds::condition_status(&s.conditions, READY));
    let ready = kiln_crds::condition_status(&status.conditions, READY);
    if was_ready != Some(ready)
        || old.and_then(|s| s.fingerprint.as_ref()) != status.fingerprint.as_ref()
    {
        match a.first_error() {
            Some(err) => {
                ctx.event(
                    tpl.as_ref(),
                    true,
                    reasons::INVALID_TEMPLATE,
                    "Validate",
                    err,
                )
                .await
            }
            None => {
                ctx.event(
                    tpl.as_ref(),
                    false,
                    reasons::VALID,
                    "Validate",
                    format!(
                        "template is valid ({}): builds {}",
                        a.fingerprint,
                        a.instances.join(", ")
                    ),
                )
                .await
            }
        }
    }
    Ok(Action::await_change())
}

pub fn error_policy(_tpl: Arc<ImageTemplate>, err: &Error, ctx: Arc<Context>) -> Action {
    tracing::warn!(error = %err, "ImageTemplate reconcile failed");
    ctx.metrics.failure(CONTROLLER, err.category());
    err.action(ctx.settings.error_backoff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_crds::ImageTemplateSpec;
    use kiln_crds::condition::{RECONCILING, STALLED};

    fn t(secs: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(secs).unwrap())
    }

    pub fn template(body: &str) -> ImageTemplate {
        let mut t = ImageTemplate::new(
            "tpl",
            ImageTemplateSpec {
                template: Some(body.into()),
                ..ImageTemplateSpec::default()
            },
        );
        t.metadata.namespace = Some("ns".into());
        t.metadata.generation = Some(4);
        t
    }

    #[tokio::test]
    async fn valid_template_is_ready() {
        let tpl = template(
            "source \"null\" \"a\" {\n  communicator = \"none\"\n}\nbuild {\n  sources = [\"source.null.a\"]\n}\n",
        );
        let a = analyze(&tpl).await.unwrap();
        let s = desired_status(&tpl, &a, None, t(1));
        assert_eq!(s.observed_generation, Some(4));
        assert_eq!(s.sources, ["null.a"]);
        let c = |ty| {
            kiln_crds::find_condition(&s.conditions, ty)
                .unwrap()
                .clone()
        };
        assert_eq!(c(READY).status, "True");
        assert_eq!(c(READY).observed_generation, Some(4));
        assert_eq!(c(STALLED).status, "False");
        assert_eq!(c(RECONCILING).status, "False");
        // Same input later: identical status (no write).
        let again = desired_status(&tpl, &a, Some(&s), t(99));
        assert_eq!(again, s);
    }

    #[tokio::test]
    async fn invalid_template_is_stalled_with_position() {
        let tpl = template("source \"null\" {\n}\n");
        let a = analyze(&tpl).await.unwrap();
        let s = desired_status(&tpl, &a, None, t(1));
        let ready = kiln_crds::find_condition(&s.conditions, READY).unwrap();
        assert_eq!(ready.status, "False");
        assert_eq!(ready.reason, reasons::INVALID_TEMPLATE);
        assert!(
            ready.message.starts_with("template.pkr.hcl:"),
            "{}",
            ready.message
        );
        assert!(kiln_crds::is_condition_true(&s.conditions, STALLED));
        assert!(!s.diagnostics.is_empty());
    }
}
