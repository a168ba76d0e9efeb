"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint is a folder `checkpoints/step-NNNNNNNN/` holding the model (`save_pretrained`, so a
checkpoint is itself a usable model directory), the tokenizer, the optimizer and scheduler states, all
random-number-generator states, and `state.json` (step, settings, loss and evaluation history).
`state.json` is written last, so a folder without it (a run killed while saving) is ignored.
"""
import random
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

import srsly

CHECKPOINT_DIR = "checkpoints"
_PREFIX = "step-"
STATE_FILE = "state.json"
_TRAINING_FILE = "training_state.pt"


def checkpoint_path(output_dir: Path, step: int) -> Path:
    """The folder of the checkpoint at `step`."""
    return Path(output_dir) / CHECKPOINT_DIR / f"{_PREFIX}{step:08d}"


def latest_checkpoint(output_dir: Path) -> Optional[Path]:
    """The complete checkpoint with the highest step in `output_dir`, or None.

    output_dir (Path): The run's output directory.
    RETURNS (Optional[Path]): The checkpoint folder.
    """
    root = Path(output_dir) / CHECKPOINT_DIR
    if not root.exists():
        return None
    done = [p for p in root.iterdir() if p.name.startswith(_PREFIX) and (p / STATE_FILE).exists()]
    return max(done, key=lambda p: int(p.name[len(_PREFIX):]), default=None)


def rng_states(generators: Dict[str, Any]) -> Dict[str, Any]:
    """Every RNG state that influences training: Python, NumPy, torch (CPU and CUDA) and ours."""
    import numpy
    import torch

    states = {
        "python": random.getstate(),
        "numpy": numpy.random.get_state(),
        "torch": torch.get_rng_state(),
        "generators": {name: gen.get_state() for name, gen in generators.items()},
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: Dict[str, Any], generators: Dict[str, Any]) -> None:
    """Restore what `rng_states` saved."""
    import numpy
    import torch

    random.setstate(states["python"])
    numpy.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
    for name, gen in generators.items():
        gen.set_state(states["generators"][name])


def save_checkpoint(
    output_dir: Path, step: int, *, model, tokenizer, optimizer, scheduler,
    generators: Dict[str, Any], state: Dict[str, Any], keep: int,
) -> Path:
    """Write the checkpoint for `step` and delete all but the `keep` newest ones.

    RETURNS (Path): The checkpoint folder.
    """
    import torch

    path = checkpoint_path(output_dir, step)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": rng_states(generators),
        },
        path / _TRAINING_FILE,
    )
    srsly.write_json(path / STATE_FILE, state)
    root = Path(output_dir) / CHECKPOINT_DIR
    complete = sorted(
        (p for p in root.iterdir() if p.name.startswith(_PREFIX) and (p / STATE_FILE).exists()),
        key=lambda p: int(p.name[len(_PREFIX):]),
    )
    for old in complete[: max(0, len(complete) - max(1, keep))]:
        shutil.rmtree(old)
    return path


def load_training_state(path: Path) -> Dict[str, Any]:
    """Optimizer, scheduler and RNG states of a checkpoint (trusted: written by this package)."""
    import torch

    # weights_only=False: the states hold NumPy RNG tuples, which the safe loader refuses; the file
    # is one this package wrote into the user's own output directory.
    return torch.load(Path(path) / _TRAINING_FILE, map_location="cpu", weights_only=False)


def read_state(path: Path) -> Dict[str, Any]:
    """The `state.json` of a checkpoint."""
    return srsly.read_json(Path(path) / STATE_FILE)
