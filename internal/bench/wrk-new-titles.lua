-- wrk script for klaxon bench's "every title new" pattern, to check its
-- figures with another load generator:
--   ./klaxon bench child noop        # prints "url URL"; also: durable --data-dir DIR, receiver --data-dir DIR
--   wrk -t2 -c64 -d10s --latency -s bench/wrk-new-titles.lua URL
local counter = 0
local threads = 0

function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

request = function()
  counter = counter + 1
  local body = '{"title":"disk nearly full w' .. tid .. '-' .. counter ..
    '","severity":"sev2","priority":"p3","body":{"host":"db-1","mount":"/var/lib/postgresql","used_percent":97.5,"check":"disk"}}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
