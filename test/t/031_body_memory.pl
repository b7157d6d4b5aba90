# Body memory has a cap (issue 10): the bodies a worker holds, all its
# connections together, stay under ecommerce_api.max_body_memory; past it a
# new body gets 503 with Retry-After.  Worker memory stays under the cap, a
# normal client is served in under 1 s, and no worker dies.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use Attack;
use EcommerceApi;
use IO::Socket::INET;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $cap_mb = 8;
my ($node, $api) = EcommerceApi::start_node('body_memory',
	workers => 2,
	conf => "ecommerce_api.max_body_memory = '${cap_mb}MB'\n"
	  . "ecommerce_api.request_timeout = 20\necommerce_api.min_body_rate = 0\n");
my $pids = EcommerceApi::worker_pids($node);
my $cat = $api->request('POST', '/categories/', { name => 'Probe' })->{json};
my $product = $api->request('POST', '/products/',
	{ name => 'Probe', price => 1, stock => 1, category_id => $cat->{id_key} })->{json};
$Attack::PROBE_PATH = "/products/id/$product->{id_key}";

my $rss_before = Attack::worker_rss($node);

# 60 connections from 127.0.0.2, each declaring a 1,000,000-byte body and
# sending all of it but the last byte, then stalling: 60 MB of bodies
# offered to two workers capped at 8 MB each
my $head = "POST /categories/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
  . "Content-Length: 1000000\r\n\r\n";
my (@socks, @answers);
for my $i (1 .. 60)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port,
		LocalAddr => '127.0.0.2', Proto => 'tcp') or die "connect: $!";
	$s->autoflush(1);
	$s->blocking(0);
	push @socks, { sock => $s, out => $head . ('x' x 999_999), got => '' };
}
# send what the server takes (a refused body is not read) for up to 10 s
my $deadline = time + 10;
while (time < $deadline)
{
	my $pending = 0;
	for my $c (@socks)
	{
		if (length $c->{out})
		{
			my $n = syswrite($c->{sock}, $c->{out}, 65536);
			substr($c->{out}, 0, $n) = '' if $n;
			$pending++ if length $c->{out};
		}
		my $n = sysread($c->{sock}, my $buf, 4096);
		$c->{got} .= $buf if $n;
	}
	last if !$pending || (grep { length $_->{got} } @socks) + $pending == 0;
	last if (grep { length $_->{got} || !length $_->{out} } @socks) == @socks;
	sleep 0.05;
}
my @refused = grep { $_->{got} =~ m{^HTTP/1\.1 503 } } @socks;
my @held = grep { !length $_->{got} && !length $_->{out} } @socks;
diag sprintf('%d bodies held, %d refused with 503', scalar @held, scalar @refused);
ok(@refused > 0, 'bodies past the cap are refused with 503');
like($refused[0]{got}, qr/^Retry-After: 1\r$/mi, 'with Retry-After');
like($refused[0]{got}, qr/"detail":"Server busy/, 'and a JSON detail');
ok(@held > 0 && @held <= 2 * $cap_mb, 'at most the cap\'s worth of bodies held (' . scalar(@held) . ')');

my $rss = Attack::worker_rss($node);
for my $pid (sort keys %$rss)
{
	my $grew = ($rss->{$pid} - ($rss_before->{$pid} // 0)) / 1024;
	diag sprintf('worker %d: VmRSS %.0f MB, %+.1f MB', $pid, $rss->{$pid} / 1024, $grew);
	# the cap, and room for libmicrohttpd's buffers and the allocator
	ok($grew < $cap_mb + 8, "worker $pid grew by less than the cap and 8 MB");
}

# a normal client meanwhile: a write with a small body, and the probe
my $res = $api->request('POST', '/categories/', { name => 'Small body' });
is($res->{status}, 201, 'a small body is still taken while the cap holds');
my $probe = Attack::during($api, 3, sub { sleep 1 }, warmup => 0);
diag 'held bodies: ' . Attack::describe($probe);
is($probe->{failed} + $probe->{over_1s}, 0, 'every probe request served in under 1 s');

# the stalled bodies go; their memory is taken again
close $_->{sock} for @socks;
sleep 0.5;
my $ok = 0;
for my $i (1 .. 20)
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port,
		Proto => 'tcp') or die;
	my $body = '{"name":"Big ' . $i . '","description":"' . ('d' x 900_000) . '"}';
	syswrite($s, "POST /categories/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		  . "Content-Type: application/json\r\nContent-Length: " . length($body) . "\r\n\r\n$body");
	my $got = join('', <$s>);
	$ok++ if $got =~ m{^HTTP/1\.1 (201|422) };
	close $s;
}
is($ok, 20, 'once the stalled bodies are gone, 20 bodies of 900 KB one after another are taken');
is_deeply(EcommerceApi::worker_pids($node), $pids, 'no worker died');

$node->stop('fast');
done_testing();
