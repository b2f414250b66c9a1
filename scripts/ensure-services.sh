#!/usr/bin/env bash
# Make sure the servers the test suite talks to are running on loopback:
# PostgreSQL 15 on 127.0.0.1:5432 (trust auth for the `postgres` user) and Redis on 6379,
# plus the PHP CLI. Installs them from Debian packages when missing (needs root, as in CI).
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
# Debian's Chromium drives the browser sandbox test (tests/e2e/test_browser_sandbox.py)
# through Playwright; Playwright's own browser download would fail offline. The emoji font
# only makes the saved screenshots readable.
if ! [ -x /usr/bin/chromium ]; then
  log "installing chromium"; apt_install chromium fonts-noto-color-emoji
fi
[ -x /usr/bin/chromium ] || { log "/usr/bin/chromium is missing after installing chromium"; exit 1; }
log "PostgreSQL and Redis are up; $(php -r 'echo "PHP ", PHP_VERSION;') and Chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null) are installed"
