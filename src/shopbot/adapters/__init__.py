"""Implementations of the domain's ports that talk to the outside world."""
