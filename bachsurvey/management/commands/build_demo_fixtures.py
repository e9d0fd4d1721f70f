"""Build fixtures/demo/: the demo quiz (chorales, clips, questions) through the real render path.

The site must be playable from a fresh clone without torch work, so the demo is built once with
this command and committed (a manifest, small MP3s and SVGs); `seed_demo` only loads it.

    python manage.py build_demo_fixtures                  # with the shipped checkpoint
    python manage.py build_demo_fixtures --placeholder    # no model yet: real chorales stand in

Questions (16): every single-voice category twice, AT and ATB twice, SATB four times. The
harmonizations re-harmonize four held-out chorales, three categories each (PLAN), arranged so that
any participant can draw S/A/T/B, AT and ATB from three different chorales; the free compositions
are paired with four other held-out chorales, both cut to the same frames (at a phrase end where
possible). With --placeholder the "generated" side is real Bach: the masked voices are taken from
another chorale, and the free piece is an excerpt of another chorale. The manifest says so
("placeholder": true) and `seed_demo` warns about it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bachsurvey import generation

DEMO_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo"
DEFAULT_CHECKPOINT = Path(settings.BASE_DIR) / "composer" / "checkpoints" / "bachbot.pt"
# Per harmonization source, its categories; see the module doc.
PLAN = (("S", "T", "AT"), ("A", "B", "ATB"), ("S", "A", "AT"), ("T", "B", "ATB"))
FREE_QUESTIONS = 4


class Command(BaseCommand):
    help = "Render the demo quiz (chorales, clips, questions) into fixtures/demo/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=DEMO_DIR)
        parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
        parser.add_argument(
            "--placeholder",
            action="store_true",
            help="use real chorales for the generated side (before a model is trained)",
        )
        parser.add_argument("--frames", type=int, default=64, help="longest clip, in sixteenths")
        parser.add_argument("--temperature", type=float, default=0.8, help="free composition")
        parser.add_argument("--seed", type=int, default=2016)
        parser.add_argument("--method", choices=["greedy", "beam"], default="beam")

    def handle(self, *args: Any, **options: Any) -> None:
        builder = DemoBuilder(options, self.stdout.write)
        out: Path = options["out"]
        staging = out.with_name(f".{out.name}.building")
        shutil.rmtree(staging, ignore_errors=True)
        (staging / "clips").mkdir(parents=True)
        (staging / "scores").mkdir()
        try:
            manifest = builder.build(staging)
            (staging / "manifest.json").write_text(dump_manifest(manifest))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(out, ignore_errors=True)
        staging.rename(out)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        self.stdout.write(
            f"wrote {out}: {len(manifest['questions'])} questions, "
            f"{len(manifest['clips'])} clips, {size / 1e6:.1f} MB"
        )


class DemoBuilder:
    def __init__(self, options: dict[str, Any], log: Any) -> None:
        self.options = options
        self.log = log
        self.chorales: list[dict[str, Any]] = []
        self.clips: list[dict[str, Any]] = []
        self.questions: list[dict[str, Any]] = []
        self.model: Any = None

    # --- the plan --------------------------------------------------------------------------------

    def build(self, staging: Path) -> dict[str, Any]:
        self.staging = staging
        placeholder = self.options["placeholder"]
        if not placeholder:
            self.load_model()
        tokens, split = generation.corpus()
        sources = self.pick_sources(tokens, split["validation"])
        harmonized, free = sources[: len(PLAN)], sources[len(PLAN) : len(PLAN) + FREE_QUESTIONS]
        donors = sources[len(PLAN) + FREE_QUESTIONS :]  # placeholder only
        for i, (categories, source) in enumerate(zip(PLAN, harmonized, strict=True)):
            donor = donors[i] if donors else ""
            self.harmonization_questions(source, tokens[source], categories, tokens, donor)
        pieces = self.free_pieces(tokens, donors[len(PLAN) :])
        for (piece, provenance), source in zip(pieces, free, strict=True):
            self.free_question(source, tokens[source], piece, provenance)
        return {
            "version": 1,
            "placeholder": placeholder,
            "note": (
                "PLACEHOLDER: no trained model yet; the generated side is real Bach "
                "(voices or excerpts of other chorales). Rebuild with the checkpoint."
                if placeholder
                else f"built with {self.checkpoint_name}"
            ),
            "frames": self.options["frames"],
            "seed": self.options["seed"],
            "chorales": self.chorales,
            "clips": self.clips,
            "questions": self.questions,
        }

    def pick_sources(self, tokens: dict[str, list[str]], validation: list[str]) -> list[str]:
        """Held-out chorales (never trained on), long enough, in a seeded random order."""
        frames = self.options["frames"]
        ids = generation.held_out_sources(tokens, validation, frames, self.options["seed"])
        needed = len(PLAN) + FREE_QUESTIONS
        needed += needed if self.options["placeholder"] else 0
        if len(ids) < needed:
            raise CommandError(f"only {len(ids)} held-out chorales of {frames}+ frames")
        return ids[:needed]

    def harmonization_questions(
        self,
        source: str,
        full: list[str],
        categories: tuple[str, ...],
        tokens: dict[str, list[str]],
        donor: str,
    ) -> None:
        real_cut, cut_tokens, kept = generation.real_excerpt(full, self.options["frames"])
        real_clip = self.add_clip(self.add_chorale("real", full, source=source), real_cut, kept)
        for category in categories:
            if self.model is None:
                generated = splice(cut_tokens, tokens[donor], category)
                provenance = {"note": f"PLACEHOLDER: voices {category} taken from {donor}"}
            else:
                generated, provenance = self.harmonized(cut_tokens, category)
            if generation.frames_of(generated) != kept:
                raise CommandError(f"{category} harmonization of {source} changed the length")
            chorale = self.add_chorale(
                "generated", generated, source=source, mask=category, **provenance
            )
            self.add_question(category, real_clip, self.add_clip(chorale, generated, kept))

    def free_question(
        self, source: str, full: list[str], piece: list[str], provenance: dict[str, Any]
    ) -> None:
        real_cut, generated_cut, kept = generation.free_excerpts(
            full, piece, self.options["frames"]
        )
        real_clip = self.add_clip(self.add_chorale("real", full, source=source), real_cut, kept)
        chorale = self.add_chorale("generated", piece, mask="SATB", **provenance)
        self.add_question("SATB", real_clip, self.add_clip(chorale, generated_cut, kept))

    # --- the model -------------------------------------------------------------------------------

    def load_model(self) -> None:
        path: Path = self.options["checkpoint"]
        if not path.is_file():
            raise CommandError(
                f"{path} not found: train the model first, pass --checkpoint, "
                "or build placeholders with --placeholder"
            )
        self.model = generation.load_model(path, device="cpu")
        self.checkpoint_name = self.model.label
        self.log(f"model: {self.checkpoint_name}")

    def harmonized(self, cut_tokens: list[str], category: str) -> tuple[list[str], dict]:
        method = self.options["method"]
        tokens, note = generation.harmonize_tokens(self.model, cut_tokens, category, method)
        return tokens, {"checkpoint": self.checkpoint_name, "note": note}

    def free_pieces(
        self, tokens: dict[str, list[str]], donors: list[str]
    ) -> list[tuple[list[str], dict[str, Any]]]:
        if self.model is None:
            return [(tokens[d], {"note": f"PLACEHOLDER: real chorale {d}"}) for d in donors]
        from composer.sample import compose

        temperature, seed = self.options["temperature"], self.options["seed"]
        try:
            pieces = compose(self.model.model, self.model.vocab, FREE_QUESTIONS, temperature, seed)
        except RuntimeError as error:  # too few valid pieces: an undertrained checkpoint
            raise CommandError(str(error)) from error
        return [
            (
                piece,
                {
                    "checkpoint": self.checkpoint_name,
                    "temperature": temperature,
                    "seed": seed,
                    "note": f"piece {i} of compose(n={FREE_QUESTIONS})",
                },
            )
            for i, piece in enumerate(pieces)
        ]

    # --- entries ---------------------------------------------------------------------------------

    def add_chorale(self, kind: str, tokens: list[str], **fields: Any) -> str:
        key = f"chorale-{len(self.chorales) + 1}"
        entry = {"key": key, "kind": kind, "frames": generation.frames_of(tokens)}
        entry.update({"source": "", "mask": "", "checkpoint": "", "note": ""})
        entry.update({"temperature": None, "seed": None, **fields, "tokens": tokens})
        self.chorales.append(entry)
        return key

    def add_clip(self, chorale: str, score: Any, frames: int) -> str:
        try:
            clip = generation.render_clip(
                score, frames, self.staging / "clips", self.staging / "scores"
            )
        except generation.GenerationError as error:
            raise CommandError(str(error)) from error
        key = f"clip-{len(self.clips) + 1}"
        self.clips.append(
            {
                "key": key,
                "chorale": chorale,
                "frame_start": 0,
                "frame_end": frames,
                "audio": f"clips/{clip.audio.name}",
                "score": f"scores/{clip.score.name}",
                "duration_s": clip.duration_s,
            }
        )
        self.log(f"{key}: {frames} frames")
        return key

    def add_question(self, category: str, real: str, generated: str) -> None:
        self.questions.append({"category": category, "real": real, "generated": generated})


def splice(cut_tokens: list[str], donor_tokens: list[str], voices: str) -> list[str]:
    """Placeholder harmonization: ``voices`` of ``cut_tokens`` replaced by the donor's."""
    from composer.encoding import VOICES, Chorale, chorale_to_tokens, tokens_to_chorale
    from composer.render_excerpt import cut_chorale

    base = tokens_to_chorale(cut_tokens)
    donor = cut_chorale(tokens_to_chorale(donor_tokens), base.frames)
    parts = tuple(
        donor.voices[i] if voice in voices else base.voices[i] for i, voice in enumerate(VOICES)
    )
    return chorale_to_tokens(Chorale(parts, base.frames))


def dump_manifest(manifest: dict[str, Any]) -> str:
    """JSON with one line per chorale, clip and question: readable diffs, no token-per-line."""
    lists = ("chorales", "clips", "questions")
    head = json.dumps({k: v for k, v in manifest.items() if k not in lists}, indent=1)
    blocks = [
        f' "{name}": [\n' + ",\n".join("  " + json.dumps(item) for item in manifest[name]) + "\n ]"
        for name in lists
    ]
    return head[:-2] + ",\n" + ",\n".join(blocks) + "\n}\n"
