# GET /docs (Swagger UI) and GET /docs/static in headless Chromium, driven by
# test/browser/docs.mjs (playwright-core).  Swagger UI's assets come from
# npm's swagger-ui-dist on a local port (ecommerce_api.docs_assets_url points
# there); nothing but 127.0.0.1 is reachable from the browser.
#
# Runs with `make test-browser` (which installs chromium and the npm
# packages); make test skips it (EAPI_BROWSER_TEST unset).
use strict;
use warnings;

use FindBin;
use JSON::PP;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $browser_dir = "$FindBin::RealBin/../browser";
plan skip_all => 'make test-browser runs this (EAPI_BROWSER_TEST=1)' unless $ENV{EAPI_BROWSER_TEST};
BAIL_OUT('no chromium (apt-get install chromium)') unless -x ($ENV{CHROMIUM} // '/usr/bin/chromium');
BAIL_OUT('no test/browser/node_modules (npm ci in test/browser)') unless -d "$browser_dir/node_modules/playwright-core";

my $assets_port = PostgreSQL::Test::Cluster::get_free_port();
my ($node, $api) = EcommerceApi::start_node('browser', workers => 2, conf => <<"EOC");
ecommerce_api.docs_assets_url = 'http://127.0.0.1:$assets_port'
ecommerce_api.auth_mode = required
EOC
$node->safe_psql('postgres', 'SELECT ecommerce_api.load_demo_data(1)');
my $login = $api->request('POST', '/api/v1/clients/login',
	{ email => 'admin@example.com', password => 'demo1234' });
my $token = $login->{json}{token} or BAIL_OUT('no token');
my $doc = $api->request('GET', '/openapi.json')->{json};
is($api->request('GET', '/orders/')->{status}, 401, 'GET /orders/ needs a token here (auth_mode = required)');

my ($out, $err) = ('', '');
my $ok = IPC::Run::run([ 'node', "$browser_dir/docs.mjs", $api->url(''), $assets_port, $token ],
	'>', \$out, '2>', \$err, IPC::Run::timeout(180));
ok($ok, 'the browser script ran') or diag($err);
my $seen = eval { decode_json($out) } // {};
diag("browser: $seen->{failure}") if $seen->{failure};
ok(!$seen->{failure}, 'every step of the browser script completed');

# /docs
is($seen->{title}, 'ecommerce_api - Swagger UI', '/docs is Swagger UI');
my @documented;
for my $path (sort keys %{ $doc->{paths} })
{
	push @documented, map { uc($_) . " $path" } sort keys %{ $doc->{paths}{$path} };
}
is_deeply([ sort @{ $seen->{operations} // [] } ], [ sort @documented ],
	'Swagger UI shows every operation of /openapi.json (' . scalar(@documented) . ')');
ok($seen->{filter}, 'with a filter box');
ok($seen->{tokenShown}, 'the Authorize dialog shows "Bearer <token>" as written');
is($seen->{productsStatus}, '200', 'try-it-out on GET /products/: 200');
is($seen->{ordersStatus}, '200', 'after Authorize, try-it-out on GET /orders/: 200');
is($seen->{ordersAuthorization}, "Bearer $token", 'the request carried the bearer token');
ok($seen->{keptAfterReload}, 'the token is kept across a reload (persistAuthorization)');
is_deeply($seen->{blocked}, [], 'the page asked nothing of any other host');
is_deeply($seen->{errors}, [], 'no script error');

# /docs/static
is($seen->{staticStatus}, 200, '/docs/static is public (auth_mode = required here)');
is($seen->{staticTitle}, $doc->{info}{title} . ' ' . $doc->{info}{version}, '/docs/static loads')
  or diag("title: " . ($seen->{staticTitle} // 'none'));
is_deeply($seen->{staticRequests}, [ $api->url('/docs/static') ], '... with no request but its own');
my %on_page = map { ($_ => 1) } @{ $seen->{staticPaths} // [] };
is_deeply([ grep { !$on_page{$_} } sort keys %{ $doc->{paths} } ], [], '... showing every path');

done_testing();
