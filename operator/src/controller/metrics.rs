//! Prometheus metrics of the operator (prefix `kiln_`), served on `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    pub controller: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ErrorLabels {
    pub controller: String,
    pub error: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    pub kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PhaseLabels {
    pub phase: String,
}

/// Every metric the operator exports.
#[derive(Clone)]
pub struct Metrics {
    pub reconciles: Family<ControllerLabels, Counter>,
    pub failures: Family<ErrorLabels, Counter>,
    pub duration: Family<ControllerLabels, Histogram>,
    pub build_steps: Family<StepLabels, Histogram>,
    pub api_requests: Family<MethodLabels, Histogram>,
    pub in_flight: Family<ControllerLabels, Gauge>,
    pub queue_depth: Family<ControllerLabels, Gauge>,
    pub malformed: Family<KindLabels, Counter>,
    pub builds_finished: Family<PhaseLabels, Counter>,
    pub builds_started: Counter,
    pub build_duration: Histogram,
    pub leader: Gauge,
    pub registry: Arc<Registry>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("kiln");
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let failures = Family::<ErrorLabels, Counter>::default();
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.001, 2.0, 14))
        });
        let build_steps = Family::<StepLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let api_requests = Family::<MethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let in_flight = Family::<ControllerLabels, Gauge>::default();
        let queue_depth = Family::<ControllerLabels, Gauge>::default();
        let malformed = Family::<KindLabels, Counter>::default();
        let builds_finished = Family::<PhaseLabels, Counter>::default();
        let builds_started = Counter::default();
        let build_duration = Histogram::new(exponential_buckets(5.0, 2.0, 12));
        let leader = Gauge::default();
        registry.register(
            "reconcile",
            "Reconciliations, by controller",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_failures",
            "Failed reconciliations, by controller and error category",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Duration of one reconciliation, by controller",
            duration.clone(),
        );
        registry.register(
            "build_reconcile_step_seconds",
            "Duration of each step of an ImageBuild reconciliation (observe, labels, apply, \
             status, retention), for finding where a slow reconcile spends its time",
            build_steps.clone(),
        );
        registry.register(
            "api_request_duration_seconds",
            "Duration of the operator's API requests until the response starts, by HTTP method \
             (WATCH for watches)",
            api_requests.clone(),
        );
        registry.register(
            "reconcile_in_flight",
            "Reconciliations running now, by controller (the part of the queue being worked on)",
            in_flight.clone(),
        );
        registry.register(
            "reconcile_queue_depth",
            "Objects a watch event triggered whose reconcile has not started yet, by controller \
             (requeue timers not counted)",
            queue_depth.clone(),
        );
        registry.register(
            "malformed_objects",
            "Stored objects (distinct resourceVersions) that do not decode and were skipped, by kind",
            malformed.clone(),
        );
        registry.register(
            "builds_started",
            "ImageBuilds whose Job the operator created",
            builds_started.clone(),
        );
        registry.register(
            "builds_finished",
            "ImageBuilds that reached a final phase, by phase",
            builds_finished.clone(),
        );
        registry.register(
            "build_duration_seconds",
            "Duration of finished ImageBuilds (Job start to end)",
            build_duration.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease",
            leader.clone(),
        );
        Metrics {
            reconciles,
            failures,
            duration,
            build_steps,
            api_requests,
            in_flight,
            queue_depth,
            malformed,
            builds_finished,
            builds_started,
            build_duration,
            leader,
            registry: Arc::new(registry),
        }
    }
}

impl Metrics {
    /// Counts a reconciliation and times it until the guard drops.
    pub fn reconcile(&self, controller: &str) -> ReconcileTimer {
        let labels = ControllerLabels {
            controller: controller.to_string(),
        };
        self.reconciles.get_or_create(&labels).inc();
        self.in_flight.get_or_create(&labels).inc();
        ReconcileTimer {
            metrics: self.clone(),
            labels,
            start: Instant::now(),
        }
    }

    /// Times one step of an ImageBuild reconcile until the guard drops.
    pub fn build_step(&self, step: &'static str) -> StepTimer {
        StepTimer {
            histogram: self
                .build_steps
                .get_or_create(&StepLabels {
                    step: step.to_string(),
                })
                .clone(),
            start: Instant::now(),
        }
    }

    pub fn failure(&self, controller: &str, category: &str) {
        self.failures
            .get_or_create(&ErrorLabels {
                controller: controller.to_string(),
                error: category.to_string(),
            })
            .inc();
    }

    /// Counts one malformed object of `kind`.
    pub fn malformed(&self, kind: &str) {
        self.malformed
            .get_or_create(&KindLabels {
                kind: kind.to_string(),
            })
            .inc();
    }

    /// The queue-depth gauge of `controller` (exported as 0 from the start).
    pub fn queue_depth(&self, controller: &str) -> Gauge {
        self.queue_depth
            .get_or_create(&ControllerLabels {
                controller: controller.to_string(),
            })
            .clone()
    }

    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

pub struct StepTimer {
    histogram: Histogram,
    start: Instant,
}

impl Drop for StepTimer {
    fn drop(&mut self) {
        self.histogram.observe(self.start.elapsed().as_secs_f64());
    }
}

pub struct ReconcileTimer {
    metrics: Metrics,
    labels: ControllerLabels,
    start: Instant,
}

impl Drop for ReconcileTimer {
    fn drop(&mut self) {
        self.metrics
            .duration
            .get_or_create(&self.labels)
            .observe(self.start.elapsed().as_secs_f64());
        self.metrics.in_flight.get_or_create(&self.labels).dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_reconciles_and_failures() {
        let m = Metrics::default();
        drop(m.reconcile("imagebuild"));
        m.failure("imagebuild", "conflict");
        let text = m.encode();
        assert!(
            text.contains("kiln_reconcile_total{controller=\"imagebuild\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "kiln_reconcile_failures_total{controller=\"imagebuild\",error=\"conflict\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("kiln_reconcile_duration_seconds_count{controller=\"imagebuild\"} 1")
        );
        assert!(text.contains("kiln_reconcile_in_flight{controller=\"imagebuild\"} 0"));
    }

    #[test]
    fn times_each_step_of_a_build_reconcile() {
        let m = Metrics::default();
        drop(m.build_step("observe"));
        drop(m.build_step("observe"));
        drop(m.build_step("apply"));
        let text = m.encode();
        assert!(
            text.contains("kiln_build_reconcile_step_seconds_count{step=\"observe\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("kiln_build_reconcile_step_seconds_count{step=\"apply\"} 1"),
            "{text}"
        );
    }
}
