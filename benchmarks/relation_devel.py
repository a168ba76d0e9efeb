"""Devel figures of a trained relation pipeline: end to end (entities predicted by the pipeline) and
on gold entities (relation only), at the component's thresholds and, optionally, with per-label
thresholds tuned on the same devel set (optimistic: reported separately).

    python benchmarks/relation_devel.py MODEL_DIR --reader spacy-biobert.PubTatorCorpus.v1 \
        --path CDR_DevelopmentSet.PubTator.txt --output results/bc5cdr_devel.json [--tune]

Prints a table and writes JSON.
"""
import argparse
import json
import time
from pathlib import Path

import spacy
from spacy.util import registry
from wasabi import msg

from spacy_biobert.relations.evaluate import evaluate_relations, relation_components, with_gold_mentions

KEYS = ["ents_f", "rel_micro_p", "rel_micro_r", "rel_micro_f", "rel_mention_micro_f", "rel_concept_micro_f"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--reader", required=True, help="registered reader, e.g. spacy-biobert.DDICorpus.v1")
    parser.add_argument("--path", required=True, type=Path)
    parser.add_argument("--reader-option", action="append", default=[], metavar="KEY=JSON",
                        help="extra reader arguments, e.g. relations='\"gold\"'")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--tune", action="store_true", help="also tune per-label thresholds on this set")
    parser.add_argument("--tune-split", type=int, default=0, metavar="N",
                        help="tune on the first N documents and report every run on the others")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    nlp = spacy.load(args.model)
    options = {k: json.loads(v) for k, v in (o.split("=", 1) for o in args.reader_option)}
    if args.reader.startswith("spacy.Corpus."):
        options.setdefault("gold_preproc", False)  # required argument of spaCy's DocBin reader
    reader = registry.readers.get(args.reader)(path=args.path, limit=args.limit, **options)
    examples = list(reader(nlp))
    tune_examples = examples
    if args.tune_split:
        # Thresholds chosen on one part of devel and measured on the other: not optimistic.
        args.tune = True
        tune_examples, examples = examples[: args.tune_split], examples[args.tune_split:]
    n_words = sum(len(eg.predicted) for eg in examples)
    results = {"model": str(args.model), "reader": args.reader, "path": str(args.path),
               "docs": len(examples), "words": n_words, "runs": {},
               "tuned_on_docs": len(tune_examples) if args.tune_split else (len(examples) if args.tune else 0)}
    rel_name = relation_components(nlp)[0]
    rel = nlp.get_pipe(rel_name)
    settings = [("end-to-end", False), ("gold entities", True)]
    for name, gold in settings:
        start = time.perf_counter()
        scores = evaluate_relations(nlp, examples, gold_entities=gold)
        results["runs"][name] = {"seconds": time.perf_counter() - start, "thresholds": dict(rel.cfg["thresholds"]),
                                 **{k: scores.get(k) for k in KEYS},
                                 "rel_f_per_type": scores.get("rel_f_per_type")}
    if args.tune:
        # Tune on gold entities (the encoder must have run on the docs first).
        gold_examples = [with_gold_mentions(eg, rel.cfg.get("spans_key")) for eg in tune_examples]
        skip = [n for n in nlp.pipe_names if n == rel_name or
                nlp.get_pipe_meta(n).factory in ("ner", "spancat", "beam_ner")]
        docs = list(nlp.pipe([eg.predicted for eg in gold_examples], disable=skip))
        for eg, doc in zip(gold_examples, docs):
            eg.predicted = doc
        chosen = rel.tune_thresholds(gold_examples)
        results["tuned_thresholds"] = chosen
        for name, gold in settings:
            scores = evaluate_relations(nlp, examples, gold_entities=gold)
            results["runs"][f"{name}, tuned"] = {"thresholds": chosen, **{k: scores.get(k) for k in KEYS},
                                                 "rel_f_per_type": scores.get("rel_f_per_type")}
    rows = [(name, *[("-" if r.get(k) is None else f"{100 * r[k]:.1f}") for k in KEYS])
            for name, r in results["runs"].items()]
    msg.table(rows, header=("run", *KEYS), divider=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2))
    msg.good(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
