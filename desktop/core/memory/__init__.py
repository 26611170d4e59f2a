"""Will a model fit: GGUF facts read from a file's header, quantization levels, this machine's
hardware (RAM, GPUs, the llama.cpp backend), and the memory estimate built from them."""
