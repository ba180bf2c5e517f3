-- POST /api/v1/consents/check for random people of the seeded population.
-- KEY: an API key; SUBJECTS: population size (bench<n>@example.org).
local key = os.getenv("KEY")
local subjects = tonumber(os.getenv("SUBJECTS") or "1000000")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
math.randomseed(os.time())
request = function()
  local body = '{"email":"bench' .. math.random(0, subjects - 1) .. '@example.org","purpose":"newsletter"}'
  return wrk.format("POST", "/api/v1/consents/check", headers, body)
end
