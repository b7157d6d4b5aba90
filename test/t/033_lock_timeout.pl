# Lock waits are bounded (issue 10): a request blocked behind a transaction
# that holds its rows (a psql session left open) answers 503 with
# Retry-After after ecommerce_api.lock_timeout, and reads, which take no row
# locks, are served in under 1 s while writers keep running into the lock.
# Without the lock timeout, the same reads queue behind the blocked writes
# for up to statement_timeout.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use Attack;
use EcommerceApi;
use HTTP::Tiny;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $api) = EcommerceApi::start_node('lock_timeout', workers => 2);
my $pids = EcommerceApi::worker_pids($node);
is($node->safe_psql('postgres', 'SHOW ecommerce_api.lock_timeout'), '500ms',
	'lock_timeout defaults to 500 ms, below statement_timeout (5 s)');

my $cat = $api->request('POST', '/categories/', { name => 'Locked' })->{json};
my $p = $api->request('POST', '/products/',
	{ name => 'Locked', price => 5, stock => 10, category_id => $cat->{id_key} })->{json};
my $update = [ 'PUT', "/products/id/$p->{id_key}",
	{ name => 'Changed', price => 6, stock => 10, category_id => $cat->{id_key} } ];
$Attack::PROBE_PATH = "/products/id/$p->{id_key}";

my $locker = $node->background_psql('postgres');
$locker->query_safe("BEGIN; SELECT 1 FROM ecommerce_api.products WHERE id_key = $p->{id_key} FOR UPDATE;");

# --- a write to the locked row: 503 after about lock_timeout
my $t0 = time;
my $res = $api->request(@$update);
my $took = time - $t0;
is($res->{status}, 503, 'a write blocked by a row lock gets 503');
is($res->{headers}{'retry-after'}, '1', 'with Retry-After: 1');
like($res->{json}{detail}, qr/locked by another transaction/, 'saying why');
ok($took >= 0.45 && $took < 2, sprintf('after lock_timeout, not statement_timeout (%.2f s)', $took));

# --- a writer running into the lock without pause, and the probe reading
# the locked row meanwhile
sub writer
{
	return sub {
		my ($deadline) = @_;
		my $http = HTTP::Tiny->new(timeout => 10);
		my $body = $EcommerceApi::JSON->encode($update->[2]);
		while (time < $deadline)
		{
			$http->request('PUT', $api->url($update->[1]),
				{ content => $body, headers => { 'Content-Type' => 'application/json' } });
		}
	};
}
my $probe = Attack::during($api, 6, writer(), warmup => 0.5);
diag 'reads during blocked writes, lock_timeout 500ms: ' . Attack::describe($probe);
ok($probe->{count} > 20, 'the probe ran');
is($probe->{failed}, 0, 'no read failed');
is($probe->{over_1s}, 0, 'every read served in under 1 s');
is_deeply([ sort keys %{ $probe->{statuses} } ], [200], 'all of them 200');

# --- the same without a lock timeout: the reads wait behind the writes
$node->safe_psql('postgres', 'ALTER SYSTEM SET ecommerce_api.lock_timeout = 0');
$node->reload;
sleep 0.5;
my $control = Attack::during($api, 6, writer(), warmup => 0.5);
diag 'reads during blocked writes, no lock_timeout: ' . Attack::describe($control);
ok($control->{over_1s} + $control->{failed} > 0,
	'without it, reads wait behind blocked writes for over 1 s (the control)');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ecommerce_api.lock_timeout');
$node->reload;
sleep 0.5;

$locker->query_safe('ROLLBACK');
$locker->quit;
$res = $api->request(@$update);
is($res->{status}, 200, 'once the lock is gone the write goes through');
is_deeply(EcommerceApi::worker_pids($node), $pids, 'no worker died');

$node->stop('fast');
done_testing();
