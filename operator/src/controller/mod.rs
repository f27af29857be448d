//! `kiln operator`: the ImageTemplate, ImageBuild and ImageChannel controllers, behind a
//! leader Lease, with `/metrics`, `/healthz` and `/readyz`.

pub mod admission;
pub mod analysis;
pub mod api_timing;
pub mod build;
pub mod channel;
pub mod conditions;
pub mod context;
pub mod error;
pub mod http;
pub mod memory;
pub mod metrics;
pub mod provenance;
pub mod rebuild;
pub mod resources;
pub mod runner_pod;
pub mod telemetry;
pub mod template;
pub mod watch;

#[cfg(test)]
mod mock_tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::Args;
use futures::future::BoxFuture;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kiln_crds::{ImageBuild, ImageChannel, ImageTemplate};
use kube::runtime::controller::{Config as ControllerConfig, Controller};
use kube::runtime::reflector::{self, ObjectRef, reflector};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

use context::{Context, Settings};
use http::Health;
use metrics::Metrics;
use resources::{MANAGED_BY, MANAGED_BY_LABEL, RunnerDefaults};
use watch::{MalformedReporter, QueueDepth, lenient_watcher};

#[derive(Args, Debug, Clone)]
pub struct OperatorArgs {
    /// Namespaces to watch (repeat or separate with commas); all namespaces when empty.
    #[arg(
        long = "namespace",
        env = "KILN_WATCH_NAMESPACES",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// Name of the leader-election Lease.
    #[arg(
        long = "leader-election-lease",
        env = "KILN_LEADER_ELECTION_LEASE",
        default_value = "kiln-operator"
    )]
    pub lease_name: String,
    /// Namespace of the leader-election Lease (default: the pod's namespace, from
    /// POD_NAMESPACE, else `default`).
    #[arg(
        long = "leader-election-namespace",
        env = "KILN_LEADER_ELECTION_NAMESPACE"
    )]
    pub lease_namespace: Option<String>,
    /// Run without leader election (one replica only).
    #[arg(long = "no-leader-election", env = "KILN_NO_LEADER_ELECTION")]
    pub no_leader_election: bool,
    /// Address of the /metrics, /healthz and /readyz endpoint.
    #[arg(
        long = "metrics-address",
        env = "KILN_METRICS_ADDRESS",
        default_value = "0.0.0.0:8080"
    )]
    pub metrics_address: SocketAddr,
    /// Log format: `text` or `json`.
    #[arg(long = "log-format", env = "KILN_LOG_FORMAT", default_value = "text")]
    pub log_format: telemetry::LogFormat,
    /// Runner image for build pods that do not set spec.runner.image (normally the
    /// operator's own image).
    #[arg(
        long = "runner-image",
        env = "KILN_RUNNER_IMAGE",
        default_value = concat!("ghcr.io/kiln-dev/kiln:", env!("CARGO_PKG_VERSION"))
    )]
    pub runner_image: String,
    /// Pull policy of the runner image: Always, IfNotPresent or Never (kubelet default when
    /// unset).
    #[arg(
        long = "runner-image-pull-policy",
        env = "KILN_RUNNER_IMAGE_PULL_POLICY"
    )]
    pub runner_image_pull_policy: Option<String>,
    /// The runner container's command: the `kiln` binary in the runner image, by name on
    /// PATH or by absolute path (its arguments are `runner`).
    #[arg(
        long = "runner-command",
        env = "KILN_RUNNER_COMMAND",
        default_value = "kiln"
    )]
    pub runner_command: String,
    /// Prefix of the ServiceAccount (and Role, RoleBinding) created for each build.
    #[arg(
        long = "runner-service-account-prefix",
        env = "KILN_RUNNER_SERVICE_ACCOUNT_PREFIX",
        default_value = "kiln-runner-"
    )]
    pub runner_sa_prefix: String,
    /// Runner pod defaults as JSON (`resources`, `nodeSelector`, `tolerations`), used where
    /// an ImageBuild's spec.runner leaves them unset.
    #[arg(long = "runner-pod-defaults", env = "KILN_RUNNER_POD_DEFAULTS")]
    pub runner_pod_defaults: Option<String>,
    /// The extended resource of a device plugin that grants a device a builder needs, as
    /// `PATH=RESOURCE` (repeat or separate with commas), added to the defaults
    /// (`/dev/kvm=devices.kubevirt.io/kvm`, `/dev/net/tun=devices.kubevirt.io/tun`,
    /// `/dev/vhost-net=devices.kubevirt.io/vhost-net`); `PATH=` mounts the device from the
    /// node instead.
    #[arg(
        long = "runner-device-resource",
        env = "KILN_RUNNER_DEVICE_RESOURCES",
        value_delimiter = ','
    )]
    pub runner_device_resources: Vec<String>,
    /// Whether runner pods that need root get their own user namespace (`hostUsers: false`,
    /// the `docker` builder's in-cluster design). Set false where the nodes' container runtime
    /// cannot do it (containerd before 2.0): such pods then run as root without one, and their
    /// status says so.
    #[arg(
        long = "runner-user-namespaces",
        env = "KILN_RUNNER_USER_NAMESPACES",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub runner_user_namespaces: bool,
    /// The runner image for a tool set that builders run, as `TOOLS=IMAGE` (repeat or
    /// separate with commas): `qemu=registry.example/kiln-qemu:1.2.0` runs `qemu` sources
    /// (which run `qemu-system-x86_64` and `qemu-img`) in that image, the Kiln runner image
    /// plus qemu (`images/qemu.sh`), unless the build sets spec.runner.image. A tool set with
    /// no image runs in --runner-image, which must then have the tools.
    #[arg(
        long = "runner-tool-image",
        env = "KILN_RUNNER_TOOL_IMAGES",
        value_delimiter = ','
    )]
    pub runner_tool_images: Vec<String>,
    /// Reconciles run at the same time per controller (0 = unlimited).
    #[arg(long = "concurrency", env = "KILN_CONCURRENCY", default_value_t = 8)]
    pub concurrency: u16,
    /// How many rebuilds on parent change (ImageTemplate spec.rebuildOnParentChange) may
    /// run at once; the others wait their turn (0 = unlimited).
    #[arg(
        long = "max-rebuilds-in-flight",
        env = "KILN_MAX_REBUILDS_IN_FLIGHT",
        default_value_t = 4
    )]
    pub max_rebuilds_in_flight: usize,
    /// The ConfigMap to keep the digests of revoked images in, the parameters of the
    /// ValidatingAdmissionPolicy `kiln-revoked-images` (the chart sets it); empty: none.
    #[arg(
        long = "revoked-images-configmap",
        env = "KILN_REVOKED_IMAGES_CONFIGMAP",
        default_value = ""
    )]
    pub revoked_images_configmap: String,
    /// The namespace of that ConfigMap; default: the operator's own (POD_NAMESPACE).
    #[arg(
        long = "revoked-images-namespace",
        env = "KILN_REVOKED_IMAGES_NAMESPACE"
    )]
    pub revoked_images_namespace: Option<String>,
}

impl OperatorArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let pod = match self.runner_pod_defaults.as_deref().map(str::trim) {
            Some(text) if !text.is_empty() => serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("--runner-pod-defaults is not valid JSON: {e}"))?,
            _ => kiln_crds::RunnerSpec::default(),
        };
        let mut device_resources = runner_pod::default_device_resources();
        for entry in &self.runner_device_resources {
            let Some((path, resource)) = entry.split_once('=') else {
                anyhow::bail!("--runner-device-resource {entry:?}: expected PATH=RESOURCE");
            };
            if resource.is_empty() {
                device_resources.remove(path);
            } else {
                device_resources.insert(path.to_string(), resource.to_string());
            }
        }
        let mut tool_images = std::collections::BTreeMap::new();
        for entry in &self.runner_tool_images {
            match entry.split_once('=') {
                Some((tools, image)) if !tools.is_empty() && !image.is_empty() => {
                    tool_images.insert(tools.to_string(), image.to_string());
                }
                _ => anyhow::bail!("--runner-tool-image {entry:?}: expected TOOLS=IMAGE"),
            }
        }
        Ok(Settings {
            runner: RunnerDefaults {
                image: self.runner_image.clone(),
                image_pull_policy: self
                    .runner_image_pull_policy
                    .clone()
                    .filter(|p| !p.is_empty()),
                command: self.runner_command.clone(),
                service_account_prefix: self.runner_sa_prefix.clone(),
                pod,
                device_resources,
                user_namespaces: self.runner_user_namespaces,
                tool_images,
            },
            max_rebuilds_in_flight: self.max_rebuilds_in_flight,
            revoked_images: (!self.revoked_images_configmap.is_empty()).then(|| {
                (
                    self.revoked_images_namespace
                        .clone()
                        .or_else(|| std::env::var("POD_NAMESPACE").ok())
                        .unwrap_or_else(|| "default".into()),
                    self.revoked_images_configmap.clone(),
                )
            }),
            ..Settings::default()
        })
    }
}

/// Runs the operator until SIGTERM/SIGINT; returns the exit code.
pub async fn run(args: OperatorArgs) -> i32 {
    telemetry::init(args.log_format);
    match run_inner(args).await {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "operator stopped");
            1
        }
    }
}

async fn run_inner(args: OperatorArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    if let Some(p) = &settings.runner.image_pull_policy
        && !["Always", "IfNotPresent", "Never"].contains(&p.as_str())
    {
        anyhow::bail!(
            "--runner-image-pull-policy must be Always, IfNotPresent or Never, not {p:?}"
        );
    }
    let metrics = Metrics::default();
    let client = kube::client::ClientBuilder::try_from(kube::Config::infer().await?)?
        .with_layer(&api_timing::TimingLayer {
            histograms: metrics.api_requests.clone(),
        })
        .build();
    let health = Health::default();
    let shutdown = CancellationToken::new();
    crate::signals::shutdown_on_signal(shutdown.clone());
    tokio::spawn(memory::trim_periodically(shutdown.clone()));
    let server = tokio::spawn(http::serve(
        args.metrics_address,
        metrics.clone(),
        health.clone(),
        shutdown.clone(),
    ));

    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| format!("kiln-operator-{}", uuid::Uuid::new_v4()));
    let ctx = Arc::new(Context::new(
        client.clone(),
        settings,
        metrics.clone(),
        identity.clone(),
    ));

    let result = if args.no_leader_election {
        health.ready.store(true, Ordering::Relaxed);
        metrics.leader.set(1);
        run_controllers(&args, ctx, shutdown.clone()).await;
        Ok(())
    } else {
        let ns = args
            .lease_namespace
            .clone()
            .or_else(|| std::env::var("POD_NAMESPACE").ok())
            .unwrap_or_else(|| "default".into());
        let manager =
            kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &args.lease_name)
                .with_namespace(&ns)
                .with_identity(&identity)
                .with_field_manager(format!("kiln-operator-lease-{identity}"))
                .with_duration(15)
                .with_grace(5)
                .build()
                .await?;
        let (mut leader, lease_task) = manager.watch().await;
        health.ready.store(true, Ordering::Relaxed);
        tracing::info!(lease = %args.lease_name, namespace = %ns, %identity, "waiting for leadership");
        let r = loop {
            if *leader.borrow_and_update() {
                break Ok(());
            }
            tokio::select! {
                c = leader.changed() => if c.is_err() { break Err(anyhow::anyhow!("the lease manager stopped")) },
                _ = shutdown.cancelled() => break Err(anyhow::anyhow!("shut down before becoming leader")),
            }
        };
        match r {
            Err(e) if shutdown.is_cancelled() => {
                tracing::info!("{e}");
                Ok(())
            }
            Err(e) => Err(e),
            Ok(()) => {
                tracing::info!("leading: starting the controllers");
                metrics.leader.set(1);
                let lost = CancellationToken::new();
                let stop = CancellationToken::new();
                {
                    let (lost, stop, shutdown) = (lost.clone(), stop.clone(), shutdown.clone());
                    let mut leader = leader.clone();
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                c = leader.changed() => {
                                    if c.is_err() || !*leader.borrow_and_update() {
                                        lost.cancel();
                                        stop.cancel();
                                        return;
                                    }
                                }
                                _ = shutdown.cancelled() => { stop.cancel(); return; }
                            }
                        }
                    });
                }
                run_controllers(&args, ctx, stop).await;
                metrics.leader.set(0);
                // Releasing the Lease: drop the receiver, the manager task releases it.
                drop(leader);
                let _ = tokio::time::timeout(Duration::from_secs(5), lease_task).await;
                if lost.is_cancelled() {
                    Err(anyhow::anyhow!("lost the leader Lease"))
                } else {
                    Ok(())
                }
            }
        }
    };
    shutdown.cancel();
    let _ = server.await;
    result
}

/// The object a watch event adds, changes or deletes (not the markers of a relist).
fn touched<K>(ev: &watcher::Event<K>) -> Option<&K> {
    match ev {
        watcher::Event::Apply(k) | watcher::Event::InitApply(k) | watcher::Event::Delete(k) => {
            Some(k)
        }
        watcher::Event::Init | watcher::Event::InitDone => None,
    }
}

/// The three controllers over one scope (a namespace or the whole cluster).
fn controllers(
    client: &Client,
    namespace: Option<&str>,
    ctx: Arc<Context>,
    concurrency: u16,
    stop: CancellationToken,
) -> Vec<BoxFuture<'static, ()>> {
    fn api<K>(client: &Client, ns: Option<&str>) -> Api<K>
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>,
    {
        match ns {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
    let cfg = ControllerConfig::default().concurrency(concurrency);
    let wc = watcher::Config::default().any_semantic();
    let owned = watcher::Config::default()
        .labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY}"))
        .any_semantic();
    let metrics = ctx.metrics.clone();
    // The caches the build controller reads: the template controller's store and a Job store.
    let (template_reader, template_writer) = reflector::store::<ImageTemplate>();
    let (job_reader, job_writer) = reflector::store::<Job>();
    let (build_reader, build_writer) = reflector::store::<ImageBuild>();
    let (pod_reader, pod_writer) = reflector::store::<Pod>();
    let (channel_reader, channel_writer) = reflector::store::<ImageChannel>();
    let (retrigger_tx, retrigger_rx) = futures::channel::mpsc::unbounded::<ObjectRef<ImageBuild>>();
    // Changes of one controller's kind that concern another controller are forwarded from the
    // first one's watch, after its cache took them in: a second watch of the same kind could
    // wake the other controller before the cache it reads holds the change, and the
    // reconcile would see nothing new (and nothing would wake it again).
    // A channel that moves → the builds whose parent came through it (ParentCurrent).
    let (moved_tx, moved_rx) = futures::channel::mpsc::unbounded::<ObjectRef<ImageBuild>>();
    // A build that changes → the channels of its template, or pinned to it.
    let (related_tx, related_rx) = futures::channel::mpsc::unbounded::<ObjectRef<ImageChannel>>();
    // A channel that moves → the templates to rebuild on parent change.
    let (rebuild_tx, rebuild_rx) = futures::channel::mpsc::unbounded::<ObjectRef<ImageTemplate>>();
    let q_builds = QueueDepth::new(&metrics, build::CONTROLLER);
    let q_channels = QueueDepth::new(&metrics, channel::CONTROLLER);
    let q_rebuilds = QueueDepth::new(&metrics, rebuild::CONTROLLER);
    let ctx = Arc::new(
        ctx.with_caches(context::Caches {
            templates: Some(template_reader.clone()),
            builds: Some(build_reader.clone()),
            jobs: Some(job_reader),
            pods: Some(pod_reader),
            channels: Some(channel_reader.clone()),
        })
        .with_retrigger(retrigger_tx),
    );
    let reporter = |kind: &str| {
        Some(
            MalformedReporter::new(kind, metrics.clone(), Some(ctx.recorder.clone()))
                .with_status_writes(client.clone()),
        )
    };

    // Each controller's own kind: a lenient watch (malformed objects skipped) into its cache;
    // every event it yields marks the object pending in the controller's queue-depth gauge.
    let q = QueueDepth::new(&metrics, template::CONTROLLER);
    let (reader, writer) = (template_reader, template_writer);
    let (cache, qt) = (reader.clone(), q.clone());
    let trigger = reflector(
        writer,
        lenient_watcher::<ImageTemplate>(
            client.clone(),
            namespace,
            wc.clone(),
            move |r| cache.get(r),
            reporter("ImageTemplate"),
        ),
    )
    .inspect_ok(move |ev| qt.track(ev))
    .applied_objects();
    let s = stop.clone();
    let (qr, qe) = (q.clone(), q);
    let templates = Controller::for_stream(trigger, reader)
        .with_config(cfg.clone())
        .graceful_shutdown_on(async move { s.cancelled().await })
        .run(
            move |o: Arc<ImageTemplate>, c| {
                qr.done(o.namespace().as_deref(), &o.name_any());
                template::reconcile(o, c)
            },
            template::error_policy,
            ctx.clone(),
        )
        .for_each(move |r| forget_missing(r, qe.clone(), template::CONTROLLER));

    let q = q_builds.clone();
    let build_cache = build_reader.clone();
    let (reader, writer) = (build_reader, build_writer);
    let (cache, qt, qj) = (reader.clone(), q.clone(), q.clone());
    // A revoked build (by its spec, or through its own parent) wakes the builds whose parent
    // it is, so the revocation flows down the lineage.
    let (children_tx, children_rx) = futures::channel::mpsc::unbounded::<ObjectRef<ImageBuild>>();
    // Any build change may change the revoked images (admission).
    let revoked_changed = Arc::new(tokio::sync::Notify::new());
    let lineage = reader.clone();
    let qc = q.clone();
    let trigger = reflector(
        writer,
        lenient_watcher::<ImageBuild>(
            client.clone(),
            namespace,
            wc.clone(),
            move |r| cache.get(r),
            reporter("ImageBuild"),
        ),
    )
    .inspect_ok(move |ev| qt.track(ev))
    .inspect_ok({
        let (channels, q) = (channel_reader.clone(), q_channels.clone());
        move |ev| {
            if let Some(b) = touched(ev) {
                for c in q.track_refs(channel::channels_of(b, &channels.state())) {
                    let _ = related_tx.unbounded_send(c);
                }
            }
        }
    })
    .applied_objects()
    .inspect_ok({
        let n = revoked_changed.clone();
        move |_| n.notify_one()
    })
    .inspect_ok(move |b: &ImageBuild| {
        // Only a revoked build scans the cache for its children.
        if !build::is_revoked(b) {
            return;
        }
        let children = build::children_to_revoke(b, &lineage.state());
        if !children.is_empty() {
            for c in qc.track_refs(children) {
                let _ = children_tx.unbounded_send(c);
            }
        }
    });
    // The same triggers as `owns(Job)` (owner references), counted; the Jobs are kept in a
    // cache without their pod templates, which the controller never reads back.
    let jobs = reflector(
        job_writer,
        watcher::watcher(api::<Job>(client, namespace), owned.clone())
            .default_backoff()
            .modify(slim_job),
    )
    .touched_objects();
    // Runner pods, without their specs: a pod that changes (scheduled, pulling, waiting on a
    // Secret) re-reconciles its build, which says why it does not start.
    let pods = reflector(
        pod_writer,
        watcher::watcher(api::<Pod>(client, namespace), owned.clone())
            .default_backoff()
            .modify(slim_pod),
    )
    .touched_objects();
    let qp = q.clone();
    let s = stop.clone();
    let (qr, qe) = (q.clone(), q);
    let builds = Controller::for_stream(trigger, reader)
        .reconcile_on(moved_rx)
        .watches_stream(pods, move |pod: Pod| {
            let ns = pod.metadata.namespace.clone();
            let build = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(resources::BUILD_LABEL).cloned());
            qp.track_refs(
                build
                    .map(|b| {
                        let r = ObjectRef::<ImageBuild>::new(&b);
                        match ns.as_deref() {
                            Some(ns) => r.within(ns),
                            None => r,
                        }
                    })
                    .into_iter()
                    .collect(),
            )
        })
        .watches_stream(jobs, move |job: Job| {
            let ns = job.metadata.namespace.clone();
            qj.track_refs(
                job.metadata
                    .owner_references
                    .iter()
                    .flatten()
                    .filter_map(|o| ObjectRef::<ImageBuild>::from_owner_ref(ns.as_deref(), o, ()))
                    .collect(),
            )
        })
        .reconcile_on(futures::stream::select(children_rx, retrigger_rx))
        .with_config(cfg.clone())
        .graceful_shutdown_on(async move { s.cancelled().await })
        .run(
            move |o: Arc<ImageBuild>, c| {
                qr.done(o.namespace().as_deref(), &o.name_any());
                build::reconcile(o, c)
            },
            build::error_policy,
            ctx.clone(),
        )
        .for_each(move |r| forget_missing(r, qe.clone(), build::CONTROLLER));

    let q = q_channels;
    let (reader, writer) = (channel_reader, channel_writer);
    let (cache, qt) = (reader.clone(), q.clone());
    let trigger = reflector(
        writer,
        lenient_watcher::<ImageChannel>(
            client.clone(),
            namespace,
            wc.clone(),
            move |r| cache.get(r),
            reporter("ImageChannel"),
        ),
    )
    .inspect_ok(move |ev| qt.track(ev))
    .inspect_ok({
        let (builds, qb, qr) = (build_cache.clone(), q_builds, q_rebuilds.clone());
        move |ev| {
            let Some(ch) = touched(ev) else { return };
            let builds = builds.state();
            let reading = build::ancestry::builds_reading(ch, &builds)
                .iter()
                .map(|b| ObjectRef::from_obj(b.as_ref()))
                .collect();
            for b in qb.track_refs(reading) {
                let _ = moved_tx.unbounded_send(b);
            }
            let templates = rebuild::templates_reading(ch, &builds)
                .into_iter()
                .map(|(ns, name)| {
                    let r = ObjectRef::<ImageTemplate>::new(&name);
                    match ns {
                        Some(ns) => r.within(&ns),
                        None => r,
                    }
                })
                .collect();
            for t in qr.track_refs(templates) {
                let _ = rebuild_tx.unbounded_send(t);
            }
        }
    })
    .applied_objects();
    let s = stop.clone();
    let (qr, qe) = (q.clone(), q);
    let channels = Controller::for_stream(trigger, reader)
        .with_config(cfg.clone())
        .reconcile_on(related_rx)
        .graceful_shutdown_on(async move { s.cancelled().await })
        .run(
            move |o: Arc<ImageChannel>, c| {
                qr.done(o.namespace().as_deref(), &o.name_any());
                channel::reconcile(o, c)
            },
            channel::error_policy,
            ctx.clone(),
        )
        .for_each(move |r| forget_missing(r, qe.clone(), channel::CONTROLLER));
    // Rebuilds on parent change: templates, woken when a channel their builds read moves.
    let q = q_rebuilds;
    let (rb_reader, rb_writer) = reflector::store::<ImageTemplate>();
    let qt = q.clone();
    let trigger = reflector(
        rb_writer,
        lenient_watcher::<ImageTemplate>(client.clone(), namespace, wc.clone(), |_| None, None),
    )
    .inspect_ok(move |ev| qt.track(ev))
    .applied_objects();
    let s = stop.clone();
    let (qr, qe) = (q.clone(), q);
    let rebuilds = Controller::for_stream(trigger, rb_reader)
        .with_config(cfg.clone())
        .reconcile_on(rebuild_rx)
        .graceful_shutdown_on(async move { s.cancelled().await })
        .run(
            move |o: Arc<ImageTemplate>, c| {
                qr.done(o.namespace().as_deref(), &o.name_any());
                rebuild::reconcile(o, c)
            },
            rebuild::error_policy,
            ctx.clone(),
        )
        .for_each(move |r| forget_missing(r, qe.clone(), rebuild::CONTROLLER));

    let mut all: Vec<BoxFuture<'static, ()>> = vec![
        Box::pin(templates),
        Box::pin(builds),
        Box::pin(channels),
        Box::pin(rebuilds),
    ];
    if let Some(target) = ctx.settings.revoked_images.clone() {
        all.push(Box::pin(admission::keep(
            client.clone(),
            build_cache,
            revoked_changed,
            target,
            metrics.clone(),
            stop,
        )));
    }
    all
}

/// What the build controller keeps of a Job: status, `spec.suspend` and identity. The pod
/// template (the bulk of a Job) and managed fields are dropped to keep the cache small.
/// What the build controller keeps of a runner pod: its name, labels and status (waiting
/// reasons, scheduling conditions); not its spec.
pub fn slim_pod(pod: &mut Pod) {
    pod.metadata.managed_fields = None;
    pod.metadata.annotations = None;
    pod.spec = None;
}

pub fn slim_job(job: &mut Job) {
    job.metadata.managed_fields = None;
    job.metadata.annotations = None;
    if let Some(spec) = job.spec.as_mut() {
        spec.template = Default::default();
    }
}

/// Logs a controller's failed reconciles; an object it found gone from its cache is no longer
/// pending.
async fn forget_missing<K, E>(
    r: Result<K, kube::runtime::controller::Error<E, watcher::Error>>,
    q: QueueDepth,
    controller: &'static str,
) where
    E: std::error::Error + 'static,
{
    if let Err(e) = r {
        if let kube::runtime::controller::Error::ObjectNotFound(obj) = &e {
            q.done(obj.namespace.as_deref(), &obj.name);
        }
        tracing::debug!(error = %e, controller, "reconcile");
    }
}

async fn run_controllers(args: &OperatorArgs, ctx: Arc<Context>, stop: CancellationToken) {
    let client = ctx.client.clone();
    let mut all = Vec::new();
    if args.namespaces.is_empty() {
        tracing::info!("watching all namespaces");
        all.extend(controllers(
            &client,
            None,
            ctx.clone(),
            args.concurrency,
            stop.clone(),
        ));
    } else {
        for ns in &args.namespaces {
            tracing::info!(namespace = %ns, "watching namespace");
            all.extend(controllers(
                &client,
                Some(ns),
                ctx.clone(),
                args.concurrency,
                stop.clone(),
            ));
        }
    }
    futures::future::join_all(all).await;
    tracing::info!("controllers stopped");
}
