#!/usr/bin/perl
# Assemble an upgrade script of the version in progress from its template.
#
#   perl scripts/assemble-upgrade.pl SRCDIR sql/upgrades/X--Y.sql.in > X--Y.sql
#
# An upgrade script restates every object that the new version adds or
# changes.  Written by hand, it was a second copy of those objects' pieces,
# which drifted from them and doubled every review.  The template says instead
# which objects to take, and from which piece, so that each object's live
# definition stays in exactly one place (its piece in sql/):
#
#   --@piece sql/NAME.sql
#       the whole piece (one that is new in this version)
#   --@create sql/NAME.sql ecommerce_api.fn(
#       the one CREATE FUNCTION statement of that piece whose head starts
#       with this text (a function new in this version: plain CREATE, which
#       fails rather than take over a function someone else made)
#   --@replace sql/NAME.sql ecommerce_api.fn(
#       the same statement as CREATE OR REPLACE FUNCTION (a changed function)
#
# Every other line is copied as it is (hand-written steps such as ALTER
# TABLE).  A directive that names no piece, or a head found zero times or
# more than once, stops the build: an upgrade must never silently miss a
# step.  When the version ships, the assembled script is committed in place of
# its template and frozen (docs/releasing.md).
use strict;
use warnings;

my ($srcdir, $template) = @ARGV;
die "usage: $0 SRCDIR TEMPLATE\n" unless defined $template;

my %pieces;

sub piece_text
{
	my ($name) = @_;
	return $pieces{$name} if exists $pieces{$name};
	die "$template: $name is not a piece under sql/\n"
	  unless $name =~ m{^sql/[\w.-]+\.sql$};
	open(my $fh, '<', "$srcdir/$name") or die "$template: cannot read $name: $!\n";
	local $/;
	my $text = <$fh>;
	close $fh;
	return $pieces{$name} = $text;
}

# The length of the SQL statement that starts at $start in $text: up to and
# including its terminating semicolon, skipping those inside comments, quoted
# strings, quoted identifiers and dollar-quoted bodies.
sub statement_length
{
	my ($text, $start) = @_;
	pos($text) = $start;
	while (pos($text) < length($text))
	{
		if ($text =~ /\G(?:--[^\n]*|\/\*.*?\*\/|'(?:[^']|'')*'|"(?:[^"]|"")*"|[^;'"\$\/-]+|[\/-])/gcs)
		{
			next;
		}
		if ($text =~ /\G(\$(?:[A-Za-z_]\w*)?\$)/gc)
		{
			my $tag = $1;
			my $close = index($text, $tag, pos($text));
			die "$template: unterminated $tag body\n" if $close < 0;
			pos($text) = $close + length($tag);
			next;
		}
		if ($text =~ /\G\$/gc)
		{
			next;
		}
		if ($text =~ /\G;/gc)
		{
			return pos($text) - $start;
		}
		die "$template: cannot scan SQL at offset " . pos($text) . "\n";
	}
	die "$template: statement without its semicolon\n";
}

sub function_statement
{
	my ($name, $head, $verb) = @_;
	my $text = piece_text($name);
	my @starts;
	while ($text =~ /^CREATE (?:OR REPLACE )?FUNCTION \Q$head\E/mg)
	{
		push @starts, $-[0];
	}
	die "$template: $name has no CREATE FUNCTION $head\n" unless @starts;
	die "$template: $name has " . scalar(@starts) . " CREATE FUNCTION $head\n"
	  if @starts > 1;
	my $statement = substr($text, $starts[0], statement_length($text, $starts[0]));
	$statement =~ s/^CREATE (?:OR REPLACE )?FUNCTION /$verb FUNCTION /;
	return "$statement\n";
}

open(my $in, '<', $template) or die "cannot read $template: $!\n";
while (my $line = <$in>)
{
	if ($line =~ /^--\@piece\s+(\S+)\s*$/)
	{
		print piece_text($1);
	}
	elsif ($line =~ /^--\@(create|replace)\s+(\S+)\s+(.+?)\s*$/)
	{
		print function_statement($2, $3,
								 $1 eq 'create' ? 'CREATE' : 'CREATE OR REPLACE');
	}
	elsif ($line =~ /^--\@/)
	{
		die "$template:$.: unknown directive: $line";
	}
	else
	{
		print $line;
	}
}
close $in;
