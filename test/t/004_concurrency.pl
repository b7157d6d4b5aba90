# Stock is conserved under real concurrency: parallel HTTP clients against
# four workers, then the invariant checked in SQL.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use List::Util qw(shuffle sum);
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $api) = EcommerceApi::start_node('concurrency', workers => 4);

sub post_ok
{
	my ($path, $body) = @_;
	my $res = $api->request('POST', $path, $body);
	is($res->{status}, 201, "POST $path") or diag $res->{content};
	return $res->{json};
}

sub sql { $node->safe_psql('postgres', $_[0]) }

sub statuses
{
	my %n;
	$n{ $_->{status} }++ for @_;
	return \%n;
}

my $cat = post_ok('/categories/', { name => 'Hot items' });
my $client = post_ok('/clients/', { name => 'Ann', lastname => 'Buyer', email => 'ann@shop.example' });
my $bill = post_ok('/bills/', { bill_number => 'B-1', total => 0, date => '2026-11-27',
		payment_type => 1, client_id => $client->{id_key} });

sub new_order
{
	return post_ok('/orders/', { total => 0, delivery_method => 1,
			client_id => $client->{id_key}, bill_id => $bill->{id_key} });
}

sub new_product
{
	my ($name, $stock) = @_;
	return post_ok('/products/', { name => $name, price => 10, stock => $stock,
			category_id => $cat->{id_key} });
}

sub stock { sql("SELECT stock FROM ecommerce_api.products WHERE id_key = $_[0]") }

# --- 100 parallel purchases of a product with stock 10
my $p = new_product('Scarce', 10);
my $order = new_order();
my @res = $api->parallel([ map {
	[ 'POST', '/order_details/', { order_id => $order->{id_key}, product_id => $p->{id_key}, quantity => 1 } ]
} 1 .. 100 ]);
my $st = statuses(@res);
is($st->{201}, 10, 'exactly 10 purchases succeed');
is($st->{409}, 90, 'exactly 90 refused with 409');
is(scalar(grep { $_->{status} >= 500 || $_->{status} == 0 } @res), 0, 'no 5xx, no lost answer');
like((grep { $_->{status} == 409 } @res)[0]{json}{detail},
	qr/^Insufficient stock for product $p->{id_key}\. Requested: 1, Available: 0$/,
	'409 says why');
is(stock($p->{id_key}), '0', 'final stock 0');
is(sql("SELECT count(*) FROM ecommerce_api.order_details WHERE product_id = $p->{id_key}"),
	'10', 'exactly 10 lines');

# --- 50 parallel quantity changes of one line
my $q = new_product('Juggled', 100);
my $line = post_ok('/order_details/', { order_id => $order->{id_key}, product_id => $q->{id_key}, quantity => 5 });
@res = $api->parallel([ map {
	[ 'PUT', "/order_details/id/$line->{id_key}",
		{ order_id => $order->{id_key}, product_id => $q->{id_key}, quantity => 1 + int(rand(20)) } ]
} 1 .. 50 ]);
is(scalar(grep { $_->{status} != 200 } @res), 0, '50 parallel quantity changes all succeed');
is(sql("SELECT p.stock + d.quantity FROM ecommerce_api.products p
		JOIN ecommerce_api.order_details d ON d.product_id = p.id_key
		WHERE d.id_key = $line->{id_key}"), '100', 'stock + line quantity conserved');

# --- parallel deletes of 10 lines restore stock exactly
my $r = new_product('Returned', 50);
my @lines = map {
	post_ok('/order_details/', { order_id => $order->{id_key}, product_id => $r->{id_key}, quantity => 2 })
} 1 .. 10;
is(stock($r->{id_key}), '30', 'stock after 10 lines of 2');
@res = $api->parallel([ map { [ 'DELETE', "/order_details/id/$_->{id_key}" ] } @lines, @lines ]);
my $del = statuses(@res);
is($del->{204}, 10, 'each line deleted once');
is($del->{404}, 10, 'the duplicate deletes find nothing');
is(stock($r->{id_key}), '50', 'stock restored exactly');

# --- 50 parallel checkouts of overlapping baskets in random order
my @hot = map { new_product("Basket item $_", 40) } 1 .. 5;
my $before = sql("SELECT sum(stock) FROM ecommerce_api.products");
@res = $api->parallel([ map {
	my @items = map { { product_id => $_->{id_key}, quantity => 1 + int(rand(3)) } }
	  (shuffle(@hot))[0 .. 1 + int(rand(4))];
	[ 'POST', '/orders/checkout', { client_id => $client->{id_key}, delivery_method => 3,
			payment_type => 2, items => \@items } ]
} 1 .. 50 ]);
my $co = statuses(@res);
is(scalar(grep { $_->{status} >= 500 || $_->{status} == 0 } @res), 0,
	'no 5xx among 50 parallel checkouts') or diag explain $co;
is(($co->{201} // 0) + ($co->{409} // 0), 50, 'every checkout is 201 or 409');
ok($co->{201} > 0, 'some checkouts succeed');
unlike(join(' ', map { $_->{content} // '' } @res), qr/deadlock/i, 'no deadlock error');
for my $h (@hot)
{
	is(sql("SELECT p.stock + coalesce((SELECT sum(d.quantity) FROM ecommerce_api.order_details d
			JOIN ecommerce_api.orders o ON o.id_key = d.order_id
			WHERE d.product_id = p.id_key AND o.status <> 4), 0)
			FROM ecommerce_api.products p WHERE p.id_key = $h->{id_key}"), '40',
		"stock conservation holds for product $h->{id_key}");
}
is(sql("SELECT count(*) FROM ecommerce_api.products WHERE stock < 0"), '0', 'no negative stock');

# --- parallel cancels of one order return its stock once
my $c = new_product('Canceled', 20);
my $o2 = new_order();
post_ok('/order_details/', { order_id => $o2->{id_key}, product_id => $c->{id_key}, quantity => 7 });
is(stock($c->{id_key}), '13', 'stock taken by the line');
@res = $api->parallel([ map { [ 'PUT', "/orders/id/$o2->{id_key}", { status => 4 } ] } 1 .. 20 ]);
is(scalar(grep { $_->{status} >= 500 || $_->{status} == 0 } @res), 0, 'no 5xx among parallel cancels');
is(stock($c->{id_key}), '20', 'stock returned exactly once');
is(sql("SELECT status FROM ecommerce_api.orders WHERE id_key = $o2->{id_key}"), '4', 'order canceled');

$node->stop('fast');
done_testing();
