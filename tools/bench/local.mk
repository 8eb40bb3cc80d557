# ringbench and the comparison harness: util, proto, net.
