"""`python -m desktop` is the same as the `xindesk` command."""

from desktop.cli import main

# Guarded: model workers are started with multiprocessing's "spawn", which imports this module
# again in the child; it must not run the command line there.
if __name__ == "__main__":
    raise SystemExit(main())
