"""BioBERT's own relation-extraction fine-tuning recipe, on Hugging Face transformers.

As in dmis-lab/biobert's `run_re.py` (and the BLUE/BioBERT preprocessed ChemProt, DDI and GAD
files it reads): every candidate entity pair within one sentence is one instance, the sentence with
the two mentions replaced by type masks (ChemProt `@CHEMICAL$` / `@GENE$`, DDI `@DRUG$` for both,
BC5CDR `@CHEMICAL$` / `@DISEASE$`), classified by `AutoModelForSequenceClassification` ([CLS],
linear softmax over the relation labels plus a negative class). Sequences are cut at 128 word
pieces (a mask cut off is lost, as in BioBERT), AdamW (weight decay 0.01, none on biases and
LayerNorm) with linear warm-up over 10% of the steps and linear decay, global gradient norm clipped
to 1, batches of 32 instances. The learning rate defaults to 5e-5 (the PyTorch port's default;
BioBERT's TensorFlow README runs RE at 2e-5).

Candidate pairs are those of the relation extractor (`spacy-biobert.relation_candidates.v1`, label
pairs learned from the training relations) with `max_sentences=0`: the recipe only sees pairs inside
one sentence. Masks cover the mentions' characters; two mentions that overlap are replaced together
by both masks in text order (BioBERT's data has no overlapping pairs, so this is our convention).

Predictions are written back onto the docs as `doc._.relations` (mention-level `Relation`s, plus
one concept-level relation per (head ID, tail ID, label) for document-level corpora), so the recipe
is scored by the same `spacy_biobert.relations.scorer.score_relations` as our pipeline.

Used by benchmarks/relation_accuracy.py.
"""
import math
import random
import sys
import time
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_biobert.relations.annotations import Mention, Relation, concept_relations, get_relations, set_relations
from spacy_biobert.relations.candidates import RelationCandidates
from spacy_biobert.relations.evaluate import with_gold_mentions
from spacy_biobert.relations.pipe import relation_label_pairs
from spacy_biobert.relations.scorer import split_ids

sys.path.insert(0, str(Path(__file__).resolve().parent))  # importable from anywhere, as the tests do
from recipe_ner import fine_tuning_optimizer, optimizer_step  # noqa: E402  (BioBERT's optimiser, shared)

MAX_SEQ_LENGTH = 128
LEARN_RATE = 5e-5
BATCH_SIZE = 32
NEGATIVE = "false"  # BioBERT's negative class name for ChemProt/DDI

# Entity label -> mask, per corpus (BioBERT/BLUE preprocessing).
MASKS: Dict[str, Dict[str, str]] = {
    "chemprot": {"CHEMICAL": "@CHEMICAL$", "GENE-Y": "@GENE$", "GENE-N": "@GENE$"},
    "ddi": {"drug": "@DRUG$", "brand": "@DRUG$", "group": "@DRUG$", "drug_n": "@DRUG$"},
    "bc5cdr": {"Chemical": "@CHEMICAL$", "Disease": "@DISEASE$"},
}


def mask_for(label: str, masks: Dict[str, str]) -> str:
    """The mask of an entity label (`@LABEL$` for a label the table does not list)."""
    return masks.get(label, f"@{label.upper()}$")


@dataclass
class Instance:
    """One classification instance: a masked sentence and the pair it stands for."""

    text: str
    label: str
    doc: int
    head: Span
    tail: Span


def sentence_index(doc: Doc, reference: Optional[Doc] = None) -> Optional[List[int]]:
    """Sentence number of each token of `doc`: its own boundaries, else those of `reference`
    (mapped by character offset), else None.

    doc (Doc): The doc.
    reference (Optional[Doc]): A doc of the same text with sentence boundaries.
    RETURNS (Optional[List[int]]): One sentence number per token.
    """
    source = doc if doc.has_annotation("SENT_START") else reference
    if source is None or not len(doc) or not source.has_annotation("SENT_START"):
        return None
    starts = sorted(sent.start_char for sent in source.sents)
    return [max(0, bisect_right(starts, token.idx) - 1) for token in doc]


def masked_text(doc: Doc, head: Span, tail: Span, masks: Dict[str, str],
                sentences: Optional[Sequence[int]] = None) -> str:
    """The sentence of a pair with head and tail replaced by their type masks.

    doc (Doc): The document.
    head (Span): Head mention. tail (Span): Tail mention (any order in the text).
    masks (Dict[str, str]): Entity label -> mask.
    sentences (Optional[Sequence[int]]): Sentence number per token; None: the whole doc is the context.
    RETURNS (str): The masked sentence (stretched to cover both mentions if a boundary cuts one).
    """
    if sentences is None:
        start, end = 0, len(doc)
    else:
        sent = sentences[head.start]
        start = head.start
        while start > 0 and sentences[start - 1] == sent:
            start -= 1
        end = head.start
        while end < len(doc) and sentences[end] == sent:
            end += 1
        start, end = min(start, head.start, tail.start), max(end, head.end, tail.end)
    base = doc[start].idx
    text = doc[start:end].text
    first, second = sorted([(head.start_char, head.end_char, mask_for(head.label_, masks)),
                            (tail.start_char, tail.end_char, mask_for(tail.label_, masks))],
                           key=lambda m: (m[0], m[1]))
    if first[1] > second[0]:
        # Overlapping mentions: one replacement for their union, both masks in text order.
        pieces = [(first[0], max(first[1], second[1]), f"{first[2]} {second[2]}")]
    else:
        pieces = [first, second]
    for s, e, mask in sorted(pieces, reverse=True):
        text = text[: s - base] + mask + text[e - base:]
    return text


def learn_allowed_pairs(examples: Iterable[Example]) -> List[Tuple[str, str]]:
    """(head label, tail label) pairs seen in the training relations, learned as the relation
    extractor's `initialize` learns them (`relation_label_pairs`)."""
    found: Set[Tuple[str, str]] = set()
    for eg in examples:
        found |= relation_label_pairs(eg.reference, eg.reference.ents)
    return sorted(found)


def gold_labels(example: Example, doc: Doc) -> Tuple[Dict[Tuple[int, int, int, int], Set[str]], Set[Tuple[str, str, str]]]:
    """Gold mention-level relations keyed by `doc`'s token offsets (projected by characters), and
    gold concept-level (head ID, tail ID, label) triples."""
    ref = example.reference
    mention_pos: Dict[Tuple[int, int, int, int], Set[str]] = {}
    concept_pos: Set[Tuple[str, str, str]] = set()
    for rel in get_relations(ref):
        if rel.level == "mention":
            h, t = rel.head.span(ref), rel.tail.span(ref)
            ph = doc.char_span(h.start_char, h.end_char, alignment_mode="expand")
            pt = doc.char_span(t.start_char, t.end_char, alignment_mode="expand")
            if ph is not None and pt is not None:
                mention_pos.setdefault((ph.start, ph.end, pt.start, pt.end), set()).add(rel.label)
        else:
            for hid in split_ids(rel.head_id):
                for tid in split_ids(rel.tail_id):
                    concept_pos.add((hid, tid, rel.label))
    return mention_pos, concept_pos


def pair_label(head: Span, tail: Span, mention_pos, concept_pos, *, undirected: bool) -> str:
    """The gold label of a candidate pair (NEGATIVE if none; the first in sorted order if several)."""
    found = set(mention_pos.get((head.start, head.end, tail.start, tail.end), ()))
    if undirected:
        found.update(mention_pos.get((tail.start, tail.end, head.start, head.end), ()))
    for hid in split_ids(head.kb_id_):
        for tid in split_ids(tail.kb_id_):
            found.update(label for h, t, label in concept_pos if (h, t) == (hid, tid))
    return sorted(found)[0] if found else NEGATIVE


def make_instances(
    docs: Sequence[Doc],
    sentences: Sequence[Optional[List[int]]],
    candidates: RelationCandidates,
    allowed: Sequence[Tuple[str, str]],
    masks: Dict[str, str],
    *,
    examples: Optional[Sequence[Example]] = None,
    undirected: bool = False,
) -> List[Instance]:
    """One instance per same-sentence candidate pair of each doc (labelled when `examples` are given).

    docs (Sequence[Doc]): Docs with the mentions in `doc.ents`.
    sentences (Sequence[Optional[List[int]]]): Sentence number per token, per doc.
    candidates (RelationCandidates): The candidate generator (its `max_sentences` should be 0).
    allowed (Sequence[Tuple[str, str]]): Learned (head label, tail label) pairs.
    masks (Dict[str, str]): Entity label -> mask.
    examples (Optional[Sequence[Example]]): Gold examples aligned with `docs`, for the labels.
    undirected (bool): A gold relation labels the pair in either order (DDI).
    RETURNS (List[Instance]): The instances.
    """
    out: List[Instance] = []
    for i, (doc, sents) in enumerate(zip(docs, sentences)):
        mentions = sorted(doc.ents, key=lambda s: (s.start, s.end))
        pairs = candidates(doc, mentions, allowed, sentences=sents)
        mention_pos, concept_pos = gold_labels(examples[i], doc) if examples is not None else ({}, set())
        for head, tail in pairs:
            label = pair_label(head, tail, mention_pos, concept_pos, undirected=undirected)
            out.append(Instance(masked_text(doc, head, tail, masks, sents), label, i, head, tail))
    return out


def write_predictions(docs: Sequence[Doc], instances: Sequence[Instance], labels: Sequence[str],
                      probs: numpy.ndarray, *, concept_level: bool) -> None:
    """Set `doc._.relations` from the softmax outputs: the argmax label of each instance unless it is
    NEGATIVE (mention level), plus one concept-level relation per (head ID, tail ID, label) when
    `concept_level` (as the relation extractor does for BC5CDR CID).

    docs (Sequence[Doc]): The docs the instances index.
    instances (Sequence[Instance]): The instances, one row of `probs` each.
    labels (Sequence[str]): Class names in the model's output order.
    probs (numpy.ndarray): Softmax probabilities, shape (len(instances), len(labels)).
    concept_level (bool): Also write concept-level relations.
    """
    per_doc: Dict[int, List[Relation]] = {i: [] for i in range(len(docs))}
    for inst, row in zip(instances, probs):
        best = int(numpy.argmax(row))
        if labels[best] == NEGATIVE:
            continue
        h, t = inst.head, inst.tail
        per_doc[inst.doc].append(Relation(
            labels[best], head=Mention(h.start, h.end, h.label_, h.kb_id_),
            tail=Mention(t.start, t.end, t.label_, t.kb_id_), score=float(row[best]),
        ))
    for i, doc in enumerate(docs):
        rels = per_doc[i]
        set_relations(doc, [*rels, *concept_relations(rels)] if concept_level else rels)


def gold_entity_docs(examples: Sequence[Example]) -> List[Doc]:
    """Fresh docs of the predicted tokens with the reference mentions as entities (as
    `evaluate_relations(..., gold_entities=True)` builds them for our pipeline)."""
    return [with_gold_mentions(eg).predicted for eg in examples]


def train_and_predict(
    model_dir: str,
    train: Sequence[Example],
    dev_docs: Sequence[Doc],
    dev_sentences: Sequence[Optional[List[int]]],
    *,
    masks: Dict[str, str],
    text_order: bool,
    undirected: bool,
    concept_level: bool,
    seed: int,
    epochs: int,
    batch_size: int = BATCH_SIZE,
    learn_rate: float = 0.0,
) -> Dict:
    """Fine-tune on the training examples' same-sentence pairs and write predictions onto `dev_docs`.

    model_dir (str): The encoder (local directory).
    train (Sequence[Example]): Training examples (reference: gold mentions, relations, sentences).
    dev_docs (Sequence[Doc]): Devel docs with gold mentions in `doc.ents`; `doc._.relations` is set.
    dev_sentences (Sequence[Optional[List[int]]]): Sentence number per token of each devel doc.
    masks (Dict[str, str]): Entity label -> mask.
    text_order (bool): Candidate pairs in text order only (undirected corpora, DDI).
    undirected (bool): Gold relations label pairs in either order.
    concept_level (bool): Also write concept-level relations (BC5CDR CID).
    seed (int): Seed for the head's initialisation, dropout and shuffling.
    epochs (int): Passes over the training instances.
    batch_size (int): Instances per update.
    learn_rate (float): Peak learning rate (0: LEARN_RATE).
    RETURNS (Dict): timings, steps, instance and word-piece counts, labels.
    """
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)
    candidates = RelationCandidates(max_sentences=0, text_order=text_order)
    allowed = learn_allowed_pairs(train)
    train_docs = gold_entity_docs(train)
    train_sents = [sentence_index(d, eg.reference) for d, eg in zip(train_docs, train)]
    train_inst = make_instances(train_docs, train_sents, candidates, allowed, masks, examples=train,
                                undirected=undirected)
    dev_inst = make_instances(dev_docs, dev_sentences, candidates, allowed, masks)
    labels = [NEGATIVE] + sorted({inst.label for inst in train_inst} - {NEGATIVE})
    label2id = {label: i for i, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(model_dir, use_fast=True)
    model = AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=label2id
    )
    n_steps = epochs * math.ceil(len(train_inst) / batch_size)
    optimizer, schedule = fine_tuning_optimizer(model, learn_rate or LEARN_RATE, n_steps)
    order = list(range(len(train_inst)))
    rng = random.Random(seed)
    n_pieces = 0
    losses: List[float] = []
    model.train()
    start = time.perf_counter()
    for _ in range(epochs):
        rng.shuffle(order)
        for b in range(0, len(order), batch_size):
            batch = [train_inst[i] for i in order[b:b + batch_size]]
            enc = tokenizer([x.text for x in batch], truncation=True, max_length=MAX_SEQ_LENGTH,
                            padding=True, return_tensors="pt")
            n_pieces += int(enc["attention_mask"].sum())
            enc["labels"] = torch.tensor([label2id[x.label] for x in batch])
            loss = model(**enc).loss
            losses.append(float(loss.detach()))
            optimizer_step(loss, model, optimizer, schedule)
    train_seconds = time.perf_counter() - start
    model.eval()
    start = time.perf_counter()
    probs = numpy.zeros((len(dev_inst), len(labels)), dtype="f")
    with torch.inference_mode():
        for b in range(0, len(dev_inst), 64):
            batch = dev_inst[b:b + 64]
            enc = tokenizer([x.text for x in batch], truncation=True, max_length=MAX_SEQ_LENGTH,
                            padding=True, return_tensors="pt")
            probs[b:b + len(batch)] = torch.softmax(model(**enc).logits, dim=-1).numpy()
    write_predictions(dev_docs, dev_inst, labels, probs, concept_level=concept_level)
    return {
        "train_seconds": train_seconds,
        "predict_seconds": time.perf_counter() - start,
        "steps": n_steps,
        "train_instances": len(train_inst),
        "train_positive_instances": sum(x.label != NEGATIVE for x in train_inst),
        "dev_instances": len(dev_inst),
        "train_wordpieces": n_pieces,
        "labels": labels,
        "allowed_pairs": [list(p) for p in allowed],
        "learn_rate": learn_rate or LEARN_RATE,
        # mean training loss over the first and the last 10 updates: did it learn at all?
        "loss_first10": float(numpy.mean(losses[:10])) if losses else None,
        "loss_last10": float(numpy.mean(losses[-10:])) if losses else None,
        "dev_predicted_positive": int(sum(labels[int(numpy.argmax(row))] != NEGATIVE for row in probs)),
    }
