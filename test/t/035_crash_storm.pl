# Crash consistency (issue 10): a storm of checkouts, order-line changes and
# cancels, and kill -9 of the postmaster and all its children at three
# points: mid-commit (group commit off: each commit flushes itself), during
# group commit's held answers (on), and during a checkpoint.  After each
# restart every write that got a 2xx is there, stock is conserved (initial =
# current + the live lines' quantities) and the API serves again.
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use POSIX ();
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my ($node, $api) = EcommerceApi::start_node('crash', workers => 2,
	conf => "restart_after_crash = on\n");
my $json = JSON::PP->new->canonical;
my $dir = PostgreSQL::Test::Utils::tempdir;

sub sql { $node->safe_psql('postgres', $_[0]) }

my $cat = $api->request('POST', '/categories/', { name => 'Storm' })->{json};
my $client = $api->request('POST', '/clients/',
	{ name => 'Storm', lastname => 'Client', email => 'storm@shop.example' })->{json};
my $initial = 100000;
my @products = map {
	$api->request('POST', '/products/', { name => "Storm $_", price => 1, stock => $initial,
			category_id => $cat->{id_key} })->{json}{id_key}
} 1 .. 5;
is(scalar(grep { defined } @products), 5, 'five products with stock');

# One storm client, until killed: checkouts, lines added to its order, their
# quantities changed, the order canceled, then a new checkout.  Before each
# write it logs what it intends, and after a 2xx what was acknowledged.
sub storm_client
{
	my ($n) = @_;
	open(my $log, '>>', "$dir/storm-$n.log") or die;
	$log->autoflush(1);
	my $http = HTTP::Tiny->new(timeout => 5, keep_alive => 1);
	my $url = sub { $api->url($_[0]) };
	my $send = sub {
		my ($method, $path, $body, $intent) = @_;
		print $log $json->encode({ %$intent, phase => 'intent' }), "\n";
		my $res = $http->request($method, $url->($path), { content => $json->encode($body),
				headers => { 'Content-Type' => 'application/json' } });
		if ($res->{status} >= 200 && $res->{status} < 300)
		{
			my $doc = eval { $json->decode($res->{content}) } // {};
			print $log $json->encode({ %$intent, phase => 'ack', answer => $doc }), "\n";
			return $doc;
		}
		sleep 0.05 if $res->{status} == 599;
		return undef;
	};
	my $seq = 0;
	while (1)
	{
		my @items = map { { product_id => $products[ ($n + $_) % 5 ], quantity => 1 + $_ } } 0 .. 1;
		my $co = $send->('POST', '/orders/checkout',
			{ client_id => $client->{id_key}, delivery_method => 1, payment_type => 1, items => \@items },
			{ op => 'checkout', seq => ++$seq }) or next;
		my $order = $co->{order}{id_key} // next;
		my @lines;
		for my $i (1 .. 3)
		{
			my $p = $products[ ($n + $i) % 5 ];
			my $line = $send->('POST', '/order_details/',
				{ order_id => $order, product_id => $p, quantity => $i },
				{ op => 'line', order => $order, seq => ++$seq }) or next;
			push @lines, [ $line->{id_key}, $p ];
		}
		for my $l (@lines)
		{
			my $q = 1 + int(rand(5));
			$send->('PUT', "/order_details/id/$l->[0]",
				{ order_id => $order, product_id => $l->[1], quantity => $q },
				{ op => 'quantity', line => $l->[0], quantity => $q, seq => ++$seq });
		}
		$send->('PUT', "/orders/id/$order", { status => 4 },
			{ op => 'cancel', order => $order, seq => ++$seq }) if $seq % 3 == 0;
	}
}

# What the logs say must be there, as checks: [description, ok].
sub check_logs
{
	my (%orders, %lines, %canceled, %pending_quantity);
	my $acks = 0;
	for my $file (glob "$dir/storm-*.log")
	{
		open(my $f, '<', $file) or die;
		my %last_intent;
		while (my $row = <$f>)
		{
			my $e = eval { $json->decode($row) } or next;	# a torn last line
			if ($e->{phase} eq 'intent')
			{
				$pending_quantity{ $e->{line} } = $e->{quantity} if $e->{op} eq 'quantity';
				next;
			}
			$acks++;
			if ($e->{op} eq 'checkout') { $orders{ $e->{answer}{order}{id_key} } = 1 }
			elsif ($e->{op} eq 'line')
			{
				$lines{ $e->{answer}{id_key} } = $e->{answer}{quantity};
				$orders{ $e->{order} } = 1;
			}
			elsif ($e->{op} eq 'quantity')
			{
				$lines{ $e->{line} } = $e->{quantity};
				delete $pending_quantity{ $e->{line} };
			}
			elsif ($e->{op} eq 'cancel') { $canceled{ $e->{order} } = 1 }
		}
	}
	my @missing;
	if (%orders)
	{
		my %have = map { $_ => 1 } split /\n/,
		  sql('SELECT id_key FROM ecommerce_api.orders WHERE id_key IN (' . join(',', keys %orders) . ')');
		push @missing, map { "order $_" } grep { !$have{$_} } keys %orders;
	}
	if (%lines)
	{
		my %have = map { split /\|/ } split /\n/,
		  sql('SELECT id_key, quantity FROM ecommerce_api.order_details WHERE id_key IN ('
			  . join(',', keys %lines) . ')');
		for my $l (keys %lines)
		{
			if (!defined $have{$l}) { push @missing, "line $l"; next }
			# the last acknowledged quantity, or one written but not yet answered
			push @missing, "line $l quantity $have{$l} (acknowledged $lines{$l})"
			  unless $have{$l} == $lines{$l}
			  || (defined $pending_quantity{$l} && $have{$l} == $pending_quantity{$l});
		}
	}
	if (%canceled)
	{
		my $n = sql('SELECT count(*) FROM ecommerce_api.orders WHERE status = 4 AND id_key IN ('
			  . join(',', keys %canceled) . ')');
		push @missing, ($n == keys %canceled ? () : ('cancels: ' . (keys(%canceled) - $n) . ' missing'));
	}
	return ($acks, \@missing);
}

sub kill_everything
{
	my $pm = $node->{_pid};
	my @children = split /\s+/, `pgrep -P $pm`;
	kill 'KILL', $pm, @children;
	# wait for them to be gone, so the restart finds no one in its way
	my $deadline = time + 30;
	while (time < $deadline && kill(0, $pm, @children)) { sleep 0.05 }
	# what kill9 leaves: a node known stopped (postmaster.pid stays behind)
	$node->{_pid} = undef;
}

my @points = (
	[ 'mid-commit (group commit off)', "ALTER SYSTEM SET ecommerce_api.group_commit = off" ],
	[ 'held answers of group commit', "ALTER SYSTEM SET ecommerce_api.group_commit = on" ],
	[ 'during a checkpoint', undef ],
);
my $total_acks = 0;
for my $round (0 .. $#points)
{
	my ($name, $setting) = @{ $points[$round] };
	if ($setting)
	{
		sql($setting);
		$node->reload;
		sleep 0.3;
	}
	my @kids;
	for my $n (1 .. 4)
	{
		my $pid = fork // die;
		if ($pid == 0) { storm_client($round * 10 + $n); POSIX::_exit(0) }
		push @kids, $pid;
	}
	sleep 1 + rand(1);
	if (!defined $setting)
	{
		# a checkpoint with the storm's pages to write, under way when the kill comes
		my $h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c', 'CHECKPOINT' ]);
		sleep 0.05;
		kill_everything();
		eval { $h->finish };
	}
	else
	{
		kill_everything();
	}
	kill 'KILL', @kids;
	waitpid($_, 0) for @kids;

	$node->start;
	ok($api->wait_ready(60), "$name: the API serves again after the restart");
	my ($acks, $missing) = check_logs();
	ok($acks > $total_acks, "$name: writes were acknowledged before the kill ($acks so far)");
	diag "$name: " . ($acks - $total_acks) . " acknowledged writes in this round";
	is(scalar(@$missing), 0, "$name: every acknowledged write is there")
	  or diag explain [ @$missing[ 0 .. ($#$missing < 9 ? $#$missing : 9) ] ];
	for my $p (@products)
	{
		is(sql("SELECT p.stock + coalesce((SELECT sum(d.quantity) FROM ecommerce_api.order_details d
				JOIN ecommerce_api.orders o ON o.id_key = d.order_id
				WHERE d.product_id = p.id_key AND o.status <> 4), 0)
				FROM ecommerce_api.products p WHERE p.id_key = $p"), $initial,
			"$name: stock conserved for product $p");
	}
	my $res = $api->request('POST', '/categories/', { name => "After crash $round" });
	is($res->{status}, 201, "$name: a write after the restart");
	$total_acks = $acks;
}
diag "acknowledged writes checked after three kills: $total_acks";

$node->stop('fast');
done_testing();
