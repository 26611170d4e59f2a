"""Which installed model serves a file of a hub repository, or a catalog spec.

The one answer to that question for the whole server: launch planning (the file a catalog model
launches from), the library's catalog table (whether a quantization is downloaded), and the
Xinference cache listing (which catalog model an installed file is) all ask it here. A model
counts wherever it came from: a download in the models folder, an import, or the Hugging Face
cache that other tools share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from desktop.core.store.record import SOURCE_ORDER, InstalledModel

if TYPE_CHECKING:
    from desktop.core.catalog import Catalog, Family, Spec


class InstalledIndex:
    """One listing of the installed models, to ask many questions of without listing again.

    Args:
        models: What `ModelStore.installed()` returned.
    """

    def __init__(self, models: Iterable[InstalledModel]) -> None:
        self.models: tuple[InstalledModel, ...] = tuple(models)
        # Every model under the lowered name of each of its files (any part of a split set).
        self._by_name: dict[str, list[InstalledModel]] = {}
        for model in self.models:
            for name in {model.path.name.lower(), *(part.name.lower() for part in model.parts)}:
                self._by_name.setdefault(name, []).append(model)

    def find(self, repo_id: str | None, file_name: str) -> InstalledModel | None:
        """The installed copy of `file_name` of repository `repo_id`, the best one first.

        `file_name` is a name or a "/"-separated path inside the repository; for split sets any
        part's name matches. With `repo_id` (compared case-insensitively, as the hubs do) only
        copies of that repository match; with None any copy of that name does. Whole, readable
        files win over damaged ones, then downloads over imports over the Hugging Face cache. A
        damaged copy is returned rather than nothing, so a caller can say what is wrong with it
        (`InstalledModel.problem`).
        """

        def of_repo(model: InstalledModel) -> bool:
            return repo_id is None or (model.repo_id or "").lower() == repo_id.lower()

        return self._best(file_name, of_repo)

    def serving(self, repo_id: str | None, file_names: Sequence[str]) -> InstalledModel | None:
        """The installed model that can run these files of the repository (the first file, or
        every part of a split set: `Spec.file_names()` or a listing's paths); None when no
        usable copy is installed.

        A copy from `repo_id` serves; so does one whose repository nothing records (an import,
        a file put loose in the models folder) under the same file name, since a hub file name
        names one model and quantization.
        """
        if not file_names:
            return None
        found = self.find(repo_id, file_names[0])
        if (found is None or not found.usable) and repo_id is not None:
            found = self._best(file_names[0], lambda model: model.repo_id is None)
        if found is None or not found.usable:
            return None
        return found

    def for_spec(self, spec: Spec) -> InstalledModel | None:
        """The installed model that serves a catalog spec (`serving` its files of its repository,
        `spec.model_id`); None when it is not installed, or not whole."""
        return self.serving(spec.model_id, spec.file_names())

    def _best(
        self, file_name: str, accept: Callable[[InstalledModel], bool]
    ) -> InstalledModel | None:
        """The best accepted model with a file of this name (and folder, for a path)."""
        wanted = PurePosixPath(file_name.replace("\\", "/"))
        nested = len(wanted.parts) > 1
        matches: list[InstalledModel] = []
        for model in self._by_name.get(wanted.name.lower(), []):
            if not accept(model):
                continue
            if nested and model.source != "import":
                folder = PurePosixPath(model.id).parent.as_posix().lower()
                if not folder.endswith(wanted.parent.as_posix().lower()):
                    continue
            matches.append(model)
        if not matches:
            return None
        matches.sort(key=lambda model: (not model.usable, SOURCE_ORDER[model.source]))
        return matches[0]

    def catalog_specs(self, catalog: Catalog) -> dict[str, tuple[Family, Spec]]:
        """For each installed model that serves a catalog spec, that family and spec, by
        installed id: the reverse of `for_spec`, for naming installed files by catalog model.
        The first family to claim a file keeps it (LLM, then embedding, then rerank)."""
        from desktop.core.catalog.families import GGUF_FORMAT, MODEL_TYPES

        named: dict[str, tuple[Family, Spec]] = {}
        for model_type in MODEL_TYPES:
            for family in catalog.families(model_type):
                for spec in family.model_specs:
                    if spec.model_format != GGUF_FORMAT or not spec.model_id:
                        continue
                    found = self.for_spec(spec)
                    if found is not None:
                        named.setdefault(found.id, (family, spec))
        return named
