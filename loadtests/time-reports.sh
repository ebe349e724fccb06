#!/usr/bin/env bash
# Times the slot report (7 days, daily series), the slot report over a year, and one experiment's results: 30 calls each.
U=${1:-http://127.0.0.1:5090}; A='X-Api-Key: demo-admin-key'
for url in "/v1/reports/slots?granularity=day" "/v1/reports/slots?from=2026-01-01&to=2027-01-01" "/v1/experiments/hero-test/results"; do
  curl -s -o /dev/null "$U$url" -H "$A"
  for i in $(seq 1 30); do curl -s -o /dev/null -w "%{time_total}\n" "$U$url" -H "$A"; done | sort -n | awk -v u="$url" '{a[NR]=$1} END {printf "%-50s median %.1f ms  p90 %.1f ms  max %.1f ms\n", u, a[int(NR/2)+1]*1000, a[int(NR*0.9)]*1000, a[NR]*1000}'
done
