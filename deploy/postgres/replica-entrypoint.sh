#!/usr/bin/env bash
# Entrypoint of a streaming replica (db-replica-1, db-replica-2): on an empty data
# directory it waits for the primary, clones it with pg_basebackup over the replica's own
# physical slot (-S) with WAL streamed alongside (-X stream), and writes standby.signal and
# primary_conninfo (-R); then it hands over to the official entrypoint, which starts the
# server as a hot standby (a data directory that exists is never initialised again).
# docs/deployment.md#postgresql-replication.
#
# Environment: PRIMARY_HOST (default db), PRIMARY_PORT (5432), REPLICATION_USER
# (replicator), REPLICATION_SLOT (required, e.g. replica_1), PRIMARY_WAIT_SECONDS (120),
# POSTGRES_REPLICATION_PASSWORD_FILE (a Compose secret), PGDATA (the image's).
set -euo pipefail

primary_host=${PRIMARY_HOST:-db}
primary_port=${PRIMARY_PORT:-5432}
replication_user=${REPLICATION_USER:-replicator}
slot=${REPLICATION_SLOT:?REPLICATION_SLOT is not set (e.g. replica_1)}
wait_seconds=${PRIMARY_WAIT_SECONDS:-120}
password_file=${POSTGRES_REPLICATION_PASSWORD_FILE:?POSTGRES_REPLICATION_PASSWORD_FILE is not set}
PGDATA=${PGDATA:-/var/lib/postgresql/data}

log() { echo "replica-entrypoint ($slot): $*" >&2; }

# As postgres: the clone's files must belong to the server's user (gosu in the official
# image; runuser where it is missing). The entrypoint starts as root.
as_postgres() {
    if [ "$(id -u)" != 0 ]; then "$@"
    elif command -v gosu >/dev/null; then gosu postgres "$@"
    else runuser -u postgres -- "$@"
    fi
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ "$(id -u)" = 0 ]; then
        mkdir -p "$PGDATA"
        chown postgres:postgres "$PGDATA"
        chmod 0700 "$PGDATA"
    fi
    log "waiting up to ${wait_seconds}s for the primary $primary_host:$primary_port"
    deadline=$((SECONDS + wait_seconds))
    until pg_isready -q -h "$primary_host" -p "$primary_port"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "the primary did not answer within ${wait_seconds}s"
            exit 1
        fi
        sleep 1
    done
    log "cloning the primary over slot $slot"
    # PGPASSWORD reaches pg_basebackup only; -R writes it into primary_conninfo in
    # postgresql.auto.conf inside the replica's own data directory (mode 0600).
    if ! PGPASSWORD=$(cat "$password_file") as_postgres pg_basebackup \
        --host "$primary_host" --port "$primary_port" --username "$replication_user" \
        --pgdata "$PGDATA" --slot "$slot" --wal-method stream --write-recovery-conf \
        --checkpoint fast --no-password \
        --dbname "application_name=$slot"; then
        # A half-written clone has PG_VERSION, and the next start would run it as if it
        # were whole: empty the directory so the restart policy clones again.
        log "clone failed; emptying $PGDATA so the next start clones again"
        find "$PGDATA" -mindepth 1 -delete
        exit 1
    fi
    log "clone complete; starting as a hot standby"
fi

exec docker-entrypoint.sh "$@"
