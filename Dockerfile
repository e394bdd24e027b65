# syntax=docker/dockerfile:1
# ipcat in a container: built and tested exactly as CI does, shipped alone.
#
#   docker build -t ipcat .
#   docker run -d --name app ipcat              # an echo daemon on /run/app/control.sock
#   docker inspect --format '{{.State.Health.Status}}' app        # healthy
#   docker exec app ipcat request /run/app/control.sock cmd=ping  # {"cmd":"ping"}
#
# To serve your own handler, base an image on this one and replace CMD, e.g.
#   CMD ["ipcat","serve","/run/app/control.sock","--","/app/handle"]

# --- build: the CI script (deps, -Werror build, every test), then the .deb ------
FROM debian:12 AS build
WORKDIR /src
COPY . /src
# scripts/test is what CI runs: it installs the build and test dependencies with
# apt-get (scripts/deps), builds with -Werror into build/test (scripts/build) and
# runs every unit and end-to-end test through ctest; a failure fails the image.
# IPCAT_TEST_QUICK=1 leaves out the stages that do not change the shipped binary
# (a second build under sanitizers, fuzzing, lint): CI runs those.
RUN IPCAT_TEST_QUICK=1 scripts/test
# The same .deb users get from cpack: its Depends, computed by dpkg-shlibdeps, name
# exactly the runtime libraries the binary needs (none for the default static
# binary; see README, "Set up").
RUN cpack --config /src/build/test/CPackConfig.cmake -B /out \
 && mv /out/ipcat_*.deb /out/ipcat.deb

# --- runtime: Debian slim with the package and what it depends on, nothing else --
FROM debian:12-slim
COPY --from=build /out/ipcat.deb /tmp/ipcat.deb
# The package also carries the C++ library (headers, libipc.a, CMake config) for
# building against; a runtime image needs none of it.
RUN printf '%s\n' 'path-exclude=/usr/include/ipc/*' 'path-exclude=/usr/lib/libipc.a' \
      'path-exclude=/usr/lib/cmake/ipcat/*' >/etc/dpkg/dpkg.cfg.d/ipcat-runtime-only \
 && apt-get update \
 && apt-get install -y --no-install-recommends /tmp/ipcat.deb \
 && rm -rf /var/lib/apt/lists/* /tmp/ipcat.deb \
 && useradd --system --no-create-home --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0755 /run/app
USER app
WORKDIR /run/app
# Docker runs the probe without stdin, keeps 4 KiB of its output and treats any
# non-zero exit as unhealthy: -q prints nothing, --timeout 1 bounds connect and reply.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["ipcat","request","-q","--timeout","1","/run/app/control.sock","{\"cmd\":\"ping\"}"]
# SIGTERM: stop accepting, let requests in flight finish (--drain), remove the socket, exit 0.
STOPSIGNAL SIGTERM
CMD ["ipcat","serve","/run/app/control.sock","--echo"]
