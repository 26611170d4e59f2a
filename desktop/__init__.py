"""XinDesk: a private LLM service on your own computer, Xinference- and OpenAI-compatible."""

__version__ = "0.1.0"
