# integration tests: Python scripts that print TAP (see harness.py).
EXTRA_DIST += tests/integration/harness.py
