wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Api-Key"] = "demo-site-key"
counter = 0
request = function()
  counter = counter + 1
  local body = '{"visitorId":"v-' .. (counter % 5000) .. '","context":{"device":"mobile"},"slots":["home-hero","home-recs","cart-offer"]}'
  return wrk.format(nil, "/v1/decide", nil, body)
end
