"""Rendering the metrics for a scrape, single- or multi-process."""

import os

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text exposition format 0.0.4, which `generate_latest` writes and every Prometheus
2.x parses (prometheus-client 0.26's CONTENT_TYPE_LATEST names 1.0.0, which Debian's
Prometheus 2.42 here predates)."""


def render() -> bytes:
    """The text exposition of this process's metrics; with PROMETHEUS_MULTIPROC_DIR set,
    of every process writing to that directory (a fresh registry per scrape, as
    prometheus-client's multiprocess documentation requires: the collector must not be
    registered in a registry that also holds the live metrics)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)
