# Request deadlines (issue 10): a body must arrive within request_timeout of
# its head and at min_body_rate at least; past either, 408 and the
# connection is closed.  Under a slow-body attack from one address a normal
# client is still served in under 1 s, and no worker dies.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

# EAPI_ATTACK_SOCKETS: how many connections the attacker holds (2,000 by
# default; 10,500 in a long run).  More open files first: before
# PostgreSQL::Test::Utils takes over the output, since this runs the script
# again.
my ($sockets, $nofile);
BEGIN
{
	require Attack;
	$sockets = $ENV{EAPI_ATTACK_SOCKETS} // 2000;
	$nofile = Attack::raise_nofile($sockets + 1000);
	$sockets = $nofile - 500 if $sockets > $nofile - 500;
}

use Attack;
use EcommerceApi;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $api) = EcommerceApi::start_node('slow_bodies',
	workers => 2,
	conf => "ecommerce_api.request_timeout = 4\n");
my $pids = EcommerceApi::worker_pids($node);
my $cat = $api->request('POST', '/categories/', { name => 'Probe' })->{json};
my $product = $api->request('POST', '/products/',
	{ name => 'Probe', price => 1, stock => 1, category_id => $cat->{id_key} })->{json};
$Attack::PROBE_PATH = "/products/id/$product->{id_key}";

sub raw_connect
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port,
		Proto => 'tcp') or die "connect: $!";
	$s->autoflush(1);
	return $s;
}

# Send $head, then $chunk every $every seconds until the server answers or
# closes (at most $limit seconds).  Returns (what came back, seconds taken).
sub trickle_body
{
	my ($head, $chunk, $every, $limit) = @_;
	my $s = raw_connect();
	my $t0 = time;
	syswrite($s, $head);
	$s->blocking(0);
	my $got = '';
	my $next = time + $every;
	while (time - $t0 < $limit)
	{
		my $n = sysread($s, my $buf, 65536);
		if (defined $n && $n == 0) { last }
		$got .= $buf if $n;
		if (time >= $next) { syswrite($s, $chunk); $next = time + $every }
		sleep 0.02;
	}
	close $s;
	return ($got, time - $t0);
}

my $post = "POST /categories/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

# --- 1 byte every second: under min_body_rate (1024 B/s), closed after the
# 2 s grace with 408
my ($got, $took) = trickle_body("${post}Content-Length: 1000\r\n\r\n", ' ', 1, 15);
like($got, qr{^HTTP/1\.1 408 }, 'a body arriving at 1 B/s gets 408');
like($got, qr/"detail":"Request Timeout/, 'with a JSON detail');
ok($took >= 1.9 && $took < 4, sprintf('after the grace, before request_timeout (%.1f s)', $took));

# --- a body fast enough but longer than request_timeout (4 s): 408 at 4 s
($got, $took) = trickle_body("${post}Content-Length: 100000\r\n\r\n", ' ' x 2000, 0.5, 15);
like($got, qr{^HTTP/1\.1 408 }, 'a body at 4 KB/s still arriving at request_timeout gets 408');
ok($took >= 3.9 && $took < 6, sprintf('at request_timeout (%.1f s)', $took));

# --- a body in two parts, 1 s apart (within the grace), is served
my $s = raw_connect();
my $body = '{"name":"Split body"}';
syswrite($s, "${post}Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n" . substr($body, 0, 5));
sleep 1;
syswrite($s, substr($body, 5));
$got = join('', <$s>);
like($got, qr{^HTTP/1\.1 201 }, 'a body paused 1 s (within the grace) is served');
close $s;

# --- the attack: $sockets connections from 127.0.0.2, each a POST head and
# then one body byte every 10 s, reconnecting when closed; the probe from
# 127.0.0.1 meanwhile
my $probe = Attack::during($api, 8, sub {
	my ($deadline) = @_;
	Attack::hold('127.0.0.2', $api->port, $sockets, $deadline,
		initial => "${post}Content-Length: 1000\r\n\r\n", trickle => 'x', every => 10);
});
diag "slow bodies ($sockets sockets): " . Attack::describe($probe);
ok($probe->{count} > 50, 'the probe ran');
is($probe->{failed}, 0, 'no probe request failed');
is($probe->{over_1s}, 0, 'every probe request was served in under 1 s');
is_deeply([ sort keys %{ $probe->{statuses} } ], [200], 'all of them 200');
is_deeply(EcommerceApi::worker_pids($node), $pids, 'no worker died');
my $metrics = $api->request('GET', '/metrics')->{content};
my ($timeouts) = $metrics =~ /^ecommerce_api_requests_total\{route="other",status="4xx"\} (\d+)/m;
ok(($timeouts // 0) > 0, 'the 408s are counted in the metrics (' . ($timeouts // 0) . ')');

$node->stop('fast');
done_testing();
