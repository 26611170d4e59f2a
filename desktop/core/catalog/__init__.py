"""Model families (chat LLM, embedding, rerank): the built-in catalog and custom registrations."""

from desktop.core.catalog.families import Family, ModelType, Spec, normalize_size
from desktop.core.catalog.registry import Catalog

__all__ = ["Catalog", "Family", "ModelType", "Spec", "normalize_size"]
