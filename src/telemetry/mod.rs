//! What consoled tells about itself besides its logs: its metrics, for Prometheus.

pub mod metrics;
