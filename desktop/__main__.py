"""`python -m desktop` is the same as the `xindesk` command; it is also the frozen app's entry."""

import multiprocessing

from desktop.cli import main

# Guarded: model workers are started with multiprocessing's "spawn", which imports this module
# again in the child; it must not run the command line there.
if __name__ == "__main__":
    # In the frozen app a model worker is this same executable started with multiprocessing's
    # own arguments: freeze_support runs the worker and exits before the command line is read.
    # Outside a frozen app it does nothing.
    multiprocessing.freeze_support()
    raise SystemExit(main())
