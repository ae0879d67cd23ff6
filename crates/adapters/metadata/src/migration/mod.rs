//! Versioned schema migrations. A migration, once released, is never edited: add a new one.

use sea_orm_migration::prelude::*;

mod m20261121_000001_accounts;
mod m20261122_000002_videos_comments_jobs;
mod m20261122_000003_blobs_and_video_sources;
mod m20261122_000004_files;
mod m20261122_000005_periodic_leases;
mod m20261122_000006_blob_holders;
mod m20261122_000007_uploads;
mod m20261122_000008_folders_challenges_secrets;
mod m20261122_000009_video_media;
mod m20261122_000010_video_outputs;
mod m20261126_000011_integrity;
mod m20261126_000012_danmaku;
mod m20261126_000013_danmaku_filters;
mod m20261126_000014_social;
mod m20261126_000015_messages;
mod m20261126_000016_comment_replies;
mod util;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_accounts::Migration),
            Box::new(m20261122_000002_videos_comments_jobs::Migration),
            Box::new(m20261122_000003_blobs_and_video_sources::Migration),
            Box::new(m20261122_000004_files::Migration),
            Box::new(m20261122_000005_periodic_leases::Migration),
            Box::new(m20261122_000006_blob_holders::Migration),
            Box::new(m20261122_000007_uploads::Migration),
            Box::new(m20261122_000008_folders_challenges_secrets::Migration),
            Box::new(m20261122_000009_video_media::Migration),
            Box::new(m20261122_000010_video_outputs::Migration),
            Box::new(m20261126_000011_integrity::Migration),
            Box::new(m20261126_000012_danmaku::Migration),
            Box::new(m20261126_000013_danmaku_filters::Migration),
            Box::new(m20261126_000014_social::Migration),
            Box::new(m20261126_000015_messages::Migration),
            Box::new(m20261126_000016_comment_replies::Migration),
        ]
    }
}
