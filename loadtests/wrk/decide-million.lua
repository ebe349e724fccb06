-- decide for the load tool's seed: 3 slots, visitors drawn uniformly from its 1,000,000 profiles
-- (uniform, so a per-visitor cache gains only what a real spread of visitors gives it).
-- wrk -t2 -c32 -d20s -s loadtests/wrk/decide-million.lua http://127.0.0.1:5090
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "demo-site-key"
local visitors = tonumber(os.getenv("VISITORS") or "1000000")
-- Seeded from the clock: unseeded, every run would replay the same visitors, and a run after a
-- warm-up would find their rankings cached and their profiles in memory.
math.randomseed(os.time())
setup = function(thread)
  thread:set("seed", math.random(1, 1000000))
end
init = function(args)
  math.randomseed(seed or os.time())
end
request = function()
  local body = '{"visitorId":"lv-' .. math.random(0, visitors - 1) .. '","context":{"device":"mobile"},"slots":["home-hero","home-recs","cart-offer"]}'
  return wrk.format(nil, "/v1/decide", nil, body)
end
