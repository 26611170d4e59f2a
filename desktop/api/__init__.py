"""The REST contract: pydantic models of every request and answer of XinDesk's API.

The server answers with these, `desktop.client` parses answers into them, and the command line
and the window show them. This package imports nothing else of XinDesk's (nor Qt, nor FastAPI),
so every side of the wire can share it; import-linter checks that.
"""
