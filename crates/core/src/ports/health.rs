use async_trait::async_trait;

/// A backend that `/readyz` asks before saying the replica can take traffic.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// A short, stable name for the report ("database", "redis", ...).
    fn name(&self) -> &'static str;
    async fn check(&self) -> crate::Result<()>;
}
