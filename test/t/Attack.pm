# Helpers for the attack tests (030-035) and bench/run.sh attack: a probe
# client timed while an attacker runs in a child process, the workers'
# memory, more open files.
#
#   Attack::raise_nofile(12000);            # re-runs the test under ulimit -n
#   my $probe = Attack::during($api, 8, sub { my ($deadline) = @_; ... });
#   # $probe: {count, failed, max, p50, p99, over_1s, statuses => {...}}
#   my $rss = Attack::worker_rss($node);    # {pid => VmRSS in kB}
package Attack;

use strict;
use warnings;

use Errno qw(EINPROGRESS EAGAIN EWOULDBLOCK);
use HTTP::Tiny;
use POSIX ();
use Socket qw(:all);
use Time::HiRes qw(time sleep);

# The probe's request, every PROBE_INTERVAL seconds.
our $PROBE_PATH = '/products/id/1';
our $PROBE_INTERVAL = 0.05;

# Run this script again with a soft limit of $n open files (or the hard
# limit, if lower): an attack holds thousands of sockets.  Returns the limit
# in force.
sub raise_nofile
{
	my ($n) = @_;
	if (!$ENV{EAPI_NOFILE_RAISED})
	{
		$ENV{EAPI_NOFILE_RAISED} = 1;
		$ENV{PERL5LIB} = join(':', grep { !ref } @INC);
		exec('bash', '-c',
			'ulimit -n "$1" 2>/dev/null || ulimit -n "$(ulimit -Hn)"; shift; exec "$@"',
			'raise_nofile', $n, $^X, $0, @ARGV) or die "exec: $!";
	}
	my $limit = `bash -c 'ulimit -n'`;
	chomp $limit;
	return $limit;
}

# A non-blocking TCP connection from $from (a loopback address) to $port;
# undef when the system refuses one (out of ports or files).
sub open_socket
{
	my ($from, $port) = @_;
	socket(my $s, PF_INET, SOCK_STREAM, 0) or return undef;
	if (!bind($s, pack_sockaddr_in(0, inet_aton($from))))
	{
		close $s;
		return undef;
	}
	$s->blocking(0);
	if (!connect($s, pack_sockaddr_in($port, inet_aton('127.0.0.1')))
		&& $! != EINPROGRESS)
	{
		close $s;
		return undef;
	}
	return $s;
}

# Has the server closed this socket (end of stream, or an answer then the
# end)?  Reads what is there.
sub closed_by_server
{
	my ($s) = @_;
	my $n = sysread($s, my $buf, 4096);
	return 0 if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK);
	return 1 if !defined $n || $n == 0;
	# an answer (a refusal): the close follows
	return 0;
}

# The attacker: hold $n connections from $from until $deadline, each sending
# $opt{initial} once connected and then $opt{trickle} every $opt{every}
# seconds; reconnect whichever the server closes (at most $opt{reconnects}
# in all).  Returns how many it opened.
sub hold
{
	my ($from, $port, $n, $deadline, %opt) = @_;
	my $initial = $opt{initial} // '';
	my $trickle = $opt{trickle} // '';
	my $every = $opt{every} // 1;
	my $budget = $opt{reconnects} // 50 * $n;
	my (@socks, @sent);
	my $opened = 0;
	for my $i (0 .. $n - 1)
	{
		last if time >= $deadline;
		$socks[$i] = open_socket($from, $port) or last;
		$sent[$i] = 0;
		$opened++;
	}
	my $next_trickle = time + $every;
	while (time < $deadline)
	{
		my $trickling = time >= $next_trickle;
		for my $i (0 .. $#socks)
		{
			my $s = $socks[$i] // next;
			if (!$sent[$i])
			{
				# connected yet? (a non-blocking connect completes in the background)
				next unless defined getpeername($s);
				syswrite($s, $initial) if length $initial;
				$sent[$i] = 1;
				next;
			}
			if (closed_by_server($s))
			{
				close $s;
				$socks[$i] = undef;
				next if $budget-- <= 0;
				$socks[$i] = open_socket($from, $port);
				$sent[$i] = 0;
				$opened++ if $socks[$i];
				next;
			}
			syswrite($s, $trickle) if $trickling && length $trickle;
		}
		$next_trickle = time + $every if $trickling;
		sleep 0.1;
	}
	close $_ for grep { defined } @socks;
	return $opened;
}

sub percentile
{
	my ($p, @sorted) = @_;
	return 0 unless @sorted;
	my $i = int($p / 100 * @sorted + 0.999999) - 1;
	$i = 0 if $i < 0;
	$i = $#sorted if $i > $#sorted;
	return $sorted[$i];
}

# Probe $api (an EcommerceApi, or a port) every PROBE_INTERVAL for $seconds while $attack runs in a child
# process (given its deadline; it must return by then).  Returns the probe's
# figures: latencies of answered requests, failures (no answer in 5 s).
sub during
{
	my ($api, $seconds, $attack, %opt) = @_;
	my $warmup = $opt{warmup} // 1;
	my $pid = fork // die "fork: $!";
	if ($pid == 0)
	{
		eval { $attack->(time + $seconds + $warmup) };
		warn $@ if $@;
		POSIX::_exit(0);
	}
	sleep $warmup;			# the attack builds up first
	my $http = HTTP::Tiny->new(timeout => 5, keep_alive => 0);
	my $port = ref $api ? $api->port : $api;
	my $url = "http://127.0.0.1:$port" . ($opt{path} // $PROBE_PATH);
	my (@lat, %statuses);
	my $failed = 0;
	my $end = time + $seconds;
	while (time < $end)
	{
		my $t0 = time;
		my $res = $http->get($url);
		my $t = time - $t0;
		$statuses{ $res->{status} }++;
		if ($res->{status} == 599) { $failed++ }
		else { push @lat, $t }
		my $rest = $PROBE_INTERVAL - (time - $t0);
		sleep $rest if $rest > 0;
	}
	waitpid($pid, 0);
	my @sorted = sort { $a <=> $b } @lat;
	return {
		count => scalar(@lat) + $failed,
		failed => $failed,
		max => $sorted[-1] // 0,
		p50 => percentile(50, @sorted),
		p99 => percentile(99, @sorted),
		over_1s => scalar(grep { $_ >= 1 } @sorted),
		statuses => \%statuses,
	};
}

# One line about a probe's figures, for diag and the benchmarks.
sub describe
{
	my ($p) = @_;
	return sprintf('%d probes, %d failed, %d over 1 s, p50 %.1f ms, p99 %.1f ms, max %.1f ms',
		$p->{count}, $p->{failed}, $p->{over_1s}, $p->{p50} * 1000, $p->{p99} * 1000,
		$p->{max} * 1000);
}

# The HTTP workers' resident memory, {pid => kB}, from /proc.
sub worker_rss
{
	my ($node) = @_;
	my $pids = $node->safe_psql('postgres',
		q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'ecommerce_api worker'});
	my %rss;
	for my $pid (split /\n/, $pids)
	{
		open(my $f, '<', "/proc/$pid/status") or next;
		while (<$f>) { $rss{$pid} = $1 if /^VmRSS:\s+(\d+) kB/ }
		close $f;
	}
	return \%rss;
}

1;
