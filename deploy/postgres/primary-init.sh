#!/usr/bin/env bash
# Runs once, on the primary's first start (the official postgres image runs
# /docker-entrypoint-initdb.d/*.sh on an empty data directory, on a socket-only server):
# a replication role and one physical slot per replica, and pg_hba lines that let that
# role stream from the Compose network. docs/deployment.md#postgresql-replication.
#
# Environment: POSTGRES_USER, POSTGRES_DB (the official image's), and
# POSTGRES_REPLICATION_PASSWORD_FILE (a Compose secret). REPLICATION_USER (default
# replicator) and REPLICATION_SLOTS (default "replica_1 replica_2") may override. When
# POSTGRES_MONITORING_PASSWORD_FILE is set (production), also a login role for
# postgres_exporter (MONITORING_USER, default monitoring) with the built-in pg_monitor
# role only: it reads the statistics views, never the shop's tables.
set -euo pipefail

replication_user=${REPLICATION_USER:-replicator}
slots=${REPLICATION_SLOTS:-replica_1 replica_2}
password_file=${POSTGRES_REPLICATION_PASSWORD_FILE:?POSTGRES_REPLICATION_PASSWORD_FILE is not set}
[ -s "$password_file" ] || { echo "primary-init: $password_file is empty or missing" >&2; exit 1; }

# The password is read by psql itself from the file (\set with a backquoted command, in
# which psql shell-quotes :'password_file'; the heredoc is quoted, so bash leaves it alone)
# and quoted by psql (:'...'): it is never on a command line, where any host user could
# read it in the process list.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v user="$replication_user" -v password_file="$password_file" <<'SQL'
\set password `cat :'password_file'`
CREATE ROLE :"user" WITH REPLICATION LOGIN PASSWORD :'password';
SQL

monitoring_password_file=${POSTGRES_MONITORING_PASSWORD_FILE:-}
if [ -n "$monitoring_password_file" ]; then
    [ -s "$monitoring_password_file" ] || { echo "primary-init: $monitoring_password_file is empty or missing" >&2; exit 1; }
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v user="${MONITORING_USER:-monitoring}" -v password_file="$monitoring_password_file" <<'SQL'
\set password `cat :'password_file'`
CREATE ROLE :"user" WITH LOGIN PASSWORD :'password' IN ROLE pg_monitor;
SQL
fi

# immediately_reserve (true): the slot holds WAL from now on, not from the replica's first
# connection; otherwise the migrations' WAL can be recycled before a replica starts its
# clone ("requested WAL segment ... has already been removed", seen under load).
for slot in $slots; do
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
        -v slot="$slot" -qAt <<'SQL'
SELECT slot_name FROM pg_create_physical_replication_slot(:'slot', true);
SQL
done

# `host all all all` (added by the image) does not cover replication connections; only
# peers on the server's own subnets (the Compose network) may stream, with a password.
echo "host replication $replication_user samenet scram-sha-256" >> "$PGDATA/pg_hba.conf"
echo "primary-init: role $replication_user and slots ($slots) are ready" >&2
