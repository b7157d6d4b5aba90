-- GET /health_check/: the C request path alone (transaction, two SPI
-- statements, json_build_object), usable before the API's SQL exists.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

function init(args)
   bench_init(args)
end

wrk.path = "/health_check/"
done = bench_done
