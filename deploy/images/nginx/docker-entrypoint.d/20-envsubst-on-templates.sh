#!/bin/sh
# The official image's template rendering: every file under NGINX_ENVSUBST_TEMPLATE_DIR
# (/etc/nginx/templates) ending in NGINX_ENVSUBST_TEMPLATE_SUFFIX (.template) is written to
# NGINX_ENVSUBST_OUTPUT_DIR (/etc/nginx/conf.d) under the same relative path without the
# suffix, with envsubst replacing only the variables DEFINED in the environment (and, when
# NGINX_ENVSUBST_FILTER is set, only those whose name matches that regular expression):
# nginx's own `$host`, `$remote_addr`... stay as they are.
set -e

say() { [ -n "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ] || echo "$(basename "$0"): $*"; }

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
filter=${NGINX_ENVSUBST_FILTER:-}

[ -d "$template_dir" ] || exit 0
if [ ! -w "$output_dir" ]; then
  say "ERROR: $template_dir exists, but $output_dir is not writable"
  exit 0
fi

# '${A} ${B} ...' for the defined names (matching the filter): envsubst's SHELL-FORMAT.
defined=$(awk -v filter="$filter" 'END {
  for (name in ENVIRON) if (filter == "" || name ~ filter) printf "${%s} ", name
}' </dev/null)

find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
  relative=${template#"$template_dir"/}
  output="$output_dir/${relative%"$suffix"}"
  mkdir -p "$(dirname "$output")"
  say "rendering $template to $output"
  envsubst "$defined" <"$template" >"$output"
done
