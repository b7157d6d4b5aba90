# Bad input, floods, killed workers, shutdown and a busy port: answers are a
# precise error or a clean recovery, never a crash, a hang or lost data.
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

my ($node, $api) = EcommerceApi::start_node('robust',
	workers => 2,
	conf => "ecommerce_api.idle_timeout = 2\nrestart_after_crash = on\n");
my $pids = EcommerceApi::worker_pids($node);
is(scalar keys %$pids, 2, 'two workers running');

sub raw_exchange
{
	my ($bytes, $wait) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port,
		Proto => 'tcp') or die "connect: $!";
	$s->autoflush(1);
	syswrite($s, $bytes) if length $bytes;
	shutdown($s, 1) if $wait->{half_close};
	my $deadline = time + ($wait->{seconds} // 10);
	my $got = '';
	$s->blocking(0);
	while (time < $deadline)
	{
		my $n = sysread($s, my $buf, 65536);
		if (defined $n && $n == 0) { return ($got, 'closed', time) }
		$got .= $buf if $n;
		sleep 0.05;
	}
	close $s;
	return ($got, 'open', time);
}

sub still_serving
{
	my ($what) = @_;
	is($api->request('GET', '/health_check/')->{status}, 200, "still serving after $what");
}

# --- garbage bytes
my ($got, $state) = raw_exchange("\x00\xff\x13garbage\r\n\r\n" x 3, {});
is($state, 'closed', 'garbage: the connection is closed');
like($got, qr/^(HTTP\/1\.1 4\d\d .*)?$/s, 'garbage: answered 4xx, or nothing at all');
still_serving('garbage');

# --- a 100 KB request line
($got, $state) = raw_exchange('GET /' . ('a' x 100_000) . " HTTP/1.1\r\nHost: x\r\n\r\n", {});
like($got, qr/^HTTP\/1\.1 (414|431|400)/, '100 KB request line is refused with 4xx');
still_serving('a huge request line');

# --- headers without end
($got, $state) = raw_exchange("GET /health_check/ HTTP/1.1\r\n" . ("X-Filler: " . ('b' x 100) . "\r\n") x 2000, {});
like($got, qr/^HTTP\/1\.1 (431|400|413)/, 'endless headers are refused with 4xx');
still_serving('endless headers');

# --- half a request, then a stall: closed by the idle timeout, others served
my $t0 = time;
my $stalled = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port)
  or die;
syswrite($stalled, "POST /categories/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na");
still_serving('a stalled client (while it stalls)');
$stalled->blocking(0);
my $closed = 0;
while (time - $t0 < 10)
{
	my $n = sysread($stalled, my $buf, 1024);
	if (defined $n && $n == 0) { $closed = 1; last }
	sleep 0.1;
}
ok($closed, 'stalled half request closed by idle_timeout');
ok(time - $t0 >= 1.5, 'not closed before the idle timeout');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ecommerce_api.categories'), '0',
	'nothing written by the half request');

# --- a client trickling its request head (slowloris): every byte comes
# well within idle_timeout, so libmicrohttpd's inactivity timeout never
# fires; the head is still due idle_timeout after the connection opened
$t0 = time;
my $trickler = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port)
  or die;
syswrite($trickler, "GET /health_check/ HTTP/1.1\r\nHost: x\r\n");
$trickler->blocking(0);
$closed = 0;
while (time - $t0 < 10)
{
	my $n = sysread($trickler, my $buf, 1024);
	if (defined $n && $n == 0) { $closed = 1; last }
	syswrite($trickler, "X-Slow: y\r\n");
	sleep 0.3;
}
ok($closed, 'a trickled request head is closed at idle_timeout');
ok(time - $t0 >= 1.5 && time - $t0 < 6, 'after the idle timeout, not before (' . sprintf('%.1f s', time - $t0) . ')');
still_serving('after the trickling client');

# ... while a slow client that completes its head in time is served, and a
# keep-alive connection gets a fresh idle_timeout after each answer
my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port)
  or die;
$slow->blocking(0);
for my $round (1 .. 2)
{
	syswrite($slow, "GET /health_check/ HTTP/1.1\r\n");
	sleep 0.6;
	syswrite($slow, "Host: x\r\n");
	sleep 0.6;
	syswrite($slow, "\r\n");
	# the whole answer: its head, then Content-Length bytes of body
	my $answer = '';
	my $deadline = time + 5;
	while (time < $deadline)
	{
		my $n = sysread($slow, my $buf, 65536);
		last if defined $n && $n == 0;
		$answer .= $buf if $n;
		last if $answer =~ /\r\n\r\n/ && $answer =~ /Content-Length: (\d+)/i
		  && length($answer) >= index($answer, "\r\n\r\n") + 4 + $1;
		sleep 0.02;
	}
	like($answer, qr{^HTTP/1\.1 200}, "a head sent over 1.2 s is served (request $round on one connection)");
}
close($slow);

# --- 400 concurrent keep-alive clients, 5 requests each
my @res = $api->keepalive_clients(400, 5, [ 'GET', '/health_check/' ]);
is(scalar @res, 2000, '400 clients x 5 requests all answered');
is(scalar(grep { $_->{status} != 200 } @res), 0, 'zero errors among 2000 requests');
is_deeply(EcommerceApi::worker_pids($node), $pids, 'no worker restarted under load');

# --- SIGKILL a worker: the postmaster restarts, committed data survives
my $res = $api->request('POST', '/categories/', { name => 'survives a crash' });
is($res->{status}, 201, 'row committed before the kill');
my $victim = $pids->{'ecommerce_api worker 1'};
kill 'KILL', $victim;
ok($node->poll_query_until('postgres',
	"SELECT count(*) = 2 FROM pg_stat_activity
	 WHERE backend_type = 'ecommerce_api worker' AND pid <> $victim"),
	'workers restarted after SIGKILL of one');
ok($api->wait_ready(60), 'API back after SIGKILL of a worker');
my $t_back = time;
my $new = EcommerceApi::worker_pids($node);
isnt($new->{'ecommerce_api worker 1'}, $victim, 'worker 1 is a new process');
$res = $api->request('GET', '/categories/');
is($res->{status}, 200, 'API serves after the restart');
is_deeply([ map { $_->{name} } @{ $res->{json} } ], ['survives a crash'],
	'committed data survived the crash');

# --- SIGTERM of one worker: it leaves cleanly and the postmaster brings it back
$pids = EcommerceApi::worker_pids($node);
kill 'TERM', $pids->{'ecommerce_api worker 2'};
my $deadline = time + 30;
my $back = 0;
while (time < $deadline)
{
	my $now = EcommerceApi::worker_pids($node);
	if (($now->{'ecommerce_api worker 2'} // $pids->{'ecommerce_api worker 2'})
		!= $pids->{'ecommerce_api worker 2'})
	{
		$back = 1;
		last;
	}
	sleep 0.2;
}
ok($back, 'a worker ended with SIGTERM is restarted');
still_serving('SIGTERM of one worker');

# --- pg_ctl stop -m fast ends everything promptly
$t0 = time;
$node->stop('fast');
ok(time - $t0 < 15, 'fast shutdown is prompt');
my $log = slurp_file($node->logfile);
unlike($log, qr/terminated by signal (6|11)|PANIC/, 'no crash in the log');
my $probe = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port);
ok(!$probe, 'HTTP port closed after shutdown');

# --- a port already in use: a clear log line, no crash loop, serves once free
my $port = PostgreSQL::Test::Cluster::get_free_port();
my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
	Listen => 5, ReuseAddr => 1) or die "squat: $!";
my $busy = PostgreSQL::Test::Cluster->new('busyport');
$busy->init;
$busy->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'ecommerce_api'
ecommerce_api.port = $port
ecommerce_api.workers = 1
EOC
$busy->start;
ok($busy->wait_for_log(qr/cannot listen on 127\.0\.0\.1:$port .*Address already in use/), 'busy port logged clearly');
my $first = EcommerceApi::worker_pids($busy)->{'ecommerce_api worker 1'};
sleep 6;
is(EcommerceApi::worker_pids($busy)->{'ecommerce_api worker 1'}, $first,
	'worker waits for the port instead of crash-looping');
close $squatter;
my $api2 = EcommerceApi->new(port => $port);
ok($api2->wait_ready(30, 1), 'serves once the port is free');
$busy->stop('fast');

done_testing();
