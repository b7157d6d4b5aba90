# End-to-end mutation fuzzer (issue 9).  Starts from a valid request for
# every route and mutates bytes, JSON structure, numbers, headers and framing
# (deep nesting, 1e400, NaN, duplicate keys, wrong types, huge strings, NULs,
# invalid UTF-8, pipelining, chunked bodies), sending everything raw.
#
# It asserts: no 5xx but the deliberate ones (503, and 501 for a
# Transfer-Encoding we do not take); every request answered or its
# connection closed, none left hanging; no worker death; bounded worker
# memory; and afterwards a pg_dump of the database restores cleanly into a
# fresh one, with every row.
#
# Bounded: EAPI_FUZZ_REQUESTS requests (default 1500, the short run of make
# test) or EAPI_FUZZ_SECONDS seconds (default 120), whichever comes first.
# make fuzz runs it long.  EAPI_FUZZ_SEED repeats a run (the seed is printed).
use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use EcommerceApi;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $max_requests = $ENV{EAPI_FUZZ_REQUESTS} // 1500;
my $max_seconds = $ENV{EAPI_FUZZ_SECONDS} // 120;
my $seed = $ENV{EAPI_FUZZ_SEED} // int(rand(2**31));
srand($seed);
note "seed $seed: EAPI_FUZZ_SEED=$seed repeats this run";

my ($node, $api) = EcommerceApi::start_node('fuzz',
	workers => 2,
	conf => "ecommerce_api.idle_timeout = 5\necommerce_api.statement_timeout = 2000\n");
my $json = JSON::PP->new->utf8->canonical;

# ---------------------------------------------------------------- fixtures
sub post { $api->request('POST', $_[0], $_[1])->{json}{id_key} }
my $cat = post('/categories/', { name => 'fuzz tools' });
my $prod = post('/products/', { name => 'fuzz hammer', price => 9.5, stock => 100000, category_id => $cat });
my $client = post('/api/v1/clients/', { name => 'F', lastname => 'Z', email => 'f@z.example', password => 'pw' });
my $addr = post('/addresses/', { street => 'Main', number => '1', city => 'X', client_id => $client });
my $bill = post('/bills/', { bill_number => 'FZ-1', date => '2026-01-02', total => 10, payment_type => 1, client_id => $client });
my $order = post('/orders/', { total => 10, delivery_method => 1, client_id => $client, bill_id => $bill });
my $line = post('/order_details/', { quantity => 1, order_id => $order, product_id => $prod });
my $review = post('/reviews/', { rating => 5, comment => 'very good hammer', product_id => $prod });
ok($cat && $prod && $client && $addr && $bill && $order && $line && $review, 'fixtures');

my $login = $api->request('POST', '/api/v1/clients/login', { email => 'f@z.example', password => 'pw' });
my $token = $login->{json}{token} // '';

# one valid request per route: [method, target, body (perl data or undef)]
my @seeds = (
	[ 'GET', '/health_check/' ], [ 'GET', '/live' ], [ 'GET', '/ready' ], [ 'GET', '/metrics' ],
	[ 'GET', '/openapi.json' ],
	[ 'GET', '/products/filter?search=ham&category_id=1&min_price=1&max_price=100&in_stock_only=true&sort_by=price_asc&skip=0&limit=5' ],
	[ 'POST', '/api/v1/clients/login', { email => 'f@z.example', password => 'pw' } ],
	[ 'POST', '/orders/checkout', { client_id => $client, delivery_method => 1, payment_type => 2,
		items => [ { product_id => $prod, quantity => 1 } ] } ],
	[ 'OPTIONS', '/products/' ],
);
my %bodies = (
	categories => { name => 'cat' },
	products => { name => 'prod', description => 'd', price => 1.25, stock => 3, category_id => $cat },
	'api/v1/clients' => { name => 'N', lastname => 'L', email => 'n@l.example', telephone => '1', password => 'p' },
	addresses => { street => 'S', number => '2', city => 'C', client_id => $client },
	bills => { bill_number => 'B', discount => 0, date => '2026-02-03', total => 5, payment_type => 3, client_id => $client },
	orders => { date => '2026-02-03T10:00:00', total => 5, delivery_method => 2, status => 1, client_id => $client, bill_id => $bill },
	order_details => { quantity => 1, price => 9.5, order_id => $order, product_id => $prod },
	reviews => { rating => 4.5, comment => 'a fine thing indeed', product_id => $prod },
);
my %ids = (categories => $cat, products => $prod, 'api/v1/clients' => $client, addresses => $addr,
	bills => $bill, orders => $order, order_details => $line, reviews => $review);
for my $r (sort keys %bodies)
{
	push @seeds, [ 'GET', "/$r/?skip=0&limit=10" ], [ 'POST', "/$r/", $bodies{$r} ],
	  [ 'GET', "/$r/id/$ids{$r}" ], [ 'PUT', "/$r/id/$ids{$r}", $bodies{$r} ],
	  [ 'DELETE', "/$r/id/999999" ];
}

# ---------------------------------------------------------------- mutations
my @bad_bytes = ("\xff", "\xfe", "\x00", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\xc3", "\x80", "\x1b", "\r\n", "%00", "%FF", "%", "'", '"', "\\", "\x{7f}");
my @odd_values = (JSON::PP::true, JSON::PP::null, [], {}, '', 'x' x 100_000, -1, 0, '1e400',
	'NaN', "\x{10FFFF}", 1e300, -0.0, '9' x 400, [ 1, [ 2, [3] ] ], { a => { b => 1 } });
my @odd_raw_numbers = ('1e400', 'NaN', '-Infinity', '0x10', '1.', '.5', '-', '01', '1e-400',
	'99999999999999999999999999999', '-0');

sub pick { $_[ int(rand(@_)) ] }

sub mutate_bytes
{
	my ($s, $n) = @_;
	for (1 .. $n)
	{
		my $pos = length($s) ? int(rand(length $s)) : 0;
		my $op = int(rand(4));
		if ($op == 0) { substr($s, $pos, 0) = pick(@bad_bytes) }
		elsif ($op == 1 && length $s) { substr($s, $pos, 1) = chr(int(rand(256))) }
		elsif ($op == 2 && length $s) { substr($s, $pos, int(rand(4))) = '' }
		else { substr($s, $pos, 0) = substr($s, int(rand(length($s) || 1)), int(rand(8))) }
	}
	return $s;
}

# a JSON text from a perl value, mutated in structure
sub mutate_json
{
	my ($doc) = @_;
	my $op = int(rand(9));
	return ('[' x 10_000) . (']' x 10_000) if $op == 0;
	return '{"a":' x 3000 . '1' . '}' x 3000 if $op == 1;
	my %d = ref $doc eq 'HASH' ? %$doc : (value => $doc);
	my @keys = sort keys %d;
	my $k = @keys ? pick(@keys) : 'name';
	if ($op == 2) { $d{$k} = pick(@odd_values) }
	elsif ($op == 3)
	{
		# a raw number the encoder would not write
		my $text = $json->encode(\%d);
		my $n = pick(@odd_raw_numbers);
		$text =~ s/("\Q$k\E":)("(?:[^"\\]|\\.)*"|[^,}]+)/$1$n/;
		return $text;
	}
	elsif ($op == 4)
	{
		# duplicate keys
		my $text = $json->encode(\%d);
		$text =~ s/^\{/{"$k":"dup",/;
		return $text;
	}
	elsif ($op == 5) { $d{$k} = ref $d{$k} ? 'str' : [ $d{$k} ] }
	elsif ($op == 6) { delete $d{$k} }
	elsif ($op == 7)
	{
		my $text = $json->encode(\%d);
		return mutate_bytes($text, 1 + int(rand(3)));
	}
	else
	{
		# a bad byte inside a string value
		my $text = $json->encode(\%d);
		my $bad = pick(@bad_bytes);
		$text =~ s/("\Q$k\E":")/$1$bad/;
		return $text;
	}
	return $json->encode(\%d);
}

sub chunked
{
	my ($body) = @_;
	my $out = '';
	while (length $body)
	{
		my $n = 1 + int(rand(length $body));
		$out .= sprintf("%x\r\n", $n) . substr($body, 0, $n, '') . "\r\n";
	}
	return $out . "0\r\n\r\n";
}

# one raw request from a seed; returns (bytes, how many answers to expect,
# whether a 501 is the right answer)
sub mutated_request
{
	my ($method, $target, $doc) = @{ $_[0] };
	my $body = defined $doc ? $json->encode($doc) : undef;
	my @headers = ('Host: fuzz');
	my $allow_501 = 0;
	my $what = int(rand(10));

	if ($what <= 2 && defined $doc) { $body = mutate_json($doc) }
	elsif ($what == 3) { $target = mutate_bytes($target, 1 + int(rand(3))); $target =~ s/[ \r\n]/%20/g; $target = "/$target" unless $target =~ m{^/} }
	elsif ($what == 4)
	{
		my $h = pick('Authorization: Bearer ' . mutate_bytes($token, 1 + int(rand(4))),
			'Authorization: ' . mutate_bytes("Bearer $token", 2),
			'X-Request-ID: ' . mutate_bytes('req-123', 2),
			'Origin: ' . mutate_bytes('http://a.example', 2),
			'X-Forwarded-For: ' . mutate_bytes('10.0.0.1, 192.168.1.1', 3),
			'Access-Control-Request-Headers: ' . mutate_bytes('X-A, Content-Type', 2),
			'Content-Type: ' . mutate_bytes('application/json', 2));
		$h =~ s/[\r\n]//g;
		push @headers, $h;
	}
	elsif ($what == 5) { $target .= ($target =~ /\?/ ? '&' : '?') . join('&', map { "p$_=" . pick(@bad_bytes) } 1 .. int(rand(300))) ; $target =~ s/[ \r\n]/%20/g }
	elsif ($what == 6 && defined $body) { $body = mutate_bytes($body, 1 + int(rand(6))) }
	elsif ($what == 7 && defined $body)
	{
		# framing: chunked, or a Transfer-Encoding we do not take
		if (rand() < 0.7)
		{
			push @headers, 'Transfer-Encoding: chunked';
			return (join("\r\n", "$method $target HTTP/1.1", @headers, 'Content-Type: application/json', '', '') . chunked($body), 1, 0);
		}
		push @headers, 'Transfer-Encoding: ' . pick('gzip', 'chunked, gzip', 'identity', 'gzip, chunked');
		return (join("\r\n", "$method $target HTTP/1.1", @headers, 'Connection: close', '', ''), 1, 1);
	}
	elsif ($what == 8)
	{
		# pipelining: the seed and two more on one connection
		my @reqs = map {
			my $b = defined $doc ? $json->encode($doc) : undef;
			"$method $target HTTP/1.1\r\nHost: fuzz\r\n"
			  . (defined $b ? "Content-Type: application/json\r\nContent-Length: " . length($b) . "\r\n\r\n$b" : "\r\n")
		} 1 .. 3;
		return (join('', @reqs), 3, 0);
	}
	push @headers, 'Content-Type: application/json', 'Content-Length: ' . length($body) if defined $body;
	return (join("\r\n", "$method $target HTTP/1.1", @headers, '', '') . ($body // ''), 1, $allow_501);
}

# send, read answers until we have $expect of them or the connection closes
sub exchange
{
	my ($bytes, $expect) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $api->port,
		Proto => 'tcp') or return ('connect', []);
	$s->blocking(0);
	my $off = 0;
	my $buf = '';
	my @statuses;
	my $deadline = time + 15;
	my $closed = 0;
	while (time < $deadline && @statuses < $expect)
	{
		if ($off < length $bytes)
		{
			my $n = syswrite($s, $bytes, 65536, $off);
			$off += $n if $n;
		}
		my $n = sysread($s, my $chunk, 65536);
		if (defined $n && $n == 0) { $closed = 1; last }
		if ($n)
		{
			$buf .= $chunk;
			while ($buf =~ /\A(HTTP\/1\.[01] (\d{3})[^\r]*\r\n(.*?)\r\n\r\n)/s)
			{
				my ($head, $status, $hdrs) = ($1, $2, $3);
				my ($len) = $hdrs =~ /^Content-Length: *(\d+)/mi;
				$len //= 0;
				last if length($buf) < length($head) + $len;
				substr($buf, 0, length($head) + $len) = '';
				push @statuses, $status;
			}
		}
		else { sleep 0.005 }
	}
	close $s;
	# closed unanswered only by the idle timeout (5 s) is a hang too
	my $state = @statuses >= $expect ? 'answered'
	  : ($closed && time < $deadline - 11) ? 'closed' : 'hung';
	return ($state, \@statuses);
}

sub worker_rss_kb
{
	my $pids = EcommerceApi::worker_pids($node);
	my %rss;
	for my $name (keys %$pids)
	{
		open my $f, '<', "/proc/$pids->{$name}/status" or next;
		while (<$f>) { $rss{ $pids->{$name} } = $1 if /^VmRSS:\s+(\d+) kB/ }
	}
	return \%rss;
}

# ---------------------------------------------------------------- the run
my $pids_before = EcommerceApi::worker_pids($node);
my $log_offset = -s $node->logfile;
my (%by_status, @bad, @hung, $sent);
my $start = time;
my $half = int($max_requests / 2);
for my $i (1 .. $max_requests)
{
	last if time - $start > $max_seconds;
	if ($i == $half)
	{
		# second half: every route behind tokens
		$node->append_conf('postgresql.conf', "ecommerce_api.auth_mode = required\n");
		$node->reload;
		sleep 1;
	}
	my $seed_req = pick(@seeds);
	my ($bytes, $expect, $allow_501) = mutated_request($seed_req);
	my ($state, $statuses) = exchange($bytes, $expect);
	$sent++;
	$by_status{$_}++ for @$statuses;
	push @hung, substr($bytes, 0, 200) if $state eq 'hung';
	for my $st (@$statuses)
	{
		next if $st < 500 || $st == 503 || ($st == 501 && $allow_501);
		push @bad, "$st for " . substr($bytes, 0, 300);
	}
}
my $elapsed = time - $start;
note sprintf('%d requests in %.0f s; statuses: %s', $sent, $elapsed,
	join(', ', map { "$_ x$by_status{$_}" } sort keys %by_status));

is(scalar(@bad), 0, "no 5xx but deliberate 503/501 in $sent mutated requests")
  or diag join("\n---\n", map { s/([^\x20-\x7e\n])/sprintf('\\x%02x', ord $1)/ger } @bad[0 .. ($#bad < 4 ? $#bad : 4)]);
is(scalar(@hung), 0, 'every request answered or closed, none left hanging')
  or diag join("\n---\n", map { s/([^\x20-\x7e\n])/sprintf('\\x%02x', ord $1)/ger } @hung[0 .. ($#hung < 4 ? $#hung : 4)]);

my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/terminated by signal|exited with exit code|server process .* was terminated/,
	'no worker died (log)');
is_deeply(EcommerceApi::worker_pids($node), $pids_before, 'the same worker processes serve');
my $rss = worker_rss_kb();
for my $pid (sort keys %$rss)
{
	cmp_ok($rss->{$pid}, '<', 256 * 1024, "worker $pid: resident memory bounded ($rss->{$pid} kB < 256 MB)");
}
is($api->request('GET', '/health_check/')->{status}, 200, 'still healthy');

# ---------------------------------------------------------------- backups
my $dump = $node->basedir . '/fuzz.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('postgres'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '-d', $node->connstr('restored'), '--exit-on-error', $dump ],
	'pg_dump restores cleanly into a fresh database');
for my $t (qw(categories products clients addresses bills orders order_details reviews))
{
	my $q = "SELECT count(*) FROM ecommerce_api.$t";
	is($node->safe_psql('restored', $q), $node->safe_psql('postgres', $q), "every row of $t restored");
}

$node->stop;
done_testing();
