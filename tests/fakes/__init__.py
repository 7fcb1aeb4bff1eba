"""Offline loopback fakes used by tests, benchmarks and the demo."""
