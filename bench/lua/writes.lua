-- A write-heavy mix (the "cache" scenario): 40% PUT /products/id/{id}, 30%
-- POST /reviews/, 30% GET /products/id/{id} of the same products, so that
-- reads and writes meet on the same rows and every write invalidates.
-- Arguments: highest product id, highest client id, highest category id.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
   bench_init(args)
end

function request()
   local r = math.random(1, 10)
   local id = math.random(1, product_ids)
   seq = seq + 1
   if r <= 4 then
      return wrk.format("PUT", "/products/id/" .. id, json_headers(), string.format(
         '{"name":"Bench product %d","description":"updated by the load test %s-%d",' ..
         '"price":%d.%02d,"stock":%d,"category_id":%d}',
         id, run_tag, seq, math.random(1, 999), math.random(0, 99), math.random(1000, 100000),
         math.random(1, category_ids)))
   elseif r <= 7 then
      return wrk.format("POST", "/reviews/", json_headers(), string.format(
         '{"rating":%d,"comment":"written by the load test %s-%d","product_id":%d}',
         math.random(1, 5), run_tag, seq, id))
   end
   return wrk.format("GET", "/products/id/" .. id)
end

done = bench_done
