#!/usr/bin/env bash
# Re-fetch the dashboard's vendored front-end assets from the npm registry (exact versions):
#   bash scripts/vendor_dashboard_assets.sh
# They are committed under service/dashboard/static/vendor/ so the dashboard and /docs work
# offline and `make run` needs only Python.
set -euo pipefail
cd "$(dirname "$0")/.."
VENDOR=service/dashboard/static/vendor
fetch() {  # package version file-in-package...
  local package=$1 version=$2; shift 2
  local work; work=$(mktemp -d)
  curl -sfL "https://registry.npmjs.org/$package/-/$package-$version.tgz" | tar xz -C "$work"
  mkdir -p "$VENDOR/$package"
  for file in "$@"; do cp "$work/package/$file" "$VENDOR/$package/"; done
  cp "$work/package/LICENSE"* "$VENDOR/$package/" 2>/dev/null || true
  echo "$version" > "$VENDOR/$package/VERSION"
  rm -rf "$work"
}
fetch chart.js 4.6.1 dist/chart.umd.min.js
fetch swagger-ui-dist 5.35.0 swagger-ui-bundle.js swagger-ui.css favicon-32x32.png
fetch redoc 2.5.4 bundles/redoc.standalone.js
# ReDoc's only network fetch is its footer logo from cdn.redoc.ly: an empty inline SVG instead.
sed -i "s#https://cdn.redoc.ly/redoc/logo-mini.svg#data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E#" \
  "$VENDOR/redoc/redoc.standalone.js"
