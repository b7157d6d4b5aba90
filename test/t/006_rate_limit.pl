# The per-client-address rate limiter: N requests per W seconds, counted
# across all workers; 429 with the contract's body and headers; health checks
# and preflights exempt; X-Forwarded-For believed only from trusted proxies;
# settings reloadable; a full table of clients drops the oldest windows.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use HTTP::Tiny;
use IO::Socket::IP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $api) = EcommerceApi::start_node('ratelimit', workers => 2, conf => <<'EOC');
ecommerce_api.rate_limit = 5
ecommerce_api.rate_limit_window = 2s
ecommerce_api.max_body_size = 1kB
ecommerce_api.log_requests = on
EOC

# Every 429 the test receives, to compare with the metrics at the end.
my $refused = 0;

# One request on a connection of its own (Connection: close), so requests
# spread over the workers the way separate clients do.
sub fresh
{
	my ($method, $path, %opt) = @_;
	my $headers = { %{ $opt{headers} // {} } };
	$headers->{'X-Forwarded-For'} = $opt{xff} if defined $opt{xff};
	my %args = (headers => $headers);
	if (defined $opt{body})
	{
		$args{content} = ref $opt{body} ? $EcommerceApi::JSON->encode($opt{body}) : $opt{body};
		$headers->{'Content-Type'} = 'application/json';
	}
	my $res = HTTP::Tiny->new(timeout => 30, keep_alive => 0)
	  ->request($method, $api->url($path), \%args);
	$res->{json} = eval { $EcommerceApi::JSON->decode($res->{content}) }
	  if defined $res->{content} && length $res->{content};
	$refused++ if $res->{status} == 429;
	return $res;
}

sub rl { my ($res, $name) = @_; return $res->{headers}{"x-ratelimit-$name"}; }

# Poll (bounded) until a condition holds: workers apply a reload on their own.
# Once one worker shows it, give the other a moment too.
sub wait_until
{
	my ($cond) = @_;
	my $deadline = time + 30;
	while (time < $deadline)
	{
		if ($cond->())
		{
			sleep 0.5;
			return 1;
		}
		sleep 0.1;
	}
	return 0;
}

sub alter_system
{
	my ($setting, $value) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ecommerce_api.$setting = '$value'");
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
}

# --- exempt requests neither count nor carry the headers
for my $i (1 .. 3)
{
	my $res = fresh('GET', '/health_check/');
	is($res->{status}, 200, "health check $i passes");
	ok(!defined rl($res, 'limit'), "health check $i carries no X-RateLimit headers");
	$res = fresh('OPTIONS', '/categories/',
		headers => { Origin => 'http://shop.example', 'Access-Control-Request-Method' => 'POST' });
	is($res->{status}, 204, "preflight $i passes");
	ok(!defined rl($res, 'limit'), "preflight $i carries no X-RateLimit headers");
}

# --- N = 5 per 2 s: five answers of any kind pass, counting down
my @budget = (
	[ 'POST', '/categories/', { name => 'Counted' }, 201 ],    # an answer held for group commit
	[ 'GET', '/no/such/path', undef, 404 ],
	[ 'DELETE', '/categories/', undef, 405 ],
	[ 'POST', '/categories/', 'x' x 2000, 413 ],
	[ 'POST', '/categories/', { name => '' }, 422 ],
);
my $reset;
for my $i (0 .. $#budget)
{
	my ($method, $path, $body, $status) = @{ $budget[$i] };
	my $res = fresh($method, $path, body => $body);
	is($res->{status}, $status, "request " . ($i + 1) . " ($method $path) passes with $status");
	is(rl($res, 'limit'), 5, "request " . ($i + 1) . ": X-RateLimit-Limit 5");
	is(rl($res, 'remaining'), 4 - $i, "request " . ($i + 1) . ": X-RateLimit-Remaining " . (4 - $i));
	$reset //= rl($res, 'reset');
	is(rl($res, 'reset'), $reset, "request " . ($i + 1) . ": same window, same X-RateLimit-Reset");
	is($res->{headers}{'access-control-allow-origin'}, '*', "request " . ($i + 1) . ": CORS header");
}
ok($reset =~ /^\d+$/ && $reset >= int(time) && $reset <= time + 3,
	'X-RateLimit-Reset is the Unix time the 2 s window ends');

my $res = fresh('GET', '/categories/', headers => { 'X-Request-ID' => 'rl-refused-1' });
is($res->{status}, 429, 'the 6th request is refused with 429');
is($res->{content},
	'{"detail":"Rate limit exceeded. Maximum 5 requests per 2 seconds.","retry_after":2}',
	'429 body is exactly the contract\'s');
like($res->{headers}{'content-type'}, qr{^application/json}, '429 is JSON');
ok($res->{headers}{'retry-after'} =~ /^\d+$/ && $res->{headers}{'retry-after'} >= 1
	  && $res->{headers}{'retry-after'} <= 2, 'Retry-After: seconds until the window ends (1..2)');
is(rl($res, 'limit'), 5, '429 carries X-RateLimit-Limit');
is(rl($res, 'remaining'), 0, '429 carries X-RateLimit-Remaining 0');
is(rl($res, 'reset'), $reset, '429 carries the window\'s X-RateLimit-Reset');
is($res->{headers}{'access-control-allow-origin'}, '*', '429 carries Access-Control-Allow-Origin');
is($res->{headers}{'x-request-id'}, 'rl-refused-1', '429 echoes X-Request-ID');
like($res->{headers}{'x-response-time'}, qr/^\d+\.\d+ms$/, '429 carries X-Response-Time');

my @kept = $api->keepalive_clients(1, 3, [ 'GET', '/categories/' ]);
$refused += grep { $_->{status} == 429 } @kept;
is_deeply([ map { $_->{status} } @kept ], [ 429, 429, 429 ],
	'three requests on one keep-alive connection: three 429s, the connection stays usable');

$res = fresh('POST', '/categories/', body => { name => 'Refused' });
is($res->{status}, 429, 'a write is refused too');
is(fresh('POST', '/categories/', body => 'x' x 2000)->{status}, 429, 'a refusal wins over 413');
is(fresh('GET', '/health_check/')->{status}, 200, 'health check passes while limited');
is(fresh('OPTIONS', '/products/')->{status}, 204, 'preflight passes while limited');

# --- when the window ends, requests pass again
sleep($reset - time + 0.2) if $reset > time - 0.2;
is($node->safe_psql('postgres',
		q{SELECT string_agg(name, ',') FROM ecommerce_api.categories WHERE name IN ('Counted', 'Refused')}),
	'Counted', 'the refused write wrote nothing (the counted one did)');
$res = fresh('GET', '/categories/');
is($res->{status}, 200, 'after the window ends a request passes');
is(rl($res, 'remaining'), 4, 'in a new window: X-RateLimit-Remaining 4');

# --- a reload changes the limit; counting is shared by every worker
alter_system('rate_limit_window', '60s');
alter_system('rate_limit', '20');
ok(wait_until(sub { (rl(fresh('GET', '/categories/'), 'limit') // '') eq '20' }),
	'a reload of rate_limit takes effect');
$res = fresh('GET', '/categories/');
my $left = rl($res, 'remaining');
ok($left >= 5, "budget left in the 60 s window: $left");
my @remaining;
for my $i (1 .. $left)
{
	my $r = fresh('GET', '/categories/', headers => { 'X-Request-ID' => "rl-shared-$i" });
	push @remaining, $r->{status} == 200 ? rl($r, 'remaining') : "status $r->{status}";
}
is_deeply(\@remaining, [ reverse 0 .. $left - 1 ],
	"$left requests on fresh connections count down one shared budget");
is(fresh('GET', '/categories/')->{status}, 429, 'then the next one is refused');

my %served_by;
for my $line (split /\n/, slurp_file($node->logfile))
{
	$served_by{$1} = 1 if $line =~ /\[(\d+)\].*request_id=rl-shared-\d+$/;
}
my $workers = EcommerceApi::worker_pids($node);
cmp_ok(scalar(keys %served_by), '>=', 2, 'those requests were served by both workers');
ok(!grep({ my $p = $_; !grep { $_ == $p } values %$workers } keys %served_by),
	'and the pids serving them are the HTTP workers');

# --- X-Forwarded-For: ignored from an untrusted peer ...
$res = fresh('GET', '/categories/', xff => '203.0.113.7');
is($res->{status}, 429, 'X-Forwarded-For from an untrusted peer is ignored: the peer is counted');

# ... believed from a trusted proxy
$node->append_conf('postgresql.conf', "ecommerce_api.trusted_proxies = '127.0.0.1'\n");
$node->reload;
my $first;
ok(wait_until(sub { $first = fresh('GET', '/categories/', xff => '203.0.113.7'); $first->{status} == 200 }),
	'with 127.0.0.1 trusted, the forwarded client is counted');
is(rl($first, 'remaining'), 19, 'with a budget of its own');
is(rl(fresh('GET', '/categories/', xff => '203.0.113.7'), 'remaining'), 18, 'which it spends');
is(rl(fresh('GET', '/categories/', xff => '203.0.113.8'), 'remaining'), 19,
	'another forwarded address has a separate budget');
is(rl(fresh('GET', '/categories/', xff => '::ffff:203.0.113.8'), 'remaining'), 18,
	'an IPv4-mapped IPv6 address is the same client as the IPv4 address');
is(rl(fresh('GET', '/categories/', xff => '2001:db8::1'), 'remaining'), 19, 'an IPv6 client');
is(rl(fresh('GET', '/categories/', xff => '2001:db8::2'), 'remaining'), 18,
	'another address of the same /64 is the same client (an IPv6 host has a /64)');
is(rl(fresh('GET', '/categories/', xff => '2001:db8:0:1::1'), 'remaining'), 19, 'another /64 is another client');
is(rl(fresh('GET', '/categories/',
			headers => { 'X-Forwarded-For' => [ ('198.51.100.1') x 16, '203.0.113.20' ] }), 'remaining'), 19,
	'17 X-Forwarded-For lines: read from the right, the client is the last line\'s');
is(rl(fresh('GET', '/categories/', xff => '198.51.100.99, 203.0.113.7'), 'remaining'), 17,
	'a forged entry left of the real client is ignored (rightmost untrusted entry wins)');
is(rl(fresh('GET', '/categories/', headers => { 'X-Forwarded-For' => [ '198.51.100.99', '203.0.113.7' ] }),
		'remaining'), 16, 'several X-Forwarded-For lines read as one list');
is(fresh('GET', '/categories/')->{status}, 429, 'the proxy itself, without X-Forwarded-For, is still limited');
is(fresh('GET', '/categories/', xff => 'unknown')->{status}, 429, 'a malformed entry: the peer is counted');
is(fresh('GET', '/categories/', xff => '203.0.113.9:8080')->{status}, 429, 'an entry with a port is malformed');
is(fresh('GET', '/categories/', xff => '203.0.113.9, ')->{status}, 429, 'an empty entry is malformed');
is(fresh('GET', '/categories/', xff => '127.0.0.1')->{status}, 429,
	'a chain of trusted proxies only: the leftmost is the client');

# trusted CIDR blocks are skipped from the right
$node->append_conf('postgresql.conf', "ecommerce_api.trusted_proxies = '127.0.0.1, 10.0.0.0/8'\n");
$node->reload;
fresh('GET', '/categories/', xff => '10.7.7.7');    # 10.7.7.7 now has 19 left until the reload lands
ok(wait_until(sub { (rl(fresh('GET', '/categories/', xff => '198.51.100.200, 10.7.7.7'), 'remaining') // '') eq '19' }),
	'a reload of trusted_proxies takes effect');
is(rl(fresh('GET', '/categories/', xff => '198.51.100.99, 203.0.113.8, 10.1.2.3'), 'remaining'), 17,
	'trusted hops are skipped: the first untrusted address from the right is the client');

# --- bad values are refused, naming the entry
my ($rc, $out, $err) = $node->psql('postgres',
	q{ALTER SYSTEM SET ecommerce_api.trusted_proxies = '10.0.0.1, not-an-ip'});
isnt($rc, 0, 'ALTER SYSTEM refuses a bad trusted_proxies entry');
like($err, qr/invalid value for parameter "ecommerce_api\.trusted_proxies"/, 'the error names the setting');
like($err, qr/"not-an-ip" is not an IPv4 or IPv6 address or CIDR block/, 'and the bad entry');
for my $bad ('10.0.0.0/33', '192.168.1.1:8080', 'example.com', '::1/129', '10.0.0.0/8 x')
{
	($rc, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ecommerce_api.trusted_proxies = '$bad'");
	like($err, qr/is not an IPv4 or IPv6 address or CIDR block/, "'$bad' is refused");
}
($rc, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET ecommerce_api.trusted_proxies = '10.0.0.0/8, ::1, fd00::/8'});
is($rc, 0, 'a list of IPv4 and IPv6 addresses and blocks is accepted');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ecommerce_api.trusted_proxies');
($rc, $out, $err) = $node->psql('postgres', q{SET ecommerce_api.trusted_proxies = 'not-an-ip'});
like($err, qr/parameter "ecommerce_api\.trusted_proxies" cannot be changed now/, 'SET is refused');
($rc, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET ecommerce_api.rate_limit_window = 0});
like($err, qr/outside the valid range/, 'a window of 0 is refused');

# a bad value in postgresql.conf: the reload keeps the previous list
my $log_offset = -s $node->logfile;
$node->append_conf('postgresql.conf', "ecommerce_api.trusted_proxies = 'bogus'\n");
$node->reload;
ok($node->wait_for_log(qr/invalid value for parameter "ecommerce_api\.trusted_proxies": "bogus"/, $log_offset),
	'a bad value in postgresql.conf is logged on reload');
is(rl(fresh('GET', '/categories/', xff => '198.51.100.99, 203.0.113.8, 10.1.2.3'), 'remaining'), 16,
	'and the previous list stays in force');

# --- limit off: no headers; metrics count the refusals
alter_system('rate_limit', '0');
ok(wait_until(sub { my $r = fresh('GET', '/categories/'); $r->{status} == 200 && !defined rl($r, 'limit') }),
	'rate_limit = 0 after a reload: requests pass');
$res = fresh('GET', '/categories/');
ok(!grep({ /^x-ratelimit-|^retry-after$/ } keys %{ $res->{headers} }), 'limit off: no X-RateLimit headers');
my $metrics = fresh('GET', '/metrics')->{content};
like($metrics, qr/^ecommerce_api_rate_limited_total $refused$/m,
	"metrics count the $refused refusals the test received");
like($metrics, qr/^ecommerce_api_rate_limit_table_full_total 0$/m, 'and no pass for a full table');

# --- a full table: expired windows make room, else the oldest are dropped
$node->append_conf('postgresql.conf', "ecommerce_api.trusted_proxies = '127.0.0.1'\n");
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET ecommerce_api.rate_limit_clients = 2;
	ALTER SYSTEM SET ecommerce_api.rate_limit = 2;
	ALTER SYSTEM SET ecommerce_api.rate_limit_window = '5s';
});
$log_offset = -s $node->logfile;
$node->restart;
ok($api->wait_ready, 'restarted with room for 2 clients');
$refused = 0;
my $r1 = fresh('GET', '/categories/', xff => '192.0.2.1');
is(rl($r1, 'remaining'), 1, 'client 1 tracked');
is(rl(fresh('GET', '/categories/', xff => '192.0.2.2'), 'remaining'), 1, 'client 2 tracked');
# client 3: the table is full of live windows; client 1's, the oldest, goes
$res = fresh('GET', '/categories/', xff => '192.0.2.3');
is($res->{status}, 200, 'client 3: the table is full, the oldest window makes room');
is(rl($res, 'remaining'), 1, 'client 3 tracked');
is(rl(fresh('GET', '/categories/', xff => '192.0.2.3'), 'remaining'), 0, 'and counted');
is(fresh('GET', '/categories/', xff => '192.0.2.3')->{status}, 429, 'and limited: a full table does not turn the limit off');
is(rl(fresh('GET', '/categories/', xff => '192.0.2.2'), 'remaining'), 0, 'client 2 still counted in its window');
is(fresh('GET', '/categories/', xff => '192.0.2.2')->{status}, 429, 'and limited');
ok($node->wait_for_log(qr/WARNING: .*rate limiter is tracking its maximum of 2 clients; the oldest windows are dropped/, $log_offset),
	'a full table is logged as a warning');
my @warnings = (slurp_file($node->logfile, $log_offset) =~ /rate limiter is tracking its maximum/g);
cmp_ok(scalar(@warnings), '<=', 2, 'at most one warning per worker, not one per request');
$metrics = fresh('GET', '/metrics', xff => '192.0.2.4')->{content};
like($metrics, qr/^ecommerce_api_rate_limit_evictions_total 2$/m,
	'metrics count the windows dropped (client 1\'s; client 3\'s for this scrape)');
like($metrics, qr/^ecommerce_api_rate_limit_table_full_total 0$/m, 'and no request passed untracked');
like($metrics, qr/^ecommerce_api_rate_limited_total 2$/m, 'and the refusals');

sleep(rl($r1, 'reset') - time + 0.2) if rl($r1, 'reset') > time - 0.2;
is(rl(fresh('GET', '/categories/', xff => '192.0.2.5'), 'remaining'), 1,
	'once windows have ended, their entries make room: client 5 is tracked');

# --- an IPv6 peer, and an IPv6 trusted proxy
# (only where this machine has an IPv6 loopback: some containers have none)
SKIP:
{
	my $probe = IO::Socket::IP->new(LocalHost => '::1', Listen => 1);
	skip 'no IPv6 loopback (::1) on this machine', 4 unless $probe;
	close($probe);
	$node->safe_psql('postgres', q{
		ALTER SYSTEM SET ecommerce_api.listen_address = '::1';
		ALTER SYSTEM SET ecommerce_api.trusted_proxies = '::1/128';
		ALTER SYSTEM SET ecommerce_api.rate_limit = 1;
		ALTER SYSTEM SET ecommerce_api.rate_limit_window = '60s';
	});
	$node->restart;
	my $v6 = sub {
		my (%headers) = @_;
		return HTTP::Tiny->new(timeout => 30, keep_alive => 0)
		  ->get('http://[::1]:' . $api->port . '/categories/', { headers => \%headers });
	};
	ok(wait_until(sub { $v6->()->{status} == 200 }), 'served on ::1');
	$res = $v6->();
	is($res->{status}, 429, 'the IPv6 peer has its budget of 1, spent');
	is($v6->('X-Forwarded-For' => '2001:db8::7')->{status}, 200,
		'behind a trusted IPv6 proxy, the forwarded IPv6 client has its own budget');
	is($v6->('X-Forwarded-For' => '2001:db8::7')->{status}, 429, 'which it spends');
}

$node->stop('fast');
done_testing();
