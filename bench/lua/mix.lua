-- The reference's Locust task mix with zero think time (capacity and scale
-- scenarios).  Same weights and draws as bench/locustfile.py.
-- Arguments: highest product id, highest client id, highest category id.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local tasks = {}

local function page()
   return "?skip=" .. math.random(0, 100) .. "&limit=" .. math.random(10, 50)
end

local function add(weight, fn)
   for _ = 1, weight do table.insert(tasks, fn) end
end

add(15, function() return wrk.format("GET", "/health_check/") end)
add(10, function() return wrk.format("GET", "/products/" .. page()) end)
add(10, function() return wrk.format("GET", "/clients/" .. page()) end)
add(8, function() return wrk.format("GET", "/products/id/" .. math.random(1, product_ids)) end)
add(8, function() return wrk.format("GET", "/categories/") end)
add(6, function() return wrk.format("GET", "/clients/" .. math.random(1, client_ids)) end)
add(5, function() return wrk.format("GET", "/orders/") end)
add(3, function()
   seq = seq + 1
   return wrk.format("POST", "/clients/", json_headers(), string.format(
      '{"name":"Load","lastname":"Test","email":"wrk-%s-%d@bench.example","telephone":"+1555%07d"}',
      run_tag, seq, math.random(0, 9999999)))
end)
add(2, function()
   seq = seq + 1
   return wrk.format("POST", "/products/", json_headers(), string.format(
      '{"name":"Bench product %s-%d","description":"created by the load test",' ..
      '"price":%d.%02d,"stock":%d,"category_id":%d}',
      run_tag, seq, math.random(1, 999), math.random(0, 99), math.random(1, 1000),
      math.random(1, category_ids)))
end)

function init(args)
   bench_init(args)
end

function request()
   return tasks[math.random(1, #tasks)]()
end

-- per-status counts cost wrk some speed: only when asked (bench/run.sh asks
-- for a short second pass when the measured one saw non-2xx answers)
if os.getenv("BENCH_COUNT_STATUS") == "1" then
   function response(status, headers, body)
      count_status(status)
      if status >= 300 and seen_body == nil then
         seen_body = true
         io.stderr:write(string.format("first non-2xx answer: %d %s\n", status, body))
      end
      status_export = bench_export()
   end
end

done = bench_done
