# The server core: health, errors as JSON, CORS, request ids, error recovery
# on the same worker, statement timeout, and the extension's life while the
# workers serve.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

# One worker, so "the same worker" is checkable by pid; no extension yet.
my ($node, $api) = EcommerceApi::start_node('core',
	workers => 1,
	create_extension => 0,
	conf => "ecommerce_api.statement_timeout = 1000\necommerce_api.max_body_size = 1kB\n"
	  # the statement timeout is tested with a lock wait: no lock timeout
	  . "ecommerce_api.lock_timeout = 0\n");

# --- before CREATE EXTENSION: 503 naming the extension; health still works
my $res = $api->request('GET', '/categories/');
is($res->{status}, 503, 'API route before CREATE EXTENSION answers 503');
like($res->{json}{detail}, qr/ecommerce_api/, '503 detail names the missing extension');

$res = $api->request('GET', '/health_check/');
is($res->{status}, 503, 'health check answers without the extension: 503, the API cannot serve');
is($res->{json}{status}, 'unhealthy', '... unhealthy');
like($res->{json}{checks}{api}{detail}, qr/CREATE EXTENSION/, '... saying why');

# --- health JSON shape: the reference's, unhealthy or not
my $h = $res->{json};
is_deeply([ sort keys %$h ], [qw(checks status timestamp)], 'health top-level keys');
like($h->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'health timestamp is ISO-8601');
is($h->{checks}{database}{status}, 'up', 'database is up');
like($h->{checks}{database}{latency_ms}, qr/^\d+(\.\d+)?$/, 'database latency reported, in ms');
is_deeply($h->{checks}{database}{thresholds}, { warning_ms => 100, critical_ms => 500 },
	'database thresholds');
my $pool = $h->{checks}{db_pool};
is($pool->{size}, 1, 'pool size = running workers');
is($pool->{total_capacity}, 1, 'pool capacity = workers');
is($pool->{overflow}, 0, 'no overflow');
is($pool->{checked_in} + $pool->{checked_out}, 1, 'checked in + out = size');
ok(exists $pool->{utilization_percent}, 'utilization reported');
is_deeply($pool->{thresholds}, { warning_percent => 70, critical_percent => 90 },
	'pool thresholds');
is($res->{headers}{'content-type'}, 'application/json', 'JSON content type');
like($res->{headers}{'x-response-time'}, qr/^\d+(\.\d+)?ms$/, 'X-Response-Time');
like($res->{headers}{'x-request-id'}, qr/^[0-9a-f-]{36}$/, 'generated X-Request-ID');
is($res->{headers}{'access-control-allow-origin'}, '*', 'CORS origin on responses');
# a page from another origin may read the request id, the timing, the
# rate-limit budget, a 401's challenge, a write's consistency token and
# whether it was an idempotent replay
is_deeply([ sort map { lc } split /,\s*/, $res->{headers}{'access-control-expose-headers'} // '' ],
	[ sort map { lc } qw(X-Request-ID X-Response-Time X-RateLimit-Limit X-RateLimit-Remaining
		X-RateLimit-Reset Retry-After WWW-Authenticate X-Consistency-Token Idempotent-Replayed) ],
	'Access-Control-Expose-Headers names our own headers');

# --- CREATE EXTENSION while serving: 200 without a restart
$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api CASCADE');
$res = $api->request('GET', '/health_check/');
is($res->{status}, 200, 'health check: 200 once the extension is there');
like($res->{json}{status}, qr/^(healthy|warning|critical)$/, 'health status value');
$res = $api->request('GET', '/categories/');
is($res->{status}, 200, 'after CREATE EXTENSION the API answers 200');
is($res->{content}, '[]', 'empty list');
$res = $api->request('GET', '/categories');
is($res->{status}, 200, 'path without trailing slash served directly');

# --- request id echo, and an insane one replaced
$res = $api->request('GET', '/health_check', undef, { 'X-Request-ID' => 'abc-123.x' });
is($res->{headers}{'x-request-id'}, 'abc-123.x', 'sane X-Request-ID echoed');
$res = $api->request('GET', '/health_check', undef, { 'X-Request-ID' => 'bad id<script>' });
isnt($res->{headers}{'x-request-id'}, 'bad id<script>', 'unsafe X-Request-ID replaced');

# --- 404, 405, 413, 422 as JSON
$res = $api->request('GET', '/nowhere/at/all');
is($res->{status}, 404, 'unknown path 404');
is_deeply($res->{json}, { detail => 'Not Found' }, '404 body');
is($res->{headers}{'access-control-allow-origin'}, '*', 'CORS origin on errors');

$res = $api->request('PATCH', '/categories/');
is($res->{status}, 405, 'wrong method 405');
is_deeply($res->{json}, { detail => 'Method Not Allowed' }, '405 body');
like($res->{headers}{allow}, qr/GET.*POST/, '405 carries Allow');

$res = $api->request('DELETE', '/categories/');
is($res->{status}, 405, 'DELETE on a collection is 405');

$res = $api->request('POST', '/categories/', '{"name": "' . ('x' x 2000) . '"}');
is($res->{status}, 413, 'body over max_body_size is 413');
is($res->{json}{detail}, 'Request body too large', '413 body');

$res = $api->request('POST', '/categories/', '{"name": ');
is($res->{status}, 422, 'malformed JSON is 422');
is($res->{json}{detail}[0]{type}, 'json_invalid', 'malformed JSON type json_invalid');
is($res->{json}{detail}[0]{loc}[0], 'body', 'json_invalid loc is the body');

# --- CORS preflight on any path
$res = $api->request('OPTIONS', '/anything/here',
	undef, { 'Origin' => 'http://shop.example', 'Access-Control-Request-Method' => 'POST',
		'Access-Control-Request-Headers' => 'content-type,x-custom' });
is($res->{status}, 204, 'preflight 204');
is($res->{headers}{'access-control-allow-origin'}, '*', 'preflight origin');
like($res->{headers}{'access-control-allow-methods'}, qr/GET, POST, PUT, DELETE, OPTIONS/,
	'preflight methods');
is($res->{headers}{'access-control-allow-headers'}, 'content-type,x-custom',
	'preflight echoes requested headers');
ok($res->{headers}{'access-control-max-age'} > 0, 'preflight max age');

# --- an ERROR inside a request, then a normal request on the same worker
my $pid = EcommerceApi::worker_pids($node)->{'ecommerce_api worker 1'};
ok($pid, 'worker 1 runs');
$res = $api->request('GET', '/categories/id/999999');
is($res->{status}, 404, 'missing id raises an ERROR mapped to 404');
is($res->{json}{detail}, 'Entity with id 999999 not found', '404 detail');

# an unexpected failure: 500 without internals, and a log line with the id
$node->safe_psql('postgres', q{
	ALTER FUNCTION ecommerce_api.api_categories_list(text, text)
		RENAME TO api_categories_list_saved;
	CREATE FUNCTION ecommerce_api.api_categories_list(skip text, lim text)
		RETURNS text LANGUAGE sql AS 'SELECT (1/0)::text';
});
my $log_offset = -s $node->logfile;
$res = $api->request('GET', '/categories/', undef, { 'X-Request-ID' => 'boom-1' });
is($res->{status}, 500, 'unexpected SQL error is 500');
is_deeply($res->{json}, { detail => 'Internal Server Error' }, '500 body leaks nothing');
ok($node->wait_for_log(qr/request boom-1 failed: division by zero/, $log_offset),
	'500 logged with its request id');
$node->safe_psql('postgres', q{
	DROP FUNCTION ecommerce_api.api_categories_list(text, text);
	ALTER FUNCTION ecommerce_api.api_categories_list_saved(text, text)
		RENAME TO api_categories_list;
});
$res = $api->request('GET', '/categories/');
is($res->{status}, 200, 'next request after errors succeeds');
is(EcommerceApi::worker_pids($node)->{'ecommerce_api worker 1'}, $pid,
	'the same worker process served it');

# --- statement timeout: 503, then the worker goes on
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE ecommerce_api.categories IN ACCESS EXCLUSIVE MODE;');
# arguments not asked before: an answer kept from earlier needs no transaction
$res = $api->request('GET', '/categories/?limit=7');
is($res->{status}, 503, 'request blocked past statement_timeout gets 503');
is($res->{json}{detail}, 'Request timed out', '503 timeout body');
$locker->query_safe('ROLLBACK');
$locker->quit;
$res = $api->request('GET', '/categories/');
is($res->{status}, 200, 'worker serves again after a timeout');
is(EcommerceApi::worker_pids($node)->{'ecommerce_api worker 1'}, $pid,
	'same worker after the timeout');

# --- the worker shows itself in pg_stat_activity
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity
	  WHERE backend_type = 'ecommerce_api worker'
	    AND application_name = 'ecommerce_api worker 1'}),
	'1', 'worker visible in pg_stat_activity with its number');

# --- DROP EXTENSION + CREATE EXTENSION while serving
$node->safe_psql('postgres', 'DROP EXTENSION ecommerce_api');
$res = $api->request('GET', '/categories/');
is($res->{status}, 503, 'after DROP EXTENSION: 503');
$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api');
$res = $api->request('GET', '/categories/');
is($res->{status}, 200, 'after re-CREATE: 200 again');
is(EcommerceApi::worker_pids($node)->{'ecommerce_api worker 1'}, $pid,
	'no worker crashed across DROP/CREATE');

# --- SIGHUP-reloadable limits take effect
$node->append_conf('postgresql.conf', "ecommerce_api.max_body_size = 64kB\n");
$node->reload;
sleep 0.5;
$res = $api->request('POST', '/categories/', { name => 'y' x 50 });
is($res->{status}, 201, 'larger max_body_size applies after reload');

# --- writes answer only once committed, with and without group commit
for my $mode ('on', 'off')
{
	$node->append_conf('postgresql.conf', "ecommerce_api.group_commit = $mode\n");
	$node->reload;
	sleep 0.5;
	my @made = map { $api->request('POST', '/categories/', { name => "gc $mode $_" }) } 1 .. 5;
	is(scalar(grep { $_->{status} == 201 } @made), 5, "group_commit = $mode: writes answered 201");
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM ecommerce_api.categories WHERE name LIKE 'gc $mode %'"),
		'5', "group_commit = $mode: every answered write is committed");
}

# --- GET /metrics: Prometheus text from the workers' shared counters
$res = $api->request('GET', '/metrics');
is($res->{status}, 200, 'metrics 200');
like($res->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4}, 'Prometheus text format');
my $m = $res->{content};
my ($list_ok) = $m =~ /^ecommerce_api_requests_total\{route="GET \/categories",status="2xx"\} (\d+)$/m;
ok($list_ok && $list_ok >= 5, 'answers counted by route and status class');
like($m, qr/^ecommerce_api_requests_total\{route="GET \/categories",status="5xx"\} [1-9]/m,
	'the 5xx answers are counted too');
like($m, qr/^ecommerce_api_requests_total\{route="other",status="4xx"\} [1-9]/m,
	'unrouted answers counted as other');
my ($count) = $m =~ /^ecommerce_api_request_duration_seconds_count (\d+)$/m;
my ($inf) = $m =~ /^ecommerce_api_request_duration_seconds_bucket\{le="\+Inf"\} (\d+)$/m;
ok($count > 0 && $count == $inf, 'histogram count = +Inf bucket');
like($m, qr/^ecommerce_api_open_connections [1-9]\d*$/m, 'open connections reported');
like($m, qr/^ecommerce_api_workers 1$/m, 'configured workers reported');

$node->stop('fast');
done_testing();
