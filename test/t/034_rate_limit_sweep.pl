# The rate limiter under an address sweep (issue 10): with its table of
# clients full, the oldest windows are dropped to count new clients, so a
# sweep of new addresses (here through a trusted proxy's X-Forwarded-For)
# turns the limit off for nobody: each new address and a known client are
# still refused past their budget.  Prints the sweep's rate.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use Attack;
use EcommerceApi;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $table = 1000;
my $addresses = $ENV{EAPI_SWEEP_ADDRESSES} // 3000;
my $per_address = 7;			# the limit is 5: two refusals each
my ($node, $api) = EcommerceApi::start_node('sweep', workers => 2, conf => <<"EOC");
ecommerce_api.rate_limit = 5
ecommerce_api.rate_limit_window = 600s
ecommerce_api.rate_limit_clients = $table
ecommerce_api.trusted_proxies = '127.0.0.1'
EOC
my $pids = EcommerceApi::worker_pids($node);

sub as_client
{
	my ($xff) = @_;
	return $api->request('GET', '/categories/', undef, { 'X-Forwarded-For' => $xff });
}

# a known client spends its budget before the sweep
is(as_client('198.51.100.7')->{status}, 200, 'the known client is served') for 1 .. 5;
is(as_client('198.51.100.7')->{status}, 429, 'and refused past its budget');

# the sweep: 50 keep-alive connections, each going through its share of the
# addresses, $per_address requests per address
sub sweep_request
{
	my ($n) = @_;
	my $xff = sprintf('10.%d.%d.%d', ($n >> 16) & 255, ($n >> 8) & 255, $n & 255);
	return "GET /categories/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: $xff\r\n\r\n";
}
my @clients;
for my $c (0 .. 49)
{
	my @queue;
	for (my $n = $c; $n < $addresses; $n += 50)
	{
		push @queue, sweep_request($n + 1) for 1 .. $per_address;
	}
	push @clients, { sock => EcommerceApi::_connect($api->port), queue => \@queue };
}
my $t0 = time;
my @res = EcommerceApi::_drive(\@clients, 120);
my $took = time - $t0;
my %st;
$st{ $_->{status} }++ for @res;
diag sprintf('sweep: %d addresses, %d requests in %.1f s (%.0f requests/s, %.0f new addresses/s)',
	$addresses, scalar @res, $took, @res / $took, $addresses / $took);
is(scalar @res, $addresses * $per_address, 'every sweep request answered');
is($st{200}, $addresses * 5, 'each swept address got its 5 requests');
is($st{429}, $addresses * 2, 'and was refused past them, though the table was full');

# the known client is still counted: whether its window survived the sweep
# or was dropped for a newer one, it is refused past 5 requests
my @known = map { as_client('198.51.100.7')->{status} } 1 .. 7;
ok((grep { $_ == 429 } @known) >= 2, 'the known client is still limited after the sweep (' . join(' ', @known) . ')');

my $metrics = $api->request('GET', '/metrics')->{content};
my ($evicted) = $metrics =~ /^ecommerce_api_rate_limit_evictions_total (\d+)/m;
ok($evicted >= $addresses - $table, "windows dropped to make room ($evicted)");
like($metrics, qr/^ecommerce_api_rate_limit_table_full_total 0$/m, 'no request passed untracked');
is_deeply(EcommerceApi::worker_pids($node), $pids, 'no worker died');

$node->stop('fast');
done_testing();
