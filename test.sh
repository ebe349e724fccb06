#!/usr/bin/env bash
# Runs every test of the solution. Needs the .NET 10 SDK; nothing else yet.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet not found): https://dotnet.microsoft.com/download" >&2
  exit 2
fi

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
