use crate::ErrorCode;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use crate::{Error, Result};

const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;

pub fn validate_password(pwd: &str) -> Result<()> {
    let n = pwd.chars().count();
    if (MIN_CHARS..=MAX_CHARS).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(ErrorCode::InvalidPassword, format!("pwd must be {MIN_CHARS} to {MAX_CHARS} characters")))
    }
}

/// A job for a hashing thread, given that thread's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
///
/// Hashing is CPU-bound for tens of milliseconds and takes 19 MiB while it runs, so it runs on
/// a pool of dedicated threads, one per core, each of which allocates its 19 MiB once and
/// reuses it for every hash. A burst of logins queues for them, and memory stays at that many
/// blocks however long the burst. (Hashing on tokio's blocking pool allocated the 19 MiB afresh
/// each time on whichever of its threads ran it; glibc kept what those threads freed in their
/// own arenas, and 600 failed logins left ~900 MiB resident.)
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: Arc<Mutex<Sender<Job>>>,
    params: Params,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        let params = Params::new(Params::DEFAULT_M_COST, Params::DEFAULT_T_COST, Params::DEFAULT_P_COST, None)
            .expect("argon2 default parameters are valid");
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        Self::with_threads(params, threads)
    }
}

impl PasswordHasher {
    fn with_threads(params: Params, threads: usize) -> Self {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            // Threads end when the last hasher (the sender) is dropped.
            let spawned = std::thread::Builder::new().name(format!("argon2-{i}")).spawn(move || work(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Self { jobs: Arc::new(Mutex::new(tx)), params }
    }

    async fn run<T: Send + 'static>(&self, job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |mem| {
            let _ = tx.send(job(mem));
        });
        self.jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .send(job)
            .map_err(|_| Error::internal("the password hashing threads are gone"))?;
        rx.await.map_err(|_| Error::internal("a password hashing thread died"))
    }

    /// A PHC string of `pwd` under a fresh salt.
    pub async fn hash(&self, pwd: &str) -> Result<String> {
        let pwd = pwd.to_owned();
        let params = self.params.clone();
        self.run(move |mem| {
            let salt: [u8; 16] = rand::random();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            argon2
                .hash_password_into_with_memory(pwd.as_bytes(), &salt, &mut out, blocks(mem, &params))
                .map_err(Error::internal)?;
            let phc = PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params).map_err(Error::internal)?,
                salt: Some(Salt::new(&salt).map_err(Error::internal)?),
                hash: Some(Output::new(&out).map_err(Error::internal)?),
            };
            Ok(phc.to_string())
        })
        .await?
    }

    /// Verifies `pwd` against a stored PHC string. With `None` (unknown user) it checks against
    /// a hash of nothing anyone knows, so that a login for a missing account costs the same.
    pub async fn verify(&self, pwd: &str, stored: Option<&str>) -> Result<bool> {
        let pwd = pwd.to_owned();
        let stored = match stored {
            Some(s) => s.to_owned(),
            None => self.dummy().await?,
        };
        self.run(move |mem| {
            let phc = PasswordHash::new(&stored).map_err(Error::internal)?;
            let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
                return Err(Error::internal("a stored password hash has no salt or output"));
            };
            let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(Error::internal)?;
            let version = Version::try_from(phc.version.unwrap_or(0x13)).map_err(Error::internal)?;
            let params = Params::try_from(&phc).map_err(Error::internal)?;
            let mut out = vec![0u8; expected.len()];
            Argon2::new(algorithm, version, params.clone())
                .hash_password_into_with_memory(pwd.as_bytes(), salt.as_ref(), &mut out, blocks(mem, &params))
                .map_err(Error::internal)?;
            // `Output` compares in constant time.
            Ok(Output::new(&out).map_err(Error::internal)? == *expected)
        })
        .await?
    }

    async fn dummy(&self) -> Result<String> {
        static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        DUMMY.get_or_try_init(|| self.hash("streamvault-no-such-user")).await.cloned()
    }
}

/// The thread's memory, grown to `params` (once: the default parameters need 19 MiB; a hash
/// stored with larger ones grows it for good, which only an operator's choice can cause).
fn blocks<'a>(mem: &'a mut Vec<Block>, params: &Params) -> &'a mut [Block] {
    let n = params.block_count();
    if mem.len() < n {
        mem.resize(n, Block::default());
    }
    &mut mem[..n]
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut mem: Vec<Block> = Vec::new();
    loop {
        let next = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
        match next {
            Ok(job) => job(&mut mem),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify() {
        let h = PasswordHasher::default();
        let a = h.hash("correct horse").await.unwrap();
        let b = h.hash("correct horse").await.unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(!a.contains("correct horse"));
        assert!(h.verify("correct horse", Some(&a)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&a)).await.unwrap());
        assert!(!h.verify("correct horse", None).await.unwrap());
    }

    #[tokio::test]
    async fn verifies_hashes_made_by_the_argon2_crate_with_other_parameters() {
        use argon2::password_hash::PasswordHasher as _;
        let other = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 3, 1, None).unwrap());
        let stored = other.hash_password_with_salt(b"old password", b"0123456789abcdef").unwrap().to_string();
        let h = PasswordHasher::with_threads(Params::new(4096, 1, 1, None).unwrap(), 1);
        assert!(h.verify("old password", Some(&stored)).await.unwrap());
        assert!(!h.verify("old passwore", Some(&stored)).await.unwrap());
        assert!(h.verify("x", Some("not a hash")).await.is_err());
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"é".repeat(128)).is_ok());
        assert!(validate_password(&"é".repeat(129)).is_err());
    }
}
