# Login tokens and the auth modes over HTTP: in open mode login returns a
# token and no route needs one; in required mode the public routes stay open,
# the others answer 401 (with WWW-Authenticate) without a valid token and 403
# without the right, a client reaches only its own data, an admin everything;
# expired tokens, and tokens from before a key rotation, are refused.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(decode_base64url encode_base64url);
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep time);

my ($node, $api) = EcommerceApi::start_node('auth', workers => 2);
$node->safe_psql('postgres', 'SELECT ecommerce_api.load_demo_data(1)');

sub sql { $node->safe_psql('postgres', $_[0]) }

# The payload of a JWT, decoded.
sub claims
{
	my (undef, $payload) = split /\./, $_[0];
	return $EcommerceApi::JSON->decode(decode_base64url($payload));
}

# call(TOKEN, METHOD, PATH, [BODY]): a request with "Authorization: Bearer
# TOKEN" (none when TOKEN is undef).
sub call
{
	my ($token, $method, $path, $body) = @_;
	return $api->request($method, $path, $body,
		defined $token ? { Authorization => "Bearer $token" } : {});
}

sub expect
{
	my ($status, $token, $method, $path, $body, $name) = @_;
	my $res = call($token, $method, $path, $body);
	is($res->{status}, $status, $name) or diag $res->{content};
	return $res;
}

sub login
{
	my ($email, $password) = @_;
	my $res = $api->request('POST', '/api/v1/clients/login',
		{ email => $email, password => $password });
	is($res->{status}, 200, "login $email") or diag $res->{content};
	return $res;
}

# Change settings and wait until every worker answers by them: poll on fresh
# connections (spread over the workers) until $ready accepts all answers.
sub reconfigure
{
	my ($settings, $request, $ready) = @_;
	sql("ALTER SYSTEM SET $_") for @$settings;
	sql('SELECT pg_reload_conf()');
	my $deadline = time + 30;
	while (time < $deadline)
	{
		my @res = $api->parallel([ ($request) x 8 ]);
		return 1 if !grep { !$ready->($_) } @res;
		sleep 0.1;
	}
	return 0;
}

# A client with orders and another one; their rows.
my $me = sql(q{SELECT client_id FROM ecommerce_api.orders WHERE client_id <> 1
               GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1});
my $other = sql(qq{SELECT min(client_id) FROM ecommerce_api.orders WHERE client_id NOT IN (1, $me)});
my $my_email = sql("SELECT email FROM ecommerce_api.clients WHERE id_key = $me");
my $my_order = sql("SELECT min(id_key) FROM ecommerce_api.orders WHERE client_id = $me");
my $other_order = sql("SELECT min(id_key) FROM ecommerce_api.orders WHERE client_id = $other");
my $my_orders = sql("SELECT count(*) FROM ecommerce_api.orders WHERE client_id = $me");
my $my_address = sql("SELECT min(id_key) FROM ecommerce_api.addresses WHERE client_id = $me");
my $other_address = sql("SELECT min(id_key) FROM ecommerce_api.addresses WHERE client_id = $other");
my $my_bill = sql("SELECT min(id_key) FROM ecommerce_api.bills WHERE client_id = $me");
my $other_bill = sql("SELECT min(id_key) FROM ecommerce_api.bills WHERE client_id = $other");
my $my_lines = sql("SELECT count(*) FROM ecommerce_api.order_details WHERE order_id = $my_order");
my $other_line = sql("SELECT min(id_key) FROM ecommerce_api.order_details WHERE order_id = $other_order");
my $product = sql('SELECT min(id_key) FROM ecommerce_api.products WHERE stock > 5');
my $review = sql('SELECT min(id_key) FROM ecommerce_api.reviews');

# ------------------------------------------------------------------ open mode
is(sql('SHOW ecommerce_api.auth_mode'), 'open', 'open is the default mode');
my $res = login($my_email, 'demo1234');
is_deeply([ $res->{content} =~ /"(\w+)" :/g ], [qw(id_key name token)], 'login answers id_key, name, token');
my $token = $res->{json}{token};
like($token, qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/, 'the token is a JWT (base64url, no padding)');
is_deeply($EcommerceApi::JSON->decode(decode_base64url((split /\./, $token)[0])),
	{ alg => 'HS256', typ => 'JWT' }, 'HS256 header');
my $c = claims($token);
is($c->{sub}, "$me", 'sub is the client id, as a string');
ok(!$c->{admin}, 'a client token is no admin token');
is($c->{exp} - $c->{iat}, 3600, 'it expires after token_lifetime (1 h by default)');
ok(abs($c->{iat} - time) < 30, 'issued now');

expect(200, undef, 'GET', '/orders/', undef, 'open mode: no token needed for a list of orders');
expect(200, undef, 'GET', "/orders/id/$other_order", undef, 'open mode: any order');
expect(200, undef, 'GET', '/clients/', undef, 'open mode: the list of clients');
expect(201, undef, 'POST', '/categories/', { name => 'Open' }, 'open mode: catalog write');
expect(200, 'garbage', 'GET', '/orders/', undef, 'open mode: a bad token is not even looked at');
$res = $api->request('POST', '/clients/login', { email => $my_email, password => 'wrong' });
is($res->{status}, 401, 'wrong password 401');
is($res->{headers}{'www-authenticate'}, 'Bearer', 'every 401 carries WWW-Authenticate');

# -------------------------------------------------------------- required mode
ok(reconfigure([q{ecommerce_api.auth_mode = 'required'}], [ 'GET', '/orders/' ],
		sub { $_[0]{status} == 401 }),
	'auth_mode = required applies on reload');

# public routes need no token
for my $path ('/products/', '/products/id/1', '/products/filter?limit=5&sort_by=price_asc',
	'/categories/', '/categories/id/1', '/reviews/', "/reviews/id/$review", '/reviews/?product_id=1',
	'/health_check/', '/metrics')
{
	expect(200, undef, 'GET', $path, undef, "public without a token: GET $path");
}
expect(200, 'garbage', 'GET', '/products/', undef, 'a public route does not look at the token');
expect(201, undef, 'POST', '/api/v1/clients/', { name => 'New', lastname => 'Comer',
		email => 'new.comer@example.com', password => 'pw-123456' }, 'registration is public');
$token = login($my_email, 'demo1234')->{json}{token};
my $admin_token = login('admin@example.com', 'demo1234')->{json}{token};
is(claims($admin_token)->{admin}, 1, 'the demo admin gets admin = true');
is(claims($admin_token)->{sub}, '1', 'the demo admin is client 1');

# no token: 401 with the challenge
for my $r ([ 'GET', '/orders/' ], [ 'GET', '/clients/' ], [ 'GET', "/api/v1/clients/id/$me" ],
	[ 'GET', "/addresses/id/$my_address" ], [ 'POST', '/categories/', { name => 'X' } ],
	[ 'DELETE', "/reviews/id/$review" ], [ 'POST', '/reviews/', { rating => 5, product_id => 1 } ],
	[ 'POST', '/orders/checkout', { client_id => $me, delivery_method => 1, payment_type => 1,
		items => [ { product_id => $product, quantity => 1 } ] } ])
{
	$res = call(undef, @$r);
	is($res->{status}, 401, "no token: $r->[0] $r->[1] 401");
	is_deeply($res->{json}, { detail => 'Not authenticated' }, '... Not authenticated');
	is($res->{headers}{'www-authenticate'}, 'Bearer', '... WWW-Authenticate: Bearer');
}
$res = $api->request('GET', '/orders/', undef, { Authorization => "Basic $token" });
is($res->{status}, 401, 'another scheme is no bearer token');
is(call($token, 'GET', '/orders/')->{status}, 200, 'with the token: 200');
is($api->request('GET', '/orders/', undef, { Authorization => "bearer  $token" })->{status}, 200,
	'the scheme is case-insensitive');

# bad tokens: 401 invalid_token
my ($h, $p, $s) = split /\./, $token;
my $forged = $h . '.' . encode_base64url($EcommerceApi::JSON->encode({ %{ claims($token) }, admin => JSON::PP::true }))
  . ".$s";
my $expired = sql(qq{SELECT ecommerce_api._token_sign(json_build_object('sub', '$me', 'admin', false,
                       'iat', floor(extract(epoch FROM now())) - 7200, 'exp', floor(extract(epoch FROM now())) - 10))});
for my $bad ([ 'garbage', 'garbage' ], [ 'a tampered signature', "$h.$p." . reverse($s) ],
	[ 'a tampered payload (admin: true)', $forged ], [ 'an expired token', $expired ],
	[ 'a token without signature', "$h.$p." ])
{
	$res = call($bad->[1], 'GET', "/orders/id/$my_order");
	is($res->{status}, 401, "$bad->[0]: 401");
	is($res->{json}{detail}, 'Invalid or expired token', '... Invalid or expired token');
	is($res->{headers}{'www-authenticate'}, 'Bearer error="invalid_token"', '... error="invalid_token"');
}

# token_lifetime: a token of 1 s, refused once it is 2 s old
ok(reconfigure([q{ecommerce_api.token_lifetime = '1s'}],
		[ 'POST', '/clients/login', { email => $my_email, password => 'demo1234' } ],
		sub { my $t = $_[0]{json}{token}; $t && claims($t)->{exp} - claims($t)->{iat} == 1 }),
	'token_lifetime applies to the next login after a reload');
my $short = login($my_email, 'demo1234')->{json}{token};
sleep 2.1;
$res = call($short, 'GET', "/orders/id/$my_order");
is($res->{status}, 401, 'a token past its lifetime is refused');
is($res->{json}{detail}, 'Invalid or expired token', '... as expired');
ok(reconfigure(['ecommerce_api.token_lifetime = 3600'],
		[ 'POST', '/clients/login', { email => $my_email, password => 'demo1234' } ],
		sub { my $t = $_[0]{json}{token}; $t && claims($t)->{exp} - claims($t)->{iat} == 3600 }),
	'back to 1 h');

# a client token: its own data, and nothing else
expect(200, $token, 'GET', "/orders/id/$my_order", undef, 'own order: 200');
$res = expect(403, $token, 'GET', "/orders/id/$other_order", undef, "another client's order: 403");
is_deeply($res->{json}, { detail => 'Not enough permissions' }, '403 detail');
ok(!exists $res->{headers}{'www-authenticate'}, 'a 403 carries no challenge');
expect(200, $token, 'GET', "/addresses/id/$my_address", undef, 'own address: 200');
expect(403, $token, 'GET', "/addresses/id/$other_address", undef, "another client's address: 403");
expect(200, $token, 'GET', "/bills/id/$my_bill", undef, 'own bill: 200');
expect(403, $token, 'DELETE', "/bills/id/$other_bill", undef, "another client's bill: 403");
expect(200, $token, 'GET', "/api/v1/clients/id/$me", undef, 'own client record: 200');
expect(403, $token, 'GET', "/clients/$other", undef, "another client's record (alias path): 403");
expect(403, $token, 'GET', '/clients/', undef, 'the list of clients: 403');
expect(404, $token, 'GET', '/orders/id/999999', undef, 'a missing order stays 404');
expect(422, $token, 'GET', '/orders/id/abc', undef, 'a bad id stays 422');

# scoped lists
$res = expect(200, $token, 'GET', '/orders/?limit=1000', undef, 'own orders: 200');
is(scalar @{ $res->{json} }, $my_orders, '... all of them');
is_deeply([ grep { $_->{client_id} != $me } @{ $res->{json} } ], [], '... and only them');
expect(200, $token, 'GET', "/orders/?client_id=$me", undef, 'own client_id filter: 200');
expect(403, $token, 'GET', "/orders/?client_id=$other", undef, "another client's filter: 403");
for my $r ('addresses', 'bills')
{
	$res = expect(200, $token, 'GET', "/$r/", undef, "own $r: 200");
	ok(@{ $res->{json} } > 0 && !(grep { $_->{client_id} != $me } @{ $res->{json} }),
		"... scoped to the caller");
}
$res = expect(200, $token, 'GET', "/order_details/?order_id=$my_order", undef, 'lines of an own order: 200');
is(scalar @{ $res->{json} }, $my_lines, '... all of them');
expect(403, $token, 'GET', "/order-details/?order_id=$other_order", undef, "lines of another's order: 403");
expect(403, $token, 'GET', '/order_details/', undef, 'all lines: 403');
expect(403, $token, 'GET', "/order_details/id/$other_line", undef, "another's line: 403");

# writes
my $checkout = { delivery_method => 1, payment_type => 2, items => [ { product_id => $product, quantity => 1 } ] };
expect(403, $token, 'POST', '/orders/checkout', { %$checkout, client_id => $other }, 'checkout for another client: 403');
$res = expect(201, $token, 'POST', '/orders/checkout', { %$checkout, client_id => $me }, 'checkout for oneself: 201');
expect(200, $token, 'GET', "/orders/id/$res->{json}{order}{id_key}", undef, 'the new order is the buyer\'s');
expect(201, $token, 'POST', '/addresses/', { street => 'Here', city => 'Town', client_id => $me }, 'own address: 201');
expect(403, $token, 'POST', '/addresses/', { street => 'There', city => 'Town', client_id => $other },
	"an address for another client: 403");
expect(403, $token, 'PUT', "/orders/id/$my_order", { client_id => $other }, 'giving an order away: 403');
expect(403, $token, 'PUT', "/orders/id/$my_order", { bill_id => $other_bill }, "naming another's bill: 403");
expect(200, $token, 'PUT', "/orders/id/$my_order", { delivery_method => 2 }, 'changing an own order: 200');
expect(403, $token, 'POST', '/categories/', { name => 'Mine' }, 'catalog write: 403');
expect(403, $token, 'PUT', "/products/id/$product", { name => 'Mine', price => 1 }, 'product write: 403');
$res = expect(201, $token, 'POST', '/reviews/', { rating => 4, comment => 'Quite good indeed.', product_id => $product },
	'any client may review: 201');
expect(403, $token, 'DELETE', "/reviews/id/$res->{json}{id_key}", undef, 'review changes are for admins: 403');

# a standard HS256 JWT: another implementation (Digest::SHA) with the key
# checks the server's tokens, and the server takes the ones it makes
my $key = pack 'H*', sql(q{SELECT encode(key, 'hex') FROM ecommerce_api.auth_key});
($h, $p, $s) = split /\./, $token;
is(encode_base64url(hmac_sha256("$h.$p", $key)), $s, "the server's signature is HMAC-SHA256 over header.payload");
my $header = encode_base64url('{"alg":"HS256","typ":"JWT"}');
my $payload = encode_base64url($EcommerceApi::JSON->encode(
	{ sub => "$me", admin => JSON::PP::false, iat => int(time), exp => int(time) + 60 }));
my $minted = "$header.$payload." . encode_base64url(hmac_sha256("$header.$payload", $key));
expect(200, $minted, 'GET', "/orders/id/$my_order", undef, 'a token made elsewhere with the key is accepted');
expect(403, $minted, 'GET', "/orders/id/$other_order", undef, '... with the same rights');

# the admin token: everything
expect(200, $admin_token, 'GET', "/orders/id/$other_order", undef, "admin: another client's order");
$res = expect(200, $admin_token, 'GET', '/clients/?limit=1000', undef, 'admin: the list of clients');
ok(@{ $res->{json} } >= 50, '... all of them');
$res = expect(200, $admin_token, 'GET', '/orders/?limit=1000', undef, 'admin: all orders');
my %owners = map { $_->{client_id} => 1 } @{ $res->{json} };
ok(keys %owners > 2, '... of many clients');
expect(200, $admin_token, 'GET', '/order_details/', undef, 'admin: all lines');
expect(201, $admin_token, 'POST', '/categories/', { name => 'Admin made' }, 'admin: catalog write');
expect(204, $admin_token, 'DELETE', "/reviews/id/$review", undef, 'admin: review delete');
expect(201, $admin_token, 'POST', '/orders/checkout', { %$checkout, client_id => $other }, 'admin: checkout for anyone');

# key rotation: earlier tokens stop working, new logins work
expect(200, $token, 'GET', "/orders/id/$my_order", undef, 'before the rotation: 200');
sql('SELECT ecommerce_api.rotate_auth_key()');
$res = call($token, 'GET', "/orders/id/$my_order");
is($res->{status}, 401, 'a token from before the rotation: 401');
is($res->{headers}{'www-authenticate'}, 'Bearer error="invalid_token"', '... as an invalid token');
expect(401, $admin_token, 'GET', '/clients/', undef, 'admin tokens too');
$token = login($my_email, 'demo1234')->{json}{token};
expect(200, $token, 'GET', "/orders/id/$my_order", undef, 'a new login works');

# search_path hijacking: functions planted in public as better matches for
# built-ins the policy and the token functions call (cardinality(text[]) beats
# pg_catalog.cardinality(anyarray), convert_to(text, text) beats
# pg_catalog.convert_to(text, name) for 'UTF8') are never called: the workers
# see pg_catalog only, and the pinned functions too
sql(q{
	CREATE TABLE public.hijacked (what text);
	CREATE FUNCTION public.cardinality(text[]) RETURNS integer LANGUAGE plpgsql AS
		$$BEGIN INSERT INTO public.hijacked VALUES ('cardinality'); RETURN 1; END$$;
	CREATE FUNCTION public.convert_to(text, text) RETURNS bytea LANGUAGE plpgsql AS
		$$BEGIN INSERT INTO public.hijacked VALUES ('convert_to'); RETURN '\x00'; END$$;
	CREATE FUNCTION public.convert_from(bytea, text) RETURNS text LANGUAGE plpgsql AS
		$$BEGIN INSERT INTO public.hijacked VALUES ('convert_from'); RETURN '{}'; END$$;
});
$token = login($my_email, 'demo1234')->{json}{token};
like($token, qr/^[\w-]+\.[\w-]+\.[\w-]{43}$/, 'with planted functions: login signs a token');
expect(200, $token, 'GET', "/orders/id/$my_order", undef, '... that verifies');
expect(201, $token, 'POST', '/addresses/', { street => 'Safe', city => 'Town', client_id => $me },
	'... and passes the policy on a write (cardinality)');
is(sql('SELECT count(*) FROM public.hijacked'), '0', 'no planted function ran');
sql('DROP TABLE public.hijacked CASCADE; DROP FUNCTION public.cardinality(text[]), public.convert_to(text, text), public.convert_from(bytea, text)');

# back to open
ok(reconfigure([q{ecommerce_api.auth_mode = 'open'}], [ 'GET', '/orders/' ],
		sub { $_[0]{status} == 200 }),
	'auth_mode = open applies on reload: no token needed again');

$node->stop('fast');
done_testing();
