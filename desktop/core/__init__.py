"""Pure-Python core: no Qt, no web framework (enforced by import-linter)."""
