#!/bin/sh
# shellcheck shell=sh
# Run (not sourced) by the official nginx image's /docker-entrypoint.sh before it execs
# nginx. nginx 1.22 resolves the names in an `upstream` block only at start and reload,
# so when Compose recreates `app` or `webhook` (an upgrade, a secret rotation, a restore)
# their new addresses stay unknown and requests go to dead or wrong containers (502).
# This starts a watcher in the background: every NGINX_RERESOLVE_SECONDS (default 5;
# 0 turns it off) it resolves the upstream hosts and, when the set of addresses changed,
# reloads nginx (graceful: no request is dropped). deploy/nginx/README.md explains.
set -eu

interval=${NGINX_RERESOLVE_SECONDS:-5}
case $interval in
    '' | *[!0-9]*) echo "40-shopbot-reresolve.sh: error: NGINX_RERESOLVE_SECONDS must be whole seconds, got '$interval'" >&2; exit 1 ;;
esac
[ "$interval" -gt 0 ] || exit 0

# host:port lists, comma- or space-separated (15-shopbot-nginx.envsh validated them)
hosts=$(printf '%s\n' "${NGINX_APP_SERVERS:-app:8080} ${NGINX_WEBHOOK_SERVERS:-webhook:8001}" \
    | tr ',' ' ' | tr -s ' ' '\n' | sed -n 's/^\([^:[:space:]][^:]*\):[0-9][0-9]*$/\1/p' | sort -u)

addresses() {
    for host in $hosts; do
        getent ahostsv4 "$host" 2>/dev/null | awk -v h="$host" '{print h, $1}'
    done | sort -u
}

watch() {
    known=$(addresses)
    while sleep "$interval"; do
        now=$(addresses)
        if [ -n "$now" ] && [ "$now" != "$known" ]; then
            echo "40-shopbot-reresolve.sh: upstream addresses changed; reloading nginx" >&2
            nginx -s reload && known=$now
        fi
    done
}

watch </dev/null >/dev/null &
[ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "40-shopbot-reresolve.sh: re-resolving upstreams every ${interval}s"
