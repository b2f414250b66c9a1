"""What a running process tells its operator: logs (issue 10) and metrics (issue 12,
docs/metrics.md)."""
