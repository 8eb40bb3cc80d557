# integration tests: Python scripts that print TAP (see harness.py).
