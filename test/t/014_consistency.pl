# Read-your-writes on a hot standby.  Every write's answer carries
# X-Consistency-Token (its commit LSN) and sets a cookie of the same name; a
# request that brings the token back to a standby is answered once the
# standby has replayed that commit, or gets 503 with Retry-After after
# ecommerce_api.replica_wait_timeout, never stale data.  The standby here
# applies WAL 2 s late (recovery_min_apply_delay), so staleness is certain.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($primary, $api) = EcommerceApi::start_node('primary', workers => 2,
	init => { allows_streaming => 1 });

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
my $standby_port = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', <<"EOC");
ecommerce_api.port = $standby_port
recovery_min_apply_delay = '2s'
ecommerce_api.replica_wait_timeout = '10s'
EOC
$standby->start;
my $replica = EcommerceApi->new(port => $standby_port);
ok($replica->wait_ready, 'workers serve on the standby');

# --- health says who is who
my $h = $api->request('GET', '/health_check/');
is($h->{json}{checks}{replication}{role}, 'primary', 'the primary says it is the primary (checks.replication.role)');
is($h->{json}{checks}{replication}{replay_lag_bytes}, 0, 'with no replay lag');
$h = $replica->request('GET', '/health_check/');
is($h->{status}, 200, 'health on the standby');
is($h->{json}{checks}{replication}{role}, 'standby', 'the standby says it is a standby');
ok(exists $h->{json}{checks}{replication}{replay_lag_seconds}, 'with its replay lag in seconds');

# --- a write's answer carries the token, as a header and a cookie
my $res = $api->request('POST', '/categories/', { name => 'Fresh' });
is($res->{status}, 201, 'write on the primary');
my $token = $res->{headers}{'x-consistency-token'};
like($token // '', qr{^[0-9A-F]{1,8}/[0-9A-F]{1,8}$}, 'X-Consistency-Token is an LSN');
is($res->{headers}{'set-cookie'}, "X-Consistency-Token=$token; Path=/; SameSite=Lax",
	'and the same token is set as a cookie for the whole site');
my $id = $res->{json}{id_key};
cmp_ok($primary->safe_psql('postgres', "SELECT '$token'::pg_lsn <= pg_current_wal_lsn()"),
	'eq', 't', 'the token is a position the primary has written');

# without the token, the standby serves what it has: the row is not there yet
my $stale = $replica->request('GET', "/categories/id/$id");
is($stale->{status}, 404, 'without a token the standby may be stale (404 for the new row)');
$h = $replica->request('GET', '/health_check/');
cmp_ok($h->{json}{checks}{replication}{replay_lag_bytes}, '>', 0,
	'meanwhile the standby reports replay lag in bytes');

# with it, the standby waits until it has replayed the write
my $t0 = time;
my $fresh = $replica->request('GET', "/categories/id/$id", undef,
	{ 'X-Consistency-Token' => $token });
my $waited = time - $t0;
is($fresh->{status}, 200, 'with the token the standby answers ...');
is($fresh->{json}{name}, 'Fresh', '... with the new row');
note(sprintf('the standby waited %.3f s for its replay', $waited));
is($standby->safe_psql('postgres',
	"SELECT pg_last_wal_replay_lsn() >= '$token'::pg_lsn"), 't', 'the standby has replayed the token');

# the cookie does the same for a browser
$res = $api->request('POST', '/categories/', { name => 'Cookie' });
my $cookie_token = $res->{headers}{'x-consistency-token'};
$fresh = $replica->request('GET', "/categories/id/$res->{json}{id_key}", undef,
	{ Cookie => "theme=dark; X-Consistency-Token=$cookie_token" });
is($fresh->{status}, 200, 'a token sent as a cookie is waited for too');
is($fresh->{json}{name}, 'Cookie', 'and the new row is served');

# lists wait too, and the primary answers a token at once
$res = $api->request('POST', '/categories/', { name => 'Listed' });
$token = $res->{headers}{'x-consistency-token'};
my $list = $replica->request('GET', '/categories/', undef, { 'X-Consistency-Token' => $token });
ok((grep { $_->{name} eq 'Listed' } @{ $list->{json} // [] }), 'a list read with a token includes the write');
is($api->request('GET', "/categories/id/$res->{json}{id_key}", undef,
		{ 'X-Consistency-Token' => $token })->{status}, 200, 'the primary answers a token at once');
is($api->request('GET', '/categories/', undef, { 'X-Consistency-Token' => 'FFFFFFFF/FFFFFFFF' })->{status},
	200, 'a primary has every commit it acknowledged: no wait even for a later position');

# a malformed token is refused, never ignored
for my $bad ('garbage', '0/', '/1', '0/1/2', '-1/0', '1 /0', '123456789/0')
{
	my $r = $replica->request('GET', '/categories/', undef, { 'X-Consistency-Token' => $bad });
	is($r->{status}, 400, "malformed token '$bad': 400");
}
is($replica->request('GET', '/categories/', undef, { Cookie => 'X-Consistency-Token=nope' })->{status},
	400, 'a malformed cookie too');

# --- past replica_wait_timeout: 503 with Retry-After, not stale data
$standby->append_conf('postgresql.conf', "ecommerce_api.replica_wait_timeout = '300ms'\n");
$standby->reload;
sleep 0.5;
$res = $api->request('POST', '/categories/', { name => 'Late' });
$token = $res->{headers}{'x-consistency-token'};
my $late = $replica->request('GET', "/categories/id/$res->{json}{id_key}", undef,
	{ 'X-Consistency-Token' => $token });
is($late->{status}, 503, 'a standby that cannot catch up in time answers 503');
is($late->{headers}{'retry-after'}, '1', 'with Retry-After');
like($late->{json}{detail} // '', qr/not replayed your last write/, 'saying why');
ok($standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$token'::pg_lsn"),
	'the standby replays it later');
is($replica->request('GET', "/categories/id/$res->{json}{id_key}", undef,
		{ 'X-Consistency-Token' => $token })->{status}, 200, 'and then the retry is served');

# a write refused on the standby carries no token
$res = $replica->request('POST', '/categories/', { name => 'Nope' });
is($res->{status}, 503, 'a write on the standby is 503');
ok(!exists $res->{headers}{'x-consistency-token'}, 'and carries no token');

$standby->stop('fast');
$primary->stop('fast');
done_testing();
