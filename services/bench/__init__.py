"""Benchmarks behind `hubnet bench`: figures printed on this machine, never asserted in tests."""
