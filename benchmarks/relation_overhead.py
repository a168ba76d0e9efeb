"""What relation extraction adds to the inference time of transformer + ner (BC5CDR devel).

Each component is timed on its own over the same docs (the relation extractor on docs the
transformer and ner have already annotated), best of `--repeats` runs, so the ratio does not depend
on load from other processes as much as one end-to-end timing would.

    python benchmarks/relation_overhead.py MODEL_DIR --path CDR_DevelopmentSet.PubTator.txt \
        --output results/relation_overhead.json

Prints a table and writes JSON.
"""
import argparse
import json
import time
from pathlib import Path

import spacy
import torch
from spacy.util import registry
from wasabi import msg

from spacy_biobert.relations.evaluate import relation_components


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--path", required=True, type=Path, help="BC5CDR devel PubTator file")
    parser.add_argument("--reader", default="spacy-biobert.PubTatorCorpus.v1")
    parser.add_argument("--limit", type=int, default=0, help="documents (0: all)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()

    nlp = spacy.load(args.model)
    texts = [eg.reference.text for eg in registry.readers.get(args.reader)(path=args.path, limit=args.limit)(nlp)]
    rel_names = set(relation_components(nlp))
    timings = {name: float("inf") for name in nlp.pipe_names}
    n_words = n_pairs = n_relations = 0
    for _ in range(args.repeats):
        docs = [nlp.make_doc(t) for t in texts]
        n_words = sum(len(d) for d in docs)
        for name in nlp.pipe_names:
            # One component at a time through nlp.pipe, which also runs plain-function components.
            others = [n for n in nlp.pipe_names if n != name]
            start = time.perf_counter()
            docs = list(nlp.pipe(docs, batch_size=args.batch_size, disable=others))
            timings[name] = min(timings[name], time.perf_counter() - start)
        n_relations = sum(len(d._.relations) for d in docs)
        rel = nlp.get_pipe(next(iter(rel_names)))
        n_pairs = sum(len(rel._pairs(d, rel.mentions(d))) for d in docs)
    # The budget: relations against transformer + ner; the other components (sentencizer,
    # abbreviation and normalisation steps) are timed and reported, in neither sum.
    base_names = {n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory in ("transformer", "ner")}
    base = sum(t for name, t in timings.items() if name in base_names)
    added = sum(t for name, t in timings.items() if name in rel_names)
    result = {
        "model": str(args.model), "docs": len(texts), "words": n_words, "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(), "seconds": timings,
        "base_components": sorted(base_names), "base_seconds": base, "relation_seconds": added,
        "overhead": added / base,
        "words_per_second_base": n_words / base, "words_per_second_all": n_words / (base + added),
        "candidate_pairs": n_pairs, "relations_written": n_relations,
    }
    rows = [(name, f"{t:.2f}", f"{n_words / t:,.0f}") for name, t in timings.items()]
    rows.append(("transformer + ner", f"{base:.2f}", f"{n_words / base:,.0f}"))
    rows.append(("relation overhead", f"{100 * added / base:.1f}%", ""))
    msg.table(rows, header=("component", "seconds (best)", "words/s"), divider=True)
    msg.info(f"{len(texts)} docs, {n_words} words, {n_pairs} candidate pairs, {n_relations} relations")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2))
    msg.good(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
