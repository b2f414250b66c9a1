"""What a running process tells its operator: logs (issue 10); metrics will join them."""
