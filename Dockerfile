# syntax=docker/dockerfile:1
#
# streamvault: one image for every role (api, stream, worker, web).
#
#   docker build -t streamvault .
#   docker run --rm -p 8080:8080 -v sv-data:/data streamvault            # all roles, SQLite + local blobs
#   docker run --rm streamvault serve --roles api                        # one role (point it at shared backends)
#   docker run --rm streamvault migrate                                  # one-shot schema migration
#
# Configuration is environment only (STREAMVAULT_*, see README.md); nothing is baked in but the
# listen address and the data directory.

ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

# ---- build ------------------------------------------------------------------------------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
WORKDIR /src
# .dockerignore lets in only the workspace manifests, the lock file and crates/.
COPY . .
# The registry, git checkouts and target directory live in BuildKit cache mounts, so a rebuild
# after a source change recompiles only what changed. The binary is copied out of the cache
# mount in the same step (the mount is not part of the layer).
RUN --mount=type=cache,id=streamvault-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=streamvault-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=streamvault-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p streamvault \
 && install -D -m 0755 target/release/streamvault /out/streamvault

# ---- runtime ----------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

# ffmpeg: media probing and transcoding jobs; ca-certificates: TLS to S3/OSS, databases, Redis.
# Versions are not pinned on purpose: the image should pick up Debian security updates on rebuild.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates ffmpeg \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so volume ownership and Kubernetes securityContext agree.
RUN groupadd --system --gid 10001 streamvault \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin streamvault \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY --from=build /out/streamvault /usr/local/bin/streamvault

ENV STREAMVAULT_LISTEN=0.0.0.0:8080 \
    STREAMVAULT_DATA_DIR=/data

# The SQLite database and local blobs (single-process mode) or only upload staging (split mode).
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# The slim image has no curl or wget; bash's /dev/tcp speaks enough HTTP/1.0 to ask /healthz on
# the port of STREAMVAULT_LISTEN. (Kubernetes ignores this and uses the probes in deploy/k8s.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${STREAMVAULT_LISTEN##*:} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# streamvault handles SIGTERM itself: it stops accepting, drains in-flight requests for up to
# STREAMVAULT_SHUTDOWN_GRACE_SECS, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["streamvault"]
CMD ["serve"]
