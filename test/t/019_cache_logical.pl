# The answer cache of a logical replication subscriber: changes applied by
# the apply worker move the change generations too.  The apply worker fires
# row triggers only, never statement triggers, so the statement triggers
# alone left the subscriber's kept answers (and their ETags) current for
# ever; the ENABLE REPLICA row triggers of sql/change_tracking.sql move them.
# Each check keeps an answer on the subscriber, changes its data on the
# publisher, waits until the subscriber has applied the change, and asks
# again: the answer must show the change, and the first answer's ETag must
# not be answered 304.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($pub) = EcommerceApi::start_node('publisher', workers => 1,
	conf => "wal_level = logical\nmax_wal_senders = 4\nmax_replication_slots = 4\n");
my ($sub, $api) = EcommerceApi::start_node('subscriber', workers => 1);
for my $node ($pub, $sub)
{
	$node->safe_psql('postgres', 'SELECT ecommerce_api.load_demo_data(1)');
}
$pub->safe_psql('postgres', q{
	CREATE PUBLICATION shop FOR TABLE ecommerce_api.categories, ecommerce_api.products,
		ecommerce_api.reviews});
# the same demo data on both sides: only changes from now on are sent
(my $connstr = $pub->connstr('postgres')) =~ s/'/''/g;
$sub->safe_psql('postgres', qq{
	CREATE SUBSCRIPTION shop CONNECTION '$connstr' PUBLICATION shop WITH (copy_data = false)});
$pub->wait_for_catchup('shop');

# a change on the publisher, then until the subscriber has applied it
sub on_publisher
{
	my ($sql, $applied) = @_;
	$pub->safe_psql('postgres', $sql);
	$pub->wait_for_catchup('shop');
	ok($sub->poll_query_until('postgres', $applied), "applied: $sql");
}

sub get
{
	my ($path, $tag) = @_;
	return $api->request('GET', $path, undef, defined $tag ? { 'If-None-Match' => $tag } : {});
}

# kept, then served from the cache
sub kept
{
	my ($path) = @_;
	my $first = get($path);
	is($first->{status}, 200, "GET $path");
	is(get($path, $first->{headers}{etag})->{status}, 304, "GET $path: its ETag is current");
	return $first;
}

# --- UPDATE: a point read and a list
my $point = kept('/products/id/3');
my $list = kept('/products/?limit=5');
on_publisher(q{UPDATE ecommerce_api.products SET description = 'from the publisher' WHERE id_key = 3},
	q{SELECT description = 'from the publisher' FROM ecommerce_api.products WHERE id_key = 3});
my $res = get('/products/id/3');
is($res->{json}{description}, 'from the publisher', 'UPDATE applied: the point read shows it');
is(get('/products/id/3', $point->{headers}{etag})->{status}, 200,
	'UPDATE applied: the old ETag is not current');
$res = get('/products/?limit=5');
my ($p3) = grep { $_->{id_key} == 3 } @{ $res->{json} };
is($p3 && $p3->{description}, 'from the publisher', 'UPDATE applied: the list shows it');

# --- INSERT: a list
$list = kept('/categories/?limit=1000');
on_publisher(q{INSERT INTO ecommerce_api.categories (name) VALUES ('Replicated')},
	q{SELECT count(*) = 1 FROM ecommerce_api.categories WHERE name = 'Replicated'});
$res = get('/categories/?limit=1000');
ok((grep { $_->{name} eq 'Replicated' } @{ $res->{json} }), 'INSERT applied: the list shows it');
is(get('/categories/?limit=1000', $list->{headers}{etag})->{status}, 200,
	'INSERT applied: the old ETag is not current');

# --- DELETE: a point read
my ($review) = $pub->safe_psql('postgres',
	'SELECT min(id_key) FROM ecommerce_api.reviews');
$point = kept("/reviews/id/$review");
on_publisher(qq{DELETE FROM ecommerce_api.reviews WHERE id_key = $review},
	qq{SELECT count(*) = 0 FROM ecommerce_api.reviews WHERE id_key = $review});
is(get("/reviews/id/$review")->{status}, 404, 'DELETE applied: the point read is 404');

# --- an ordinary write on the subscriber still moves them (the statement
# triggers), and the row triggers do not fire for it
$point = kept('/products/id/4');
$sub->safe_psql('postgres',
	q{UPDATE ecommerce_api.products SET description = 'local' WHERE id_key = 4});
is(get('/products/id/4')->{json}{description}, 'local', 'a local UPDATE: the point read shows it');
is($sub->safe_psql('postgres', q{
	SELECT string_agg(DISTINCT tgenabled::text, ',') FROM pg_trigger
	 WHERE tgname = 'track_replica_rows'}), 'R',
	'the row triggers fire only under session_replication_role = replica');

$sub->safe_psql('postgres', 'DROP SUBSCRIPTION shop');
done_testing();
