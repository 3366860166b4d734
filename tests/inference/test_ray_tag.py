"""newstag-tag --engine ray on a local Ray instance: the local engine's output, resume after a kill, bad records.

Slow (each run starts a local Ray instance, several processes): run with ``-m slow`` or ``make test``.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SAMPLE

from inference.tag import main

pytestmark = pytest.mark.slow
RAY = ["--engine", "ray", "--workers", "1", "--chunk", "16"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The sample (pages, HTML, feeds and its labels file, whose lines have no text) and a feed with a bad line."""
    pytest.importorskip("ray", reason="the ray extra (pip install 'newstag[ray]') is absent")
    extra = tmp_path_factory.mktemp("ray_inputs") / "extra.jsonl"
    extra.write_text('{"id": "a", "title": "Truce", "text": "Both sides agreed to a truce."}\n'
                     '{"id": "b", "text": \n'
                     '{"id": "c", "title": "Aid", "text": "Aid convoys reached displaced families."}\n', encoding="utf-8")
    return [str(SAMPLE), str(extra)]


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, inputs, trained_model):
    out = tmp_path_factory.mktemp("local") / "tags.jsonl"
    assert main([*inputs, "--model", str(trained_model), "-o", str(out), "--chunk", "16"]) == 0
    return out


def _rows(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def test_ray_writes_what_the_local_engine_writes(tmp_path, inputs, trained_model, local_run):
    out = tmp_path / "tags.jsonl"
    assert main([*inputs, "--model", str(trained_model), "-o", str(out), *RAY]) == 0
    assert out.read_bytes() == local_run.read_bytes()
    errors = out.with_suffix(".errors.jsonl").read_text(encoding="utf-8")
    assert errors == local_run.with_suffix(".errors.jsonl").read_text(encoding="utf-8")
    assert '"line": 2, "reason": "line is not valid JSON' in errors  # the bad line, set aside


def test_a_killed_run_resumes_without_duplicates(tmp_path, inputs, trained_model, local_run):
    out = tmp_path / "tags.jsonl"
    cmd = [sys.executable, "-m", "inference.tag", *inputs, "--model", str(trained_model), "-o", str(out),
           "--engine", "ray", "--workers", "1", "--chunk", "4"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and not (out.is_file() and out.stat().st_size):
            time.sleep(0.02)
        running = proc.poll() is None
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the driver and the local Ray instance it started
        proc.wait(timeout=60)
    assert running, "the run finished (or failed) before it could be killed"
    first = _rows(out)
    want = _rows(local_run)
    assert 0 < len(first) < len(want)
    assert main([*inputs, "--model", str(trained_model), "-o", str(out), "--engine", "ray", "--workers", "1",
                 "--chunk", "4"]) == 0
    got = _rows(out)
    assert [r["id"] for r in got] == [r["id"] for r in want]  # each once, in input order
    for g, w in zip(got, want):  # a resumed chunk is tagged without its done records: float rounding may move
        assert (g["topics"], g["stance"], g["evidence"]) == (w["topics"], w["stance"], w["evidence"])
        assert max(abs(g["topic_scores"][t] - w["topic_scores"][t]) for t in w["topic_scores"]) < 1e-3
    errors = out.with_suffix(".errors.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(errors) == len(set(errors))  # a bad record is reported once across the two runs


def test_limit_is_refused_with_ray(tmp_path, inputs, trained_model, capsys):
    assert main([*inputs, "--model", str(trained_model), "-o", str(tmp_path / "t.jsonl"), "--engine", "ray",
                 "--limit", "3"]) == 2
    assert "--limit is for trial runs of --engine local" in capsys.readouterr().err
