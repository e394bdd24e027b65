# syntax=docker/dockerfile:1
# ipcat in a container: built and tested exactly as CI does, shipped alone.
#
#   docker build -t ipcat .                    # runtime (Debian slim), built from source
#   docker build --target minimal -t ipcat:minimal .   # FROM scratch: the binary alone
#   docker run -d --name app ipcat              # an echo daemon on /run/app/control.sock
#   docker inspect --format '{{.State.Health.Status}}' app        # healthy
#   docker exec app ipcat request /run/app/control.sock cmd=ping  # {"cmd":"ping"}
#
# From a .deb that CI already built and tested (what scripts/container-test does):
# the build context is a directory holding only that package, named ipcat.deb.
#   cpack --config build/test/CPackConfig.cmake -B /tmp/pkg && mkdir /tmp/ctx \
#     && mv /tmp/pkg/ipcat_*.deb /tmp/ctx/ipcat.deb
#   docker build --build-arg IPCAT_DEB=prebuilt -f Dockerfile -t ipcat /tmp/ctx
#
# To serve your own handler, base an image on this one and replace CMD, e.g.
#   CMD ["ipcat","serve","/run/app/control.sock","--","/app/handle"]

# Where the .deb comes from: "build" (this source tree, through CI's scripts) or
# "prebuilt" (the build context's ipcat.deb).
ARG IPCAT_DEB=build

# --- build: the CI script (deps, -Werror build, every test), then the .deb ------
FROM debian:12 AS build
WORKDIR /src
COPY . /src
# scripts/test is what CI runs: it installs the build and test dependencies with
# apt-get (scripts/deps), builds with -Werror into build/test (scripts/build) and
# runs every unit and end-to-end test through ctest; a failure fails the image.
# IPCAT_TEST_QUICK=1 leaves out the stages that do not change the shipped binary
# (a second build under sanitizers, fuzzing, lint, this image's own test): CI runs those.
RUN IPCAT_TEST_QUICK=1 scripts/test
# The same .deb users get from cpack: its Depends, computed by dpkg-shlibdeps, name
# exactly the runtime libraries the binary needs (none for the default static
# binary; see README, "Set up").
RUN cpack --config /src/build/test/CPackConfig.cmake -B /out \
 && mv /out/ipcat_*.deb /out/ipcat.deb

# --- prebuilt: the package CI made, the build context's only file ----------------
FROM scratch AS prebuilt
COPY ipcat.deb /out/ipcat.deb

# --- deb: whichever of the two IPCAT_DEB names --------------------------------------
FROM ${IPCAT_DEB} AS deb

# --- runtime: Debian slim with the package and what it depends on, nothing else --
FROM debian:12-slim AS runtime
# A package with no Depends (the default static binary) installs with dpkg alone,
# without the network. The .deb is bind-mounted, so it is in no layer.
RUN --mount=type=bind,from=deb,source=/out/ipcat.deb,target=/tmp/ipcat.deb \
    if dpkg-deb -f /tmp/ipcat.deb Depends | grep -q .; then \
      apt-get update && apt-get install -y --no-install-recommends /tmp/ipcat.deb \
      && rm -rf /var/lib/apt/lists/*; \
    else dpkg -i /tmp/ipcat.deb; fi \
 && useradd --system --no-create-home --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0755 /run/app
USER app
WORKDIR /run/app
# Docker runs the probe without stdin, keeps 4 KiB of its output and treats any
# non-zero exit as unhealthy: -q prints nothing, --retries 0 --timeout 0.5 bound
# connect and reply well inside the probe's 3 s.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["ipcat","request","-q","--retries","0","--timeout","0.5","/run/app/control.sock","{\"cmd\":\"ping\"}"]
# SIGTERM: stop accepting, let requests in flight finish (--drain), remove the socket, exit 0.
STOPSIGNAL SIGTERM
CMD ["ipcat","serve","/run/app/control.sock","--echo"]

# --- minimal's files, taken from the runtime image: the binary, the user's passwd
# line and the socket's directory, owned by the user --------------------------------
FROM runtime AS minimal-files
USER root
RUN mkdir -p /rootfs/etc /rootfs/usr/bin /rootfs/run \
 && grep '^app:' /etc/passwd >/rootfs/etc/passwd \
 && cp /usr/bin/ipcat /rootfs/usr/bin/ipcat \
 && install -d -o app -g app -m 0755 /rootfs/run/app

# --- minimal: FROM scratch, the static binary and /etc/passwd, nothing else ---------
# No shell, no libc, no package manager: the static PIE needs none (it only works
# with the default -DIPCAT_STATIC=ON build). The probe is exec form, so no shell.
FROM scratch AS minimal
COPY --from=minimal-files /rootfs/ /
USER app
WORKDIR /run/app
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/bin/ipcat","request","-q","--retries","0","--timeout","0.5","/run/app/control.sock","{\"cmd\":\"ping\"}"]
STOPSIGNAL SIGTERM
CMD ["/usr/bin/ipcat","serve","/run/app/control.sock","--echo"]

# --- the default target (the last stage): the runtime image ------------------------
FROM runtime
