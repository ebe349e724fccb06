wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "demo-site-key"
math.randomseed(os.time())
local thread_id = math.random(1, 1000000000)
counter = 0
request = function()
  counter = counter + 1
  local parts = {}
  for i = 1, 100 do
    local n = counter * 100 + i
    parts[i] = '{"eventId":"t' .. thread_id .. '-' .. n .. '","type":"product_view","visitorId":"v-' .. (n % 5000) .. '","itemId":"sku-run-' .. string.format("%03d", (n % 40) + 1) .. '"}'
  end
  return wrk.format(nil, "/v1/events", nil, '{"events":[' .. table.concat(parts, ",") .. ']}')
end
