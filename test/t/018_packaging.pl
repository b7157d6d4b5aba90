# Packaging metadata, no cluster: META.json follows the PGXN Meta Spec 1.0.0
# (https://pgxn.org/spec/) and every version it, CHANGELOG.md and LICENSE
# state, and debian/changelog's, agrees with the one place the version lives,
# default_version in ecommerce_api.control.
use strict;
use warnings;

use File::Basename qw(dirname);
use FindBin;
use JSON::PP;
use Test::More;

# the distribution's root: the nearest directory above this file holding the
# control file (t/ today, test/t/ in other layouts)
my $root = $FindBin::RealBin;
$root = dirname($root) until -f "$root/ecommerce_api.control" || $root eq '/';
ok(-f "$root/ecommerce_api.control", "distribution root found ($root)");

sub slurp
{
	my ($file) = @_;
	open my $fh, '<:raw', "$root/$file" or die "$file: $!";
	local $/;
	return scalar <$fh>;
}

my ($control_version) = slurp('ecommerce_api.control') =~ /^default_version\s*=\s*'([^']+)'/m;
ok(defined $control_version, "control file's default_version is $control_version");

# PGXN versions are semantic versions (SemVer 1.0.0: three numbers and an
# optional suffix); PGXN itself reads "1.1" as 1.1.0, so that is the control
# file's version in META.json.
my $semver = qr/^(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:[a-zA-Z][0-9a-zA-Z-]*)?$/;
my @parts = split /\./, $control_version;
push @parts, 0 while @parts < 3;
my $control_semver = join '.', @parts;
like($control_semver, $semver, "control version as a semantic version: $control_semver");

my $meta = eval { JSON::PP->new->relaxed(0)->decode(slurp('META.json')) };
is($@, '', 'META.json is JSON');
is(ref $meta, 'HASH', 'META.json is an object');
$meta ||= {};

# --- the spec's required keys and their forms
for my $key (qw(name abstract version maintainer license provides meta-spec))
{
	ok(exists $meta->{$key}, "META.json has required key '$key'");
}
is_deeply($meta->{'meta-spec'}{version}, '1.0.0', 'meta-spec version 1.0.0');
like($meta->{name} // '', qr{^[^\s/\\\p{Cc}]{2,}$},
	'name: two characters or more, no whitespace, slash, backslash or control character');
is($meta->{name}, 'ecommerce_api', 'the distribution is named after the extension');
ok(!ref $meta->{abstract} && length($meta->{abstract} // '') > 0, 'abstract is a non-empty string');
like($meta->{version} // '', $semver, 'version is a semantic version');
my @maintainers = ref $meta->{maintainer} eq 'ARRAY' ? @{ $meta->{maintainer} } : ($meta->{maintainer});
ok(@maintainers && !grep({ !defined || ref || !length } @maintainers), 'maintainer: one or more strings');
is($meta->{license}, 'postgresql', 'license is "postgresql" (one of the spec\'s license strings)');
like(slurp('LICENSE'), qr/^PostgreSQL License|Permission to use, copy, modify, and distribute this software and its\s+documentation for any purpose, without fee, and without a written agreement/m,
	'LICENSE holds the PostgreSQL License text');

# optional keys: only those the spec names, or x_/X_ custom ones
my %known = map { $_ => 1 } qw(name abstract version maintainer license provides meta-spec
  description generated_by no_index prereqs release_status resources tags);
my @unknown = grep { !$known{$_} && !/^[xX]_/ } sort keys %$meta;
is_deeply(\@unknown, [], 'no keys outside the spec');
like($meta->{release_status} // 'stable', qr/^(?:stable|testing|unstable)$/, 'release_status');
ok(!exists $meta->{tags} || (ref $meta->{tags} eq 'ARRAY' && !grep { ref || !length } @{ $meta->{tags} }),
	'tags: a list of strings');

# the other optional keys' shapes
ok(!exists $meta->{description} || (!ref $meta->{description} && length $meta->{description}),
	'description: a non-empty string');
ok(!exists $meta->{generated_by} || (!ref $meta->{generated_by} && length $meta->{generated_by}),
	'generated_by: a non-empty string');
ok(!exists $meta->{no_index} || (ref $meta->{no_index} eq 'HASH'
	  && !grep({ !/^(?:file|directory)$/ || ref $meta->{no_index}{$_} ne 'ARRAY' } keys %{ $meta->{no_index} })),
	'no_index: file and directory lists');

# resources: homepage, bugtracker {web, mailto}, repository {url, web, type},
# each an address that exists.  This project has no public homepage, bug
# tracker or repository yet (its git repository has no remote), so META.json
# has no resources (README, "Packaging"); once published, add them and they
# are checked here.  No placeholder host may stand in for a real address.
my $url = qr{^https?://[^\s/]+\.[^\s/]+(?:/\S*)?$};
my %resource_keys = (homepage => undef, bugtracker => [qw(web mailto)], repository => [qw(url web type)]);
my @bad_resources;
if (exists $meta->{resources})
{
	my $r = $meta->{resources};
	push @bad_resources, 'not an object' unless ref $r eq 'HASH';
	for my $k (ref $r eq 'HASH' ? sort keys %$r : ())
	{
		next if $k =~ /^[xX]_/;
		if (!exists $resource_keys{$k}) { push @bad_resources, "unknown key $k"; next }
		if (!$resource_keys{$k})
		{
			push @bad_resources, $k unless !ref $r->{$k} && $r->{$k} =~ $url;
			next;
		}
		if (ref $r->{$k} ne 'HASH') { push @bad_resources, "$k is not an object"; next }
		my %sub = map { $_ => 1 } @{ $resource_keys{$k} };
		for my $s (sort keys %{ $r->{$k} })
		{
			my $v = $r->{$k}{$s};
			next if $s =~ /^[xX]_/;
			my $ok = !$sub{$s} || ref $v ? 0
			  : $s eq 'type' ? $v =~ /^[a-z]+$/
			  : $s eq 'mailto' ? $v =~ /^[^\s@]+@[^\s@]+$/
			  : $s eq 'url' ? $v =~ m{^(?:https?|git|ssh|svn)://\S+$}
			  : $v =~ $url;
			push @bad_resources, "$k.$s" unless $ok;
		}
	}
}
is_deeply(\@bad_resources, [], 'resources: only the spec\'s keys, each an address');
unlike(JSON::PP->new->canonical->encode($meta->{resources} // {}),
	qr{example\.(?:com|org|net)|your[-_]?(?:org|name|user)|TODO|FIXME|localhost}i,
	'resources: no placeholder address');

# --- provides: each extension's file exists and its version is the control file's
is(ref $meta->{provides}, 'HASH', 'provides is an object');
ok(exists $meta->{provides}{ecommerce_api}, 'provides the ecommerce_api extension');
for my $ext (sort keys %{ $meta->{provides} || {} })
{
	my $p = $meta->{provides}{$ext};
	ok(defined $p->{file} && -f "$root/$p->{file}", "provides $ext: file $p->{file} exists");
	ok(!defined $p->{docfile} || -f "$root/$p->{docfile}", "provides $ext: docfile exists");
	like($p->{version} // '', $semver, "provides $ext: version is a semantic version");
	my %pk = map { $_ => 1 } qw(file version abstract docfile);
	is_deeply([ grep { !$pk{$_} && !/^[xX]_/ } sort keys %$p ], [], "provides $ext: no keys outside the spec");
}
is($meta->{version}, $control_semver, "META.json version is the control file's ($control_version)");
is($meta->{provides}{ecommerce_api}{version}, $control_semver,
	"provides ecommerce_api version is the control file's");

# --- prereqs: phase -> relation -> { name: version }, version 0 or a version string
my %phases = map { $_ => 1 } qw(configure build test runtime develop);
my %relations = map { $_ => 1 } qw(requires recommends suggests conflicts);
my @bad;
for my $phase (sort keys %{ $meta->{prereqs} || {} })
{
	push @bad, $phase unless $phases{$phase};
	for my $rel (sort keys %{ $meta->{prereqs}{$phase} })
	{
		push @bad, "$phase.$rel" unless $relations{$rel};
		while (my ($name, $v) = each %{ $meta->{prereqs}{$phase}{$rel} })
		{
			push @bad, "$phase.$rel.$name" unless $v =~ /^(?:0|$semver|(?:[<>]=?|==|!=)\s*\d[\w.]*(?:\s*,\s*(?:[<>]=?|==|!=)\s*\d[\w.]*)*)$/
		}
	}
}
is_deeply(\@bad, [], 'prereqs: known phases and relations, version 0 or a version range');
my ($pg_min) = ($meta->{prereqs}{runtime}{requires}{PostgreSQL} // '') =~ /^(\d+)/;
is($pg_min, 15, 'requires PostgreSQL 15 or later');
ok(exists $meta->{prereqs}{runtime}{requires}{$_}, "requires $_, as the control file does")
  for slurp('ecommerce_api.control') =~ /^requires\s*=\s*'([^']*)'/m ? split(/\s*,\s*/, $1) : ();

# --- the changelog's newest section is the control file's version; the one
# in progress says Unreleased, and only it may
my $changelog = slurp('CHANGELOG.md');
my @sections = $changelog =~ /^## \[(\d[^\]]*)\](.*)$/mg;
my %when = @sections;
my @versions = @sections[ grep { $_ % 2 == 0 } 0 .. $#sections ];
ok(@versions >= 2, 'CHANGELOG.md has a section per version: ' . join(', ', @versions));
is($versions[0], $control_version, "CHANGELOG.md's newest section is the control file's version");
is_deeply([ grep { $when{$_} =~ /unreleased/i } @versions[ 1 .. $#versions ] ], [],
	'only the newest section may be Unreleased');
ok(!grep({ $when{$_} !~ /^ - (?:Unreleased|\d{4}-\d\d-\d\d)\s*$/ } @versions),
	'each section is dated or Unreleased');

# --- the Debian package's version (a native package: the version itself)
my ($deb_version) = slurp('debian/changelog') =~ /^ecommerce-api \(([^)]+)\)/;
is($deb_version, $control_version, "debian/changelog's newest entry is the control file's version");

done_testing();
