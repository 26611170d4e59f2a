"""The FastAPI server: Xinference and OpenAI routes in front of the core (no Qt here)."""
