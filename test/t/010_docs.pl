# The documentation's links: every relative link in README.md, docs/*.md and
# bench/README.md names a file or folder that exists, and a heading (or an
# HTML anchor) that exists when it has a #fragment, with GitHub's slugs; and
# the README links to every page of docs/; and src/ecommerce_api.h's file
# list names every source file.  Needs no cluster.
use strict;
use warnings;

use File::Basename qw(dirname);
use File::Spec;
use FindBin;
use Test::More;

# the top of the tree: the nearest folder above this file holding README.md and docs/
my $top = $FindBin::Bin;
$top = dirname($top) until -f "$top/README.md" && -d "$top/docs" || $top eq '/';
BAIL_OUT("no README.md and docs/ above $FindBin::Bin") if $top eq '/';

my @pages = ('README.md', (map { "docs/" . (File::Spec->splitpath($_))[2] } glob("$top/docs/*.md")),
	'bench/README.md');

sub read_text
{
	my ($path) = @_;
	open my $fh, '<:encoding(UTF-8)', $path or die "$path: $!";
	local $/;
	return <$fh>;
}

# The page's lines outside fenced code blocks.
sub prose_lines
{
	my ($text) = @_;
	my ($fence, @out) = (undef);
	for my $line (split /\n/, $text)
	{
		if ($line =~ /^\s*(```+|~~~+)/)
		{
			if (!defined $fence) { $fence = substr($1, 0, 3); }
			elsif (substr($1, 0, 3) eq $fence) { $fence = undef; }
			next;
		}
		push @out, $line unless defined $fence;
	}
	return @out;
}

# GitHub's anchor for a heading: the text as rendered (no markup), lower
# case, without punctuation but hyphens and underscores, spaces as hyphens;
# a repeated one gets -1, -2, ...
sub slug
{
	my ($heading, $seen) = @_;
	my $s = $heading;
	$s =~ s/\[([^\]]*)\]\([^)]*\)/$1/g;    # a link: its text
	$s =~ s/<[^>]+>//g;                     # inline HTML
	$s = lc $s;
	$s =~ s/[^\p{L}\p{M}\p{N}\p{Pc} \-]//g;
	$s =~ s/ /-/g;
	my $n = $seen->{$s}++;
	return $n ? "$s-$n" : $s;
}

my %anchors_of;
sub anchors
{
	my ($path) = @_;
	return $anchors_of{$path} if $anchors_of{$path};
	my (%seen, %anchors);
	for my $line (prose_lines(read_text($path)))
	{
		if ($line =~ /^#{1,6}\s+(.*?)\s*#*\s*$/)
		{
			$anchors{ slug($1, \%seen) } = 1;
		}
		$anchors{$1} = 1 while $line =~ /<a\s+(?:name|id)="([^"]+)"/g;
	}
	return $anchors_of{$path} = \%anchors;
}

# Every link of a page: [text](target), [text](target "title"), [ref]: target.
sub links
{
	my ($path) = @_;
	my @links;
	for my $line (prose_lines(read_text($path)))
	{
		(my $prose = $line) =~ s/(`+).*?\1//g;    # not inside code spans
		push @links, $1 while $prose =~ /\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
		push @links, $1 if $prose =~ /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/;
	}
	return @links;
}

my %readme_targets;
for my $page (@pages)
{
	my $file = "$top/$page";
	ok(-f $file, "$page exists") or next;
	for my $link (links($file))
	{
		next if $link =~ m{^[a-z][a-z0-9+.-]*:}i;    # http:, https:, mailto:
		my ($target, $fragment) = $link =~ /^([^#]*)(?:#(.*))?$/;
		my $resolved = $target eq ''
		  ? $file
		  : File::Spec->canonpath(dirname($file) . "/$target");
		1 while $resolved =~ s{/(?!\.\.(?:/|$))[^/]+/\.\.(?=/|$)}{};    # a/b/../c -> a/c
		if (!ok(-e $resolved, "$page: $link: the target exists"))
		{
			next;
		}
		if ($page eq 'README.md')
		{
			(my $rel = $resolved) =~ s{^\Q$top\E/}{};
			$readme_targets{$rel} = 1;
		}
		next unless defined $fragment && length $fragment;
		if ($resolved !~ /\.md$/ || -d $resolved)
		{
			fail("$page: $link: a #fragment on something that is not a Markdown page");
			next;
		}
		ok(anchors($resolved)->{$fragment},
			"$page: $link: the heading #$fragment exists in " . substr($resolved, length($top) + 1));
	}
}

for my $doc (grep { m{^docs/} } @pages)
{
	ok($readme_targets{$doc}, "README.md links to $doc");
}

# The source files' list: the header comment of src/ecommerce_api.h names
# every src/*.c and src/*.h and what it owns (a file added without a line
# there fails here), and names no file that is gone.
my ($list) = read_text("$top/src/ecommerce_api.h") =~ m{One concern per file:\n(.*?)\*/}s;
ok(defined $list, 'src/ecommerce_api.h has its file list ("One concern per file:")');
my %listed = map { $_ => 1 } ($list // '') =~ /^\s*\*\s+([\w.]+\.[ch])\b/mg;
for my $file (sort map { (File::Spec->splitpath($_))[2] } glob("$top/src/*.[ch]"))
{
	ok($listed{$file}, "src/ecommerce_api.h's file list names src/$file");
}
for my $file (sort keys %listed)
{
	ok(-f "$top/src/$file", "src/ecommerce_api.h's file list: src/$file exists");
}

# the README is the front door (issue 8): what this is, the two commands,
# the settings and links, in at most 250 lines; the detail lives in docs/
open(my $readme, '<', "$top/README.md") or die "README.md: $!";
my $readme_lines = () = <$readme>;
close $readme;
cmp_ok($readme_lines, '<=', 250, "README.md is at most 250 lines ($readme_lines)");

done_testing();
