-- point reads: GET /products/id/{random 1..N} (N = first script argument, default 100)
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
   bench_init(args)
end

function request()
   return wrk.format("GET", "/products/id/" .. math.random(1, product_ids))
end

done = bench_done
