"""Will a model fit: GGUF facts read from a file's header, quantization levels, this machine's
hardware (RAM, GPUs, the llama.cpp backend), and the memory estimate built from them.

* `gguf_info`: a GGUF file's header (metadata, tensor table), local or remote.
* `quant`: quantization levels, their names and ranks.
* `shape`: a model's memory-relevant hyperparameters (`ModelShape`) from that metadata.
* `weights`: where the weight bytes sit (embedding, blocks, output layer, CPU repacks).
* `estimate`: the memory a model needs at a context, by part and device (`estimate_memory`).
* `fit`: whether that fits this machine, with how much offload, and which quantization to pick.
* `hardware`: this machine (`Hardware`, `probe_hardware`): RAM, CPU, and what follows.
* `gpus`: GPUs and their memory, from the build's device list and the vendors' tools.
* `llama_build`: what the llama-cpp-python build can do, asked of llama.cpp's libraries.
* `commands`: running the external tools those probes ask.
"""
