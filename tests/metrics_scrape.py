"""Reading a `/metrics` answer the way Prometheus does (prometheus_client's parser)."""

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

Series = tuple[str, frozenset[tuple[str, str]]]


def parse(text: str) -> dict[Series, float]:
    """Every sample: (sample name, its labels) -> value."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[Series, float], name: str, **labels: str) -> float:
    """The sample's value; 0 when the series does not exist yet (a counter never moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def series(samples: dict[Series, float], prefix: str) -> set[Series]:
    """The series whose sample name starts with `prefix`."""
    return {key for key in samples if key[0].startswith(prefix)}


def registry_total(name: str, **labels: str) -> float:
    """The sum of this process's samples named `name` (prometheus_client's REGISTRY)
    whose labels include `labels`, whatever their other labels."""
    return sum(
        sample.value
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
