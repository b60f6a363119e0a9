//! `orders-bare`: a bare tonic server with only the health service, no
//! middleware and no database: the ceiling for the health benchmark
//! (`scripts/bench`), so that the cost of our own layers can be measured.
//!
//! ```sh
//! orders-bare 127.0.0.1:50052
//! ```

use tonic::transport::Server;
use tonic_health::ServingStatus;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:50052".into())
        .parse()?;
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::Serving).await;
    // The same socket option as the real server, so the comparison is fair.
    Server::builder()
        .tcp_nodelay(true)
        .add_service(health)
        .serve(addr)
        .await?;
    Ok(())
}
