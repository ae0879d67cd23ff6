//! A role's services as axum state: one shared copy behind an `Arc`. axum clones the state for
//! every extractor of every request, and the services hold dozens of `Arc`s: cloned field by
//! field, that was 4 % of a playback request's CPU (perf, random 1 MiB ranges).

use std::ops::Deref;
use std::sync::Arc;

use streamvault_core::accounts::Accounts;

use crate::auth::HasAccounts;

pub struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(services: T) -> Self {
        Shared(Arc::new(services))
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: HasAccounts> HasAccounts for Shared<T> {
    fn accounts(&self) -> &Accounts {
        self.0.accounts()
    }
}
