-- Checkout storm: POST /orders/checkout, each order 1-3 distinct products of a
-- small hot set (ids 1..H, H = 4th argument, default 5), quantity 1-3 each.
-- Counts answers by status (201 created, 409 refused for short stock).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
   bench_init(args)
   hot = tonumber(args[4]) or 5
end

function request()
   local n = math.random(1, math.min(3, hot))
   local chosen, items = {}, {}
   while #items < n do
      local pid = math.random(1, hot)
      if not chosen[pid] then
         chosen[pid] = true
         table.insert(items, string.format('{"product_id":%d,"quantity":%d}', pid, math.random(1, 3)))
      end
   end
   return wrk.format("POST", "/orders/checkout", json_headers(), string.format(
      '{"client_id":%d,"delivery_method":%d,"payment_type":%d,"items":[%s]}',
      math.random(1, client_ids), math.random(1, 3), math.random(1, 5),
      table.concat(items, ",")))
end

function response(status, headers, body)
   count_status(status)
   -- keep the export current: done() runs after the threads stopped
   status_export = bench_export()
end

done = bench_done
