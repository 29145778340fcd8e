"""Shiyu (市域): open platform for municipal social governance."""

__version__ = "0.1.0"
