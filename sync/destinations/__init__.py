"""Built-in destinations; importing this package registers them."""

from sync.destinations import file  # noqa: F401
from sync.destinations.base import Destination, register

__all__ = ["Destination", "register"]
