"""Carve a devel split out of a converted training DocBin, by document (glue for project.yml).

    python project/scripts/split_docbin.py ALL.spacy TRAIN.spacy DEV.spacy --last N
    python project/scripts/split_docbin.py ALL.spacy TRAIN.spacy DEV.spacy --fraction 0.1 [--seed 0]

--last N: the last N documents are devel (JNLPBA: the last 200 abstracts, BioBERT's convention).
--fraction F: a seeded random fraction of the documents is devel (DDI has no official dev split).
Relations and all other user data are kept (store_user_data).
"""
import argparse
import random

import spacy
from spacy.tokens import DocBin

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("train")
    parser.add_argument("dev")
    parser.add_argument("--last", type=int, default=None)
    parser.add_argument("--fraction", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if (args.last is None) == (args.fraction is None):
        parser.error("give exactly one of --last or --fraction")
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(args.input).get_docs(nlp.vocab))
    if args.last is not None:
        if not 0 < args.last < len(docs):
            parser.error(f"--last {args.last} must be between 1 and {len(docs) - 1} (the input has {len(docs)} documents)")
        dev_ids = set(range(len(docs) - args.last, len(docs)))
    else:
        if not 0.0 < args.fraction < 1.0:
            parser.error("--fraction must be between 0 and 1")
        order = list(range(len(docs)))
        random.Random(args.seed).shuffle(order)
        dev_ids = set(order[: max(1, round(args.fraction * len(docs)))])
    train = DocBin(store_user_data=True, docs=[d for i, d in enumerate(docs) if i not in dev_ids])
    dev = DocBin(store_user_data=True, docs=[d for i, d in enumerate(docs) if i in dev_ids])
    train.to_disk(args.train)
    dev.to_disk(args.dev)
    print(f"{args.input}: {len(train)} train and {len(dev)} devel documents -> {args.train}, {args.dev}")
