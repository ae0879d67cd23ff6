//! Stamps of a single process: a fixed table of counters, a scope's stamp in the slot its hash
//! picks. Two scopes sharing a slot only change together (a read built again for nothing, never
//! a stale one kept), and memory stays the same however many videos there are.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use streamvault_core::Result;
use streamvault_core::ports::{Scope, Stamps};

const SLOTS: usize = 1 << 14;

pub struct LocalStamps {
    slots: Box<[AtomicU64]>,
    hasher: RandomState,
}

impl Default for LocalStamps {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalStamps {
    pub fn new() -> Self {
        Self { slots: (0..SLOTS).map(|_| AtomicU64::new(0)).collect(), hasher: RandomState::new() }
    }

    fn slot(&self, scope: &Scope) -> &AtomicU64 {
        // `SLOTS` is a power of two: the low bits of the hash pick the slot.
        &self.slots[self.hasher.hash_one(scope) as usize & (SLOTS - 1)]
    }
}

#[async_trait]
impl Stamps for LocalStamps {
    async fn current(&self, scopes: &[Scope]) -> Result<Vec<u64>> {
        Ok(scopes.iter().map(|s| self.slot(s).load(Ordering::Acquire)).collect())
    }

    async fn bump(&self, scopes: &[Scope]) -> Result<()> {
        for s in scopes {
            self.slot(s).fetch_add(1, Ordering::AcqRel);
        }
        Ok(())
    }
}
