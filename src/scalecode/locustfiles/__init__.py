"""Locustfiles run by ``scalecode.loadtest`` in a locust subprocess (never imported in a kernel)."""
