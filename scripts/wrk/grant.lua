-- POST /api/v1/consents: durable grants for new people, one per request.
local key = os.getenv("KEY")
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }
local threads = 0
setup = function(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local body = '{"subject":{"email":"load' .. tid .. '-' .. n .. '-' .. os.time() .. '@example.org"},"purpose":"newsletter","action":"grant","source":"api"}'
  return wrk.format("POST", "/api/v1/consents", headers, body)
end
response = function(status, headers, body)
  if status ~= 201 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
