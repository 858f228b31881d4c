"""Modelog: an event-sourced ML model registry with a full audit trail."""

__version__ = "0.1.0"
