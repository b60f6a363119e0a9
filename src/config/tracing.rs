//! Settings of the OpenTelemetry traces ([`crate::traces`]): where spans
//! go, and what this process calls itself there.
//!
//! The environment variables are OpenTelemetry's standard ones, so a
//! deployment that configures its other services for OTLP configures this
//! one the same way. Traces are off unless an endpoint is given: then no
//! span is even created ([`crate::traces`] says why that costs nothing).
//! `OTEL_RESOURCE_ATTRIBUTES` (e.g. `deployment.environment.name=prod`) is
//! read by the SDK itself, and needs no flag.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct TracingSettings {
    /// OTLP/gRPC endpoint of an OpenTelemetry collector for the traces, e.g.
    /// http://otel-collector:4317. Unset (the default): no traces at all.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,

    /// The `service.name` of this process's spans. Default: the
    /// `service.name` of OTEL_RESOURCE_ATTRIBUTES, else `orders`.
    #[arg(long, env = "OTEL_SERVICE_NAME", global = true)]
    pub otel_service_name: Option<String>,
}

impl TracingSettings {
    /// The endpoint, when traces are on (an empty value is off, as unset).
    pub fn endpoint(&self) -> Option<&str> {
        self.otlp_endpoint.as_deref().filter(|e| !e.trim().is_empty())
    }
}
