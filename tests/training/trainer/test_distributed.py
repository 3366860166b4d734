"""``torchrun`` and ``accelerate launch`` run the same newstag-train command on several processes (gloo on CPU;
NCCL on GPUs)."""

import json
import os
import subprocess
import sys

import pytest

from inference import Tagger

LAUNCHERS = {
    "torchrun": [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"],
    # --multi_gpu hands over to torchrun; without a GPU the processes train on the CPU (gloo). Plain --num_processes
    # without a GPU starts one process (accelerate's multi-CPU needs mpirun): the world size is checked below
    "accelerate": [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                   "--num_machines", "1",
                   "--mixed_precision", "no", "--dynamo_backend", "no"],
}


@pytest.mark.slow
@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_two_processes_train_and_save_one_model(tmp_path, sample_dataset, tiny_base, launcher):
    out = tmp_path / "model"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1", "HF_HUB_OFFLINE": "1"}
    cmd = [*LAUNCHERS[launcher], "-m", "training.train", "--data", str(sample_dataset), "-o", str(out),
           "--base_model", str(tiny_base), "--epochs", "1", "--max_length", "64", "--stride", "16", "--batch_size", "8", "--bf16", "false"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert sum("newstag-train: wrote" in line for line in done.stdout.splitlines()) == 1  # rank 0 saves
    cfg = json.loads((out / "tagger.json").read_text())
    assert cfg["topics"] and (out / "metrics.json").is_file()
    assert json.loads((out / "train_metrics.json").read_text())["processes"] == 2
    assert Tagger.from_pretrained(out, device="cpu").predict("A truce held on Sunday.").stance in cfg["stances"]
