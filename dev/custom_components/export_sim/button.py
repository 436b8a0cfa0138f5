"""The simulated vendor's button entities (development only)."""

from .entity import async_setup_platform

__all__ = ["async_setup_platform"]
