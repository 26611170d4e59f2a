"""The commands of `xindesk`, one module per kind; `desktop.cli` parses and dispatches."""
