# Test helpers: a PostgreSQL node serving the API, and HTTP clients for it.
#
#   my ($node, $api) = EcommerceApi::start_node('name', workers => 2);
#   my $res = $api->request('GET', '/health_check/');   # {status, headers, content, json}
#   my @res = $api->parallel([['POST', '/orders/', $json], ...]);
#   my @res = $api->keepalive_clients(400, 5, ['GET', '/health_check/']);
package EcommerceApi;

use strict;
use warnings;

use Errno qw(EAGAIN EINPROGRESS EWOULDBLOCK);
use HTTP::Tiny;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

our $JSON = JSON::PP->new->canonical;

# start_node(name, workers => N, create_extension => 1, conf => "extra lines")
sub start_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $port = PostgreSQL::Test::Cluster::get_free_port();
	my $workers = $opt{workers} // 2;
	$node->init(%{ $opt{init} // {} });
	$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'ecommerce_api'
ecommerce_api.port = $port
ecommerce_api.workers = $workers
ecommerce_api.database = 'postgres'
max_worker_processes = 64
EOC
	# EAPI_TEST_CACHE_SIZE (e.g. 0) runs every suite with that answer cache size
	$node->append_conf('postgresql.conf', "ecommerce_api.cache_size = '$ENV{EAPI_TEST_CACHE_SIZE}'\n")
	  if defined $ENV{EAPI_TEST_CACHE_SIZE};
	$node->append_conf('postgresql.conf', $opt{conf}) if $opt{conf};
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION ecommerce_api CASCADE')
	  if $opt{create_extension} // 1;
	my $api = EcommerceApi->new(port => $port, node => $node);
	$api->wait_ready(undef, !($opt{create_extension} // 1));
	return ($node, $api);
}

sub new
{
	my ($class, %opt) = @_;
	my $self = bless {%opt}, $class;
	$self->{http} = HTTP::Tiny->new(timeout => 30, keep_alive => 1);
	return $self;
}

sub port { $_[0]{port} }
sub url { "http://127.0.0.1:$_[0]{port}$_[1]" }

# Wait until the workers answer the health check healthy (bounded); with
# $unhealthy_ok, until they answer it at all (503 is what it says while the
# API cannot serve, e.g. before CREATE EXTENSION).
sub wait_ready
{
	my ($self, $timeout, $unhealthy_ok) = @_;
	my $deadline = time + ($timeout // 60);
	while (time < $deadline)
	{
		my $res = HTTP::Tiny->new(timeout => 2)->get($self->url('/health_check/'));
		return 1 if $res->{status} == 200 || ($unhealthy_ok && $res->{status} == 503);
		sleep 0.1;
	}
	return 0;
}

# request(METHOD, PATH, [BODY], [\%headers]) -> {status, headers, content, json}
sub request
{
	my ($self, $method, $path, $body, $headers) = @_;
	my %args = (headers => $headers // {});
	if (defined $body)
	{
		$body = $JSON->encode($body) if ref $body;
		$args{content} = $body;
		$args{headers}{'Content-Type'} //= 'application/json';
	}
	my $res = $self->{http}->request($method, $self->url($path), \%args);
	$res->{json} = eval { $JSON->decode($res->{content}) }
	  if defined $res->{content} && length $res->{content};
	return $res;
}

sub _connect
{
	my ($port) = @_;
	my $sock = IO::Socket::INET->new(
		PeerAddr => '127.0.0.1',
		PeerPort => $port,
		Proto => 'tcp',
		Blocking => 1) or die "connect: $!";
	$sock->blocking(0);
	return $sock;
}

sub _format_request
{
	my ($method, $path, $body, $keepalive, $headers) = @_;
	$body = $JSON->encode($body) if ref $body;
	my $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1\r\n";
	$req .= "Connection: close\r\n" unless $keepalive;
	$req .= "$_: $headers->{$_}\r\n" for sort keys %{ $headers // {} };
	if (defined $body)
	{
		$req .= "Content-Type: application/json\r\nContent-Length: "
		  . length($body) . "\r\n\r\n$body";
	}
	else
	{
		$req .= "\r\n";
	}
	return $req;
}

# Parse one response off the front of $$buf; returns a hash or undef.
sub _take_response
{
	my ($buf) = @_;
	my $end = index($$buf, "\r\n\r\n");
	return undef if $end < 0;
	my $head = substr($$buf, 0, $end);
	my ($status) = $head =~ m{^HTTP/1\.[01] (\d{3})};
	my %headers;
	for my $line (split /\r\n/, $head)
	{
		$headers{ lc $1 } = $2 if $line =~ /^([^:]+):\s*(.*)$/;
	}
	my $len = $headers{'content-length'} // 0;
	return undef if length($$buf) < $end + 4 + $len;
	my $content = substr($$buf, $end + 4, $len);
	substr($$buf, 0, $end + 4 + $len) = '';
	my $json = eval { $JSON->decode($content) } if $len;
	return { status => $status, headers => \%headers, content => $content, json => $json };
}

# Drive many sockets at once.  Each client is {sock, queue => [request texts]};
# it sends its next request when the previous answer is complete.  Returns all
# responses, client by client; a request that got no answer in $timeout
# seconds (or whose connection closed) has none, so callers count them.
sub _drive
{
	my ($clients, $timeout) = @_;
	my $deadline = time + $timeout;
	my $sel = IO::Select->new;
	my %by_fd;
	for my $c (@$clients)
	{
		$c->{out} = shift @{ $c->{queue} };
		$c->{in} = '';
		$c->{responses} = [];
		$sel->add($c->{sock});
		$by_fd{ fileno $c->{sock} } = $c;
	}
	while ($sel->count && time < $deadline)
	{
		my @w = grep { length($by_fd{ fileno $_ }{out} // '') } $sel->handles;
		my ($r, $wr) = IO::Select->select($sel, IO::Select->new(@w), undef, 0.5);
		for my $s (@{ $wr // [] })
		{
			my $c = $by_fd{ fileno $s };
			my $n = syswrite($s, $c->{out});
			substr($c->{out}, 0, $n) = '' if defined $n;
		}
		for my $s (@{ $r // [] })
		{
			my $c = $by_fd{ fileno $s };
			my $n = sysread($s, my $chunk, 65536);
			next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK);
			if (!$n)
			{
				$sel->remove($s);
				next;
			}
			$c->{in} .= $chunk;
			while (my $res = _take_response(\$c->{in}))
			{
				push @{ $c->{responses} }, $res;
				if (@{ $c->{queue} })
				{
					$c->{out} = shift @{ $c->{queue} };
				}
				else
				{
					$sel->remove($s);
					last;
				}
			}
		}
	}
	close $_->{sock} for @$clients;
	return map { @{ $_->{responses} } } @$clients;
}

# parallel([[METHOD, PATH, BODY, {headers}], ...]): every request on its own
# connection, all sent at once.  Returns one response per request, in order ({status => 0}
# for a request that got no answer).
sub parallel
{
	my ($self, $requests, $timeout) = @_;
	my @clients = map {
		{ sock => _connect($self->{port}), queue => [ _format_request(@$_[0..2], 0, $_->[3]) ] }
	} @$requests;
	_drive(\@clients, $timeout // 60);
	return map { $_->{responses}[0] // { status => 0 } } @clients;
}

# keepalive_clients(N, K, [METHOD, PATH, BODY]): N connections, each making
# K requests one after another on the same connection.  Returns all responses
# (N*K of them if nothing was lost).
sub keepalive_clients
{
	my ($self, $n, $k, $req, $timeout) = @_;
	my @clients = map {
		{ sock => _connect($self->{port}), queue => [ map { _format_request(@$req[0..2], 1) } 1 .. $k ] }
	} 1 .. $n;
	return _drive(\@clients, $timeout // 120);
}

# The pids of the HTTP workers, by worker number.
sub worker_pids
{
	my ($node) = @_;
	my $out = $node->safe_psql('postgres',
		q{SELECT application_name || '=' || pid FROM pg_stat_activity
		  WHERE backend_type = 'ecommerce_api worker' ORDER BY 1});
	return { map { split /=/ } split /\n/, $out };
}

# --- libmicrohttpd versions
#
# libmicrohttpd's versions differ in what reaches the extension: some
# malformed requests are refused by the library itself, before the
# extension's handler is called, and 1.0 strips a header value's trailing
# whitespace (RFC 9110 section 5.5: it is not part of the value) where
# 0.9.75 keeps it.  This table is the one place that knows; each row was
# probed with a bare libmicrohttpd daemon answering 200 to whatever reached
# its handler (Debian's builds; every MHD_OPTION_CLIENT_DISCIPLINE_LVL from
# -3 to 1 gives the same answers, so no option makes the versions agree):
#
#   case            0.9.75 (Debian 12)      1.0.1 (Debian 13)     1.0.10 (unstable)
#   path_nul        passed on: our 422      passed on: our 422    its own 400
#   te_not_chunked  passed on: our 501 (*)  its own 400           its own 501
#   two_lengths     passed on: our 400      passed on: our 400    its own 400
#   origin_ows      kept: not listed        stripped: listed      stripped: listed
#
#   path_nul        a %00 in the path (DELETE /reviews/id/5%00junk)
#   te_not_chunked  Transfer-Encoding: gzip (or "gzip, chunked")
#   two_lengths     two Content-Length headers that disagree
#   origin_ows      "Origin: http://b.example " (a trailing space) with
#                   http://b.example allowed: is it the listed origin?
#   (*) 0.9.75 would read the body until the connection closes; the
#       extension refuses it when the head is in (check_head)
#
# What every version must do is the same: refuse at once with a precise
# 4xx/5xx and let nothing reach the database, and echo as
# Access-Control-Allow-Origin only an origin exactly as listed; the tests
# assert that, and the exact status and who sent it from here.  A version
# between two columns is expected to behave like the newest one at or
# below it; when a new libmicrohttpd answers otherwise, probe it and add
# its column.
my %mhd_cases = (
	path_nul       => { '0.9.75' => [ 422, 'extension' ], '1.0.1' => [ 422, 'extension' ], '1.0.10' => [ 400, 'libmicrohttpd' ] },
	te_not_chunked => { '0.9.75' => [ 501, 'extension' ], '1.0.1' => [ 400, 'libmicrohttpd' ], '1.0.10' => [ 501, 'libmicrohttpd' ] },
	two_lengths    => { '0.9.75' => [ 400, 'extension' ], '1.0.1' => [ 400, 'extension' ], '1.0.10' => [ 400, 'libmicrohttpd' ] },
	origin_ows     => { '0.9.75' => [ 'not listed' ], '1.0.1' => [ 'listed' ], '1.0.10' => [ 'listed' ] },
);

sub _version_key { sprintf '%05d' x 3, (split(/\./, $_[0]), 0, 0, 0)[ 0 .. 2 ] }

# The libmicrohttpd the node's workers run with, from the line each logs
# when it starts serving (settings.c).
sub libmicrohttpd_version
{
	my ($node) = @_;
	my ($v) = slurp_file($node->logfile) =~ /serving HTTP on .*, libmicrohttpd=([0-9.]+)/;
	die "no worker logged its libmicrohttpd version" unless defined $v;
	return $v;
}

# mhd_case(VERSION, CASE): that version's row, (status, 'extension' or
# 'libmicrohttpd') for a refusal, ('listed' or 'not listed') for origin_ows
sub mhd_case
{
	my ($version, $case) = @_;
	my $rows = $mhd_cases{$case} or die "no libmicrohttpd case $case";
	my ($row) = grep { _version_key($_) le _version_key($version) }
	  sort { _version_key($b) cmp _version_key($a) } keys %$rows;
	die "libmicrohttpd $version is older than any probed for $case" unless defined $row;
	return @{ $rows->{$row} };
}

# Who wrote an answer's body: the extension answers JSON, libmicrohttpd's
# own refusals are its small HTML pages.
sub answered_by
{
	my ($body) = @_;
	return 'libmicrohttpd' if $body =~ m{^<html><head><title>};
	return 'extension' if eval { JSON::PP->new->decode($body); 1 };
	return 'unknown';
}

1;
