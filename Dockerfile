# syntax=docker/dockerfile:1
# eks-breakglass in a container, for running `audit` as a scheduled job (Kubernetes CronJob,
# ECS scheduled task, a CI schedule). See docs/container.md.
#
#   docker build -t eks-breakglass .
#   docker run --rm -e AWS_REGION=eu-west-1 -v "$HOME/.aws:/home/nonroot/.aws:ro" \
#       eks-breakglass audit --regions eu-west-1,us-east-1 --format csv
#
# Build stage: Alpine's Rust is a musl toolchain, so the binary is static (musl links
# statically by default) and needs no libc at run time; the TLS stack is rustls + ring (no
# OpenSSL). multi-arch: `docker buildx build --platform linux/amd64,linux/arm64 .` builds each
# natively under emulation (no cross linker needed).
ARG RUST_VERSION=1.94
FROM rust:${RUST_VERSION}-alpine AS build
# musl-dev + gcc: ring's C and assembly; git: `eks-breakglass version` names the commit when
# the build context has .git (otherwise it says "unknown").
RUN apk add --no-cache musl-dev gcc git
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p eks-breakglass \
 && install -D -m 0755 target/release/eks-breakglass /out/usr/local/bin/eks-breakglass \
 && /out/usr/local/bin/eks-breakglass man --dir /out/usr/local/share/man/man1 >/dev/null \
 && /out/usr/local/bin/eks-breakglass version

# Run stage: distroless/static has CA certificates (for AWS endpoints), /etc/passwd with the
# nonroot user, tzdata, and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /
# Numeric: a pod with runAsNonRoot: true (docs/container.md) can only verify a numeric USER;
# with a name the kubelet refuses to start the container ("image has non-numeric user
# (nonroot), cannot verify user is non-root"). 65532 is distroless's nonroot.
USER 65532:65532
ENV HOME=/home/nonroot
ENTRYPOINT ["/usr/local/bin/eks-breakglass"]
CMD ["audit", "--help"]
