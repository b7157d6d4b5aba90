#!/usr/bin/perl
# bench/attack.pl PORT PSQL...: the "attack" scenario of bench/run.sh.  Each
# of the attacks of issue 10 runs from 127.0.0.2 against the API on
# 127.0.0.1:PORT while a probe client on 127.0.0.1 asks GET /products/id/1
# every 50 ms; prints one Markdown row per attack with the probe's figures.
# PSQL is the command that opens a psql session on the bench cluster (for
# the row lock).  The attacks and the probe are test/t/Attack.pm's.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../test/t";

use Attack;
use HTTP::Tiny;
use JSON::PP;
use Time::HiRes qw(time sleep);

my ($port, @psql) = @ARGV;
die "usage: bench/attack.pl PORT PSQL...\n" unless $port && @psql;
my $seconds = $ENV{BENCH_ATTACK_SECONDS} // 10;
my $sockets = $ENV{BENCH_ATTACK_SOCKETS} // 10500;
my $post = "POST /categories/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";

sub row
{
	my ($name, $p) = @_;
	printf "| %s | %d | %d | %d | %.1f | %.1f | %.1f |\n", $name, $p->{count}, $p->{failed},
	  $p->{over_1s}, $p->{p50} * 1000, $p->{p99} * 1000, $p->{max} * 1000;
}

print "| attack (from 127.0.0.2) | probes | failed | over 1 s | p50 ms | p99 ms | max ms |\n";
print "|---|---:|---:|---:|---:|---:|---:|\n";

row('none', Attack::during($port, $seconds, sub { sleep 1 }, warmup => 0));

row("$sockets idle connections, reconnecting", Attack::during($port, $seconds, sub {
	Attack::hold('127.0.0.2', $port, $sockets, $_[0]);
}, warmup => 3));

row("$sockets slow bodies (1 byte / 10 s), reconnecting", Attack::during($port, $seconds, sub {
	Attack::hold('127.0.0.2', $port, $sockets, $_[0],
		initial => "${post}Content-Length: 1000\r\n\r\n", trickle => 'x', every => 10);
}, warmup => 3));

row('2,000 bodies of 1 MB stalled before their last byte', Attack::during($port, $seconds, sub {
	Attack::hold('127.0.0.2', $port, 2000, $_[0],
		initial => "${post}Content-Length: 1000000\r\n\r\n" . ('x' x 999_999));
}, warmup => 3));

# a session holding a product's row lock, and a writer running into it
my $product = 1;
open(my $locker, '|-', @psql) or die "psql: $!";
$locker->autoflush(1);
print $locker "BEGIN; SELECT 1 FROM ecommerce_api.products WHERE id_key = $product FOR UPDATE;\n";
sleep 1;
my $doc = JSON::PP->new->decode(HTTP::Tiny->new->get("http://127.0.0.1:$port/products/id/$product")->{content});
my $body = JSON::PP->new->encode({ map { $_ => $doc->{$_} } qw(name price stock category_id) });
row('writers blocked on a row lock (4 loops)', Attack::during($port, $seconds, sub {
	my ($deadline) = @_;
	my @kids;
	for (1 .. 4)
	{
		my $pid = fork // die;
		if (!$pid)
		{
			my $http = HTTP::Tiny->new(timeout => 10);
			$http->put("http://127.0.0.1:$port/products/id/$product",
				{ content => $body, headers => { 'Content-Type' => 'application/json' } })
			  while time < $deadline;
			exit 0;
		}
		push @kids, $pid;
	}
	waitpid($_, 0) for @kids;
}, warmup => 1));
print $locker "ROLLBACK;\n";
close $locker;
