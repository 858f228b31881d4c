"""The web UI: server-rendered pages over the same reads and commands as the APIs (issue 7)."""
