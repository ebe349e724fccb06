#!/usr/bin/env bash
# Runs every test of the solution. Needs the .NET 10 SDK, Node.js/npm (the snippet's build), Debian's
# redis-server (store contract and multi-node tests) and
# Debian's Chromium (browser tests); as root it installs what is missing, otherwise it says what to install.
set -euo pipefail
cd "$(dirname "$0")"

fail() { echo "test.sh: $*" >&2; exit 2; }

command -v dotnet >/dev/null 2>&1 || fail "the .NET 10 SDK is required (dotnet not found)"

install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing $* with apt-get"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; } >/dev/null || fail "could not install $* (apt-get install -y $*)"
  else
    fail "missing $*: install it with 'sudo apt-get install -y $*'"
  fi
}
[ -x /usr/bin/chromium ] || install chromium
{ [ -x /usr/bin/redis-server ] && [ -x /usr/bin/redis-cli ]; } || install redis-server
command -v npm >/dev/null 2>&1 || install nodejs npm

# The snippet: build it (fails when it grows past 5 KB gzipped); the service ships dist/.
(cd src/Personalizer.Sdk.Js && npm ci --no-audit --no-fund --loglevel=error && npm run build --silent)
# The OpenAPI linter (@redocly/cli) that OpenApiLintTests runs over the service's document.
(cd tests/openapi-lint && npm ci --no-audit --no-fund --loglevel=error)

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
# A hung test fails the run after 5 minutes instead of holding CI until its limit.
dotnet test Personalizer.sln -c Release --nologo --logger "trx" --results-directory "$results" --blame-hang-timeout 5m "$@" || status=$?

# One closing line over all test projects: "tests: N passed, N failed, N skipped".
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters"); e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
done
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ] || [ "$skipped" -ne 0 ]; then
  status=1
fi
exit "$status"
