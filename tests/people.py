"""The test suite's people are the demo's: real encrypting clients (see bot/devclient.py)."""

from bot.devclient import Person

__all__ = ["Person"]
