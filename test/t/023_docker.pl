# docker/ without a Docker engine: the init and standby entrypoint scripts
# run against real clusters, set up the way the official postgres image's
# docker-entrypoint.sh sets them up, with its environment (POSTGRES_USER,
# POSTGRES_DB, passwords holding quotes); then nginx.conf runs in a real nginx
# in front of the two servers.
#
# The emulation of docker-entrypoint.sh (postgres:15-bookworm), step by step:
#   initdb --username=$POSTGRES_USER --pwfile=<password>;
#   "host all all all scram-sha-256" appended to pg_hba.conf;
#   a temporary server: pg_ctl -o "-c listen_addresses='' -p PORT" -w start;
#   CREATE DATABASE :"db" (POSTGRES_DB) unless it exists;
#   each executable /docker-entrypoint-initdb.d/*.sh run with that environment;
#   the temporary server stopped; then "postgres" started for real.
# One difference, stricter: initdb gets --auth-host=scram-sha-256 (the image
# trusts 127.0.0.1), so the replication password is really checked here.
use strict;
use warnings;

use FindBin;
use File::Path qw(make_path);
use IO::Uncompress::Gunzip qw(gunzip);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(sleep);

use lib $FindBin::RealBin;
use EcommerceApi;

my $root = "$FindBin::RealBin/../..";
my $db = q{shop's "db"};
my $postgres_password = q{pa'ss"wo\rd};
my $replication_password = q{re'pl: "pw" \ x};

my %image_env = (
	POSTGRES_USER => 'app',
	POSTGRES_PASSWORD => $postgres_password,
	POSTGRES_DB => $db,
	REPLICATION_PASSWORD => $replication_password,
	ECOMMERCE_DEMO_SCALE => '1',
	ECOMMERCE_API_CONF_SAMPLE => "$root/postgresql.conf.sample");

# ------------------------------------------------ the primary, as the image
my $primary = PostgreSQL::Test::Cluster->new('primary');
my $pgdata = $primary->data_dir;
my $http_port = PostgreSQL::Test::Cluster::get_free_port();
{
	my $pwfile = PostgreSQL::Test::Utils::tempdir() . '/pw';
	PostgreSQL::Test::Utils::append_to_file($pwfile, "$postgres_password\n");
	PostgreSQL::Test::Utils::system_or_bail('initdb', '-D', $pgdata, '--username=app',
		"--pwfile=$pwfile", '--auth-host=scram-sha-256', '--auth-local=trust');
}
# what the image's postgresql.conf has, here on loopback and a test port
$primary->append_conf('postgresql.conf', join "\n",
	"listen_addresses = '127.0.0.1'", 'port = ' . $primary->port,
	"unix_socket_directories = '" . $primary->host . "'", '');
PostgreSQL::Test::Utils::append_to_file("$pgdata/pg_hba.conf", "\nhost all all all scram-sha-256\n");

# the temporary server, with the image's arguments
local %ENV = (%ENV, %image_env, PGHOST => $primary->host, PGPORT => $primary->port, PGUSER => "app");
delete $ENV{PGDATABASE};
$ENV{PGDATA} = $pgdata;
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-D', $pgdata, '-l', $primary->logfile,
	'-o', "-c listen_addresses='' -p " . $primary->port, '-w', 'start');
# (psql -c does not interpolate variables: the CREATE goes through stdin)
{
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-v', 'ON_ERROR_STOP=1', '-U', 'app', '-d', 'postgres', '-v', "db=$db" ],
		'<', \qq{CREATE DATABASE :"db";\n}, '>', \$out, '2>', \$err)
	  or BAIL_OUT("CREATE DATABASE: $err");
}
my ($stdout, $stderr);
my $ok = IPC::Run::run([ "$root/docker/initdb/10-ecommerce_api.sh" ], '>', \$stdout, '2>', \$stderr);
ok($ok, 'the init script succeeds') or diag($stderr);
like($stderr, qr/demo catalog.*public/, 'loading the demo catalog says its password is public');

my $psql_temp = sub {
	my ($sql, $dbname) = @_;
	my $out = '';
	IPC::Run::run([ 'psql', '-X', '-At', '-U', 'app', '-d', $dbname // $db, '-c', $sql ], '>', \$out);
	chomp $out;
	return $out;
};
is($psql_temp->("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ecommerce_api worker'"),
	'0', 'the temporary server runs no HTTP worker (nothing listens while it loads)');
is($psql_temp->("SELECT extversion IS NOT NULL FROM pg_extension WHERE extname = 'ecommerce_api'"),
	't', 'the extension is created in POSTGRES_DB');
is($psql_temp->("SELECT count(*) FROM pg_extension WHERE extname = 'ecommerce_api'", 'postgres'),
	'0', '... and not in postgres');
is($psql_temp->("SELECT slot_type || ' ' || (restart_lsn IS NOT NULL) FROM pg_replication_slots WHERE slot_name = 'standby1'"),
	'physical true', 'a physical slot for the standby, reserving WAL from the start');
is($psql_temp->("SELECT rolreplication AND rolcanlogin FROM pg_roles WHERE rolname = 'replicator'"),
	't', 'the replication role');
PostgreSQL::Test::Utils::system_or_bail('pg_ctl', '-D', $pgdata, '-m', 'fast', '-w', 'stop');

my $conf = PostgreSQL::Test::Utils::slurp_file("$pgdata/ecommerce_api.conf");
like($conf, qr/^ecommerce_api\.database = 'shop''s "db"'/m, 'ecommerce_api.database is POSTGRES_DB, quoted');
like($conf, qr/^ecommerce_api\.listen_address = '\*'/m, 'the workers listen on the container\'s network');
like(PostgreSQL::Test::Utils::slurp_file("$pgdata/postgresql.conf"), qr/^include = 'ecommerce_api\.conf'/m,
	'postgresql.conf includes it');

# The real start.  Here: loopback, a free HTTP port, two workers, less
# memory than the tuned sample asks (appended after the include: later wins).
$primary->append_conf('postgresql.conf', join "\n",
	"ecommerce_api.listen_address = '127.0.0.1'", "ecommerce_api.port = $http_port",
	'ecommerce_api.workers = 2', 'shared_buffers = 32MB', '');
$primary->start;
my $api = EcommerceApi->new(port => $http_port);
ok($api->wait_ready, 'the API serves after the real start');
is($primary->safe_psql('postgres', 'SHOW random_page_cost'), '1.1',
	'the tuned postgresql.conf.sample is read');
is($primary->safe_psql('postgres', 'SHOW ecommerce_api.database'), $db, 'serving POSTGRES_DB');
my $res = $api->request('GET', '/products/?limit=5');
is($res->{status}, 200, 'GET /products/ on POSTGRES_DB');
is(scalar @{ $res->{json} // [] }, 5, 'the demo catalog is there (opted in)');
$res = $api->request('POST', '/categories/', { name => 'From the image' });
is($res->{status}, 201, 'a write on the primary');

# the image's HEALTHCHECK
{
	local $ENV{ECOMMERCE_API_HTTP_PORT} = $http_port;
	is(system("$root/docker/healthcheck.sh"), 0, 'healthcheck.sh: healthy');
	local $ENV{ECOMMERCE_API_HTTP_PORT} = PostgreSQL::Test::Cluster::get_free_port();
	isnt(system("$root/docker/healthcheck.sh 2>/dev/null"), 0, 'healthcheck.sh: nothing there, unhealthy');
}

# ----------------------------------------- the standby, from its entrypoint
my $standby = PostgreSQL::Test::Cluster->new('standby');
my $standby_http = PostgreSQL::Test::Cluster::get_free_port();
{
	local %ENV = %ENV;
	delete @ENV{qw(POSTGRES_USER POSTGRES_PASSWORD POSTGRES_DB ECOMMERCE_DEMO_SCALE PGHOST PGPORT)};
	@ENV{qw(PRIMARY_HOST PRIMARY_PORT PGDATA)} = ('127.0.0.1', $primary->port, $standby->data_dir);
	my $out = '';
	$ok = IPC::Run::run([ "$root/docker/standby-entrypoint.sh", 'echo', 'then the server' ],
		'>', \$out, '2>', \$stderr);
	ok($ok, 'the standby script succeeds') or diag($stderr);
	is($out, "then the server\n", 'then it runs its command');

	local $ENV{REPLICATION_PASSWORD} = '';
	$ok = IPC::Run::run([ "$root/docker/standby-entrypoint.sh", 'true' ], '>', \$out, '2>', \$stderr);
	ok(!$ok, 'without REPLICATION_PASSWORD it refuses to start');
	like($stderr, qr/REPLICATION_PASSWORD must be set/, '... and says why');
}
my $auto = PostgreSQL::Test::Utils::slurp_file($standby->data_dir . '/postgresql.auto.conf');
like($auto, qr/^primary_slot_name = 'standby1'/m, 'the standby uses the slot (primary_slot_name)');
ok(-e $standby->data_dir . '/standby.signal', 'a standby');
$standby->append_conf('postgresql.conf', join "\n",
	'port = ' . $standby->port, "unix_socket_directories = '" . $standby->host . "'",
	"ecommerce_api.port = $standby_http", '');
$standby->start;
my $replica = EcommerceApi->new(port => $standby_http);
ok($replica->wait_ready, 'the API serves on the standby');
{
	local $ENV{ECOMMERCE_API_HTTP_PORT} = $standby_http;
	is(system("$root/docker/healthcheck.sh"), 0, 'healthcheck.sh: the standby is healthy');
}

# replication through the slot: caught up, and again after being down
my $caught_up = sub {
	my $lsn = $primary->safe_psql('postgres', 'SELECT pg_current_wal_lsn()');
	return $standby->poll_query_until('postgres', "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn");
};
ok($caught_up->(), 'the standby replays the primary');
is($primary->safe_psql('postgres', "SELECT active FROM pg_replication_slots WHERE slot_name = 'standby1'"),
	't', 'through its slot');
$res = $replica->request('GET', '/categories/?limit=1000');
ok((grep { $_->{name} eq 'From the image' } @{ $res->{json} // [] }), 'the standby serves the write');

$standby->stop;
my $held = $primary->safe_psql('postgres', "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'standby1'");
$api->request('POST', '/categories/', { name => 'While the standby was down' });
$primary->safe_psql('postgres', 'SELECT pg_switch_wal(); CHECKPOINT');
is($primary->safe_psql('postgres', "SELECT restart_lsn = '$held' AND wal_status = 'reserved' FROM pg_replication_slots WHERE slot_name = 'standby1'"),
	't', 'the slot keeps the WAL the absent standby has not received');
$standby->start;
ok($replica->wait_ready, 'the standby is back');
ok($caught_up->(), 'and catches up');
$res = $replica->request('GET', '/categories/?limit=1000');
ok((grep { $_->{name} eq 'While the standby was down' } @{ $res->{json} // [] }),
	'with the write it missed');

# ----------------------------------------------------------- nginx.conf
# nginx.conf lives in the http block (conf.d/default.conf); a wrapper gives
# it one, and paths the test user can write.  Its server names are only in
# variables, resolved per request, so nginx -t needs none of them to resolve;
# to run it, "primary:8000" and "standby:8000" become the test servers'
# addresses.  "listen 80" becomes a free loopback port in both.
my $nginx_dir = PostgreSQL::Test::Utils::tempdir();
my $nginx_port = PostgreSQL::Test::Cluster::get_free_port();
my $wrap = sub {
	my ($site) = @_;
	PostgreSQL::Test::Utils::append_to_file("$nginx_dir/$site.wrapper.conf", <<"EOC");
pid $nginx_dir/$site.pid;
error_log $nginx_dir/error.log;
events {}
http {
    access_log $nginx_dir/access.log;
    client_body_temp_path $nginx_dir/body;
    proxy_temp_path $nginx_dir/proxy;
    fastcgi_temp_path $nginx_dir/fastcgi;
    uwsgi_temp_path $nginx_dir/uwsgi;
    scgi_temp_path $nginx_dir/scgi;
    include $nginx_dir/$site;
}
EOC
	return ('nginx', '-e', "$nginx_dir/error.log", '-p', $nginx_dir, '-c', "$nginx_dir/$site.wrapper.conf");
};
# (nginx -t binds the ports it would listen on: 80 is root's)
my $site = PostgreSQL::Test::Utils::slurp_file("$root/docker/nginx.conf");
$site =~ s/\blisten 80;/listen 127.0.0.1:$nginx_port;/ or die 'no "listen 80" in nginx.conf';
PostgreSQL::Test::Utils::append_to_file("$nginx_dir/as-shipped.conf", $site);
my @nginx = $wrap->('as-shipped.conf');
$ok = IPC::Run::run([ @nginx, '-t' ], '>', \$stdout, '2>', \$stderr);
ok($ok, 'nginx -t accepts docker/nginx.conf as shipped') or diag($stderr);

$site =~ s/\bprimary:8000\b/127.0.0.1:$http_port/g;
$site =~ s/\bstandby:8000\b/127.0.0.1:$standby_http/g;
PostgreSQL::Test::Utils::append_to_file("$nginx_dir/test.conf", $site);
@nginx = $wrap->('test.conf');
PostgreSQL::Test::Utils::system_or_bail(@nginx);
my @nginx_running = @nginx;
END { system(@nginx_running, '-s', 'quit') if @nginx_running; }
my $proxy = EcommerceApi->new(port => $nginx_port);
ok($proxy->wait_ready(30), 'nginx serves');

my $requests_on = sub {
	my ($node_api) = @_;
	my $n = 0;
	my $metrics = $node_api->request('GET', '/metrics')->{content} // '';
	$n += $1 while $metrics =~ /^ecommerce_api_requests_total\{route="GET \/categories\/?",[^}]*\} (\d+)/mg;
	return $n;
};
my ($before_p, $before_s) = ($requests_on->($api), $requests_on->($replica));
my $all_ok = 1;
$all_ok &&= $proxy->request('GET', '/categories/')->{status} == 200 for 1 .. 40;
ok($all_ok, '40 reads through nginx: all 200');
ok($requests_on->($api) > $before_p && $requests_on->($replica) > $before_s,
	'reads reach both servers');
$all_ok = 1;
$all_ok &&= $proxy->request('POST', '/categories/', { name => "Via nginx $_" })->{status} == 201 for 1 .. 10;
ok($all_ok, '10 writes through nginx: all 201 (the primary takes them all)');

$res = $proxy->request('GET', '/products/?limit=200', undef, { 'Accept-Encoding' => 'gzip' });
is($res->{headers}{'content-encoding'}, 'gzip', 'a JSON list is gzipped');
my $plain;
gunzip(\$res->{content}, \$plain);
my $direct = $api->request('GET', '/products/?limit=200')->{content};
is(length($plain), length($direct), 'the same list once unzipped');
ok(length($res->{content}) * 3 < length($plain), 'at least 3x smaller on the wire');
is($proxy->request('GET', '/metrics')->{status}, 403, '/metrics is not public');

$standby->stop;
$all_ok = 1;
$all_ok &&= $proxy->request('GET', '/categories/')->{status} == 200 for 1 .. 20;
ok($all_ok, 'standby down: 20 reads through nginx, all 200 (asked again of the primary)');


# ------------------------------------------------- the files themselves
my $compose = PostgreSQL::Test::Utils::slurp_file("$root/docker/docker-compose.yml");
unlike($compose, qr/PASSWORD:-/, 'compose: no default password');
like($compose, qr/POSTGRES_PASSWORD:\?/, 'compose: refuses to start without POSTGRES_PASSWORD');
like($compose, qr/ECOMMERCE_DEMO_SCALE:-0/, 'compose: the demo catalog is opt-in');
like($compose, qr/nginx:.*?depends_on:\s*\n\s*primary: \{ condition: service_healthy \}/s,
	'compose: nginx waits for a healthy API');
my $dockerfile = PostgreSQL::Test::Utils::slurp_file("$root/docker/Dockerfile");
like($dockerfile, qr/^HEALTHCHECK /m, 'Dockerfile: a HEALTHCHECK');
like($dockerfile, qr/^CMD \["postgres"\]$/m,
	'Dockerfile: no settings on the command line (the temporary server would get them)');
my $dockerignore = PostgreSQL::Test::Utils::slurp_file("$root/.dockerignore");
like($dockerignore, qr/^\.git$/m, '.dockerignore: .git');
like($dockerignore, qr/^demo$/m, '.dockerignore: the demo cluster');

done_testing();
