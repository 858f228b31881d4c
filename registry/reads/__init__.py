"""The read side: the registry now (read models), as it was (the log folded up to a point), its
timelines and searches."""
