"""Destinations: one module each, registered by type name when this package is imported.

A new destination is one module here that defines a `Destination` subclass decorated with
`@register`, plus its import below (see CONTRIBUTING.md).
"""

from sync.destinations import customerio, file, hubspot, salesforce, slack, webhook  # noqa: F401
from sync.destinations.base import Destination, register, registered

__all__ = ["Destination", "destination_types", "register"]


def destination_types() -> dict[str, type[Destination]]:
    """Destination classes by `type:` name: the built-ins above plus any registered later."""
    return registered()
