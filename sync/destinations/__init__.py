"""Built-in destinations; importing this package registers them."""

from sync.destinations import customerio, file, hubspot, salesforce, slack  # noqa: F401
from sync.destinations.base import Destination, register

__all__ = ["Destination", "register"]
