# Conditional GET: cacheable answers carry a strong ETag made of the change
# generations and Cache-Control: no-cache; a current If-None-Match gets 304
# with no body and no transaction; a change by the API or by psql gets 200
# and a new tag; token-dependent answers are never tagged nor kept; a hot
# standby tags and keeps nothing.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $api) = EcommerceApi::start_node('etag', workers => 1,
	init => { allows_streaming => 1 }, conf => "ecommerce_api.statement_timeout = 1s\n");
$node->safe_psql('postgres', 'SELECT ecommerce_api.load_demo_data(1)');

sub get
{
	my ($path, $tag, %headers) = @_;
	$headers{'If-None-Match'} = $tag if defined $tag;
	return $api->request('GET', $path, undef, \%headers);
}

sub metric
{
	my ($name) = @_;
	my ($v) = $api->request('GET', '/metrics')->{content} =~ /^ecommerce_api_cache_${name} (\d+)$/m;
	return $v;
}

# --- a point read: tag, then 304
my $res = get('/products/id/1');
is($res->{status}, 200, 'GET /products/id/1');
my $tag = $res->{headers}{etag};
like($tag, qr/^"[0-9a-f.-]+"$/, 'a strong ETag (quoted, no W/)');
is($res->{headers}{'cache-control'}, 'no-cache', 'Cache-Control: no-cache');

my $not_modified = metric('not_modified_total');
$res = get('/products/id/1', $tag, Origin => 'http://shop.example', 'X-Request-ID' => 'etag-check-1');
is($res->{status}, 304, 'unchanged: 304');
is($res->{content} // '', '', '304 has no body');
is($res->{headers}{etag}, $tag, '304 repeats the tag');
is($res->{headers}{'x-request-id'}, 'etag-check-1', '304 carries the request id');
is($res->{headers}{'access-control-allow-origin'}, '*', '304 carries CORS');
is(metric('not_modified_total'), $not_modified + 1, '304 counted in /metrics');
is(get('/products/id/1', "W/$tag")->{status}, 304, 'weak comparison: W/"tag" matches');
is(get('/products/id/1', qq{"nope", $tag})->{status}, 304, 'a list of tags');
is(get('/products/id/1', '"nope"')->{status}, 200, 'another tag: 200');
is(get('/products/id/1', '*')->{status}, 200, '"*" is answered in full');

# no transaction: with the table locked, a 304 still answers and a miss waits
my $locker = $node->background_psql('postgres');
$locker->query_safe('BEGIN; LOCK TABLE ecommerce_api.products IN ACCESS EXCLUSIVE MODE;');
is(get('/products/id/1', $tag)->{status}, 304, 'a 304 needs no transaction (table locked)');
is(get('/products/id/3')->{status}, 503, 'while a request that runs one times out');
$locker->query_safe('ROLLBACK');
$locker->quit;

# --- changed by the API: 200 and a new tag
$res = get('/products/id/2');
my $tag2 = $res->{headers}{etag};
$res = $api->request('PUT', '/products/id/1',
	{ name => 'Renamed', price => 5, stock => 7, category_id => 1 });
is($res->{status}, 200, 'PUT /products/id/1');
$res = get('/products/id/1', $tag);
is($res->{status}, 200, 'changed by the API: 200');
is($res->{json}{name}, 'Renamed', 'with the new data');
isnt($res->{headers}{etag}, $tag, 'and a new tag');
$tag = $res->{headers}{etag};
is(get('/products/id/2', $tag2)->{status}, 304, 'another product (another row bucket) is still current');

# --- changed by psql: 200 and a new tag
$node->safe_psql('postgres', q{UPDATE ecommerce_api.products SET stock = 99 WHERE id_key = 1});
$res = get('/products/id/1', $tag);
is($res->{status}, 200, 'changed by psql: 200');
is($res->{json}{stock}, 99, 'with the new stock');
isnt($res->{headers}{etag}, $tag, 'and a new tag');

# an embedded row: the product's category renamed by psql
$tag = $res->{headers}{etag};
$node->safe_psql('postgres', q{UPDATE ecommerce_api.categories SET name = 'Renamed category' WHERE id_key = 1});
$res = get('/products/id/1', $tag);
is($res->{status}, 200, 'its category changed: 200');
is($res->{json}{category}{name}, 'Renamed category', 'with the new category name');

# --- lists: a new row, a deleted row, TRUNCATE, COPY
$res = get('/reviews/?limit=1000');
$tag = $res->{headers}{etag};
ok(defined $tag, 'a list has a tag');
is(get('/reviews/?limit=1000', $tag)->{status}, 304, 'list unchanged: 304');
is(get('/reviews/?limit=999', $tag)->{status}, 200, 'the tag is the URL\'s: other arguments, 200');
$res = $api->request('POST', '/reviews/', { rating => 4, comment => 'A fine product indeed', product_id => 2 });
is($res->{status}, 201, 'POST /reviews/');
$res = get('/reviews/?limit=1000', $tag);
is($res->{status}, 200, 'a row added by the API: 200');
$tag = $res->{headers}{etag};
$node->safe_psql('postgres', q{DELETE FROM ecommerce_api.reviews WHERE id_key = (SELECT max(id_key) FROM ecommerce_api.reviews)});
$res = get('/reviews/?limit=1000', $tag);
is($res->{status}, 200, 'a row deleted by psql: 200');
$tag = $res->{headers}{etag};
$node->safe_psql('postgres', q{COPY ecommerce_api.reviews (rating, comment, product_id) FROM PROGRAM 'echo 5,copied in by COPY,3' WITH (FORMAT csv)});
$res = get('/reviews/?limit=1000', $tag);
is($res->{status}, 200, 'rows copied in by COPY: 200');
ok((grep { $_->{comment} eq 'copied in by COPY' } @{ $res->{json} }), 'with the copied row');
$tag = $res->{headers}{etag};
$res = get('/reviews/id/1');
my $review_tag = $res->{headers}{etag};
$node->safe_psql('postgres', 'TRUNCATE ecommerce_api.reviews');
$res = get('/reviews/?limit=1000', $tag);
is($res->{status}, 200, 'TRUNCATE: 200');
is_deeply($res->{json}, [], 'an empty list');
is(get('/reviews/id/1', $review_tag)->{status}, 404, 'a point read after TRUNCATE: 404');

# --- a kept answer is reused: the second identical GET is a hit
my $hits = metric('hits_total');
get('/categories/?limit=3');
get('/categories/?limit=3');
SKIP:
{
	skip 'ecommerce_api.cache_size = 0', 1
	  if $node->safe_psql('postgres', 'SHOW ecommerce_api.cache_size') eq '0';
	cmp_ok(metric('hits_total'), '>', $hits, 'the same GET twice: served from the cache');
}

# --- DDL: an altered function changes every tag
$res = get('/categories/?limit=3');
$tag = $res->{headers}{etag};
$node->safe_psql('postgres', q{ALTER FUNCTION ecommerce_api.api_categories_list(text, text) SET work_mem = '8MB'});
is(get('/categories/?limit=3', $tag)->{status}, 200, 'after DDL in the database: 200');

# --- token-dependent answers: never tagged, never kept
$node->safe_psql('postgres', q{
	ALTER SYSTEM SET ecommerce_api.auth_mode = 'required';
	SELECT pg_reload_conf();
});
sleep 1;
my $login = $api->request('POST', '/api/v1/clients/login',
	{ email => 'admin@example.com', password => 'demo1234' });
is($login->{status}, 200, 'login');
my %auth = (Authorization => "Bearer $login->{json}{token}");
$hits = metric('hits_total');
my $first = get('/orders/id/1', undef, %auth);
is($first->{status}, 200, 'GET /orders/id/1 with a token');
ok(!defined $first->{headers}{etag}, 'no ETag on a token-dependent answer');
is(get('/orders/id/1', $tag, %auth)->{status}, 200, 'If-None-Match never answers it with 304');
is(get('/orders/id/1')->{status}, 401, 'without the token: 401, never a kept answer');
is(metric('hits_total'), $hits, 'nothing served from the cache in required mode');
$node->safe_psql('postgres', q{
	ALTER SYSTEM RESET ecommerce_api.auth_mode;
	SELECT pg_reload_conf();
});
sleep 1;

# --- a hot standby tags and keeps nothing (no trigger fires in replay)
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
my $standby_port = PostgreSQL::Test::Cluster::get_free_port();
$standby->append_conf('postgresql.conf', "ecommerce_api.port = $standby_port\n");
$standby->start;
my $replica = EcommerceApi->new(port => $standby_port);
ok($replica->wait_ready, 'workers serve on the standby');
$res = $replica->request('GET', '/products/id/2');
is($res->{status}, 200, 'GET on the standby');
ok(!defined $res->{headers}{etag}, 'no ETag on the standby');
$node->safe_psql('postgres', q{UPDATE ecommerce_api.products SET stock = 4242 WHERE id_key = 2});
$node->wait_for_catchup($standby);
is($replica->request('GET', '/products/id/2')->{json}{stock}, 4242,
	'the standby answers the replayed write at once');

$standby->stop('fast');
$node->stop('fast');
done_testing();
