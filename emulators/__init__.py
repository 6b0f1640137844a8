"""Local stand-ins for the SaaS tools Syncline writes to (tests, demo, benchmarks)."""
