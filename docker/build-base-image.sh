#!/usr/bin/env bash
# Builds the JVM base image for the bridge offline, from Debian packages only (no container registry needed):
# Debian bookworm (minbase) + openjdk-17-jre-headless + ca-certificates, a non-root user 185 (group 0, like the
# Red Hat OpenJDK runtime images that are Jib's default base), and /data (journal and broker store) owned by it.
# The result is a docker-archive tar that Jib takes as `tar://` base image:
#
#   sudo docker/build-base-image.sh [OUT.tar]      # default: ~/.cache/mqtt-kafka-bridge/jre17-bookworm.tar
#   ./mvnw package -Dquarkus.container-image.build=true -Dquarkus.jib.base-jvm-image=tar://OUT.tar
#
# The Maven build does both by itself where podman is installed (profile `container-image`). Users who can pull
# from a registry need none of this: the default base image is registry.access.redhat.com/ubi9/openjdk-17-runtime.
# Needs root (debootstrap), debootstrap and podman, and a Debian mirror (DEBIAN_MIRROR, default deb.debian.org).
# Takes about a minute; the tar is reused until deleted (delete it to pick up security updates).
set -euo pipefail

out=${1:-${HOME}/.cache/mqtt-kafka-bridge/jre17-bookworm.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
name=localhost/mqtt-kafka-bridge-base:jre17-bookworm

if [ -s "$out" ]; then
  echo "base image: $out exists (delete it to rebuild)"
  exit 0
fi
for tool in debootstrap podman; do
  command -v "$tool" >/dev/null || { echo "base image: $tool is not installed (apt-get install $tool)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "base image: debootstrap needs root" >&2; exit 1; }

mkdir -p "$(dirname "$out")"
rootfs=$(mktemp -d /var/tmp/bridge-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT

echo "base image: debootstrap bookworm + openjdk-17-jre-headless from $mirror"
debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$rootfs" "$mirror" \
  >"$rootfs.log" 2>&1 || { tail -20 "$rootfs.log" >&2; exit 1; }
rm -f "$rootfs.log"

# Trim what a JVM service never uses (package caches and lists, docs, man pages, locales but C).
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* \
  "$rootfs"/usr/share/info/* "$rootfs"/var/log/*
find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} +

# User 185, group 0 (root group, as in the Red Hat images: OpenShift runs pods with an arbitrary uid in group 0).
echo 'bridge:x:185:0:MQTT Kafka bridge:/home/bridge:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
echo 'bridge:!:19000::::::' >>"$rootfs/etc/shadow"
mkdir -p "$rootfs/home/bridge" "$rootfs/data"
chown 185:0 "$rootfs/home/bridge" "$rootfs/data"
chmod 0775 "$rootfs/home/bridge" "$rootfs/data"

tar -C "$rootfs" -c . | podman import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'USER 185' \
  --change 'WORKDIR /home/bridge' \
  --change 'VOLUME /data' \
  - "$name" >/dev/null
podman save --format docker-archive -o "$out.partial" "$name" >/dev/null
mv "$out.partial" "$out"
echo "base image: $name saved to $out ($(du -h "$out" | cut -f1))"
