#!/usr/bin/perl
# Cache::Memcached or Cache::Memcached::Fast (MODULE) against SERVER:
# every call the module has. Prints "ok|fail|skip NAME [why]" lines
# (clientlib.py).
use strict;
use warnings;

my ($module, $server) = @ARGV;
eval "require $module; 1" or die "cannot load $module: $@";
my $fast = $module eq 'Cache::Memcached::Fast';
my $P = $fast ? 'plf:' : 'plc:';
my $m = $module->new({ servers => [$server], connect_timeout => 3,
                       io_timeout => 3, select_timeout => 3 });

sub expect { my ($cond, $what) = @_; die "$what\n" unless $cond; }

sub check {
    my ($name, $fn) = @_;
    my $ok = eval { $fn->(); 1 };
    if ($ok) {
        print "ok $name\n";
    } elsif ($@ =~ /^SKIP (.*)/s) {
        chomp(my $why = $1);
        print "skip $name $why\n";
    } else {
        (my $why = $@) =~ s/\s+/ /g;
        print "fail $name $why\n";
    }
}

sub skip { die "SKIP $_[0]\n"; }

check('set_get', sub {
    expect($m->set("${P}k1", 'v1'), 'set');
    expect(($m->get("${P}k1") // '') eq 'v1', 'get');
    expect(!defined $m->get("${P}absent"), 'miss');
});
check('add', sub {
    expect(!$m->add("${P}k1", 'x'), 'add existing');
    expect($m->add("${P}k2", 'x'), 'add new');
});
check('replace', sub {
    expect($m->replace("${P}k2", 'y'), 'replace');
    expect(!$m->replace("${P}nope", 'y'), 'replace missing');
});
check('append_prepend', sub {
    $m->set("${P}ap", 'v');
    expect($m->append("${P}ap", 'x'), 'append');
    expect($m->prepend("${P}ap", 'p'), 'prepend');
    expect(($m->get("${P}ap") // '') eq 'pvx', 'value');
});
check('cas', sub {
    skip("$module has no gets/cas") unless $fast;
    $m->set("${P}c", '1');
    my $r = $m->gets("${P}c");
    expect($r && $r->[1] eq '1', 'gets');
    expect($m->cas("${P}c", $r->[0], '2'), 'cas');
    expect(!$m->cas("${P}c", $r->[0], '3'), 'cas stale');
    my $g = $m->gets_multi("${P}c", "${P}k1");
    expect(keys %$g == 2, 'gets_multi');
});
check('delete', sub {
    $m->set("${P}d", '1');
    expect($m->delete("${P}d"), 'delete');
    expect(!$m->delete("${P}d"), 'delete missing');
});
check('incr_decr', sub {
    $m->set("${P}n", '10');
    expect(($m->incr("${P}n", 5) // -1) == 15, 'incr');
    expect(($m->decr("${P}n", 3) // -1) == 12, 'decr');
    expect(!$m->incr("${P}nope", 1), 'incr missing');
});
check('touch', sub {
    skip("$module has no touch") unless $fast;
    expect($m->touch("${P}n", 100), 'touch');
    expect(!$m->touch("${P}nope", 100), 'touch missing');
    my $g = $m->gat(100, "${P}n");
    expect(defined $g && $g == 12, 'gat');
});
check('get_multi', sub {
    my %kv = map { ("${P}m$_" => "v$_") } 0 .. 29;
    $m->set($_, $kv{$_}) for keys %kv;
    my $got = $m->get_multi(keys %kv, "${P}absent");
    expect(keys %$got == 30, 'get_multi: ' . scalar(keys %$got) .
        ' of 30');
    expect($got->{$_} eq $kv{$_}, "value of $_") for keys %kv;
});
my $stats = sub {
    my ($type) = @_;
    return sub {
        skip("$module has no stats") if $fast;
        my $s = $m->stats($type ? [$type] : undef);
        my ($host) = values %{ $s->{hosts} };
        expect($host, 'no answer');
        if (!$type) {
            expect($host->{misc}{version}, 'version');
            return;
        }
        my $v = $host->{$type};
        $v = join(' ', %$v) if ref $v;
        expect(defined $v && $v !~ /^ERROR/, "stats $type: " .
            ($v // 'nothing'));
    };
};
check('stats', $stats->(undef));
check("stats_$_", $stats->($_)) for qw(settings items slabs sizes conns);
check('all_keys', sub { skip("$module has no call that lists keys") });
check('flush_all', sub {
    $m->set("${P}f", '1');
    expect($m->flush_all, 'flush_all');
    expect(!defined $m->get("${P}f"), 'flushed');
});
check('binary_fails_fast', sub {
    skip("$module speaks the text protocol only");
});
