"""Installed models: what is on disk, which local files were imported, and whether they are whole.

Three kinds of model count as installed:

- downloads: every `*.gguf` below the models folder, laid out `<owner>/<repo>/<path in repo>` by
  `desktop.core.hub`. A file still downloading is `<name>.part` and never counts; a file without
  that suffix was size- and sha256-checked before it took its name.
- imports: local GGUF files the user registered in place (no copy), remembered in
  `<data_dir>/imports.json`.
- the Hugging Face cache (`~/.cache/huggingface/hub`): GGUFs other tools already downloaded.
  They are offered for launch but never deleted here, since other programs share that cache.

`ModelStore` is the facade; beside it: `record` (the installed-model record), `splits` (which
files make one model), `scan` (reading the three sources), `imports` (imports.json), `relocate`
(moving the models folder as one transaction) and `lookup` (which installed model serves a file
or a catalog spec: the one answer to that question).
"""

from desktop.core.store.imports import IMPORTS_FILE
from desktop.core.store.lookup import InstalledIndex
from desktop.core.store.modelstore import ModelStore
from desktop.core.store.record import InstalledModel, ModelSource

__all__ = ["IMPORTS_FILE", "InstalledIndex", "InstalledModel", "ModelSource", "ModelStore"]
