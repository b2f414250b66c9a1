"""Forming, checking and watching a Redis Cluster with redis-py's cluster commands
(`shopbot redis cluster create|check|monitor`, docs/cli.md).

Modules: `nodes` (addresses, connections, what one node says about the cluster),
`health` (the verdict and its table), `create` (the idempotent creator), `monitor`
(the checks as Prometheus metrics)."""
