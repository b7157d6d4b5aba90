-- GET /orders/id/{one of the given ids}: one client reading its own orders
-- (the "features" scenario, in open mode and, with the client's token sent
-- by wrk -H, in required auth mode).  Argument: the ids, comma-separated.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local order_ids = {}

function init(args)
   bench_init({})
   for id in string.gmatch(args[1] or "1", "%d+") do
      table.insert(order_ids, id)
   end
end

function request()
   return wrk.format("GET", "/orders/id/" .. order_ids[math.random(1, #order_ids)])
end

done = bench_done
