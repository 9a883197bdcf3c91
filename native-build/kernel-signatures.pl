#!/usr/bin/env perl
# Prints each kernel of the given .cu files with its parameter kinds, one "name<TAB>kind,kind,..." line
# per kernel (kinds: pointer, long, int, float). build.sh writes this beside the fatbin, where
# KernelModule checks every launch against it; emulated-device.sh takes the kernel names from it.
# Dies on a parameter type it cannot classify.
use strict;
use warnings;

local $/;  # whole files: declarations may span lines
while (my $source = <>) {
    while ($source =~ /extern\s+"C"\s+__global__\s+void\s+(\w+)\s*\(([^)]*)\)/g) {
        my ($name, @kinds) = ($1);
        for my $parameter (split /,/, $2) {
            push @kinds, $parameter =~ /\*/ ? "pointer"
                       : $parameter =~ /\blong\s+long\b/ ? "long"
                       : $parameter =~ /\bint\b/ ? "int"
                       : $parameter =~ /\bfloat\b/ ? "float"
                       : die "kernel $name: unsupported parameter type in \"$parameter\"\n";
        }
        print "$name\t", join(",", @kinds), "\n";
    }
}
