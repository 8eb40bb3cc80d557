# Dalli (ruby-dalli) against SERVER. Debian 12's Dalli 3.0.6 speaks only
# the binary protocol (the meta protocol came in 3.2), which ringcache does
# not implement: what matters is that it fails at once instead of hanging
# for its whole socket timeout. Prints "ok|fail|skip NAME [why]" lines
# (clientlib.py).
require 'dalli'

server = ARGV[0]
why = "Dalli #{Dalli::VERSION} speaks only the binary protocol"
%w[set_get add replace append_prepend cas delete incr_decr touch get_multi
   stats stats_settings stats_items stats_slabs stats_sizes stats_conns
   all_keys flush_all].each { |c| puts "skip #{c} #{why}" }

begin
  d = Dalli::Client.new(server, socket_timeout: 3, socket_max_failures: 1,
                        socket_failure_delay: false, down_retry_delay: 60)
  t0 = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  err = nil
  begin
    d.set('dalli:bin', '1')
    d.get('dalli:bin')
  rescue StandardError => e
    err = e
  end
  took = Process.clock_gettime(Process::CLOCK_MONOTONIC) - t0
  if err.nil?
    puts 'fail binary_fails_fast a binary request succeeded'
  elsif took >= 1.0
    puts format('fail binary_fails_fast the error came after %.2f s: %s',
                took, err.message.tr("\n", ' '))
  else
    puts 'ok binary_fails_fast'
  end
rescue StandardError => e
  puts "fail binary_fails_fast #{e.class}: #{e.message.tr("\n", ' ')}"
end
