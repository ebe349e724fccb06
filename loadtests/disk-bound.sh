#!/usr/bin/env bash
# Constant traffic against a fresh service with short intervals, sampling the data folder's size every 30 s.
# Usage: loadtests/disk-bound.sh [SECONDS] [RATE]   (Release builds of the service and the load tool first)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TOTAL=${1:-600}; RATE=${2:-500}; PORT=5093; DATA=$(mktemp -d /tmp/p13n-disk-bound.XXXX)
(cd src/Personalizer.Api && ASPNETCORE_ENVIRONMENT=Development dotnet bin/Release/net10.0/Personalizer.Api.dll \
  --urls http://127.0.0.1:$PORT --Personalizer:DataPath="$DATA" --Logging:LogLevel:Default=Warning \
  --Personalizer:CheckpointIntervalSeconds=5 --Personalizer:Archive:IntervalSeconds=15 \
  --Personalizer:Faster:SegmentMb=4 --Personalizer:Faster:CompactAboveMb=32 --Personalizer:Faster:MemoryMb=64 \
  --Personalizer:Recommendations:TrainIntervalMinutes=0 > "$DATA.log" 2>&1) &
SERVICE=$!
trap 'kill $SERVICE 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:$PORT/readyz >/dev/null; do sleep 0.5; done
dotnet loadtests/Personalizer.LoadTests/bin/Release/net10.0/Personalizer.LoadTests.dll run --url http://127.0.0.1:$PORT \
  --scenario shop --rate "$RATE" --duration "$SECONDS_TOTAL" --warmup 0 --visitors 20000 --items 320 --report "$DATA.report" > "$DATA.load" 2>&1 &
LOAD=$!
printf "%6s %10s %10s %10s %10s %10s\n" seconds events_MB profiles_MB state_MB archive_MB total_MB
for ((t = 0; t <= SECONDS_TOTAL; t += 30)); do
  mb() { du -sm "$DATA/$1" 2>/dev/null | cut -f1; }
  printf "%6d %10s %10s %10s %10s %10s\n" "$t" "$(mb events)" "$(mb profiles)" "$(mb state)" "$(mb archive)" "$(du -sm "$DATA" | cut -f1)"
  sleep 30
done
wait $LOAD || true
tail -n 20 "$DATA.load"
echo "data folder: $DATA (service log: $DATA.log)"
