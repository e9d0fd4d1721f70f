"""Self-describing checkpoints: a plain dict any script can rebuild the model from, plus a JSON
sidecar a person can read (``bachbot.pt`` -> ``bachbot.json``). Weights are saved from the CPU so
they load anywhere."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import torch

from composer.model import ChoraleLSTM, ModelConfig
from composer.paths import DEFAULT_CHECKPOINT, REPO_ROOT
from composer.vocabulary import Vocabulary

LANGUAGE_MODEL = "language_model"


class CheckpointError(ValueError):
    """A checkpoint file that is missing or not one of ours."""


def git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def sidecar_path(path: Path) -> Path:
    return Path(path).with_suffix(".json")


def save(
    path: Path,
    model: ChoraleLSTM,
    vocabulary: Vocabulary,
    training: dict,
    epoch: int,
    validation_loss: float,
    history: list[dict] | None = None,
    optimizer_state: dict | None = None,
    resume_state: dict | None = None,
) -> None:
    """Write the checkpoint and its sidecar. ``optimizer_state`` is kept only for resuming."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    meta = {
        "kind": getattr(model, "kind", LANGUAGE_MODEL),
        "model_config": model.config.to_dict(),
        "training": training,
        "epoch": epoch,
        "validation_loss": validation_loss,
        "git_commit": git_commit(),
        "parameters": model.num_parameters(),
        "history": history or [],
    }
    payload = {**meta, "state_dict": state, "vocabulary": vocabulary.tokens}
    if optimizer_state is not None:
        payload["optimizer_state"] = optimizer_state
    if resume_state is not None:  # e.g. the running weight average, only for resuming
        payload["resume_state"] = resume_state
    tmp = path.with_suffix(".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written checkpoint behind
    sidecar_path(path).write_text(
        json.dumps({**meta, "vocabulary_size": len(vocabulary)}, indent=1) + "\n"
    )


def load_payload(path: Path, device: str | torch.device = "cpu") -> dict:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many kinds for a corrupt or foreign file
        raise CheckpointError(f"{path} is not a readable checkpoint: {error}") from error
    if (
        not isinstance(payload, dict)
        or "state_dict" not in payload
        or "model_config" not in payload
    ):
        raise CheckpointError(f"{path} is not a Bach or Bot checkpoint")
    return payload


def load(path: Path = DEFAULT_CHECKPOINT, device: str | torch.device = "cpu") -> tuple:
    """``(model, vocabulary, meta)``; the model is in eval mode on ``device``.
     The model is a :class:`ChoraleLSTM`, or a :class:`composer.harmonization.reader.Harmonizer` for
    a
    checkpoint of that kind (``meta["kind"]``).
    """
    payload = load_payload(path, device)
    kind = payload.get("kind", LANGUAGE_MODEL)
    if kind == LANGUAGE_MODEL:
        model = ChoraleLSTM(ModelConfig(**payload["model_config"]))
    elif kind == "harmonizer":
        from composer.harmonization.reader import Harmonizer, HarmonizerConfig

        model = Harmonizer(HarmonizerConfig(**payload["model_config"]))
    else:
        raise CheckpointError(f"{path} holds a model of unknown kind {kind!r}")
    model.load_state_dict(payload["state_dict"])
    model.to(device).eval()
    meta = {
        k: v
        for k, v in payload.items()
        if k not in ("state_dict", "optimizer_state", "resume_state", "vocabulary")
    }
    return model, Vocabulary(payload["vocabulary"]), meta
