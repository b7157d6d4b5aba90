# Upgrading: a database whose extension was created at 1.0, served by this
# library (a package upgrade), answers 503 naming ALTER EXTENSION ... UPDATE
# rather than half-serving; after the update it serves the new version with
# the data kept, and its objects are those of a fresh CREATE EXTENSION.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my ($node, $api) = EcommerceApi::start_node('upgrade', workers => 2, create_extension => 0);
my $current = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'ecommerce_api'});
isnt($current, '1.0', "the library's version ($current) is newer than 1.0");

# --- a 1.0 database, with data
$node->safe_psql('postgres', q{
	CREATE EXTENSION ecommerce_api VERSION '1.0' CASCADE;
	SELECT ecommerce_api.load_demo_data(1);
});
my $products = $node->safe_psql('postgres', 'SELECT count(*) FROM ecommerce_api.products');
cmp_ok($products, '>', 0, 'the 1.0 database has products');

for my $req ([ 'GET', '/categories/' ], [ 'GET', '/docs' ],
	[ 'POST', '/api/v1/clients/login', { email => 'admin@example.com', password => 'demo1234' } ])
{
	my $res = $api->request(@$req);
	is($res->{status}, 503, "$req->[0] $req->[1] on 1.0 objects: 503");
	like($res->{json}{detail},
		qr/extension "ecommerce_api" is at version 1\.0 in database "postgres" and this server's library serves version \Q$current\E; run ALTER EXTENSION ecommerce_api UPDATE/,
		'the detail says what to run');
}
my $health = $api->request('GET', '/health_check/');
is($health->{status}, 503, 'the health check still answers, 503: the API cannot serve');
is($health->{json}{status}, 'unhealthy', '... unhealthy');
like($health->{json}{checks}{api}{detail} // '', qr/ALTER EXTENSION ecommerce_api UPDATE/, '... saying what to run');

# --- the update, while the workers serve
$node->safe_psql('postgres', 'ALTER EXTENSION ecommerce_api UPDATE');
is($node->safe_psql('postgres', q{SELECT extversion FROM pg_extension WHERE extname = 'ecommerce_api'}),
	$current, 'ALTER EXTENSION ... UPDATE reaches the current version');
my $res = $api->request('GET', '/products/?limit=1000');
is($res->{status}, 200, 'served after the update');
is(scalar @{ $res->{json} }, $products, 'with the products created at 1.0');
$res = $api->request('POST', '/api/v1/clients/login', { email => 'admin@example.com', password => 'demo1234' });
is($res->{status}, 200, 'a client created at 1.0 logs in');
like($res->{json}{token}, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'and gets a token (new in 1.1)');
$res = $api->request('GET', '/openapi.json');
is($res->{json}{info}{version}, $current, 'the API description names the installed version');

# --- the updated objects are a fresh install's
# A fresh install runs the script make assembles from sql/ (the pieces); an
# update runs the released scripts.  Every object the extension owns is
# described by what defines it: each member (of whatever kind), functions
# (signature with defaults, body, language, properties, settings, grants),
# relations (columns with defaults, identity and statistics target, storage
# options, grants), sequences, constraints, indexes, triggers, policies,
# comments, the tables pg_dump dumps (pg_extension_config_dump), the schema,
# and the signing key's one row.
my $describe = q{
	WITH ext AS (SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'ecommerce_api')
	SELECT string_agg(d, E'\n' ORDER BY d) FROM (
		-- every member, whatever its kind
		SELECT format('member %s', pg_describe_object(e.classid, e.objid, e.objsubid))
		  FROM pg_depend e, ext WHERE e.deptype = 'e' AND e.refobjid = ext.oid
		UNION ALL
		SELECT format('function %s(%s) (%s) %s %s %s %s %s %s %s %s %s %s %s %s', p.proname,
		              pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid),
		              pg_get_function_result(p.oid), l.lanname, md5(p.prosrc), p.provolatile,
		              p.proisstrict, p.proparallel, p.proleakproof, p.procost, p.prorows,
		              p.prosecdef, p.proconfig, p.proacl) AS d
		  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang
		  JOIN pg_depend e ON e.classid = 'pg_proc'::regclass AND e.objid = p.oid, ext
		 WHERE e.deptype = 'e' AND e.refobjid = ext.oid
		UNION ALL
		SELECT format('relation %s %s %s %s %s %s', c.relname, c.relkind, c.relpersistence, c.relacl, c.reloptions,
		              (SELECT string_agg(format('%s %s %s %s %s %s %s', a.attname, format_type(a.atttypid, a.atttypmod),
		                                        a.attnotnull, a.attidentity, a.attstattarget, a.attacl,
		                                        pg_get_expr(ad.adbin, ad.adrelid)), ', ' ORDER BY a.attnum)
		                 FROM pg_attribute a LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		                WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))
		  FROM pg_class c JOIN pg_depend e ON e.classid = 'pg_class'::regclass AND e.objid = c.oid, ext
		 WHERE e.deptype = 'e' AND e.refobjid = ext.oid
		UNION ALL
		SELECT format('sequence %s %s %s %s %s %s %s %s', s.seqrelid::regclass, s.seqtypid::regtype, s.seqstart,
		              s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle)
		  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
		 WHERE c.relnamespace = 'ecommerce_api'::regnamespace
		UNION ALL
		SELECT format('constraint %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
		  FROM pg_constraint WHERE connamespace = 'ecommerce_api'::regnamespace
		UNION ALL
		SELECT format('index %s', pg_get_indexdef(indexrelid))
		  FROM pg_index WHERE indrelid::regclass::text LIKE 'ecommerce_api.%'
		UNION ALL
		SELECT format('trigger %s', pg_get_triggerdef(t.oid))
		  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 WHERE c.relnamespace = 'ecommerce_api'::regnamespace AND NOT t.tgisinternal
		UNION ALL
		SELECT format('policy %s %s %s %s', polrelid::regclass, polname, pg_get_expr(polqual, polrelid),
		              pg_get_expr(polwithcheck, polrelid))
		  FROM pg_policy WHERE polrelid::regclass::text LIKE 'ecommerce_api.%'
		UNION ALL
		SELECT format('comment %s: %s', pg_describe_object(d.classoid, d.objoid, d.objsubid), d.description)
		  FROM pg_description d, ext
		 WHERE d.objoid = ext.oid
		    OR EXISTS (SELECT FROM pg_depend e WHERE e.deptype = 'e' AND e.refobjid = ext.oid
		                                         AND e.classid = d.classoid AND e.objid = d.objoid)
		UNION ALL
		-- what pg_dump dumps of the tables (pg_extension_config_dump), in order
		SELECT format('config dump %s', (SELECT string_agg(format('%s %L', c::regclass, w), ', ' ORDER BY n)
		                                   FROM unnest(ext.extconfig, ext.extcondition) WITH ORDINALITY AS u(c, w, n)))
		  FROM ext
		UNION ALL
		SELECT format('schema %s %s %s', n.nspname, n.nspowner::regrole, n.nspacl)
		  FROM pg_namespace n WHERE n.nspname = 'ecommerce_api'
		UNION ALL
		SELECT format('rows of auth_key: %s', count(*)) FROM ecommerce_api.auth_key
	) AS objects(d)
};
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('postgres', 'CREATE DATABASE stepwise');
# and what they say while they run (NOTICEs, WARNINGs) is the same
my ($fresh_says, $stepwise_says);
$node->psql('fresh', 'CREATE EXTENSION ecommerce_api CASCADE',
	stderr => \$fresh_says, on_error_die => 1);
$node->psql('stepwise', q{CREATE EXTENSION ecommerce_api VERSION '1.0' CASCADE; ALTER EXTENSION ecommerce_api UPDATE},
	stderr => \$stepwise_says, on_error_die => 1);
like($fresh_says, qr/installing required extension "pgcrypto"/, 'a fresh install says what it installs');
is($fresh_says, $stepwise_says, 'and says the same as an install of 1.0 updated');
my $updated = $node->safe_psql('postgres', $describe);
my $fresh = $node->safe_psql('fresh', $describe);
cmp_ok(length($fresh), '>', 10000, 'the description covers the objects');
is($updated, $fresh, 'an updated database has the objects of a fresh install');

# --- dropped and re-created at 1.0 while served: 503 again, not stale plans
# nor the API description the worker serving this connection keeps
for (1 .. 4)
{
	is($api->request('GET', '/docs')->{status}, 200, 'the page is served (and kept)');
}
$node->safe_psql('postgres', q{
	DROP EXTENSION ecommerce_api;
	CREATE EXTENSION ecommerce_api VERSION '1.0';
});
$res = $api->request('GET', '/categories/');
is($res->{status}, 503, 'back at 1.0: 503 again');
like($res->{json}{detail}, qr/ALTER EXTENSION ecommerce_api UPDATE/, 'with the same advice');
for (1 .. 4)
{
	is($api->request('GET', '/docs')->{status}, 503, 'a kept page is not served for 1.0 objects');
}
$node->safe_psql('postgres', 'ALTER EXTENSION ecommerce_api UPDATE');
is($api->request('GET', '/categories/')->{status}, 200, 'and served once updated');

$node->stop('fast');

# --- the upgrade template's assembler fails closed: a step that names no
# piece, or a function its piece does not define once, stops the build
# rather than leave the step out of the upgrade script
my $srcdir = "$FindBin::RealBin/../..";
my $tmp = PostgreSQL::Test::Utils::tempdir;
for my $case (
	[ '--@replace sql/json.sql ecommerce_api._json_category(', 1, qr/CREATE OR REPLACE FUNCTION ecommerce_api\._json_category\(/ ],
	[ '--@create sql/json.sql ecommerce_api._json_category_text(', 1, qr/^CREATE FUNCTION ecommerce_api\._json_category_text\(.*\$\$;$/s ],
	[ '--@replace sql/json.sql ecommerce_api._json_nothing(', 0, qr/has no CREATE FUNCTION/ ],
	[ '--@replace sql/json.sql ecommerce_api._json_category', 0, qr/has 2 CREATE FUNCTION/ ],
	[ '--@piece sql/nothing.sql', 0, qr/cannot read/ ],
	[ '--@piece ../etc/passwd', 0, qr/is not a piece/ ],
	[ '--@drop sql/json.sql', 0, qr/unknown directive/ ])
{
	my ($line, $ok, $expect) = @$case;
	open(my $fh, '>', "$tmp/t.sql.in") or die $!;
	print $fh "$line\n";
	close $fh;
	my ($out, $err);
	my $ran = IPC::Run::run([ 'perl', "$srcdir/scripts/assemble-upgrade.pl", $srcdir, "$tmp/t.sql.in" ],
		'>', \$out, '2>', \$err);
	is(!!$ran, !!$ok, "assembling '$line': " . ($ok ? 'done' : 'refused'));
	like($ok ? $out : $err, $expect, '... ' . ($ok ? 'with the statement' : 'saying why'));
}

done_testing();
