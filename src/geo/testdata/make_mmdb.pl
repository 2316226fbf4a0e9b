#!/usr/bin/perl
# Writes a small MMDB file for geo's tests with MaxMind::DB::Writer (Debian
# libmaxmind-db-writer-perl).
# Usage: make_mmdb.pl OUT IP_VERSION DATABASE_TYPE < ranges
# Each input line: first<TAB>last<TAB>asn<TAB>organization<TAB>country; an
# empty asn or country leaves that key out of the record. With IP_VERSION 6,
# IPv4 ranges go in ::/96 and ::ffff:0:0/96 and 2002::/16 alias them, as in
# MaxMind's own databases.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $ip_version, $type) = @ARGV;
die "usage: make_mmdb.pl OUT IP_VERSION DATABASE_TYPE < ranges\n" unless defined $type;

my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
    country                        => 'map',
    iso_code                       => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => $ip_version,
    record_size              => 28,
    database_type            => $type,
    languages                => ['en'],
    description              => { en => 'kizuna geo test data' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4       => ($ip_version == 6 ? 1 : 0),
    remove_reserved_networks => 0,
);
while (my $line = <STDIN>) {
    chomp $line;
    next if $line eq '' || $line =~ /^#/;
    my ($first, $last, $asn, $org, $country) = split /\t/, $line, -1;
    my %record;
    if (defined $asn && $asn ne '') {
        $record{autonomous_system_number}       = $asn + 0;
        $record{autonomous_system_organization} = $org;
    }
    $record{country} = { iso_code => $country } if defined $country && $country ne '';
    $tree->insert_range($first, $last, \%record);
}
open my $fh, '>:raw', $out or die "cannot write $out: $!\n";
$tree->write_tree($fh);
close $fh or die "cannot write $out: $!\n";
