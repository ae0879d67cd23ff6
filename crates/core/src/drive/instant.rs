//! Instant upload (the seed's 秒传) with proof of possession. Hash-only dedup lets anyone who
//! learns a file's SHA-256 "upload" it and then download the bytes; here the server first asks
//! for the hash of a random range of the content salted with a fresh nonce, which only someone
//! who has the bytes can answer. A challenge is single-use and expires in minutes.

use crate::ErrorCode;
use crate::ids::FolderId;
use futures::StreamExt;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::Drive;
use crate::accounts::User;
use crate::drive::DriveFile;
use crate::ports::Referenced;
use crate::storage::StoredBlob;
use crate::{Error, Result};

/// How long a challenge can be answered.
const CHALLENGE_TTL: chrono::Duration = chrono::Duration::minutes(5);
/// The size of the range a client proves it has.
const PROOF_LENGTH: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub struct InstantRequest {
    pub sha256: String,
    pub size: u64,
    pub name: String,
    pub folder_id: Option<FolderId>,
    /// With `proof`: the answer to an earlier challenge.
    pub nonce: Option<String>,
    pub proof: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    pub offset: u64,
    pub length: u64,
    /// Hex.
    pub nonce: String,
}

pub enum Instant {
    /// Prove it: hash the nonce's bytes followed by this range of the content.
    Challenge(Challenge),
    Created(DriveFile),
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Drive {
    /// Step one (no nonce): 404 when the content is unknown, else a challenge. Step two (nonce
    /// and proof): 201 with the new file, or 403 on a wrong, stale or reused answer.
    pub async fn instant(&self, owner: &User, req: InstantRequest) -> Result<Instant> {
        if !is_sha256_hex(&req.sha256) {
            return Err(Error::invalid(ErrorCode::BadSha256, "sha256 is 64 lower-case hex digits"));
        }
        super::validate_name(&req.name)?;
        if let Some(f) = req.folder_id {
            self.folder(owner, f).await?;
        }
        // Before looking the content up: a refusal tells nothing about what is stored.
        if let Some(limit) = self.quota.limit()
            && self.quota.used(owner.id).await?.saturating_add(req.size) > limit
        {
            return Err(Error::TooLarge(format!("the file does not fit in the quota of {limit} bytes")));
        }
        let known = self.storage.stored_size(&req.sha256).await?;
        if known != Some(req.size) {
            return Err(Error::NotFound("content"));
        }
        let (nonce, proof) = match (req.nonce, req.proof) {
            (None, None) => return self.challenge(owner, &req.sha256, req.size).await.map(Instant::Challenge),
            (Some(n), Some(p)) => (n, p),
            _ => return Err(Error::invalid(ErrorCode::MissingField, "nonce and proof go together")),
        };
        let stale = || Error::Forbidden("the challenge is unknown, expired, already answered or not yours");
        let c = self.challenges.take(&nonce).await?.ok_or_else(stale)?;
        if c.owner_id != owner.id || c.sha256 != req.sha256 || c.size != req.size || c.expires_at < chrono::Utc::now() {
            return Err(stale());
        }
        let nonce_bytes = hex::decode(&c.nonce).map_err(|_| stale())?;
        let mut h = Sha256::new();
        h.update(&nonce_bytes);
        let mut range = self.storage.read(&c.sha256, c.offset..c.offset + c.length).await?;
        while let Some(chunk) = range.next().await {
            h.update(&chunk.map_err(|e| Error::unavailable("reading the blob", e))?);
        }
        let expected = hex::encode(h.finalize());
        if !expected.eq_ignore_ascii_case(proof.trim()) {
            return Err(Error::Forbidden("the proof does not match the content"));
        }
        let mime = self.storage.media_type(&c.sha256, c.size).await;
        let blob = StoredBlob { sha256: c.sha256, size: c.size, new: false };
        // No bytes arrive: the reference alone is charged, against the quota, in one step.
        match self.record(owner, &req.name, req.folder_id, &blob, mime, &self.quota.charge(Vec::new())).await? {
            Referenced::Made(file) => Ok(Instant::Created(file)),
            // Collected since the challenge: the client uploads it the usual way.
            Referenced::BlobGone => Err(Error::NotFound("content")),
        }
    }

    async fn challenge(&self, owner: &User, sha256: &str, size: u64) -> Result<Challenge> {
        let (offset, length, nonce) = {
            let mut rng = rand::rng();
            let length = size.min(PROOF_LENGTH);
            let offset = rng.random_range(0..=size - length);
            let nonce: [u8; 16] = rng.random();
            (offset, length, hex::encode(nonce))
        };
        self.challenges
            .insert(&crate::drive::Challenge {
                nonce: nonce.clone(),
                owner_id: owner.id,
                sha256: sha256.to_owned(),
                size,
                offset,
                length,
                expires_at: chrono::Utc::now() + CHALLENGE_TTL,
            })
            .await?;
        Ok(Challenge { offset, length, nonce })
    }
}
