# What operators do with a PostgreSQL extension: run it as a least-privilege
# role, pg_dump and restore its data, and scale reads out on a hot standby.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($primary, $api) = EcommerceApi::start_node('primary', workers => 2,
	init => { allows_streaming => 1 });

# --- a least-privilege role, as the README shows it
$primary->safe_psql('postgres', q{
	CREATE ROLE shop_api LOGIN;
	GRANT USAGE ON SCHEMA ecommerce_api TO shop_api;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ecommerce_api TO shop_api;
	GRANT USAGE ON ALL SEQUENCES IN SCHEMA ecommerce_api TO shop_api;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ecommerce_api TO shop_api;
	REVOKE ALL ON ecommerce_api.auth_key FROM shop_api;
	REVOKE EXECUTE ON FUNCTION ecommerce_api.rotate_auth_key() FROM shop_api;
});
$primary->append_conf('postgresql.conf', "ecommerce_api.role = 'shop_api'\n");
$primary->restart;
ok($api->wait_ready, 'workers up as shop_api');
is($primary->safe_psql('postgres',
	q{SELECT DISTINCT usename FROM pg_stat_activity WHERE backend_type = 'ecommerce_api worker'}),
	'shop_api', 'workers run as the configured role');
# the workers have that role's rights and no more: take one away, see it fail
$primary->safe_psql('postgres', 'REVOKE INSERT ON ecommerce_api.categories FROM shop_api');
is($api->request('POST', '/categories/', { name => 'Forbidden' })->{status}, 500,
	'a right the role lacks fails the request: the workers are not superusers');
$primary->safe_psql('postgres', 'GRANT INSERT ON ecommerce_api.categories TO shop_api');

my $cat = $api->request('POST', '/categories/', { name => 'Tools' });
is($cat->{status}, 201, 'the role can create');
my $client = $api->request('POST', '/clients/', { name => 'Dee', lastname => 'Doe',
		email => 'dee@example.com', password => 'pw-123456' });
is($client->{status}, 201, 'the role can hash passwords (pgcrypto)');
my $login = $api->request('POST', '/clients/login', { email => 'dee@example.com', password => 'pw-123456' });
is($login->{status}, 200, 'the role can check passwords');
like($login->{json}{token}, qr/^[\w-]+\.[\w-]+\.[\w-]{43}$/, 'and sign a token with a key it cannot read');
my ($rc, $out, $err) = $primary->psql('postgres', 'SET ROLE shop_api; SELECT key FROM ecommerce_api.auth_key');
like($err, qr/permission denied for table auth_key/, 'the role cannot read the signing key');
my $prod = $api->request('POST', '/products/', { name => 'Hammer', price => 12.5, stock => 4,
		category_id => $cat->{json}{id_key} });
is($prod->{status}, 201, 'product created');
is($api->request('POST', '/orders/checkout', { client_id => $client->{json}{id_key},
		delivery_method => 1, payment_type => 1,
		items => [ { product_id => $prod->{json}{id_key}, quantity => 1 } ] })->{status},
	201, 'the role can check out');

# --- pg_dump keeps the rows of the extension's tables
my $dump = $primary->basedir . '/shop.dump';
$primary->command_ok([ 'pg_dump', '-Fc', '-d', $primary->connstr('postgres'), '-f', $dump ],
	'pg_dump of the shop database');
$primary->safe_psql('postgres', 'CREATE DATABASE restored');
$primary->command_ok([ 'pg_restore', '-d', $primary->connstr('restored'), $dump ],
	'pg_restore into a new database');
is($primary->safe_psql('restored',
	q{SELECT (SELECT count(*) FROM ecommerce_api.categories) || '/' ||
	         (SELECT count(*) FROM ecommerce_api.products) || '/' ||
	         (SELECT count(*) FROM ecommerce_api.clients) || '/' ||
	         (SELECT count(*) FROM ecommerce_api.orders) || '/' ||
	         (SELECT stock FROM ecommerce_api.products)}),
	'1/1/1/1/3', 'rows and stock survive dump and restore');
is($primary->safe_psql('restored',
	q{SET search_path = ecommerce_api, public;
	  SELECT count(*) FROM clients WHERE password = crypt('pw-123456', password)}),
	'1', 'the password hash survives too');
is($primary->safe_psql('restored',
	"SELECT count(*) || '/' || (ecommerce_api._token_verify('$login->{json}{token}') IS NULL)::text FROM ecommerce_api.auth_key"),
	'1/true', 'the signing key is not dumped: the restored database has its own, earlier tokens fail there');

# --- a hot standby serves reads; writes get 503 naming the primary
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
my $standby_port = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', "ecommerce_api.port = $standby_port\n");
$standby->start;
my $replica = EcommerceApi->new(port => $standby_port);
ok($replica->wait_ready, 'workers serve on the standby');

$api->request('POST', '/categories/', { name => 'After backup' });
$primary->wait_for_catchup($standby);
my $res = $replica->request('GET', '/categories/');
is($res->{status}, 200, 'GET on the standby');
is_deeply([ map { $_->{name} } @{ $res->{json} } ], [ 'Tools', 'After backup' ],
	'the standby serves replicated data');
is($replica->request('GET', "/products/id/$prod->{json}{id_key}")->{status}, 200,
	'point read on the standby');
$res = $replica->request('POST', '/categories/', { name => 'Nope' });
is($res->{status}, 503, 'a write on the standby is 503');
like($res->{json}{detail}, qr/read-only standby.*primary/, '503 names the primary');
is($standby->safe_psql('postgres',
	"SELECT ecommerce_api._token_claims('$login->{json}{token}') ->> 'sub'"),
	$client->{json}{id_key}, 'a token issued on the primary verifies on the standby (same key)');

$standby->stop('fast');
$primary->stop('fast');
done_testing();
