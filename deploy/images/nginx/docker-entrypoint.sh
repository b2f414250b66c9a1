#!/bin/sh
# Entrypoint of the nginx:1.22 stand-in. The official image's documented behaviour: when the
# command is `nginx` or `nginx-debug`, every executable /docker-entrypoint.d/*.sh runs in
# version order (and every executable *.envsh is sourced, so it can export variables),
# then the command runs. NGINX_ENTRYPOINT_QUIET_LOGS set to anything silences the log.
set -e

say() { [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "$0: $*"; }

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  scripts=$(find /docker-entrypoint.d/ -follow -type f -print 2>/dev/null | sort -V)
  if [ -z "$scripts" ]; then
    say "no files in /docker-entrypoint.d/, no configuration to perform"
  else
    for script in $scripts; do
      case "$script" in
        *.envsh | *.sh)
          if [ ! -x "$script" ]; then say "ignoring $script: not executable"; continue; fi
          case "$script" in
            *.envsh) say "sourcing $script"; . "$script" ;;
            *) say "running $script"; "$script" ;;
          esac ;;
        *) say "ignoring $script" ;;
      esac
    done
    say "configuration complete; ready for start up"
  fi
fi

exec "$@"
