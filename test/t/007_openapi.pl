# GET /openapi.json, GET /docs (Swagger UI) and GET /docs/static, and the
# document kept honest against the server: every operation it describes is
# called (valid requests built from its schemas, and invalid ones), and every
# answer must be a status the
# operation lists, with the documented content type and, for a success,
# a body of the documented schema.  Conversely every route of the contract
# is in the document.
use strict;
use warnings;

use B;
use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

my ($node, $api) = EcommerceApi::start_node('openapi', workers => 2);
$node->safe_psql('postgres', 'SELECT ecommerce_api.load_demo_data(1)');
my $version = $node->safe_psql('postgres',
	q{SELECT extversion FROM pg_extension WHERE extname = 'ecommerce_api'});

# ------------------------------------------------------------ the document
my $res = $api->request('GET', '/openapi.json');
is($res->{status}, 200, 'GET /openapi.json 200');
like($res->{headers}{'content-type'}, qr{^application/json\b}, 'served as application/json');
my $doc = $res->{json};
ok(ref $doc eq 'HASH', 'the document is a JSON object') or BAIL_OUT('no document');
is($doc->{openapi}, '3.1.0', 'OpenAPI 3.1.0');
is($doc->{info}{version}, $version, 'info.version is the extension version');
is($api->request('GET', '/openapi.json/')->{status}, 200, 'also with a trailing slash');
$res = $api->request('POST', '/openapi.json', {});
is($res->{status}, 405, 'POST /openapi.json is 405');
is($res->{headers}{allow}, 'GET, OPTIONS', '405 lists the methods');

# Follow "#/components/..." references.
sub resolve
{
	my ($node) = @_;
	while (ref $node eq 'HASH' && defined $node->{'$ref'})
	{
		my $target = $doc;
		$target = $target->{$_} for split m{/}, substr($node->{'$ref'}, 2);
		die "unresolved $node->{'$ref'}" unless defined $target;
		$node = $target;
	}
	return $node;
}

# ------------------------------------------ the contract's routes, both ways
my @contract;
for my $base (qw(/categories /products /api/v1/clients /addresses /bills /orders /order_details /reviews))
{
	push @contract, "GET $base/", "POST $base/", "GET $base/id/{id}", "PUT $base/id/{id}",
	  "DELETE $base/id/{id}";
}
push @contract, 'POST /api/v1/clients/login', 'GET /products/filter', 'POST /orders/checkout',
  'GET /health_check/', 'GET /metrics', 'GET /openapi.json', 'GET /docs', 'GET /docs/static', 'GET /live',
  'GET /ready';

my @operations;    # [method, path, operation], in the document's order
for my $path (sort keys %{ $doc->{paths} })
{
	for my $method (sort keys %{ $doc->{paths}{$path} })
	{
		push @operations, [ uc $method, $path, $doc->{paths}{$path}{$method} ];
	}
}
my %documented = map { ("$_->[0] $_->[1]" => 1) } @operations;
my %in_contract = map { ($_ => 1) } @contract;
is_deeply([ grep { !$documented{$_} } @contract ], [], 'every route of the contract is documented');
is_deeply([ grep { !$in_contract{$_} } sort keys %documented ], [], 'the document has no other route');

# --------------------------------------------- values built from the schemas
my $serial = 0;

# A valid value for a schema: the required fields of an object, the first
# example, enum value or a value within the bounds otherwise; ids are 1 (the
# demo data has a row 1 of everything).
sub example
{
	my ($schema, $name) = @_;
	$schema = resolve($schema);
	if ($schema->{anyOf})
	{
		my ($first) = grep { ($_->{type} // '') ne 'null' } @{ $schema->{anyOf} };
		return example($first, $name);
	}
	return $schema->{examples}[0] if $schema->{examples};
	return $schema->{enum}[0] if $schema->{enum};
	my $type = $schema->{type};
	($type) = grep { $_ ne 'null' } @$type if ref $type;
	if ($type eq 'object')
	{
		return { map { ($_ => example($schema->{properties}{$_}, $_)) } @{ $schema->{required} // [] } };
	}
	if ($type eq 'array')
	{
		return [ map { example($schema->{items}) } 1 .. ($schema->{minItems} // 1) ];
	}
	if ($type eq 'string')
	{
		$serial++;
		return "2026-01-02" if ($schema->{format} // '') eq 'date';
		return "openapi$serial\@example.com" if ($schema->{format} // '') eq 'email';
		my $s = "v$serial";
		$s .= 'x' x (($schema->{minLength} // 1) - length $s) if length $s < ($schema->{minLength} // 1);
		return substr($s, 0, $schema->{maxLength} // length $s);
	}
	if ($type eq 'integer' || $type eq 'number')
	{
		return $schema->{exclusiveMinimum} + 1 if defined $schema->{exclusiveMinimum};
		return $schema->{minimum} if defined $schema->{minimum} && $schema->{minimum} > 0;
		return 1;
	}
	return JSON::PP::true if $type eq 'boolean';
	die "no example for " . $EcommerceApi::JSON->encode($schema);
}

# Whether a decoded JSON scalar was a number (JSON::PP decodes numbers as
# numbers and strings as strings; Perl keeps the difference in its flags).
sub is_number
{
	my ($v) = @_;
	my $flags = B::svref_2object(\$v)->FLAGS;
	return ($flags & (B::SVp_IOK | B::SVp_NOK)) && !($flags & B::SVp_POK);
}

sub type_ok
{
	my ($type, $v) = @_;
	return !defined $v if $type eq 'null';
	return 0 unless defined $v;
	return ref $v eq 'HASH' if $type eq 'object';
	return ref $v eq 'ARRAY' if $type eq 'array';
	return JSON::PP::is_bool($v) if $type eq 'boolean';
	return 0 if ref $v;
	return is_number($v) if $type eq 'number';
	return is_number($v) && $v == int($v) if $type eq 'integer';
	return !is_number($v) if $type eq 'string';
	return 0;
}

# The problems of a decoded value against a schema.
sub shape_problems
{
	my ($schema, $v, $at) = @_;
	$schema = resolve($schema);
	if ($schema->{anyOf})
	{
		for my $branch (@{ $schema->{anyOf} })
		{
			return () unless shape_problems($branch, $v, $at);
		}
		return ("$at: matches no branch of anyOf");
	}
	if (defined(my $type = $schema->{type}))
	{
		my @types = ref $type ? @$type : ($type);
		return ("$at: not " . join(' or ', @types))
		  unless grep { type_ok($_, $v) } @types;
	}
	if ($schema->{enum} && defined $v && !grep { $_ eq $v } @{ $schema->{enum} })
	{
		return ("$at: $v not in enum");
	}
	my @problems;
	if (ref $v eq 'HASH')
	{
		push @problems, map { "$at.$_ missing" } grep { !exists $v->{$_} } @{ $schema->{required} // [] };
		for my $k (sort keys %{ $schema->{properties} // {} })
		{
			push @problems, shape_problems($schema->{properties}{$k}, $v->{$k}, "$at.$k")
			  if exists $v->{$k};
		}
	}
	elsif (ref $v eq 'ARRAY' && $schema->{items})
	{
		push @problems, shape_problems($schema->{items}, $v->[$_], "$at\[$_]") for 0 .. $#$v;
	}
	return @problems;
}

# -------------------------------------------------- calling every operation

# Send one request and check the answer against the operation.
sub check_answer
{
	my ($op, $method, $url, $body, $what, $expect) = @_;
	my $res = $api->request($method, $url, $body);
	my $status = $res->{status};
	my $name = "$method $url ($what) -> $status";
	my $response = $op->{responses}{$status};
	ok($response, "$name is a status the operation lists")
	  or diag "lists " . join(', ', sort keys %{ $op->{responses} }) . "; got $res->{content}";
	is($status, $expect, "$name is $expect") if defined $expect;
	# the route exists: never the unknown-path answer
	isnt($res->{json}{detail} // '', 'Not Found', "$name: the path is served") if ref $res->{json} eq 'HASH';
	return $res unless $response;

	$response = resolve($response);
	my ($media_type) = keys %{ $response->{content} // {} };
	if (!defined $media_type)
	{
		is($res->{content} // '', '', "$name: no body, as documented");
		return $res;
	}
	my ($sent_type) = split /;/, $res->{headers}{'content-type'} // '';
	is($sent_type, $media_type, "$name: Content-Type $media_type");
	if ($media_type eq 'application/json')
	{
		my @problems = shape_problems($response->{content}{$media_type}{schema}, $res->{json}, 'body');
		is_deeply(\@problems, [], "$name: body of the documented schema")
		  or diag $res->{content};
	}
	return $res;
}

# Query values that break a parameter's documented schema.
sub bad_values
{
	my ($schema) = @_;
	my @bad;
	push @bad, $schema->{minimum} - 1 if defined $schema->{minimum};
	push @bad, $schema->{maximum} + 1 if defined $schema->{maximum};
	push @bad, 'bogus' if $schema->{enum};
	push @bad, 'abc' if ($schema->{type} // '') =~ /^(integer|number|boolean)$/;
	return @bad;
}

# Answers the generic requests below do not reach: a login that succeeds (before
# they change client 1), a list filtered by its parent, a filter with every
# parameter.
my %op = map { ("$_->[0] $_->[1]" => $_->[2]) } @operations;
check_answer($op{'POST /api/v1/clients/login'}, 'POST', '/api/v1/clients/login',
	{ email => 'admin@example.com', password => 'demo1234' }, 'demo admin', 200);
check_answer($op{'GET /orders/'}, 'GET', '/orders/?client_id=1&skip=0&limit=5', undef, 'by client', 200);
check_answer($op{'GET /products/filter'}, 'GET',
	'/products/filter?search=a&category_id=1&min_price=1&max_price=1000&in_stock_only=true&sort_by=price_asc&skip=0&limit=3',
	undef, 'every filter', 200);

my $checked = 0;
my %created;    # collection path => id_key of the row its valid POST made
# writes after reads, deletes last, so that row 1 exists while it is needed
my %rank = (GET => 0, POST => 1, PUT => 2, DELETE => 3);
for my $o (sort { $rank{ $a->[0] } <=> $rank{ $b->[0] } } @operations)
{
	my ($method, $path, $op) = @$o;
	my $url = $path =~ s/\{id\}/1/r;
	# a DELETE removes the row its collection's POST made below (row 1 may
	# be referenced, and then rightly refused with 409)
	my ($collection) = $path =~ m{^(.*)/id/\{id\}$};
	$url = "$collection/id/$created{$collection}"
	  if $method eq 'DELETE' && $collection && $created{$collection};
	my $body_schema = $op->{requestBody} && $op->{requestBody}{content}{'application/json'}{schema};
	my $body = $body_schema && example($body_schema);
	my @params = map { resolve($_) } @{ $op->{parameters} // [] };

	# a valid request succeeds: the operation's one 2xx status, never just any
	# it lists (a login with made-up credentials is refused: the demo admin's
	# succeeds above)
	my ($success) = grep { /^2\d\d$/ } sort keys %{ $op->{responses} };
	$success = undef if $path =~ m{/login$};
	my $valid = check_answer($op, $method, $url, $body, 'valid', $success);
	$created{ $path =~ s{/$}{}r } = $valid->{json}{id_key}
	  if $method eq 'POST' && ref $valid->{json} eq 'HASH' && $valid->{json}{id_key};
	note "$method $path with a valid request: $valid->{status}";
	$checked++;
	if ($body_schema)
	{
		# the same again: a duplicate where names must be unique
		check_answer($op, $method, $url, $body, 'the same body again') if $method eq 'POST';
		check_answer($op, $method, $url, '[]', 'body not an object', 422);
		check_answer($op, $method, $url, '{"broken', 'malformed JSON', 422);
	}
	if ($path =~ /\{id\}/)
	{
		check_answer($op, $method, $path =~ s/\{id\}/abc/r, $body, 'id not an integer', 422);
		check_answer($op, $method, $path =~ s/\{id\}/987654321/r, $body, 'no such id', 404);
	}
	for my $p (grep { $_->{in} eq 'query' } @params)
	{
		for my $bad (bad_values($p->{schema}))
		{
			check_answer($op, $method, "$url?$p->{name}=$bad", $body, "$p->{name}=$bad", 422);
		}
	}
}
is($checked, scalar @contract, 'every operation was called');

# ------------------------------------------------------------ /docs/static
$res = $api->request('GET', '/docs/static');
is($res->{status}, 200, 'GET /docs/static 200');
is($res->{headers}{'content-type'}, 'text/html; charset=utf-8', 'served as HTML');
my $html = $res->{content};
like($html, qr{^<!DOCTYPE html>}, 'an HTML document');
is_deeply([ grep { index($html, "<code>$_</code>") < 0 } sort keys %{ $doc->{paths} } ], [],
	'every path is on the page');
is_deeply([ grep { index($html, qq{id="op-$_->[2]{operationId}"}) < 0 } @operations ], [],
	'every operation has its section');
unlike($html, qr{<script}i, 'no script');
unlike($html, qr{https?:|<link|src=|url\(}i, 'nothing loaded from elsewhere');
like($html, qr{Bearer &lt;token&gt;}, 'the document\'s text is escaped');
is($api->request('GET', '/docs/static/')->{status}, 200, '/docs/static/ too');

# ------------------------------------------------------ /docs: Swagger UI
$res = $api->request('GET', '/docs');
is($res->{status}, 200, 'GET /docs 200');
is($res->{headers}{'content-type'}, 'text/html; charset=utf-8', 'served as HTML');
$html = $res->{content};
my $cdn = 'https://cdn.jsdelivr.net/npm/swagger-ui-dist@5';
like($html, qr{<script src="\Q$cdn\E/swagger-ui-bundle\.js"></script>}, 'Swagger UI from the CDN by default');
like($html, qr{<link rel="stylesheet" type="text/css" href="\Q$cdn\E/swagger-ui\.css">}, 'and its stylesheet');
like($html, qr{url: "/openapi\.json"}, 'pointed at /openapi.json');
like($html, qr{persistAuthorization: true}, 'the token is kept across reloads');
like($html, qr{href="/docs/static"}, 'links the static page for machines without scripts');
is($api->request('GET', '/docs/')->{status}, 200, '/docs/ too');
is($doc->{components}{securitySchemes}{bearerAuth}{scheme}, 'bearer', 'Authorize: a bearer scheme');
# Swagger UI renders descriptions as Markdown and drops what looks like an
# HTML tag: every <placeholder> is inside a code span
my @bare;
my $walk;
$walk = sub {
	my ($node) = @_;
	if (ref $node eq 'HASH') { $walk->($_) for values %$node }
	elsif (ref $node eq 'ARRAY') { $walk->($_) for @$node }
	elsif (defined $node)
	{
		(my $outside = $node) =~ s/`[^`]*`//g;
		push @bare, $1 while $outside =~ /(<[a-z][^>]*>)/g;
	}
};
$walk->($doc);
is_deeply(\@bare, [], 'no <placeholder> outside a code span in the description');

# the base URL is a reload setting, and a bad one is refused
$node->append_conf('postgresql.conf', "ecommerce_api.docs_assets_url = 'http://127.0.0.1:1/assets/'\n");
$node->reload;
my $switched = 0;
for (1 .. 100)
{
	$switched = 1, last
	  if $api->request('GET', '/docs')->{content} =~ m{src="http://127\.0\.0\.1:1/assets/swagger-ui-bundle\.js"};
	sleep 0.1;
}
ok($switched, 'docs_assets_url is read again on reload (trailing / dropped)');
my ($ret, $out, $err) = $node->psql('postgres', q{ALTER SYSTEM SET ecommerce_api.docs_assets_url = 'javascript:alert(1)'});
isnt($ret, 0, 'docs_assets_url refuses a javascript: URL');
like($err, qr/must start with https:\/\/, http:\/\/ or \//, '... and says what it takes');
$node->append_conf('postgresql.conf', "ecommerce_api.docs_assets_url = '$cdn'\n");
$node->reload;

# Without the extension both answer 503 (which they list), and the page's
# error is JSON like every error: HTML is only the page itself.
$node->safe_psql('postgres', 'DROP EXTENSION ecommerce_api');
for my $path ('/openapi.json', '/docs', '/docs/static')
{
	$res = $api->request('GET', $path);
	is($res->{status}, 503, "GET $path without the extension: 503");
	ok($doc->{paths}{$path}{get}{responses}{503}, "GET $path lists 503");
	like($res->{headers}{'content-type'}, qr{^application/json\b}, "GET $path: the error is JSON");
}
$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api');
is($api->request('GET', '/docs')->{status}, 200, '/docs again once the extension is back');

done_testing();
