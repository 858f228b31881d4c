"""Modelog's native API, `/api/modelog/v1/`: every command and query, history and `as_of`."""

PREFIX = "/api/modelog/v1"
