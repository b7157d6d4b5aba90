# Every route of the contract over HTTP: success status and body shape, the
# documented failures, both path forms and the aliases, and no password ever.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $api) = EcommerceApi::start_node('api', workers => 2);
my @all_contents;

sub call
{
	my ($method, $path, $body) = @_;
	my $res = $api->request($method, $path, $body);
	push @all_contents, $res->{content} // '';
	return $res;
}

sub expect
{
	my ($status, $method, $path, $body, $name) = @_;
	my $res = call($method, $path, $body);
	is($res->{status}, $status, $name // "$method $path -> $status")
	  or diag $res->{content};
	return $res;
}

sub keys_in_order
{
	my ($content) = @_;
	# the top-level keys of the first object, in order of appearance
	my @keys;
	my $depth = 0;
	while ($content =~ /("(?:[^"\\]|\\.)*")\s*:|([{}\[\]])/g)
	{
		if (defined $2) { $depth += ($2 eq '{' || $2 eq '[') ? 1 : -1; next }
		push @keys, substr($1, 1, -1) if $depth == 1;
	}
	return \@keys;
}

sub loc_of { [ map { join '.', @{ $_->{loc} } } @{ $_[0]{json}{detail} } ] }

# ---------------------------------------------------------------- categories
my $res = expect(201, 'POST', '/categories/', { name => 'Electronics', id_key => 999 });
my $cat = $res->{json};
is_deeply(keys_in_order($res->{content}), [qw(id_key name)], 'category keys in order');
isnt($cat->{id_key}, 999, 'id_key in the body is ignored');
expect(201, 'POST', '/categories', { name => 'Books' });
expect(409, 'POST', '/categories/', { name => 'Electronics' }, 'duplicate category name 409');
$res = expect(422, 'POST', '/categories/', { name => '' });
is($res->{json}{detail}[0]{type}, 'string_too_short', 'empty name: string_too_short');
is_deeply(loc_of($res), ['body.name'], 'loc points at the field');
$res = expect(422, 'POST', '/categories/', {});
is($res->{json}{detail}[0]{type}, 'missing', 'missing name: type missing');
$res = expect(422, 'POST', '/categories/', '[1,2]');
is_deeply(loc_of($res), ['body'], 'non-object body refused at loc body');

$res = expect(200, 'GET', '/categories/');
is(scalar @{ $res->{json} }, 2, 'two categories listed');
is($res->{json}[0]{id_key} < $res->{json}[1]{id_key}, 1, 'ordered by id_key');
expect(200, 'GET', "/categories/id/$cat->{id_key}");
expect(200, 'GET', "/categories/$cat->{id_key}", undef, 'alias /R/{id}');
expect(200, 'GET', "/categories/$cat->{id_key}/", undef, 'alias with trailing slash');
$res = expect(404, 'GET', '/categories/id/424242');
is($res->{json}{detail}, 'Entity with id 424242 not found', '404 detail');
$res = expect(422, 'GET', '/categories/id/abc');
is_deeply(loc_of($res), ['path.id'], 'bad path id: loc path.id');
is($res->{json}{detail}[0]{type}, 'int_parsing', 'bad path id: int_parsing');
$res = expect(200, 'PUT', "/categories/id/$cat->{id_key}", { name => 'Electronics & Gadgets' });
is($res->{json}{name}, 'Electronics & Gadgets', 'category renamed');
expect(404, 'PUT', '/categories/id/424242', { name => 'x' });

# list bounds
$res = expect(422, 'GET', '/categories/?limit=0');
is_deeply(loc_of($res), ['query.limit'], 'limit 0: loc query.limit');
expect(422, 'GET', '/categories/?limit=1001');
$res = expect(422, 'GET', '/categories/?skip=-1');
is_deeply(loc_of($res), ['query.skip'], 'skip -1: loc query.skip');
$res = expect(200, 'GET', '/categories/?skip=1&limit=1');
is(scalar @{ $res->{json} }, 1, 'skip and limit applied');

# ---------------------------------------------------------------- products
$res = expect(201, 'POST', '/products/', { name => 'Phone', description => 'A phone',
		price => '199.99', stock => 10, category_id => "$cat->{id_key}" });
my $phone = $res->{json};
is_deeply(keys_in_order($res->{content}),
	[qw(id_key name description price stock category_id category)], 'product keys in order');
is($phone->{price}, 199.99, 'numeric string accepted for price');
is($phone->{category_id}, $cat->{id_key}, 'numeric string accepted for category_id');
is_deeply($phone->{category}, { id_key => $cat->{id_key}, name => 'Electronics & Gadgets' },
	'nested category');
$res = expect(201, 'POST', '/products/', { name => 'Cable 100%_pure', price => 5, stock => 3.0 });
my $cable = $res->{json};
is($cable->{category}, undef, 'no category: null');
is($cable->{stock}, 3, 'integral float accepted for an int');
$res = expect(422, 'POST', '/products/', { name => 'Bad', price => -1, stock => -2 });
is_deeply([ sort @{ loc_of($res) } ], [ 'body.price', 'body.stock' ], 'one item per problem');
$res = expect(404, 'POST', '/products/', { name => 'Orphan', price => 1, category_id => 424242 });
is($res->{json}{detail}, 'Category with id 424242 not found', 'missing category in body: 404');
expect(200, 'GET', "/products/$phone->{id_key}");
expect(200, 'PUT', "/products/id/$phone->{id_key}", { name => 'Phone', price => 189.5,
		stock => 10, category_id => $cat->{id_key} });

# filter
$res = expect(200, 'GET', '/products/filter?search=PHO');
is_deeply([ map { $_->{name} } @{ $res->{json} } ], ['Phone'], 'search is a case-insensitive substring');
$res = expect(200, 'GET', '/products/filter?search=100%25_');
is_deeply([ map { $_->{name} } @{ $res->{json} } ], ['Cable 100%_pure'], '% and _ are literal');
$res = expect(200, 'GET', '/products/filter?search=0%25');
is(scalar @{ $res->{json} }, 1, 'literal % matches only a real %');
$res = expect(200, 'GET', '/products/filter?sort_by=price_asc');
is_deeply([ map { $_->{name} } @{ $res->{json} } ], [ 'Cable 100%_pure', 'Phone' ], 'price_asc');
$res = expect(200, 'GET', '/products/filter');
is($res->{json}[0]{id_key} > $res->{json}[1]{id_key}, 1, 'default order id_key descending');
$res = expect(200, 'GET', "/products/filter?category_id=$cat->{id_key}&min_price=100&max_price=189.5&in_stock_only=true");
is_deeply([ map { $_->{name} } @{ $res->{json} } ], ['Phone'], 'filters combine, bounds inclusive');
$res = expect(422, 'GET', '/products/filter?limit=5000');
is_deeply(loc_of($res), ['query.limit'], 'filter limit bound');

# ---------------------------------------------------------------- clients
$res = expect(201, 'POST', '/api/v1/clients/', { name => 'Ann', lastname => 'Lee',
		email => 'Ann@Example.COM', telephone => '555', password => 's3cret!', is_admin => 1 });
my $ann = $res->{json};
is_deeply(keys_in_order($res->{content}),
	[qw(id_key name lastname email telephone is_admin)], 'client keys in order');
is($ann->{email}, 'Ann@example.com', 'email domain lower-cased');
ok(!$ann->{is_admin}, 'is_admin ignored on input');
expect(409, 'POST', '/clients/', { name => 'Ann2', lastname => 'Lee', email => 'Ann@EXAMPLE.com' },
	'duplicate email (domain case) 409');
$res = expect(422, 'POST', '/clients/', { name => 'X', lastname => 'Y', email => 'not-an-email' });
is_deeply(loc_of($res), ['body.email'], 'bad email: loc body.email');
$res = expect(422, 'POST', '/clients/', { name => '', lastname => 'Y', email => 'z@example.com',
		password => 'hunter2-secret' });
unlike($res->{content}, qr/hunter2-secret/, 'a 422 never echoes the password');
my $bob = expect(201, 'POST', '/clients', { name => 'Bob', lastname => 'Guest', email => 'bob@example.com' })->{json};
expect(200, 'GET', "/api/v1/clients/id/$ann->{id_key}");
expect(200, 'GET', "/api/v1/clients/$ann->{id_key}", undef, 'alias /api/v1/clients/{id}');
expect(200, 'GET', "/clients/$ann->{id_key}", undef, 'alias /clients/{id}');
expect(200, 'GET', '/clients/?limit=10');

$res = expect(200, 'POST', '/api/v1/clients/login', { email => 'Ann@example.com', password => 's3cret!' });
is($res->{json}{id_key}, $ann->{id_key}, 'login returns the client id');
is($res->{json}{name}, 'Ann', 'login returns the name');
$res = expect(401, 'POST', '/clients/login', { email => 'Ann@example.com', password => 'wrong' });
is_deeply($res->{json}, { detail => 'Invalid credentials' }, 'wrong password 401');
expect(401, 'POST', '/clients/login', { email => 'nobody@example.com', password => 'x' }, 'unknown email 401');
expect(401, 'POST', '/clients/login', { email => 'bob@example.com', password => '' }, 'guest cannot log in');

$res = expect(200, 'PUT', "/clients/id/$ann->{id_key}", { name => 'Ann', lastname => 'Lee',
		email => 'ann@example.com', password => 'n3w-pass' });
expect(200, 'POST', '/clients/login', { email => 'ann@example.com', password => 'n3w-pass' },
	'PUT changed the password');

# ---------------------------------------------------------------- addresses
$res = expect(201, 'POST', '/addresses/', { street => 'Main', number => '1', city => 'Town',
		client_id => $ann->{id_key} });
is_deeply(keys_in_order($res->{content}), [qw(id_key street number city client_id)], 'address keys');
my $addr = $res->{json};
expect(201, 'POST', '/addresses/', { city => 'Elsewhere', client_id => $bob->{id_key} });
$res = expect(200, 'GET', "/addresses/?client_id=$ann->{id_key}");
is_deeply([ map { $_->{id_key} } @{ $res->{json} } ], [ $addr->{id_key} ], 'addresses filtered by client');
$res = expect(404, 'POST', '/addresses/', { city => 'X', client_id => 424242 });
is($res->{json}{detail}, 'Client with id 424242 not found', 'missing client in body: 404');

# ---------------------------------------------------------------- bills
$res = expect(201, 'POST', '/bills/', { bill_number => 'F-0001', discount => 0, date => '2026-11-27',
		total => 100, payment_type => 2, client_id => $ann->{id_key} });
my $bill = $res->{json};
is_deeply(keys_in_order($res->{content}),
	[qw(id_key bill_number discount date total payment_type client_id)], 'bill keys');
is($bill->{date}, '2026-11-27', 'date as YYYY-MM-DD');
expect(201, 'POST', '/bills/', { bill_number => 'F-0002', date => '2026-11-27T00:00:00',
		total => 1, payment_type => 1, client_id => $ann->{id_key} }, 'datetime with zero time accepted');
expect(409, 'POST', '/bills/', { bill_number => 'F-0001', date => '2026-11-27', total => 1,
		payment_type => 1, client_id => $ann->{id_key} }, 'duplicate bill number 409');
$res = expect(422, 'POST', '/bills/', { bill_number => 'F-9', date => '2026-11-27', total => 1,
		payment_type => 9, client_id => $ann->{id_key} });
is_deeply(loc_of($res), ['body.payment_type'], 'bad enum: loc');
expect(200, 'GET', "/bills/?client_id=$ann->{id_key}");

# ---------------------------------------------------------------- orders
$res = expect(201, 'POST', '/orders/', { total => 0, delivery_method => 3,
		client_id => $ann->{id_key}, bill_id => $bill->{id_key} });
my $order = $res->{json};
is_deeply(keys_in_order($res->{content}),
	[qw(id_key date total delivery_method status client_id bill_id)], 'order keys');
is($order->{status}, 1, 'status defaults to 1');
like($order->{date}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/, 'ISO datetime without zone');
$res = expect(200, 'PUT', "/orders/id/$order->{id_key}", { status => 2 });
is($res->{json}{status}, 2, 'partial update of status');
is($res->{json}{delivery_method}, 3, 'other fields unchanged');
expect(404, 'POST', '/orders/', { total => 0, delivery_method => 1, client_id => $ann->{id_key},
		bill_id => 424242 }, 'missing bill 404');
$res = expect(200, 'GET', "/orders/?client_id=$ann->{id_key}");
is(scalar @{ $res->{json} }, 1, 'orders filtered by client');

# ---------------------------------------------------------------- order details
$res = expect(201, 'POST', '/order_details/', { quantity => 2, order_id => $order->{id_key},
		product_id => $phone->{id_key} });
my $line = $res->{json};
is_deeply(keys_in_order($res->{content}),
	[qw(id_key quantity price order_id product_id product)], 'order detail keys');
is($line->{price}, 189.5, 'line price defaults to the product price');
is_deeply($line->{product}, { id_key => $phone->{id_key}, name => 'Phone', price => 189.5 },
	'nested product');
is(call('GET', "/products/id/$phone->{id_key}")->{json}{stock}, 8, 'stock decremented');
$res = expect(409, 'POST', '/order-details/', { quantity => 50, order_id => $order->{id_key},
		product_id => $phone->{id_key} });
is($res->{json}{detail}, "Insufficient stock for product $phone->{id_key}. Requested: 50, Available: 8",
	'insufficient stock message');
$res = expect(400, 'POST', '/order_details/', { quantity => 1, price => 10, order_id => $order->{id_key},
		product_id => $phone->{id_key} });
like($res->{json}{detail}, qr/^Price mismatch\. Expected 189\.50?, got 10(\.0+)?$/, 'price mismatch message');
$res = expect(200, 'PUT', "/order-details/id/$line->{id_key}", { quantity => 5,
		order_id => $order->{id_key}, product_id => $phone->{id_key} });
is(call('GET', "/products/$phone->{id_key}")->{json}{stock}, 5, 'quantity change moves the difference');
$res = expect(200, 'GET', "/order_details/?order_id=$order->{id_key}");
is(scalar @{ $res->{json} }, 1, 'lines filtered by order');
expect(200, 'GET', "/order-details/$line->{id_key}", undef, 'alias /order-details/{id}');

# deletes refused while referenced
$res = expect(409, 'DELETE', "/products/id/$phone->{id_key}");
is($res->{json}{detail}, "Cannot delete product $phone->{id_key}: product has associated sales history",
	'product with sales history');
expect(409, 'DELETE', "/categories/id/$cat->{id_key}", undef, 'category with products');
expect(409, 'DELETE', "/clients/id/$ann->{id_key}", undef, 'client with orders');

# cancel returns stock once, and cannot be undone
expect(200, 'PUT', "/orders/id/$order->{id_key}", { status => 4 });
is(call('GET', "/products/$phone->{id_key}")->{json}{stock}, 10, 'cancel returned the stock');
expect(409, 'PUT', "/orders/id/$order->{id_key}", { status => 1 }, 'canceled order cannot come back');

# ---------------------------------------------------------------- reviews
$res = expect(201, 'POST', '/reviews/', { rating => 4.5, comment => 'Great phone, works well',
		product_id => $phone->{id_key} });
is_deeply(keys_in_order($res->{content}), [qw(id_key rating comment product_id)], 'review keys');
my $review = $res->{json};
$res = expect(422, 'POST', '/reviews/', { rating => 6, comment => 'short', product_id => $phone->{id_key} });
is_deeply([ sort @{ loc_of($res) } ], [ 'body.comment', 'body.rating' ], 'rating and comment refused');
$res = expect(200, 'GET', "/reviews/?product_id=$phone->{id_key}");
is(scalar @{ $res->{json} }, 1, 'reviews filtered by product');
expect(204, 'DELETE', "/reviews/id/$review->{id_key}");
expect(404, 'GET', "/reviews/id/$review->{id_key}", undef, 'deleted review is gone');

# ---------------------------------------------------------------- checkout
my $before = call('GET', "/products/$cable->{id_key}")->{json}{stock};
$res = expect(201, 'POST', '/orders/checkout', { client_id => $ann->{id_key}, delivery_method => 1,
		payment_type => 2, items => [ { product_id => $cable->{id_key}, quantity => 2 },
			{ product_id => $phone->{id_key}, quantity => 1 } ] });
my $co = $res->{json};
is_deeply([ sort keys %$co ], [qw(bill order order_details)], 'checkout body');
is($co->{order}{total}, 199.5, 'total computed from product prices');
is(scalar @{ $co->{order_details} }, 2, 'all lines created');
is(call('GET', "/products/$cable->{id_key}")->{json}{stock}, $before - 2, 'checkout took stock');
my $orders_before = $node->safe_psql('postgres', 'SELECT count(*) FROM ecommerce_api.orders');
expect(409, 'POST', '/orders/checkout', { client_id => $ann->{id_key}, delivery_method => 1,
		payment_type => 2, items => [ { product_id => $cable->{id_key}, quantity => 1 },
			{ product_id => $phone->{id_key}, quantity => 999 } ] }, 'short item: 409');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ecommerce_api.orders'), $orders_before,
	'failed checkout wrote nothing');
is(call('GET', "/products/$cable->{id_key}")->{json}{stock}, $before - 2, 'failed checkout took no stock');

# ---------------------------------------------------------------- deletes
expect(204, 'DELETE', "/clients/id/$bob->{id_key}", undef, 'client without orders deleted');
is($node->safe_psql('postgres',
	"SELECT count(*) FROM ecommerce_api.addresses WHERE client_id = $bob->{id_key}"), '0',
	'its addresses went with it');
my $spare = expect(201, 'POST', '/categories/', { name => 'Empty' })->{json};
$res = expect(204, 'DELETE', "/categories/$spare->{id_key}");
is($res->{content} // '', '', '204 has an empty body');
expect(404, 'DELETE', "/categories/$spare->{id_key}", undef, 'second delete 404');

# ---------------------------------------------------------------- never a password
unlike(join("\n", @all_contents), qr/password|\$2[aby]\$/i, 'no response anywhere contains a password');

$node->stop('fast');
done_testing();
