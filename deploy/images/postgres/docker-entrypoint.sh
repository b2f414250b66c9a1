#!/usr/bin/env bash
# Entrypoint of the postgres:15 stand-in. The official image's documented behaviour:
# - arguments starting with `-` are options of `postgres`;
# - started as root, it owns PGDATA and /var/run/postgresql to postgres (uid 999) and runs
#   as that user;
# - on an empty PGDATA it runs initdb (superuser POSTGRES_USER, password POSTGRES_PASSWORD,
#   extra POSTGRES_INITDB_ARGS), allows host connections with POSTGRES_HOST_AUTH_METHOD (by
#   default the password_encryption method), creates POSTGRES_DB and runs
#   /docker-entrypoint-initdb.d/*.sh (executable: run; otherwise sourced), *.sql and
#   *.sql.gz once, in name order, on a server reachable only by its Unix socket;
# - each of POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, POSTGRES_INITDB_ARGS may be given
#   as NAME_FILE, a file holding the value (Docker and Compose secrets).
set -Eeo pipefail

# NAME or NAME_FILE (never both) -> exported NAME; NAME_FILE is then unset.
from_env_or_file() {
  local name=$1 default=${2:-} file_name="${1}_FILE" value
  if [ -n "${!name:-}" ] && [ -n "${!file_name:-}" ]; then
    echo "error: both $name and $file_name are set; give one of them" >&2
    exit 1
  fi
  value=$default
  if [ -n "${!name:-}" ]; then value=${!name}; elif [ -n "${!file_name:-}" ]; then value=$(<"${!file_name}"); fi
  export "$name=$value"
  unset "$file_name"
}

wants_help() {
  local arg
  for arg; do
    case "$arg" in -'?' | --help | --describe-config | -V | --version) return 0 ;; esac
  done
  return 1
}

# psql on the local socket as the superuser, stopping at the first error. Init scripts that
# are sourced may call it too.
docker_process_sql() {
  local args=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  [ -z "$POSTGRES_DB" ] || args+=(--dbname "$POSTGRES_DB")
  PGHOST= PGHOSTADDR= "${args[@]}" "$@"
}

initialise() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    echo "error: the database is uninitialised and POSTGRES_PASSWORD is empty;" \
      "set it (or POSTGRES_PASSWORD_FILE), or POSTGRES_HOST_AUTH_METHOD=trust" >&2
    exit 1
  fi
  # An empty password file is refused by initdb, hence the newline.
  eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"

  local method=$POSTGRES_HOST_AUTH_METHOD
  [ -n "$method" ] || method=$(postgres -C password_encryption "${@:2}")
  printf '\nhost all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"

  export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  PGUSER="${PGUSER:-$POSTGRES_USER}" pg_ctl -D "$PGDATA" -w start \
    -o "$(printf '%q ' "${@:2}" -c listen_addresses= -p "${PGPORT:-5432}")"

  if [ -z "$(POSTGRES_DB= docker_process_sql --dbname postgres --tuples-only --set db="$POSTGRES_DB" \
    <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")" ]; then
    POSTGRES_DB= docker_process_sql --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db"'
  fi

  local script
  for script in /docker-entrypoint-initdb.d/*; do
    case "$script" in
      *.sh)
        if [ -x "$script" ]; then
          echo "$0: running $script"; "$script"
        else
          echo "$0: sourcing $script"; . "$script"
        fi ;;
      *.sql) echo "$0: running $script"; docker_process_sql -f "$script" ;;
      *.sql.gz) echo "$0: running $script"; gunzip -c "$script" | docker_process_sql ;;
      */\*) ;;
      *) echo "$0: ignoring $script" ;;
    esac
  done

  PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  echo "$0: PostgreSQL init process complete; ready for start up."
}

main() {
  if [ "${1:0:1}" = - ]; then set -- postgres "$@"; fi
  if [ "$1" = postgres ] && ! wants_help "$@"; then
    from_env_or_file POSTGRES_PASSWORD
    from_env_or_file POSTGRES_USER postgres
    from_env_or_file POSTGRES_DB "$POSTGRES_USER"
    from_env_or_file POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=}"

    mkdir -p "$PGDATA"
    # PostgreSQL refuses a data directory others can read; a mount may not allow chmod.
    chmod 0700 "$PGDATA" || :
    mkdir -p /var/run/postgresql || :
    chmod 3775 /var/run/postgresql || :
    if [ "$(id -u)" = 0 ]; then
      find "$PGDATA" /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
      exec gosu postgres "${BASH_SOURCE[0]}" "$@"
    fi

    if [ -s "$PGDATA/PG_VERSION" ]; then
      echo "$0: PGDATA holds a database; skipping initialisation"
    else
      initialise "$@"
    fi
  fi
  exec "$@"
}

main "$@"
