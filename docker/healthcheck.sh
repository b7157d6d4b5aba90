#!/bin/sh
# The image's HEALTHCHECK: GET /ready, the API's readiness answer on this node must be a
# 2xx (curl -f).  ECOMMERCE_API_HTTP_PORT if ecommerce_api.port was changed.
exec curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:${ECOMMERCE_API_HTTP_PORT:-8000}/ready"
