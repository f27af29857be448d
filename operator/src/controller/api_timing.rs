//! A layer on the operator's kube client that times every API request (from the request
//! leaving the client to the response's headers) into `kiln_api_request_duration_seconds`,
//! by HTTP method. With the per-step histogram of the ImageBuild reconcile it tells whether
//! a slow reconcile waited on the API server or on the operator itself. A watch counts
//! until its response starts, not for as long as it streams.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

use super::metrics::MethodLabels;

/// Wraps a service so that each call is timed into `histograms`.
#[derive(Clone)]
pub struct TimingLayer {
    pub histograms: Family<MethodLabels, Histogram>,
}

impl<S> tower::Layer<S> for TimingLayer {
    type Service = Timed<S>;
    fn layer(&self, inner: S) -> Timed<S> {
        Timed {
            inner,
            histograms: self.histograms.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Timed<S> {
    inner: S,
    histograms: Family<MethodLabels, Histogram>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B> tower::Service<http::Request<B>> for Timed<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let watch = req
            .uri()
            .query()
            .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true"));
        let method = if watch {
            "WATCH".to_string()
        } else {
            req.method().as_str().to_string()
        };
        let histogram = self
            .histograms
            .get_or_create(&MethodLabels { method })
            .clone();
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let out = fut.await;
            histogram.observe(start.elapsed().as_secs_f64());
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::metrics::Metrics;
    use tower::{Layer, Service, ServiceExt};

    #[tokio::test]
    async fn times_each_request_by_method_and_watches_apart() {
        let m = Metrics::default();
        let layer = TimingLayer {
            histograms: m.api_requests.clone(),
        };
        let mut svc = layer.layer(tower::service_fn(|_req: http::Request<()>| async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Ok::<_, std::convert::Infallible>(http::Response::new(()))
        }));
        for uri in [
            "/api/v1/namespaces/a/configmaps",
            "/apis/kiln.dev/v1alpha1/imagebuilds?watch=true&resourceVersion=1",
        ] {
            let req = http::Request::get(uri).body(()).unwrap();
            svc.ready().await.unwrap().call(req).await.unwrap();
        }
        let req = http::Request::post("/api/v1/namespaces/a/configmaps")
            .body(())
            .unwrap();
        svc.ready().await.unwrap().call(req).await.unwrap();
        let text = m.encode();
        for (method, n) in [("GET", 1), ("WATCH", 1), ("POST", 1)] {
            assert!(
                text.contains(&format!(
                    "kiln_api_request_duration_seconds_count{{method=\"{method}\"}} {n}"
                )),
                "{text}"
            );
        }
        // Each took at least the 20 ms the service slept: nothing in the 0.5/1/2/4/8/16 ms buckets.
        assert!(
            text.contains(
                "kiln_api_request_duration_seconds_bucket{le=\"0.016\",method=\"POST\"} 0"
            ),
            "{text}"
        );
    }
}
