#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: chainrule's GPU tests, then the GPU benchmark
# (chainrule on the GPU, chainrule on the CPU, PyTorch CUDA eager), in one go.
#
# Needs CuPy (pip install 'chainrule[cuda13]' or '[cuda12]'), pytest and hypothesis;
# PyTorch with CUDA for the benchmark's comparison column. On a machine without the
# package index, put pure-Python test dependencies in .gpu-deps/ beforehand
# (pip install --target .gpu-deps pytest hypothesis) and they are found there.
#
# Usage: scripts/gpu_check.sh [OUT_DIR]      (default: gpu-check/; writes the test
#        report, the benchmark's table and its JSON there)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-check}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD:$PWD/.gpu-deps${PYTHONPATH:+:$PYTHONPATH}"
python=${PYTHON:-python3}

"$python" - <<'PY' 2>&1 | tee "$out/machine.txt"
import platform, numpy
print("python", platform.python_version(), "numpy", numpy.__version__)
try:
    import cupy
    print("cupy", cupy.__version__, "CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(),
          "devices", cupy.cuda.runtime.getDeviceCount(),
          cupy.cuda.runtime.getDeviceProperties(0)["name"].decode())
except Exception as exc:
    print("no CuPy GPU:", exc)
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available())
except ImportError:
    print("no torch")
for name in ("pytest", "hypothesis"):
    try:
        __import__(name)
    except ImportError:
        print(f"missing {name}: pip install --target .gpu-deps {name}")
PY

status=0
timeout "${TEST_TIMEOUT:-300}" "$python" -m pytest tests/gpu -q -p no:cacheprovider -rs \
    -o addopts="" 2>&1 | tail -n 40 | tee "$out/gpu-tests.txt"
status=${PIPESTATUS[0]}
timeout "${BENCH_TIMEOUT:-240}" "$python" benchmarks/bench_gpu.py --json "$out/bench_gpu.json" \
    2>&1 | tee "$out/bench_gpu.txt"
bench=${PIPESTATUS[0]}
echo "gpu tests: exit $status; benchmark: exit $bench" | tee -a "$out/machine.txt"
[ "$status" = 0 ] && [ "$bench" = 0 ]
