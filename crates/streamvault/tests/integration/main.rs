//! The integration tests: one binary (so the whole dependency tree links once), one module per
//! area, every test against real servers over loopback (see the README, "Tests").

mod common;

mod accounts;
mod adapters;
mod cluster;
mod danmaku;
mod deletion;
mod drive;
mod faults;
mod files;
mod health;
mod integrity;
mod job_runner;
mod jobs_cli;
mod limits;
mod live;
mod live_socket;
mod media;
mod media_process;
mod memory;
mod openapi;
mod process;
mod reads;
mod replicas;
mod seed_client;
mod social;
mod stream;
mod stream_real_media;
mod stream_s3;
mod tus;
mod videos;
mod web;
mod worker_crash;
