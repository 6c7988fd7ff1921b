"""A saved training run on disk: ``model.npz`` (the state dict, see :func:`chainrule.save`),
``config.json`` (what rebuilds the model, and the final figures) and ``history.json``
(the figures of every epoch). ``chainrule train`` writes one for the digits and for
the names; ``chainrule evaluate`` and ``chainrule sample`` read them back."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chainrule.nn import Module
from chainrule.serialize import save


def write_run(out_dir: str | Path, model: Module, config: dict[str, Any],
              history: list[Any]) -> list[Path]:
    """Write the three files of a run (``history``: one dataclass per epoch); the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save(model.state_dict(), out / "model.npz")
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "history.json").write_text(json.dumps([asdict(h) for h in history], indent=2) + "\n")
    return [out / "model.npz", out / "config.json", out / "history.json"]


def read_run(path: str | Path, run_format: str, other_kind: str) -> tuple[Path, dict[str, Any]]:
    """The model file of a run directory (or that file itself) and its ``config.json``,
    checked to be a run of ``run_format``: FileNotFoundError or ValueError with the path
    and the problem otherwise (``other_kind`` says what such a file is not)."""
    p = Path(path)
    model_path = p / "model.npz" if p.is_dir() else p
    config_path = model_path.with_name("config.json")
    if not model_path.exists():
        raise FileNotFoundError(f"no model file at {str(model_path)!r}")
    if not config_path.exists():
        raise FileNotFoundError(
            f"no config.json next to {str(model_path)!r}; it records which model to rebuild"
        )
    try:
        raw = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"cannot read {str(config_path)!r}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != run_format:
        raise ValueError(f"{str(config_path)!r} is not {other_kind}")
    return model_path, raw
