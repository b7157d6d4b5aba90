#!/usr/bin/env bash
# make test-browser: GET /docs (Swagger UI) and GET /docs/static in headless
# Chromium (test/t/024_docs_browser.pl, driving test/browser/docs.mjs).
# Installs what it needs first: Debian's chromium and nodejs/npm, and the npm
# packages of test/browser/package-lock.json (playwright-core,
# swagger-ui-dist).  Not part of make test: chromium is some 300 MB of
# packages that no other suite needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/common.sh

# node and npm from Debian unless some are installed already (NodeSource's
# nodejs ships its own npm, which Debian's npm package conflicts with)
extra=(chromium)
command -v node >/dev/null || extra+=(nodejs)
command -v npm >/dev/null || extra+=(npm)
ensure_packages "${extra[@]}"
(cd test/browser && npm ci --no-audit --no-fund --loglevel=error)
EAPI_BROWSER_TEST=1 SUITES=tap PROVE_TESTS=test/t/024_docs_browser.pl bash scripts/test.sh
