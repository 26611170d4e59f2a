"""Served models by uid: launch planning, the supervisor that owns their worker processes, and
the demo model's launch request."""
