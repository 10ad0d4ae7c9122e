"""The database layer: the only place that writes SQL or holds a session."""
