"""Accuracy and speed of a trained pipeline with different inference windows (spaCy tokens per
window / stride), on the same devel docs in one run.

The project configs train with 128-token windows advanced by 96, so a quarter of the tokens are
encoded twice; wider windows encode fewer tokens twice (speed.py's `full_w256`) but show the model
longer contexts than it was trained on. This measures both sides:

    python benchmarks/window_accuracy.py training/bc5cdr/model-best --data corpus/bc5cdr/dev.spacy \\
        --windows 128/96 256/224 [--limit N] [--rounds 2]

Accuracy is deterministic (one evaluation per setting); words/s is the best of --rounds, the
settings interleaved round by round. Writes benchmarks/results/window_accuracy.{json,md,png}.
"""
import argparse
import json
import platform
import sys
import time
from pathlib import Path

import spacy
from spacy.training import Corpus

from spacy_biobert.transformer import set_inference_windows

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ner_accuracy import _versions  # noqa: E402

KEYS = ["ents_f", "ents_p", "ents_r", "rel_micro_f", "rel_micro_p", "rel_micro_r"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("--data", type=Path, required=True, help="devel DocBin (.spacy) with gold annotation")
    ap.add_argument("--windows", nargs="+", default=["128/96", "256/224"], metavar="WINDOW/STRIDE")
    ap.add_argument("--limit", type=int, default=0, help="first N docs (0: all)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "window_accuracy")
    args = ap.parse_args()

    nlp = spacy.load(args.model)
    examples = list(Corpus(args.data, limit=args.limit)(nlp))
    n_words = sum(len(eg.reference) for eg in examples)
    settings = [tuple(int(x) for x in w.split("/")) for w in args.windows]
    scores, seconds = {}, {s: [] for s in settings}
    for _ in range(args.rounds):
        for window, stride in settings:
            set_inference_windows(nlp, window, stride)
            start = time.perf_counter()
            result = nlp.evaluate(examples)
            seconds[(window, stride)].append(time.perf_counter() - start)
            scores[(window, stride)] = {k: result.get(k) for k in KEYS}
    rows = []
    base = settings[0]
    for s in settings:
        wps = n_words / min(seconds[s])
        rows.append({"window": s[0], "stride": s[1], **scores[s], "words_per_s": wps,
                     "speed_ratio": min(seconds[base]) / min(seconds[s]), "seconds": seconds[s]})
    lines = [f"Model `{args.model}`, {len(examples)} docs ({n_words:,} words) of `{args.data}`; "
             f"evaluation words/s (all components + scoring), best of {args.rounds}.", "",
             "| window / stride | ents F | ents P / R | rel F | rel P / R | words/s | × first |",
             "|---|---|---|---|---|---|---|"]

    def pct(v):
        return "–" if v is None else f"{100 * v:.2f}"

    for r in rows:
        lines.append(f"| {r['window']} / {r['stride']} | {pct(r['ents_f'])} | {pct(r['ents_p'])} / {pct(r['ents_r'])} | "
                     f"{pct(r['rel_micro_f'])} | {pct(r['rel_micro_p'])} / {pct(r['rel_micro_r'])} | "
                     f"{r['words_per_s']:.0f} | {r['speed_ratio']:.2f} |")
    table = "\n".join(lines)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(table + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(
        {"model": str(args.model), "data": str(args.data), "docs": len(examples), "words": n_words,
         "machine": platform.platform(), "versions": _versions(), "rows": rows}, indent=1))
    _plot(rows, args.out.with_suffix(".png"))


def _plot(rows, path: Path) -> None:
    from _plotting import pyplot  # benchmarks/ is on sys.path when a benchmark runs

    plt = pyplot()
    if plt is None:
        return

    labels = [f"{r['window']}/{r['stride']}" for r in rows]
    fig, (acc, speed) = plt.subplots(1, 2, figsize=(8, 3.2))
    for key, name in (("ents_f", "entities"), ("rel_micro_f", "relations")):
        if all(r[key] is not None for r in rows):
            acc.plot(labels, [100 * r[key] for r in rows], marker="o", label=name)
    acc.set_ylabel("devel F1")
    acc.set_xlabel("window / stride (tokens)")
    acc.legend()
    speed.bar(labels, [r["words_per_s"] for r in rows])
    speed.set_ylabel("words/s (evaluation)")
    speed.set_xlabel("window / stride (tokens)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
