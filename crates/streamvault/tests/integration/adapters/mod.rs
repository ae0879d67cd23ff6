//! Each port's adapters against their real backends, held to the port's shared contract
//! (`streamvault_testkit::contract`).

mod amqp;
mod local;
mod metadata;
mod redis;
