"""Auditing: the log queried by actor, object, type and range; denied attempts; the compliance
report (a pure fold of the log) and its renderers."""
