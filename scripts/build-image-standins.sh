#!/usr/bin/env bash
# Offline stand-ins for the official images the Compose files and tests use.
#
# No registry can be reached here, so each official tag below is built locally from Debian
# bookworm packages on a debootstrapped base, honouring the part of the official image's
# documented interface that this project uses (deploy/images/<folder>/README.md says which).
# Where the official image can be pulled (a developer's machine), it is pulled and used
# instead, and a tag that already holds a non-stand-in image is never replaced.
#
# Idempotent: each stand-in carries a label with the hash of its inputs (its folder, the
# base image), so a rerun with unchanged inputs builds nothing. Concurrent runs (pytest
# workers) wait for each other on a lock. Prints a table of what was built or reused.
#
# Usage: scripts/build-image-standins.sh [FOLDER...]   (default: all of them)
# Environment: STANDINS_PULL=0 skips trying `docker pull` (default 1, STANDINS_PULL_TIMEOUT
# seconds each, default 20); STANDINS_REBUILD=images builds the stand-ins again even when
# their hashes match (Docker's layer cache still applies), STANDINS_REBUILD=all also
# debootstraps a new base (so every layer is built cold).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES="$ROOT/deploy/images"
SUITE=bookworm
BASE_TAG="shopbot-standin-base:$SUITE"
# Bump when the base recipe (base_rootfs below) changes: the base and every stand-in rebuild.
BASE_RECIPE=2
HASH_LABEL=org.shopbot.standin.hash
PULL=${STANDINS_PULL:-1}
PULL_TIMEOUT=${STANDINS_PULL_TIMEOUT:-20}
REBUILD=${STANDINS_REBUILD:-}
case "$REBUILD" in '' | images | all) ;; *) echo "STANDINS_REBUILD is '', images or all" >&2; exit 2 ;; esac

# folder under deploy/images -> the official tag it stands in for
declare -A TAGS=(
  [python]="python:3.11-slim-bookworm"
  [postgres]="postgres:15"
  [redis]="redis:7.0"
  [nginx]="nginx:1.22"
  [prometheus]="prom/prometheus:v2.42.0"
  [alertmanager]="prom/alertmanager:v0.25.0"
  [node-exporter]="prom/node-exporter:v1.5.0"
  [postgres-exporter]="prometheuscommunity/postgres-exporter:v0.11.1"
  [redis-exporter]="oliver006/redis_exporter:v1.45.0"
  [nginx-exporter]="nginx/nginx-prometheus-exporter:0.11.0"
)
ORDER=(python postgres redis nginx prometheus alertmanager node-exporter postgres-exporter redis-exporter nginx-exporter)

log() { printf 'build-image-standins: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

docker info >/dev/null 2>&1 || die "the Docker engine does not answer: run scripts/ensure-services.sh"

# One run at a time: pytest workers each call this from a session fixture.
LOCK=${STANDINS_LOCK:-/tmp/shopbot-image-standins.lock}
exec 9>"$LOCK"
flock 9

label_of() { docker image inspect --format "{{ index .Config.Labels \"$2\" }}" "$1" 2>/dev/null || true; }
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
size_of() { docker image inspect --format '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1e6 }'; }

# The Debian mirrors this machine's apt uses, read at run time (deb822 or one-line format):
# the main archive and, if configured, the security archive.
debian_mirror() {
  local kind=$1 sources=() uri
  [ -f /etc/apt/sources.list.d/debian.sources ] && sources+=(/etc/apt/sources.list.d/debian.sources)
  [ -f /etc/apt/sources.list ] && sources+=(/etc/apt/sources.list)
  [ ${#sources[@]} -gt 0 ] || return 0
  if [ "$kind" = security ]; then
    uri=$(grep -hoE '(URIs:[[:space:]]*|^deb[[:space:]]+)[^[:space:]]*debian-security[^[:space:]]*' "${sources[@]}" | awk '{ print $NF }' | head -n 1)
  else
    uri=$(grep -hoE '(URIs:[[:space:]]*|^deb[[:space:]]+)[^[:space:]]+' "${sources[@]}" | awk '{ print $NF }' | grep -v debian-security | head -n 1)
  fi
  printf '%s' "$uri"
}

base_rootfs() {
  local dir=$1 mirror=$2 security=$3
  command -v debootstrap >/dev/null || die "debootstrap is missing: run scripts/ensure-services.sh"
  debootstrap --variant=minbase "$SUITE" "$dir" "$mirror" >"$dir.log" 2>&1 \
    || { tail -n 20 "$dir.log" >&2; die "debootstrap failed (log above)"; }
  {
    printf 'deb %s %s main\n' "$mirror" "$SUITE"
    printf 'deb %s %s-updates main\n' "$mirror" "$SUITE"
    [ -z "$security" ] || printf 'deb %s %s-security main\n' "$security" "$SUITE"
  } >"$dir/etc/apt/sources.list"
  # What docker's own Debian images do: no service starts inside a build, no recommends,
  # no documentation, no apt caches left in layers.
  printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"
  chmod 0755 "$dir/usr/sbin/policy-rc.d"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
    >"$dir/etc/apt/apt.conf.d/90standin-no-recommends"
  printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };\n' \
    >"$dir/etc/apt/apt.conf.d/90standin-clean"
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/info/*' 'path-exclude /usr/share/locale/*' \
    >"$dir/etc/dpkg/dpkg.cfg.d/90standin-nodoc"
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
  find "$dir/usr/share/doc" -type f ! -name copyright -delete
}

# An interrupted debootstrap leaves /proc and /sys mounted in its target: unmount first.
ROOTFS=
remove_rootfs() {
  [ -n "$ROOTFS" ] || return 0
  grep -o " $ROOTFS/[^ ]*" /proc/mounts | sort -r | xargs -r -n 1 umount -l 2>/dev/null || true
  rm -rf "$ROOTFS" "$ROOTFS.log"
  ROOTFS=
}

ROWS=()
row() { ROWS+=("$(printf '%-30s %-9s %8s %9s  %s' "$1" "$2" "$3" "$4" "$5")"); }

ensure_base() {
  local want="suite=$SUITE variant=minbase recipe=$BASE_RECIPE" started dir mirror security
  if [ "$REBUILD" != all ] && [ "$(label_of "$BASE_TAG" "$HASH_LABEL")" = "$want" ]; then
    row "$BASE_TAG" reused - "$(size_of "$BASE_TAG")" "debootstrap base"
    return
  fi
  mirror=$(debian_mirror main)
  security=$(debian_mirror security)
  [ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  started=$(now)
  dir=$(mktemp -d /var/tmp/standin-rootfs.XXXXXX)
  ROOTFS=$dir
  trap remove_rootfs EXIT
  log "debootstrapping $SUITE from $mirror into $dir"
  base_rootfs "$dir" "$mirror" "$security"
  tar -C "$dir" -c . | docker import \
    --change "LABEL $HASH_LABEL=\"$want\"" \
    --change 'LABEL org.opencontainers.image.description="offline stand-in base: Debian bookworm minbase (debootstrap)"' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$BASE_TAG" >/dev/null
  remove_rootfs
  trap - EXIT
  row "$BASE_TAG" built "$(elapsed "$started")s" "$(size_of "$BASE_TAG")" "debootstrap base"
}

# The inputs of a stand-in: every file of its folder (names, modes and contents) and the base.
folder_hash() {
  local folder=$1
  {
    docker image inspect --format '{{.Id}}' "$BASE_TAG"
    (cd "$IMAGES/$folder" && find . -type f -print0 | LC_ALL=C sort -z \
      | xargs -0 stat -c '%n %a' && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat)
  } | sha256sum | cut -c1-32
}

ensure_standin() {
  local folder=$1 tag=${TAGS[$1]} hash have started old_id build_log
  hash=$(folder_hash "$folder")
  if image_exists "$tag"; then
    have=$(label_of "$tag" "$HASH_LABEL")
    if [ -z "$have" ]; then
      row "$tag" official - "$(size_of "$tag")" "not a stand-in: left as it is"
      return
    fi
    if [ -z "$REBUILD" ] && [ "$have" = "$hash" ]; then
      row "$tag" reused - "$(size_of "$tag")" "inputs unchanged"
      return
    fi
  fi
  if [ "$PULL" = 1 ]; then
    started=$(now)
    if timeout "$PULL_TIMEOUT" docker pull -q "$tag" >/dev/null 2>&1; then
      row "$tag" pulled "$(elapsed "$started")s" "$(size_of "$tag")" "official image"
      return
    fi
  fi
  started=$(now)
  old_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  log "building $tag from deploy/images/$folder"
  # The classic builder is enough (no BuildKit feature is used) and needs no buildx plugin.
  build_log=$(mktemp /tmp/standin-build.XXXXXX)
  if ! DOCKER_BUILDKIT=0 docker build \
    --build-arg "BASE=$BASE_TAG" \
    --label "$HASH_LABEL=$hash" \
    -t "$tag" "$IMAGES/$folder" >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    rm -f "$build_log"
    die "building $tag failed (output above)"
  fi
  rm -f "$build_log"
  # The image this tag named before: removed unless something still uses it.
  if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]; then
    docker image rm "$old_id" >/dev/null 2>&1 || true
  fi
  row "$tag" built "$(elapsed "$started")s" "$(size_of "$tag")" "deploy/images/$folder"
}

wanted=("$@")
[ ${#wanted[@]} -gt 0 ] || wanted=("${ORDER[@]}")
for folder in "${wanted[@]}"; do
  [ -n "${TAGS[$folder]:-}" ] || die "unknown stand-in '$folder' (known: ${ORDER[*]})"
done

total_started=$(now)
ensure_base
for folder in "${wanted[@]}"; do ensure_standin "$folder"; done

printf '%-30s %-9s %8s %9s  %s\n' image action time size note
printf '%s\n' "${ROWS[@]}"
printf 'total %ss\n' "$(elapsed "$total_started")"
