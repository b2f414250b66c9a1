#!/usr/bin/env bash
# Debian and Ubuntu ship `python3 -m venv` in a separate package (python3-venv); install it
# when missing so `make demo` and `make test` work on a fresh machine.
set -euo pipefail
python="${1:-python3}"
if "$python" -c "import ensurepip, venv" >/dev/null 2>&1; then
  exit 0
fi
version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
echo "ensure-python-venv: installing python${version}-venv" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python${version}-venv" \
  || $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
