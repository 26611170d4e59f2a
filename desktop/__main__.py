"""`python -m desktop` is the same as the `xindesk` command; it is also the frozen app's entry.

The server starts each model's worker as this same program with `--model-worker FD`
(`core.engine.spawn`): that is answered first, before the command line and what it
imports are loaded, so a worker carries only what a worker needs.
"""

import sys

if __name__ == "__main__":
    from desktop.core.engine.spawn import run_if_worker

    run_if_worker(sys.argv)

    import multiprocessing

    # On Windows a model worker is started with multiprocessing's "spawn", which in the frozen
    # app runs this same executable with multiprocessing's own arguments: freeze_support runs
    # the worker and exits before the command line is read. Elsewhere it does nothing.
    multiprocessing.freeze_support()

    from desktop.cli import main

    raise SystemExit(main())
