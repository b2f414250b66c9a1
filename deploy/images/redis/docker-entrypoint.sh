#!/bin/sh
# Entrypoint of the redis:7.0 stand-in. The official image's documented behaviour:
# - a first argument that is an option (`-...`) or a config file (`*.conf`) means
#   `redis-server ARGS`;
# - started as root, redis-server gets the files of the working directory (/data) and runs
#   as user redis (uid 999), with umask 0077 unless another was set;
# - protected mode is off by default (the official build changes the compiled-in default;
#   Docker's networks are the boundary). Debian's binary keeps it on, so it is turned off
#   on the command line unless the arguments or the config file set it themselves.
set -e

case "$1" in
  -* | *.conf) set -- redis-server "$@" ;;
esac

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . \! -user redis -exec chown redis '{}' +
  exec gosu redis "$0" "$@"
fi

if [ "$1" = redis-server ]; then
  shift
  config=
  case "${1:-}" in
    -* | '') ;;
    *) config=$1; shift ;;
  esac
  case " $* " in
    *" --protected-mode "*) set -- "$@" ;;
    *)
      if [ -z "$config" ] || ! grep -qiE '^[[:space:]]*protected-mode[[:space:]]' "$config" 2>/dev/null; then
        set -- --protected-mode no "$@"
      fi ;;
  esac
  if [ -n "$config" ]; then set -- "$config" "$@"; fi
  set -- redis-server "$@"
fi

if [ "$(umask)" = 0022 ]; then umask 0077; fi

exec "$@"
