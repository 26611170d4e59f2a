"""llama.cpp wrappers: chat templates, tool calls, embeddings, rerank and the worker process."""
