"""The one way a presenter turns a core record into an API model when the record's fields
already carry the model's names: pydantic reads the attributes (and nested records) itself."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

View = TypeVar("View", bound=BaseModel)


def view_of(view: type[View], found: object) -> View:
    """`found` as `view`; a field the record lacks or holds in another type is a bug here,
    and pydantic's error names it."""
    return view.model_validate(found, from_attributes=True)
