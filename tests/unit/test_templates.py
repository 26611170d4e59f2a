"""Chat template resolution order and rendering."""

from __future__ import annotations

import pytest

from desktop.core.engine.templates import render_chat, resolve_chat_template
from desktop.core.errors import ChatTemplateError

MESSAGES = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Bye"},
]


def test_gguf_template_wins() -> None:
    resolved = resolve_chat_template(gguf_template="G", family_template="F", architecture="gemma3")
    assert (resolved.template, resolved.source) == ("G", "gguf")


def test_family_template_next() -> None:
    resolved = resolve_chat_template(gguf_template=" ", family_template="F", architecture="gemma3")
    assert resolved.source == "family"


def test_architecture_template_for_a_base_model() -> None:
    resolved = resolve_chat_template(
        gguf_template=None, family_template=None, architecture="gemma3"
    )
    assert resolved.source == "architecture"
    assert "<end_of_turn>" in resolved.stop
    prompt = render_chat(resolved, MESSAGES, bos_token="<bos>", eos_token="<eos>")
    assert prompt == (
        "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
        "<start_of_turn>model\nHello!<end_of_turn>\n"
        "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n"
    )


def test_chatml_architecture() -> None:
    resolved = resolve_chat_template(gguf_template=None, family_template=None, architecture="qwen2")
    prompt = render_chat(resolved, MESSAGES[1:2], bos_token="", eos_token="")
    assert prompt == "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_unknown_architecture_is_a_clear_error() -> None:
    with pytest.raises(ChatTemplateError, match="no chat template"):
        resolve_chat_template(gguf_template=None, family_template=None, architecture="mamba")


def test_hugging_face_style_template_features() -> None:
    template = (
        "{% for m in messages %}{{ m['role'] }}={{ m['content'] | tojson(indent=None) }};"
        "{% endfor %}{% if tools %}T{{ tools | length }}{% endif %}"
        "{% if add_generation_prompt %}>{% endif %}"
    )
    resolved = resolve_chat_template(gguf_template=template, family_template=None, architecture="")
    assert resolved.supports_tools
    prompt = render_chat(
        resolved, MESSAGES[1:2], bos_token="", eos_token="", tools=[{"type": "function"}]
    )
    assert prompt == 'user="Hi";T1>'


def test_template_exceptions_become_chat_template_errors() -> None:
    refusing = resolve_chat_template(
        gguf_template="{{ raise_exception('roles must alternate') }}",
        family_template=None,
        architecture="",
    )
    with pytest.raises(ChatTemplateError, match="roles must alternate"):
        render_chat(refusing, MESSAGES, bos_token="", eos_token="")
    broken = resolve_chat_template(gguf_template="{% for %}", family_template=None, architecture="")
    with pytest.raises(ChatTemplateError, match="failed to render"):
        render_chat(broken, MESSAGES, bos_token="", eos_token="")
