# Settings fail closed, health tells the truth, startup errors are clear and
# bounded (issue 9).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

# a node whose API is not expected to come up healthy: start_node waits for a
# 200 from the health check, so start it by hand
sub plain_node
{
	my ($name, $conf, $workers) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	$node->init;
	$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'ecommerce_api'
ecommerce_api.port = $port
ecommerce_api.workers = @{[ $workers // 2 ]}
ecommerce_api.database = 'postgres'
max_worker_processes = 64
EOC
	$node->append_conf('postgresql.conf', $conf) if $conf;
	$node->start;
	return ($node, EcommerceApi->new(port => $port, node => $node));
}

sub wait_for
{
	my ($cond, $seconds) = @_;
	my $deadline = time + ($seconds // 30);
	while (time < $deadline)
	{
		return 1 if $cond->();
		sleep 0.2;
	}
	return 0;
}

# --- a normal start logs where it listens and the security settings
my ($node, $api) = EcommerceApi::start_node('health', workers => 2);
my $port = $api->port;
ok($node->wait_for_log(qr/ecommerce_api worker 1 serving HTTP on 127\.0\.0\.1:$port: auth_mode=open, cors_allowed_origins='\*', rate_limit=0 per 60 s, trusted_proxies=''/),
	'each worker logs where it listens and its security settings');

# --- /live, /ready, and the health check's new truth
my $res = $api->request('GET', '/live');
is($res->{status}, 200, 'GET /live: 200');
is($res->{json}{status}, 'alive', '... alive');
$res = $api->request('GET', '/ready');
is($res->{status}, 200, 'GET /ready: 200');
$res = $api->request('GET', '/health_check/');
is($res->{status}, 200, 'health check: 200');
is($res->{json}{checks}{db_pool}{size}, 2, 'it counts the 2 running workers');
is($res->{json}{checks}{api}{status}, 'up', 'the api check is up');

$node->safe_psql('postgres', 'DROP EXTENSION ecommerce_api');
$res = $api->request('GET', '/health_check/');
is($res->{status}, 503, 'after DROP EXTENSION the health check answers 503 (was 200 healthy)');
is($res->{json}{status}, 'unhealthy', '... unhealthy');
like($res->{json}{checks}{api}{detail}, qr/not installed/, '... saying why');
$res = $api->request('GET', '/ready');
is($res->{status}, 503, '/ready: 503');
like($res->{json}{detail}, qr/CREATE EXTENSION/, '... naming the fix');
is($api->request('GET', '/live')->{status}, 200, '/live still 200: the process answers');
$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api CASCADE');
is($api->request('GET', '/health_check/')->{status}, 200, 'healthy again once installed');
$node->stop;

# --- fewer workers than configured: 3 configured, room for 2
($node, $api) = plain_node('short', "max_worker_processes = 2\n", 3);
$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api CASCADE');
ok(wait_for(sub { $api->request('GET', '/live')->{status} == 200 }), 'the workers that could start serve');
$res = $api->request('GET', '/health_check/');
my $running = $node->safe_psql('postgres',
	q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ecommerce_api worker'});
cmp_ok($running, '<', 3, "only $running of 3 workers could start");
is($res->{status}, 503, 'fewer workers than configured: the health check answers 503 (said 3, healthy)');
is($res->{json}{checks}{db_pool}{size}, $running, '... and reports those running');
is($res->{json}{checks}{api}{workers_configured}, 3, '... of 3 configured');
$node->stop;

# --- invalid security settings: refuse to serve, say why, health unhealthy
for my $case (
	[ q{ecommerce_api.auth_mode = 'require'}, 'auth_mode' ],
	[ q{ecommerce_api.cors_allowed_origins = 'https://a.example/app'}, 'cors_allowed_origins' ],
	[ q{ecommerce_api.trusted_proxies = '10.0.0.300'}, 'trusted_proxies' ])
{
	my ($line, $name) = @$case;
	($node, $api) = plain_node("bad_$name", "$line\n");
	$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api CASCADE');
	ok(wait_for(sub { $api->request('GET', '/live')->{status} == 200 }), "$name: the workers run");
	$res = $api->request('GET', '/api/v1/clients/');
	is($res->{status}, 503, "invalid $name: an API route answers 503 (was served with the default)");
	like($res->{json}{detail} // '', qr/ecommerce_api\.$name/, '... naming the setting');
	$res = $api->request('GET', '/health_check/');
	is($res->{status}, 503, "... the health check 503");
	is($res->{json}{status}, 'unhealthy', '... unhealthy');
	is($api->request('GET', '/ready')->{status}, 503, '... /ready 503');
	ok($node->log_contains(qr/ecommerce_api refuses to serve: ecommerce_api\.$name/),
		'... and the log says why');
	if ($name eq 'auth_mode')
	{
		# a reload that fixes it serves again
		$node->append_conf('postgresql.conf', "ecommerce_api.auth_mode = 'required'\n");
		$node->reload;
		ok(wait_for(sub { $api->request('GET', '/api/v1/clients/')->{status} == 401 }),
			'fixed and reloaded: served again, in required mode');
		($res) = $node->psql('postgres', q{ALTER SYSTEM SET ecommerce_api.auth_mode = 'bogus'});
		isnt($res, 0, 'ALTER SYSTEM refuses an invalid auth_mode');
		($res) = $node->psql('postgres', q{ALTER SYSTEM SET ecommerce_api.cors_allowed_origins = 'ftp://x'});
		isnt($res, 0, 'ALTER SYSTEM refuses an invalid cors_allowed_origins');
	}
	$node->stop;
}

# --- an invalid port: not listened on at all, not even the default
($node, $api) = plain_node('bad_port', "ecommerce_api.port = 70000\n");
ok($node->wait_for_log(qr/ecommerce_api worker 1 is not listening: .*ecommerce_api\.port = '70000'/),
	'port = 70000: the workers say they do not listen, and why');
ok(!$node->log_contains(qr/serving HTTP on/), '... and serve nowhere (it used to serve on 8000)');
$node->stop;

# --- a database that does not exist: clear, bounded, backing off
($node, $api) = plain_node('no_db', "ecommerce_api.database = 'nope'\n");
sleep 8;
my $log = slurp_file($node->logfile);
my $fatals = () = $log =~ /FATAL:  database "nope" does not exist/g;
ok($fatals >= 2, "a missing database is retried ($fatals attempts in 8 s)");
ok($fatals <= 10, "... with back-off, not ~8 lines a second ($fatals in 8 s for 2 workers)");
like($log, qr/CONTEXT:  ecommerce_api worker \d connecting to ecommerce_api\.database = 'nope'/,
	'... each naming the setting');
$node->stop;

# --- a port in use, and one that needs privileges: the right hint each
my $taken = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 1,
	ReuseAddr => 0) or die "listen: $!";
($node, $api) = plain_node('in_use', "ecommerce_api.port = @{[ $taken->sockport ]}\n");
ok($node->wait_for_log(qr/cannot listen on 127\.0\.0\.1:\d+ .*Address already in use\n.*HINT:  Another process is using port/),
	'a port in use: the hint says so');
ok($node->wait_for_log(qr/cannot serve HTTP \(attempt 2\); trying again in 2 s/),
	'... and it backs off');
$node->stop;
close $taken;
SKIP:
{
	skip 'running as root: port 80 is allowed', 1 if $> == 0;
	($node, $api) = plain_node('privileged', "ecommerce_api.port = 80\n");
	ok($node->wait_for_log(qr/cannot listen on 127\.0\.0\.1:80 .*Permission denied\n.*HINT:  Ports below 1024 need a privilege/),
		'port 80: the hint is about privileges, not "in use"');
	$node->stop;
}

done_testing();
