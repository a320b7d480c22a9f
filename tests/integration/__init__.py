"""End-to-end test of the whole system on a local moto server (see test_end_to_end.py)."""
