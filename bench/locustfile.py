"""The reference system's Locust scenario, against ecommerce_api.

Same task mix and weights as the reference's load test (health check 15, list
products 10, list clients 10, get product 8, list categories 8, get client 6,
list orders 5, create client 3, create product 2), the same draws (products
1-100, clients 1-50, skip 0-100, limit 10-50) and the same think time (1-3 s).
bench/run.sh runs it headless with 400 users spawned at 50/s, as the
reference's guide did.

The HTTP client is Locust's FastHttpUser (geventhttpclient, a dependency of
Debian's python3-locust) by default: the reference's HttpUser (python-requests)
costs several times more CPU per request, and on a 2-core machine shared with
the server that client-side cost shows up as latency that is not the server's.
BENCH_LOCUST_CLIENT=requests selects HttpUser for a like-for-like run.

Steady state.  Locust starts each second's batch of users (50 at spawn rate
50/s) in the same instant, in one Python process, and every new user sends its
first request at once: the last requests of a batch wait behind the others in
Locust's own event loop (measured: Locust p99 26 ms during the ramp while a C
client beside it saw the server's p99 at 3.3 ms).  With BENCH_LOCUST_SETTLE=S
the statistics are reset S seconds after the last user started, so Locust's
figures describe the steady state the reference's 5-minute runs were about;
BENCH_LOCUST_SAMPLES=FILE writes every response time of the whole run, ramp
included, so the ramp is reported too, not hidden.

Environment (set by bench/run.sh):
  BENCH_LOCUST_CLIENT fast (default) or requests
  BENCH_LOCUST_SETTLE seconds after the ramp before the statistics are reset
                      (unset: no reset of ours)
  BENCH_LOCUST_SAMPLES file for the whole run's response times (JSON)
  BENCH_PRODUCT_IDS   highest product id drawn (default 100)
  BENCH_CLIENT_IDS    highest client id drawn (default 50)
  BENCH_CATEGORY_IDS  highest category id for created products (default 1)
"""

import json
import os
import random
import uuid

import gevent
from locust import HttpUser, between, events, task
from locust.contrib.fasthttp import FastHttpUser

PRODUCT_IDS = int(os.environ.get("BENCH_PRODUCT_IDS", "100"))
CLIENT_IDS = int(os.environ.get("BENCH_CLIENT_IDS", "50"))
CATEGORY_IDS = int(os.environ.get("BENCH_CATEGORY_IDS", "1"))
RUN = uuid.uuid4().hex[:8]
CLIENT = os.environ.get("BENCH_LOCUST_CLIENT", "fast")
SETTLE_S = os.environ.get("BENCH_LOCUST_SETTLE")
SAMPLES_FILE = os.environ.get("BENCH_LOCUST_SAMPLES")

# response times (ms) of the whole run, split at our statistics reset
samples = {"ramp": [], "steady": []}
phase = "ramp"


@events.init.add_listener
def on_init(environment, **_kwargs):
    def reset_after_settling(**_kwargs):
        def reset():
            global phase
            environment.runner.stats.reset_all()
            phase = "steady"
        gevent.spawn_later(float(SETTLE_S), reset)

    if SETTLE_S:
        environment.events.spawning_complete.add_listener(reset_after_settling)


@events.request.add_listener
def on_request(response_time, **_kwargs):
    if SAMPLES_FILE:
        samples[phase].append(response_time)


@events.quitting.add_listener
def on_quitting(**_kwargs):
    if SAMPLES_FILE:
        with open(SAMPLES_FILE, "w") as f:
            json.dump(samples, f)


def page():
    return f"?skip={random.randint(0, 100)}&limit={random.randint(10, 50)}"


# Locust runs every concrete User class it finds in the module: exactly one.
BaseUser = HttpUser if CLIENT == "requests" else FastHttpUser


class ShopUser(BaseUser):
    wait_time = between(1, 3)

    @task(15)
    def health_check(self):
        self.client.get("/health_check/", name="/health_check/")

    @task(10)
    def list_products(self):
        self.client.get("/products/" + page(), name="/products/")

    @task(10)
    def list_clients(self):
        self.client.get("/clients/" + page(), name="/clients/")

    @task(8)
    def get_product(self):
        self.client.get(f"/products/id/{random.randint(1, PRODUCT_IDS)}",
                        name="/products/id/{id}")

    @task(8)
    def list_categories(self):
        self.client.get("/categories/", name="/categories/")

    @task(6)
    def get_client(self):
        self.client.get(f"/clients/{random.randint(1, CLIENT_IDS)}", name="/clients/{id}")

    @task(5)
    def list_orders(self):
        self.client.get("/orders/", name="/orders/")

    @task(3)
    def create_client(self):
        self.client.post("/clients/", name="POST /clients/", json={
            "name": "Load",
            "lastname": "Test",
            # unique: the contract answers 409 to a duplicate email
            "email": f"locust-{RUN}-{uuid.uuid4().hex}@bench.example",
            "telephone": f"+1555{random.randint(0, 9999999):07d}",
        })

    @task(2)
    def create_product(self):
        self.client.post("/products/", name="POST /products/", json={
            "name": f"Locust product {uuid.uuid4().hex[:12]}",
            "description": "created by the load test",
            "price": round(random.uniform(1, 999), 2),
            "stock": random.randint(1, 1000),
            "category_id": random.randint(1, CATEGORY_IDS),
        })

