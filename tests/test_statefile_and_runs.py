import json
import os
import re
from pathlib import Path

import pytest
import torch

from genlab.config import RunConfig
from genlab.store.atomic import replacing, write_json_atomic
from genlab.store.runs import RunError, check_run_id, create_run, list_runs, open_run, read_jsonl
from genlab.store.statefile import load_state, save_state
from tests.support import tiny_config


def test_state_file_round_trips_nested_state_without_pickle(tmp_path):
    state = {"model": {"w": torch.randn(3, 4), "b": torch.zeros(4)},
             "optim": {"state": {0: {"step": torch.tensor(5.0)}}, "param_groups": [{"lr": 0.1, "params": [0]}]},
             "pair": (1, "x"), "none": None, "flag": True, "n": 7, "f": 0.5}
    path = tmp_path / "s.safetensors"
    save_state(path, state)
    back = load_state(path)
    assert torch.equal(back["model"]["w"], state["model"]["w"])
    assert list(back["optim"]["state"]) == [0]  # int keys stay ints
    assert back["pair"] == (1, "x") and back["none"] is None and back["flag"] is True
    assert back["optim"]["param_groups"] == [{"lr": 0.1, "params": [0]}]
    assert not list(tmp_path.glob(".*tmp"))


def test_state_file_stores_views_of_one_tensor(tmp_path):
    base = torch.arange(10.0)
    save_state(tmp_path / "s.safetensors", {"a": base[:5], "b": base[5:]})
    back = load_state(tmp_path / "s.safetensors")
    assert back["b"].tolist() == [5.0, 6.0, 7.0, 8.0, 9.0]


def test_state_file_refuses_a_plain_safetensors_file(tmp_path):
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(ValueError, match="not a GenLab state file"):
        load_state(tmp_path / "plain.safetensors")


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "-x", "a" * 101, "x..y", "a b"])
def test_unsafe_run_ids_are_refused(bad):
    with pytest.raises(RunError, match="not a run id"):
        check_run_id(bad)


def test_open_run_refuses_paths_and_missing_runs(runs_dir):
    with pytest.raises(RunError, match="not a run id"):
        open_run(runs_dir, "../../etc")
    with pytest.raises(RunError, match="no run"):
        open_run(runs_dir, "nope")


def test_create_run_writes_config_and_status(runs_dir):
    config = tiny_config(name="my run/../x")
    run = create_run(runs_dir, config)
    assert run.path.parent == runs_dir and run.id.startswith("my-run-x-")
    check_run_id(run.id)
    assert RunConfig.from_dict(json.loads(run.config_path.read_text())) == config
    assert run.status()["state"] == "queued"


def test_reader_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"step": 1}\n{"step": 2}\n{"step": 3, "lo')
    assert [r["step"] for r in read_jsonl(path)] == [1, 2]


def test_atomic_write_leaves_no_temporary_file(tmp_path):
    write_json_atomic(tmp_path / "a.json", {"x": 1})
    assert os.listdir(tmp_path) == ["a.json"]


def test_a_failed_atomic_write_keeps_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "weights.safetensors"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk gone"):
        with replacing(path) as tmp:
            tmp.write_bytes(b"half of the new")
            raise RuntimeError("disk gone")
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["weights.safetensors"]


def test_every_replaced_file_goes_through_the_one_atomic_helper():
    """No module replaces a file by hand (os.replace or Path.replace) but genlab/store/atomic.py."""
    root = Path(__file__).resolve().parents[1]
    by_hand = [str(p.relative_to(root)) for folder in ("genlab", "app_pages") for p in (root / folder).rglob("*.py")
               if p.name != "atomic.py" and re.search(r"os\.replace\(|\.replace\(tmp|tmp\w*\.replace\(",
                                                      p.read_text(encoding="utf-8"))]
    assert by_hand == []


def test_listing_reports_broken_runs_and_keeps_the_others(runs_dir):
    good = create_run(runs_dir, tiny_config())
    corrupt = create_run(runs_dir, tiny_config())
    corrupt.config_path.write_text("{not json")
    half = create_run(runs_dir, tiny_config())
    half.status_path.unlink()
    (runs_dir / "stray-file.txt").write_text("x")
    by_id = {s.run.id: s for s in list_runs(runs_dir)}
    assert set(by_id) == {good.id, corrupt.id, half.id}
    assert by_id[good.id].error is None and by_id[good.id].state == "queued"
    assert "corrupt" in by_id[corrupt.id].error and by_id[corrupt.id].state == "broken"
    assert "status.json is missing" in by_id[half.id].error


def test_config_refuses_unknown_fields():
    from genlab.config import ConfigError

    raw = tiny_config().to_dict()
    raw["model"]["wings"] = 2
    with pytest.raises(ConfigError, match="unknown model fields"):
        RunConfig.from_dict(raw)
