# Idempotency-Key on POSTs: a repeated checkout is one order.  The first
# request with a key runs and its answer is stored with the write; a repeat
# replays it (Idempotent-Replayed: true); another request with the key is a
# 422; a request while the first still runs is a 409; keys expire after
# ecommerce_api.idempotency_ttl and are swept; keys are per client when
# auth_mode = required.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $api) = EcommerceApi::start_node('idem', workers => 4);

sub sql { $node->safe_psql('postgres', $_[0]) }

sub post
{
	my ($path, $body, $key, $headers) = @_;
	return $api->request('POST', $path, $body,
		{ %{ $headers // {} }, defined $key ? ('Idempotency-Key' => $key) : () });
}

my $cat = post('/categories/', { name => 'Tools' });
is($cat->{status}, 201, 'category');
my $client = post('/clients/', { name => 'Ann', lastname => 'Lee',
		email => 'ann@example.com', password => 'pw-123456' });
is($client->{status}, 201, 'client');
my $prod = post('/products/', { name => 'Saw', price => 20, stock => 1000,
		category_id => $cat->{json}{id_key} });
is($prod->{status}, 201, 'product with 1000 in stock');
my ($client_id, $product_id) = ($client->{json}{id_key}, $prod->{json}{id_key});

sub checkout_body
{
	my ($quantity) = @_;
	return { client_id => $client_id, delivery_method => 1, payment_type => 1,
		items => [ { product_id => $product_id, quantity => $quantity // 1 } ] };
}

sub orders { sql('SELECT count(*) FROM ecommerce_api.orders') }
sub lines { sql('SELECT count(*) FROM ecommerce_api.order_details') }
sub stock { sql("SELECT stock FROM ecommerce_api.products WHERE id_key = $product_id") }

# --- the same key twice: one order, one stock movement, the same answer
my ($orders0, $lines0, $stock0) = (orders(), lines(), stock());
my $first = post('/orders/checkout', checkout_body(2), 'order-0001');
is($first->{status}, 201, 'first checkout with a key runs');
ok(!exists $first->{headers}{'idempotent-replayed'}, 'and is no replay');
like($first->{headers}{'x-consistency-token'} // '', qr{^[0-9A-F]+/[0-9A-F]+$},
	'its answer carries a consistency token');
my $again = post('/orders/checkout', checkout_body(2), 'order-0001');
is($again->{status}, 201, 'the repeat answers the same status');
is($again->{content}, $first->{content}, 'and the same body, byte for byte');
is($again->{headers}{'idempotent-replayed'}, 'true', 'marked Idempotent-Replayed: true');
like($again->{headers}{'x-consistency-token'} // '', qr{^[0-9A-F]+/[0-9A-F]+$},
	'a replay carries a consistency token too');
is(orders(), $orders0 + 1, 'one order');
is(lines(), $lines0 + 1, 'one order line');
is(stock(), $stock0 - 2, 'one stock movement (2 taken once)');
is(sql(q{SELECT count(*) FROM ecommerce_api.idempotency_keys WHERE key = 'order-0001'}), '1',
	'one record of the key');

# --- the same key with another request: 422, and nothing runs
my $other = post('/orders/checkout', checkout_body(3), 'order-0001');
is($other->{status}, 422, 'same key, another body: 422');
is_deeply($other->{json}{detail}[0]{loc}, [ 'header', 'Idempotency-Key' ],
	'the problem names the header') or diag $other->{content};
is(post('/categories/', { name => 'Other' }, 'order-0001')->{status}, 422,
	'same key on another route: 422');
is(orders(), $orders0 + 1, 'still one order');

# --- malformed keys: 400, nothing runs
# (sent raw: HTTP::Tiny refuses to send some of them)
for my $bad ('', 'has space', 'x' x 256, "caf\xc3\xa9", "tab\there")
{
	my ($res) = $api->parallel([ [ 'POST', '/orders/checkout', checkout_body(1),
				{ 'Idempotency-Key' => $bad } ] ]);
	is($res->{status}, 400, 'malformed key ' . substr($bad, 0, 12) . ': 400')
	  or diag $res->{content};
}
is(post('/categories/', { name => 'K255' }, 'k' x 255)->{status}, 201, 'a 255-character key is fine');
is(orders(), $orders0 + 1, 'malformed keys made no order');

# --- a failed request is not recorded: its retry runs again
my $refused = post('/orders/checkout', checkout_body(5000), 'too-many');
is($refused->{status}, 409, 'a checkout beyond the stock is refused') or diag $refused->{content};
my $refused2 = post('/orders/checkout', checkout_body(5000), 'too-many');
is($refused2->{status}, 409, 'its retry runs again');
ok(!exists $refused2->{headers}{'idempotent-replayed'}, 'and is no replay');

# --- 50 parallel requests with one key: exactly one order
($orders0, $stock0) = (orders(), stock());
my @res = $api->parallel([ map { [ 'POST', '/orders/checkout', checkout_body(1),
				{ 'Idempotency-Key' => 'burst-1' } ] } 1 .. 50 ]);
my %by_status;
$by_status{ $_->{status} }++ for @res;
note('50 parallel answers by status: ' . join(', ', map { "$_ x$by_status{$_}" } sort keys %by_status));
is(($by_status{201} // 0) + ($by_status{409} // 0), 50, 'every answer is 201 or 409');
my @fresh = grep { $_->{status} == 201 && !$_->{headers}{'idempotent-replayed'} } @res;
is(scalar @fresh, 1, 'exactly one of them ran');
is(orders(), $orders0 + 1, 'exactly one order');
is(stock(), $stock0 - 1, 'stock taken once');
my @replays = grep { $_->{status} == 201 && $_->{headers}{'idempotent-replayed'} } @res;
is(scalar(grep { $_->{content} ne $fresh[0]{content} } @replays), 0,
	'every replay among them equals the first answer');
my @busy = grep { $_->{status} == 409 } @res;
like($busy[0]{json}{detail} // '', qr/still being processed/, 'a 409 says the key is busy') if @busy;

# --- a request that holds the key makes the next one 409 at once, not wait
my $holder = $node->background_psql('postgres');
$holder->query_safe(q{BEGIN; SELECT pg_advisory_xact_lock(1161908297, hashtext(':held-key'))});
my $t0 = time;
my $busy = post('/orders/checkout', checkout_body(1), 'held-key');
my $waited = time - $t0;
is($busy->{status}, 409, 'a key held by a running request: 409');
note(sprintf('answered in %.3f s', $waited));
$holder->query_safe('COMMIT');
$holder->quit;
is(post('/orders/checkout', checkout_body(1), 'held-key')->{status}, 201, 'once released, it runs');

# --- an expired key runs again, and expired records are swept
sql(q{ALTER SYSTEM SET ecommerce_api.idempotency_ttl = '1s'});
sql('SELECT pg_reload_conf()');
sleep 0.5;
$orders0 = orders();
my $ttl1 = post('/orders/checkout', checkout_body(1), 'short-lived');
is($ttl1->{status}, 201, 'a key with ttl 1 s');
sleep 1.5;
my $ttl2 = post('/orders/checkout', checkout_body(1), 'short-lived');
is($ttl2->{status}, 201, 'after the ttl, the same key ...');
ok(!exists $ttl2->{headers}{'idempotent-replayed'}, '... is no replay');
isnt($ttl2->{json}{order}{id_key}, $ttl1->{json}{order}{id_key}, '... and makes a new order');
is(orders(), $orders0 + 2, 'two orders');
ok($node->poll_query_until('postgres',
	q{SELECT count(*) = 0 FROM ecommerce_api.idempotency_keys WHERE created_at < now() - interval '1s'}),
	'the sweeper deletes expired records');
sql('ALTER SYSTEM RESET ecommerce_api.idempotency_ttl');
sql('SELECT pg_reload_conf()');

# --- with auth_mode = required, keys are per client
my $bob = post('/clients/', { name => 'Bob', lastname => 'Ray',
		email => 'bob@example.com', password => 'pw-123456' });
sql(q{ALTER SYSTEM SET ecommerce_api.auth_mode = 'required'});
sql('SELECT pg_reload_conf()');
my %token;
for my $who ([ ann => 'ann@example.com' ], [ bob => 'bob@example.com' ])
{
	my $login = post('/clients/login', { email => $who->[1], password => 'pw-123456' });
	$token{ $who->[0] } = $login->{json}{token};
}
# wait until every worker is in required mode
my $deadline = time + 30;
while (time < $deadline)
{
	my @r = $api->parallel([ ([ 'GET', '/orders/' ]) x 8 ]);
	last if !grep { $_->{status} != 401 } @r;
	sleep 0.1;
}
$orders0 = orders();
my $ann = post('/orders/checkout', checkout_body(1), 'shared-key',
	{ Authorization => "Bearer $token{ann}" });
is($ann->{status}, 201, 'Ann checks out with a key') or diag $ann->{content};
my $bob_body = checkout_body(1);
$bob_body->{client_id} = $bob->{json}{id_key};
my $bobs = post('/orders/checkout', $bob_body, 'shared-key',
	{ Authorization => "Bearer $token{bob}" });
is($bobs->{status}, 201, 'Bob uses the same key for his own checkout') or diag $bobs->{content};
ok(!exists $bobs->{headers}{'idempotent-replayed'}, 'his runs: keys are per client');
my $ann2 = post('/orders/checkout', checkout_body(1), 'shared-key',
	{ Authorization => "Bearer $token{ann}" });
is($ann2->{headers}{'idempotent-replayed'}, 'true', "Ann's repeat is a replay");
is($ann2->{content}, $ann->{content}, 'of her own answer');
is(orders(), $orders0 + 2, 'two orders, one each');
is(sql(q{SELECT string_agg(scope, ',' ORDER BY scope) FROM ecommerce_api.idempotency_keys WHERE key = 'shared-key'}),
	join(',', sort($client_id, $bob->{json}{id_key})), 'scoped by the client id of the token');

$node->stop;
done_testing();
