# fuzz harnesses: see tests/fuzz/README.
