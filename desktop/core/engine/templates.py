"""Chat template resolution and rendering.

Order (issue #2): the GGUF's own `tokenizer.chat_template`, else the family's template from the
catalog, else a template known for the model's architecture, else a clear error. Base models such
as the Gemma 3 270M test model carry no template at all, which is why the architecture table
exists: a person who loads such a file still gets sensible chat.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from desktop.core.errors import ChatTemplateError

TemplateSource = Literal["gguf", "family", "architecture"]

# Written without whitespace-control dashes: the renderer uses trim_blocks/lstrip_blocks like
# Hugging Face does, and the newlines here are part of the prompt format.
_GEMMA = (
    "{{ bos_token }}"
    "{% set system = namespace(text='') %}"
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{% set system.text = system.text + m['content'] + '\\n\\n' %}{% endif %}{% endfor %}"
    "{% set first = namespace(done=false) %}"
    "{% for m in messages %}{% if m['role'] != 'system' %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\\n' }}"
    "{% if role == 'user' and not first.done %}{{ system.text }}{% endif %}"
    "{% set first.done = true %}"
    "{{ (m['content'] or '') | trim }}{{ '<end_of_turn>\\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)

_CHATML = (
    "{% for m in messages %}"
    "{{ '<|im_start|>' + m['role'] + '\\n' + (m['content'] or '') + '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_LLAMA3 = (
    "{{ bos_token }}"
    "{% for m in messages %}"
    "{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' }}"
    "{{ (m['content'] or '') | trim }}{{ '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)

_PHI3 = (
    "{% for m in messages %}"
    "{{ '<|' + m['role'] + '|>\\n' + (m['content'] or '') + '<|end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

_GLM4 = (
    "[gMASK]<sop>"
    "{% for m in messages %}{{ '<|' + m['role'] + '|>\\n' + (m['content'] or '') }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)


@dataclass(frozen=True)
class ArchitectureTemplate:
    template: str
    stop: tuple[str, ...]


# Architectures (GGUF `general.architecture`) whose chat convention is unambiguous.
ARCHITECTURE_TEMPLATES: Mapping[str, ArchitectureTemplate] = {
    "gemma": ArchitectureTemplate(_GEMMA, ("<end_of_turn>",)),
    "gemma2": ArchitectureTemplate(_GEMMA, ("<end_of_turn>",)),
    "gemma3": ArchitectureTemplate(_GEMMA, ("<end_of_turn>",)),
    "gemma3n": ArchitectureTemplate(_GEMMA, ("<end_of_turn>",)),
    "qwen2": ArchitectureTemplate(_CHATML, ("<|im_end|>",)),
    "qwen2moe": ArchitectureTemplate(_CHATML, ("<|im_end|>",)),
    "qwen3": ArchitectureTemplate(_CHATML, ("<|im_end|>",)),
    "qwen3moe": ArchitectureTemplate(_CHATML, ("<|im_end|>",)),
    "llama": ArchitectureTemplate(_LLAMA3, ("<|eot_id|>",)),
    "phi3": ArchitectureTemplate(_PHI3, ("<|end|>",)),
    "glm4": ArchitectureTemplate(_GLM4, ("<|user|>", "<|observation|>")),
    "chatglm": ArchitectureTemplate(_GLM4, ("<|user|>", "<|observation|>")),
}


@dataclass(frozen=True)
class ResolvedTemplate:
    """A chat template, where it came from, and stop strings it implies."""

    template: str
    source: TemplateSource
    stop: tuple[str, ...] = ()

    @property
    def supports_tools(self) -> bool:
        """Whether the template itself renders a `tools` list (so no generic tool prompt)."""
        return "tools" in self.template


def resolve_chat_template(
    *,
    gguf_template: str | None,
    family_template: str | None,
    architecture: str | None,
    family_stop: list[str] | None = None,
) -> ResolvedTemplate:
    """Pick the template by the order above, or raise `ChatTemplateError` saying what to do."""
    stop = tuple(family_stop or ())
    if gguf_template and gguf_template.strip():
        return ResolvedTemplate(gguf_template, "gguf", stop)
    if family_template and family_template.strip():
        return ResolvedTemplate(family_template, "family", stop)
    known = ARCHITECTURE_TEMPLATES.get((architecture or "").lower())
    if known is not None:
        return ResolvedTemplate(
            known.template, "architecture", tuple(dict.fromkeys(stop + known.stop))
        )
    raise ChatTemplateError(
        f"This model has no chat template (none in the GGUF file, none for its family, and "
        f"architecture {architecture!r} has no standard one). Launch it with a `chat_template` "
        f"(a Jinja string or the name of a catalog family such as 'qwen2.5-instruct'), or use "
        f"/v1/completions with your own prompt."
    )


def _raise(message: str) -> None:
    raise ChatTemplateError(f"The chat template refused the conversation: {message}")


def _strftime_now(fmt: str) -> str:
    return _dt.datetime.now().strftime(fmt)


_ENV = ImmutableSandboxedEnvironment(
    trim_blocks=True, lstrip_blocks=True, loader=jinja2.BaseLoader(), autoescape=False
)
_ENV.globals["raise_exception"] = _raise
_ENV.globals["strftime_now"] = _strftime_now


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False, **_: Any) -> str:
    import json

    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)


# Hugging Face templates call `tojson` with keyword arguments jinja2's own filter rejects.
_ENV.filters["tojson"] = _tojson


def render_chat(
    template: ResolvedTemplate,
    messages: list[dict[str, Any]],
    *,
    bos_token: str,
    eos_token: str,
    tools: list[dict[str, Any]] | None = None,
    add_generation_prompt: bool = True,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Render messages to the prompt text the model expects."""
    try:
        compiled = _ENV.from_string(template.template)
        return compiled.render(
            messages=messages,
            bos_token=bos_token,
            eos_token=eos_token,
            tools=tools,
            add_generation_prompt=add_generation_prompt,
            **dict(extra or {}),
        )
    except ChatTemplateError:
        raise
    except jinja2.TemplateError as exc:
        raise ChatTemplateError(
            f"The model's chat template ({template.source}) failed to render: {exc}"
        ) from exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
        # The template met a value of a shape it does not expect: a message, tool or
        # chat_template_kwargs value from the request.
        raise ChatTemplateError(
            f"The model's chat template ({template.source}) cannot render this request's "
            f"messages, tools or chat_template_kwargs: {type(exc).__name__}: {exc}"
        ) from exc
