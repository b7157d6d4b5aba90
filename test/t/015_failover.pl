# Automatic failover with pg_auto_failover: a monitor, a primary and a
# secondary, each running ecommerce_api's HTTP workers, on loopback.
#
# Clients check out with Idempotency-Keys against the primary; the primary's
# node is killed (its pg_autoctl and its postmaster, kill -9); the monitor
# has the secondary promoted, and its HTTP workers, never restarted, take
# the writes.  Clients retry every request that got no answer with the same
# key, on whichever node answers.  Then every checkout that got a 2xx exists
# exactly once, stock is conserved, and the old primary, started again,
# rejoins as a standby and takes no write.  The time from the kill to the
# first accepted write is printed (bench/replication.sh runs this test five
# times for the failover figures).
#
# The durability check holds while replication is synchronous.  pg_auto_failover
# trades it for availability when it deems the secondary unhealthy (the
# primary goes to wait_primary and stops waiting for it); on a machine too
# loaded to answer the monitor's health checks in time that can happen during
# the load, and then a 2xx write may exist on the old primary only.  The
# monitor's event log says whether it happened; if so the test says so and
# does not claim what pg_auto_failover did not promise.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use File::Path qw(make_path);
use HTTP::Tiny;
use IPC::Run;
use POSIX ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

if (system('pg_autoctl --version >/dev/null 2>&1') != 0)
{
	plan skip_all => 'pg_autoctl (Debian: postgresql-15-auto-failover) is not installed';
}

my $rounds = 1;
my $base = PostgreSQL::Test::Utils::tempdir_short();
my $logdir = $PostgreSQL::Test::Utils::log_path;

# pg_autoctl keeps its state and pid files under the XDG directories, and
# connects to its local server through libpq's default socket directory,
# the same as the server's: the test's own PGHOST would mislead it.
$ENV{XDG_CONFIG_HOME} = "$base/config";
$ENV{XDG_DATA_HOME} = "$base/data";
$ENV{XDG_RUNTIME_DIR} = "$base/run";
make_path($ENV{XDG_CONFIG_HOME}, $ENV{XDG_DATA_HOME}, $ENV{XDG_RUNTIME_DIR});
delete $ENV{$_} for qw(PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER);

# the pg_ctl of the installation under test (first on PATH)
my $bindir = '';
IPC::Run::run([ 'pg_config', '--bindir' ], '>', \$bindir) or die 'pg_config failed';
chomp $bindir;
my $pg_ctl = "$bindir/pg_ctl";

my $monitor_port = PostgreSQL::Test::Cluster::get_free_port();
my %node = map {
	$_ => { name => $_, pgdata => "$base/$_",
		port => PostgreSQL::Test::Cluster::get_free_port(),
		http => PostgreSQL::Test::Cluster::get_free_port() }
} qw(n1 n2);
my $monitor_http = PostgreSQL::Test::Cluster::get_free_port();
my $monitor_uri = "postgres://autoctl_node\@127.0.0.1:$monitor_port/pg_auto_failover?sslmode=disable";
my @common = ('--pgctl', $pg_ctl, '--hostname', '127.0.0.1', '--listen', '127.0.0.1',
	'--auth', 'trust', '--no-ssl');

sub psql
{
	my ($port, $sql, $db) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run([ 'psql', '-X', '-At', '-h', '127.0.0.1', '-p', $port,
			'-d', $db // 'postgres', '-c', $sql ], '>', \$out, '2>', \$err);
	chomp $out;
	return $out;
}

sub autoctl
{
	my ($log, @args) = @_;
	my $ok = IPC::Run::run([ 'pg_autoctl', @args ], '>>', "$logdir/$log", '2>&1');
	return $ok;
}

# Start "pg_autoctl run" as the leader of its own process group, so that the
# whole node (pg_autoctl, its services, the postmaster) can be killed at once.
sub spawn_run
{
	my ($name, $pgdata) = @_;
	my $pid = fork;
	die "fork: $!" unless defined $pid;
	if ($pid == 0)
	{
		POSIX::setsid();
		open(STDOUT, '>>', "$logdir/autoctl_$name.log") or POSIX::_exit(127);
		open(STDERR, '>&', \*STDOUT) or POSIX::_exit(127);
		exec('pg_autoctl', 'run', '--pgdata', $pgdata) or POSIX::_exit(127);
	}
	return $pid;
}

# The states the monitor has for each node, "n1:primary n2:secondary".
sub states
{
	return join ' ', split /\n/, psql($monitor_port,
		q{SELECT nodename || ':' || reportedstate FROM pgautofailover.node ORDER BY nodename},
		'pg_auto_failover');
}

sub wait_for_states
{
	my ($want, $timeout) = @_;
	my $deadline = time + ($timeout // 120);
	while (time < $deadline)
	{
		return 1 if states() eq $want;
		sleep 0.2;
	}
	diag('monitor says: ' . states());
	return 0;
}

# Lines for a node's postgresql.conf: the extension next to what
# pg_auto_failover preloads, and sizes fit for a shared test machine
# (pg_autoctl sizes shared_buffers to the machine).
sub ecommerce_conf
{
	my ($pgdata, $http) = @_;
	my $preload = '';
	if (open(my $fh, '<', "$pgdata/postgresql-auto-failover.conf"))
	{
		while (<$fh>) { $preload = $1 if /^\s*shared_preload_libraries\s*=\s*'?([^'\n]*)'?/ }
		close $fh;
	}
	$preload = join ',', grep { length } split(/\s*,\s*/, $preload), 'ecommerce_api';
	return <<"EOC";
shared_preload_libraries = '$preload'
shared_buffers = '32MB'
max_worker_processes = 32
ecommerce_api.port = $http
ecommerce_api.workers = 2
ecommerce_api.database = 'postgres'
EOC
}

sub append_file
{
	my ($path, $text) = @_;
	open(my $fh, '>>', $path) or die "open $path: $!";
	print $fh $text;
	close $fh;
}

my $http = HTTP::Tiny->new(timeout => 3, keep_alive => 0);

sub http_get
{
	my ($port, $path, $headers) = @_;
	my $res = $http->get("http://127.0.0.1:$port$path", { headers => $headers // {} });
	$res->{json} = eval { $EcommerceApi::JSON->decode($res->{content}) };
	return $res;
}

# Wait until a node's workers answer (GET /live: the health check is 503
# until the extension is installed, and the monitor never has it).
sub wait_http
{
	my ($port) = @_;
	my $deadline = time + 60;
	while (time < $deadline)
	{
		return 1 if http_get($port, '/live')->{status} == 200;
		sleep 0.1;
	}
	return 0;
}

# --- the monitor, tuned to notice a dead node in about a second
ok(autoctl('autoctl_create.log', 'create', 'monitor', '--pgdata', "$base/monitor",
		'--pgport', $monitor_port, @common), 'pg_autoctl create monitor');
append_file("$base/monitor/postgresql.conf", ecommerce_conf("$base/monitor", $monitor_http) . <<'EOC');
pgautofailover.health_check_period = 1000
pgautofailover.health_check_timeout = 2000
pgautofailover.health_check_max_retries = 1
pgautofailover.health_check_retry_delay = 500
pgautofailover.node_considered_unhealthy_timeout = 3000
pgautofailover.primary_demote_timeout = 2000
EOC
my %run = (monitor => spawn_run('monitor', "$base/monitor"));
ok(wait_http($monitor_http), 'the monitor runs the extension too (its workers answer)');

# --- the first node: created, the extension added, then run by pg_autoctl
ok(autoctl('autoctl_create.log', 'create', 'postgres', '--pgdata', $node{n1}{pgdata},
		'--pgport', $node{n1}{port}, '--name', 'n1', '--monitor', $monitor_uri, @common),
	'pg_autoctl create postgres (n1)');
append_file("$node{n1}{pgdata}/postgresql.conf", ecommerce_conf($node{n1}{pgdata}, $node{n1}{http}));
$run{n1} = spawn_run('n1', $node{n1}{pgdata});
ok(wait_for_states('n1:single'), 'n1 is a single node');
ok(wait_http($node{n1}{http}), 'n1 serves HTTP');
psql($node{n1}{port}, 'CREATE EXTENSION ecommerce_api CASCADE');

# --- the second node: a copy of the first (its configuration included,
# so it gets its own HTTP port before it runs)
ok(autoctl('autoctl_create.log', 'create', 'postgres', '--pgdata', $node{n2}{pgdata},
		'--pgport', $node{n2}{port}, '--name', 'n2', '--monitor', $monitor_uri, @common),
	'pg_autoctl create postgres (n2)');
append_file("$node{n2}{pgdata}/postgresql.conf", "ecommerce_api.port = $node{n2}{http}\n");
$run{n2} = spawn_run('n2', $node{n2}{pgdata});
ok(wait_for_states('n1:primary n2:secondary'), 'n1 primary, n2 secondary');
ok(wait_http($node{n2}{http}), 'n2 serves HTTP');
like(psql($node{n1}{port}, 'SHOW synchronous_standby_names'), qr/pgautofailover_standby/,
	'commits on the primary wait for the standby (synchronous replication)');

# --- the shop: one product with plenty of stock
my $api = EcommerceApi->new(port => $node{n1}{http});
my $cat = $api->request('POST', '/categories/', { name => 'Tools' });
my $client = $api->request('POST', '/clients/', { name => 'Ann', lastname => 'Lee',
		email => 'ann@example.com', password => 'pw-123456' });
my $initial_stock = 1000000;
my $prod = $api->request('POST', '/products/', { name => 'Saw', price => 3, stock => $initial_stock,
		category_id => $cat->{json}{id_key} });
is($prod->{status}, 201, 'product created on the primary');
my ($client_id, $product_id) = ($client->{json}{id_key}, $prod->{json}{id_key});

# --- load: a few client processes checking out with keys, retrying each
# request that got no final answer, same key, on whichever node answers.
# Each writes "key status replayed order_id quantity port time" lines.
my $nclients = 4;

sub client_loop
{
	my ($c, $round, $flag, $out) = @_;
	my $ua = HTTP::Tiny->new(timeout => 3, keep_alive => 0);
	open(my $fh, '>', $out) or POSIX::_exit(1);
	$fh->autoflush(1);
	my @ports = ($node{n1}{http}, $node{n2}{http});
	my $at = 0;
	my ($after_kill, $deadline) = (0, time + 120);
	for (my $i = 1; $i <= 2000 && time < $deadline; $i++)
	{
		last if -e $flag && $after_kill >= 10;
		my $key = "r$round-c$c-$i";
		my $quantity = 1 + ($i % 3);
		my $body = $EcommerceApi::JSON->encode({ client_id => $client_id, delivery_method => 1,
				payment_type => 1, items => [ { product_id => $product_id, quantity => $quantity } ] });
		while (time < $deadline)
		{
			my $port = $ports[$at];
			my $res = $ua->request('POST', "http://127.0.0.1:$port/orders/checkout",
				{ content => $body, headers => { 'Content-Type' => 'application/json',
						'Idempotency-Key' => $key } });
			my $status = $res->{status};
			if ($status == 201)
			{
				my $json = eval { $EcommerceApi::JSON->decode($res->{content}) } // {};
				printf $fh "%s %d %s %s %d %d %.6f\n", $key, $status,
				  ($res->{headers}{'idempotent-replayed'} ? 'replayed' : 'fresh'),
				  $json->{order}{id_key} // 'none', $quantity, $port, time;
				$after_kill++ if -e $flag;
				last;
			}
			# no answer, a read-only node, a key still held: try again, and
			# on another node when this one is not taking writes
			$at = 1 - $at if $status == 599 || $status == 503;
			sleep 0.05;
		}
		sleep 0.02;
	}
	close $fh;
}

sub worker_pids
{
	my ($port) = @_;
	return psql($port, q{SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity
	                     WHERE backend_type = 'ecommerce_api worker'});
}

my ($primary, $secondary) = ('n1', 'n2');
my @failover_times;
my %all_results;

for my $round (1 .. $rounds)
{
	my $flag = "$base/killed-$round";
	my $secondary_workers = worker_pids($node{$secondary}{port});
	my $t_load = time;
	my @pids;
	for my $c (1 .. $nclients)
	{
		my $pid = fork;
		die "fork: $!" unless defined $pid;
		if ($pid == 0)
		{
			client_loop($c, $round, $flag, "$base/results-$round-$c");
			POSIX::_exit(0);
		}
		push @pids, $pid;
	}

	# let the load run a little, then kill the primary's node outright
	sleep 1.5;
	my $postmaster = do { open(my $fh, '<', "$node{$primary}{pgdata}/postmaster.pid") or die; scalar <$fh> };
	chomp $postmaster;
	my $sync_at_kill = psql($node{$primary}{port}, 'SHOW synchronous_standby_names');
	my $t_kill = time;
	kill 'KILL', -$run{$primary};
	kill 'KILL', $postmaster;
	waitpid($run{$primary}, 0);
	append_file($flag, "$t_kill\n");
	note("round $round: killed $primary (pg_autoctl group $run{$primary}, postmaster $postmaster)");

	my $promote_deadline = time + 60;
	sleep 0.2 while time < $promote_deadline && states() !~ /$secondary:(wait_primary|primary)/;
	like(states(), qr/$secondary:(wait_primary|primary)/, "round $round: the monitor promotes $secondary");
	waitpid($_, 0) for @pids;

	my @lines;
	for my $c (1 .. $nclients)
	{
		open(my $fh, '<', "$base/results-$round-$c") or die;
		push @lines, map { [ split ' ' ] } <$fh>;
		close $fh;
	}
	# a replayed answer can come from the standby before its promotion: the
	# failover is over at the first write that ran there
	my @after = sort { $a->[6] <=> $b->[6] }
	  grep { $_->[6] > $t_kill && $_->[5] == $node{$secondary}{http} && $_->[2] eq 'fresh' } @lines;
	ok(@after > 0, "round $round: writes are accepted on $secondary after the kill");
	my $failover = @after ? $after[0][6] - $t_kill : -1;
	push @failover_times, $failover;
	diag(sprintf('round %d: kill -9 of the primary to the first accepted write: %.2f s '
			. '(%d checkouts before the kill, %d after, %d replayed)', $round, $failover,
			scalar(grep { $_->[6] <= $t_kill } @lines), scalar(grep { $_->[6] > $t_kill } @lines),
			scalar(grep { $_->[2] eq 'replayed' } @lines)));
	is(worker_pids($node{$secondary}{port}), $secondary_workers,
		"round $round: the same HTTP workers of $secondary took the writes (no restart)");
	my $h = http_get($node{$secondary}{http}, '/health_check/');
	is($h->{json}{checks}{replication}{role}, 'primary', "round $round: $secondary reports itself primary");
	$all_results{ $_->[0] } = $_ for @lines;

	# --- every 2xx checkout exists exactly once, stock is conserved.  Did
	# replication stay synchronous from the start of the load to the kill?
	my $async = psql($monitor_port, sprintf(q{SELECT count(*) FROM pgautofailover.event
		WHERE nodename = '%s' AND goalstate IN ('wait_primary', 'single')
		  AND eventtime BETWEEN to_timestamp(%f) AND to_timestamp(%f)}, $primary, $t_load, $t_kill),
		'pg_auto_failover');
	my $synchronous = $async eq '0' && $sync_at_kill =~ /pgautofailover_standby/;
	diag("round $round: pg_auto_failover made $primary stop waiting for its standby during the load "
		. "(wait_primary; the machine is too loaded for its health checks): acknowledged writes "
		. "may be on $primary only") unless $synchronous;
	my $new_port = $node{$secondary}{port};
	my %orders = map { split /=/ } split /\n/,
	  psql($new_port, q{SELECT o.id_key || '=' || sum(d.quantity) FROM ecommerce_api.orders o
	                    JOIN ecommerce_api.order_details d ON d.order_id = o.id_key GROUP BY o.id_key});
	my @ok = values %all_results;
	my %seen;
	my @dups = grep { $seen{ $_->[3] }++ } @ok;
	is(scalar @dups, 0, "round $round: no two keys answered with the same order");
	my @missing = grep { !exists $orders{ $_->[3] } } @ok;
	my $sold = 0;
	$sold += $_->[4] for @ok;
	SKIP:
	{
		skip "round $round: replication was not synchronous throughout: "
		  . scalar(@missing) . ' acknowledged checkout(s) not on the new primary', 3
		  unless $synchronous;
		is(scalar @missing, 0, "round $round: every checkout that got a 2xx exists on the new primary")
		  or diag('missing: ' . join ' ', map { $_->[0] } @missing);
		is(scalar(keys %orders), scalar(@ok), "round $round: and no other order exists (retries made none)");
		is(psql($new_port, "SELECT stock FROM ecommerce_api.products WHERE id_key = $product_id"),
			$initial_stock - $sold, "round $round: stock is conserved ($sold sold)");
	}
	# whatever happened, the new primary's stock matches its own orders
	my $in_orders = 0;
	$in_orders += $_ for values %orders;
	is(psql($new_port, "SELECT stock FROM ecommerce_api.products WHERE id_key = $product_id"),
		$initial_stock - $in_orders, "round $round: stock matches the orders that exist");

	# --- the old primary comes back: as a standby, never taking a write
	$run{$primary} = spawn_run($primary, $node{$primary}{pgdata});
	my $deadline = time + 120;
	my ($tries, $accepted) = (0, 0);
	my $old_api = EcommerceApi->new(port => $node{$primary}{http});
	while (time < $deadline && states() ne "$primary:secondary $secondary:primary"
		&& states() ne "$secondary:primary $primary:secondary")
	{
		my $res = $old_api->request('POST', '/categories/', { name => "probe $tries" },
			{ 'Idempotency-Key' => "probe-$round-$tries" });
		$tries++;
		$accepted++ if $res->{status} >= 200 && $res->{status} < 300;
		sleep 0.1;
	}
	my $st = join ' ', sort split / /, states();
	is($st, join(' ', sort("$primary:secondary", "$secondary:primary")),
		"round $round: $primary rejoined as a secondary");
	is($accepted, 0, "round $round: $primary accepted none of $tries writes while it rejoined");

	# A rewind (or a new base backup) copies the new primary's postgresql.conf,
	# its HTTP port included: nodes sharing a host get their own port back
	# (docs/deploying.md).  Nodes on their own hosts share one configuration.
	if (psql($node{$primary}{port}, 'SHOW ecommerce_api.port') ne $node{$primary}{http})
	{
		note("round $round: $primary came back with the configuration of $secondary; its port restored");
		kill 'TERM', $run{$primary};
		waitpid($run{$primary}, 0);
		append_file("$node{$primary}{pgdata}/postgresql.conf",
			"ecommerce_api.port = $node{$primary}{http}\n");
		$run{$primary} = spawn_run($primary, $node{$primary}{pgdata});
		my $back = time + 120;
		sleep 0.2 while time < $back && join(' ', sort split / /, states())
		  ne join(' ', sort("$primary:secondary", "$secondary:primary"));
	}
	ok(wait_http($node{$primary}{http}), "round $round: $primary serves HTTP again");
	my $res = $old_api->request('POST', '/categories/', { name => 'late' });
	is($res->{status}, 503, "round $round: a write on $primary is refused (503)");
	is(http_get($node{$primary}{http}, '/health_check/')->{json}{checks}{replication}{role}, 'standby',
		"round $round: $primary reports itself standby");
	# with a token from the new primary, the old one serves the new data
	my $w = EcommerceApi->new(port => $node{$secondary}{http})->request('POST', '/categories/',
		{ name => "after round $round" });
	my $r = http_get($node{$primary}{http}, "/categories/id/$w->{json}{id_key}",
		{ 'X-Consistency-Token' => $w->{headers}{'x-consistency-token'} });
	is($r->{status}, 200, "round $round: with a consistency token the rejoined standby reads the new primary's write");
	is(psql($node{$primary}{port}, 'SELECT count(*) FROM ecommerce_api.orders'),
		scalar(keys %orders), "round $round: $primary has every order");

	($primary, $secondary) = ($secondary, $primary);
}

my @sorted = sort { $a <=> $b } @failover_times;
diag(sprintf('failover time over %d round(s): min %.2f s, median %.2f s, max %.2f s',
		scalar @sorted, $sorted[0], $sorted[ $#sorted / 2 ], $sorted[-1]));

# --- stop: pg_autoctl stops its postgres on SIGTERM
for my $name ('n1', 'n2', 'monitor')
{
	kill 'TERM', $run{$name};
	waitpid($run{$name}, 0);
}
done_testing();
