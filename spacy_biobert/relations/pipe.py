"""`biobert_relation_extractor`: a trainable pipe that finds typed relations between the entities of a
doc (predicted by `ner`, or gold) and writes them to `doc._.relations`.
"""
import random
from bisect import bisect_right
from collections import Counter, defaultdict
from itertools import islice
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Set, Tuple

import numpy
from spacy.language import Language
from spacy.pipeline import TrainablePipe
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.vocab import Vocab
from thinc.api import Config, Model, Optimizer
from thinc.types import Floats2d

from ..errors import make_error
from .annotations import Mention, Relation, get_relations, install_extensions, set_relations
from .candidates import RelationCandidates
from .scorer import split_ids

DEFAULT_REL_MODEL = """
[model]
@architectures = "spacy-biobert.RelationModel.v1"
hidden_width = 256
dropout = 0.1
nO = null

[model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "*"

[model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""
DEFAULT_MODEL = Config().from_str(DEFAULT_REL_MODEL)["model"]

Pairs = List[Tuple[Span, Span]]
POOLINGS = ("max", "logsumexp")


@Language.factory(
    "biobert_relation_extractor",
    assigns=["doc._.relations"],
    requires=["doc.ents"],
    default_config={
        "model": DEFAULT_MODEL,
        "candidates": {"@misc": "spacy-biobert.relation_candidates.v1"},
        "spans_key": None,
        "threshold": 0.5,
        "exclusive": False,
        "concept_level": False,
        "concept_pooling": "max",
        "positive_weight": 1.0,
        "negative_rate": 1.0,
        "learn_rate_scale": 1.0,
        "scorer": {"@scorers": "spacy-biobert.relation_scorer.v1"},
    },
    default_score_weights={"rel_micro_f": 1.0, "rel_micro_p": 0.0, "rel_micro_r": 0.0},
)
def make_relation_extractor(
    nlp: Language,
    name: str,
    model: Model,
    candidates: RelationCandidates,
    spans_key: Optional[str],
    threshold: float,
    exclusive: bool,
    concept_level: bool,
    concept_pooling: str,
    positive_weight: float,
    negative_rate: float,
    learn_rate_scale: float,
    scorer: Optional[Callable],
) -> "RelationExtractor":
    """Create a relation extractor.

    model (Model): `spacy-biobert.RelationModel.v1` or another model from (docs, pairs) to logits.
    candidates (RelationCandidates): Candidate pair generator (`spacy-biobert.relation_candidates.v1`).
    spans_key (Optional[str]): Read mentions from `doc.spans[spans_key]` instead of `doc.ents`
        (nested mentions, spancat).
    threshold (float): Default score threshold for every label; per-label thresholds tuned on devel
        are stored in `cfg["thresholds"]`.
    exclusive (bool): At most one label per pair (the highest over its threshold), as in ChemProt and
        DDI; False for multi-label output.
    concept_level (bool): Also write one concept-level relation per (head ID, tail ID, label), as
        document-level tasks (BC5CDR CID) are defined. Mentions without an ID take one from a lexicon
        of the training data's mention texts.
    concept_pooling (str): How a concept pair's score comes from its mention pairs' scores, with
        `concept_level`. "max": every mention pair of a related concept pair is trained as
        positive, and the concept pair takes its best pair's score. "logsumexp": the loss is on
        concept pairs (multi-instance learning: the logsumexp of the mention pairs' logits, as
        document-level models of CID do), so a mention pair that does not state the relation need
        not score high; the concept score is the sigmoid of that logsumexp.
    positive_weight (float): Weight of positive labels in the loss, against the imbalance of negative
        pairs.
    negative_rate (float): Fraction of all-negative candidate pairs kept in each training batch.
    learn_rate_scale (float): The relation head's learning rate as a multiple of the optimizer's
        (the encoder, shared with `ner`, keeps the optimizer's rate): a head trained from scratch
        at a fine-tuning rate of 1e-4 barely moves in a few hundred steps.
    scorer (Optional[Callable]): `spacy-biobert.relation_scorer.v1`.
    RETURNS (RelationExtractor): The component.
    """
    return RelationExtractor(
        nlp.vocab, model, name, candidates=candidates, spans_key=spans_key, threshold=threshold,
        exclusive=exclusive, concept_level=concept_level, concept_pooling=concept_pooling,
        positive_weight=positive_weight,
        negative_rate=negative_rate, learn_rate_scale=learn_rate_scale, scorer=scorer,
    )


class RelationExtractor(TrainablePipe):
    """Score candidate entity pairs with a sigmoid per label and keep those over the thresholds.

    Labels, thresholds, the learned (head label, tail label) pairs and the concept lexicon live in
    `self.cfg`, so the inherited `to_disk`/`from_disk` keep them.
    """

    def __init__(
        self,
        vocab: Vocab,
        model: Model,
        name: str = "biobert_relation_extractor",
        *,
        candidates: RelationCandidates,
        spans_key: Optional[str] = None,
        threshold: float = 0.5,
        exclusive: bool = False,
        concept_level: bool = False,
        concept_pooling: str = "max",
        positive_weight: float = 1.0,
        negative_rate: float = 1.0,
        learn_rate_scale: float = 1.0,
        scorer: Optional[Callable] = None,
    ) -> None:
        install_extensions()
        if not 0.0 < negative_rate <= 1.0:
            raise make_error("E203", name="negative_rate", value=repr(negative_rate), minimum="> 0 and <= 1")
        if positive_weight <= 0:
            raise make_error("E203", name="positive_weight", value=repr(positive_weight), minimum="> 0")
        if learn_rate_scale <= 0:
            raise make_error("E203", name="learn_rate_scale", value=repr(learn_rate_scale), minimum="> 0")
        if concept_pooling not in POOLINGS:
            raise make_error("E206", value=repr(concept_pooling), options=", ".join(map(repr, POOLINGS)))
        self.vocab = vocab
        self.model = model
        self.name = name
        self.candidates = candidates
        self.scorer = scorer
        self._rng = random.Random(0)
        self.cfg: Dict[str, Any] = {
            "labels": [],
            "threshold": float(threshold),
            "thresholds": {},
            "allowed_pairs": [],
            "concept_lexicon": {},
            "spans_key": spans_key,
            "exclusive": bool(exclusive),
            "concept_level": bool(concept_level),
            "concept_pooling": concept_pooling,
            "positive_weight": float(positive_weight),
            "negative_rate": float(negative_rate),
            "learn_rate_scale": float(learn_rate_scale),
        }

    # --- labels and settings -----------------------------------------------------------------

    @property
    def labels(self) -> Tuple[str, ...]:
        """The relation labels, in the order of the model's outputs."""
        return tuple(self.cfg["labels"])

    @property
    def label_data(self) -> List[str]:
        return list(self.labels)

    def add_label(self, label: str) -> int:
        """Add a relation label before training. RETURNS (int): 1 if added, 0 if present."""
        if not isinstance(label, str):
            raise make_error("E204", label=repr(label))
        if label in self.labels:
            return 0
        self._allow_extra_label()
        self.cfg["labels"].append(label)
        self.vocab.strings.add(label)
        return 1

    def thresholds(self) -> numpy.ndarray:
        """One threshold per label: the tuned one, or the default `threshold`."""
        tuned = self.cfg["thresholds"]
        return numpy.asarray(
            [float(tuned.get(label, self.cfg["threshold"])) for label in self.labels], dtype="f"
        )

    # --- mentions and candidates ---------------------------------------------------------------

    def mentions(self, doc: Doc) -> List[Span]:
        """The doc's mentions (entities or the configured span group), sorted and without repeats."""
        key = self.cfg["spans_key"]
        spans = doc.spans[key] if key is not None and key in doc.spans else (() if key else doc.ents)
        unique = {(s.start, s.end, s.label_): s for s in spans}
        return [unique[k] for k in sorted(unique)]

    def _pairs(self, doc: Doc, mentions: Sequence[Span], sentences: Optional[List[int]] = None) -> Pairs:
        allowed = [tuple(p) for p in self.cfg["allowed_pairs"]]
        return self.candidates(doc, mentions, allowed, sentences=sentences)

    @staticmethod
    def _pair_array(pairs: Pairs) -> numpy.ndarray:
        if not pairs:
            return numpy.zeros((0, 4), dtype="i")
        return numpy.asarray([(h.start, h.end, t.start, t.end) for h, t in pairs], dtype="i")

    def concept_ids(self, span: Span) -> List[str]:
        """Concept IDs of a mention: its kb_id, else the training lexicon's ID for its text."""
        ids = split_ids(span.kb_id_)
        if not ids:
            ids = split_ids(self.cfg["concept_lexicon"].get(_lexicon_key(span), ""))
        return ids

    # --- prediction -----------------------------------------------------------------------------

    def _check_initialized(self) -> None:
        if not self.labels or not self.model.get_ref("output_layer").has_dim("nO"):
            raise make_error("E201", name=self.name)

    def predict(self, docs: Iterable[Doc]) -> Tuple[List[Pairs], Floats2d]:
        """Score the candidate pairs of each doc.

        docs (Iterable[Doc]): The docs, with entities (or the span group) set.
        RETURNS (Tuple[List[List[Tuple[Span, Span]]], Floats2d]): The pairs per doc and their
            probabilities, one row per pair (batch order) and one column per label.
        """
        docs = list(docs)
        self._check_initialized()
        pairs = [self._pairs(doc, self.mentions(doc)) for doc in docs]
        if not any(pairs):
            # Nothing to score; the model is not run (an empty batch would still fill the listener).
            return pairs, self.model.ops.alloc2f(0, len(self.labels))
        logits = self.model.predict((docs, [self._pair_array(p) for p in pairs]))
        return pairs, self.model.ops.sigmoid(logits)

    def set_annotations(self, docs: Iterable[Doc], predictions: Tuple[List[Pairs], Floats2d]) -> None:
        """Write the relations over threshold to `doc._.relations` (replacing what was there).

        docs (Iterable[Doc]): The docs.
        predictions (Tuple[List[List[Tuple[Span, Span]]], Floats2d]): Output of `predict`.
        """
        pairs_per_doc, probs = predictions
        probs = self.model.ops.to_numpy(probs)
        thresholds = self.thresholds()
        labels = self.labels
        pooled = self._pooled()
        row = 0
        for doc, pairs in zip(docs, pairs_per_doc):
            doc_probs = probs[row: row + len(pairs)]
            row += len(pairs)
            relations: List[Relation] = []
            concepts: Dict[Tuple[str, str, str], Dict[str, Any]] = {}
            # logsumexp pooling: every mention pair of a concept pair counts, over threshold or not.
            members: Dict[Tuple[str, str], List[Tuple[numpy.ndarray, Mention, Mention, Set[int]]]] = {}
            for (head, tail), scores in zip(pairs, doc_probs):
                keep = self._kept(scores, thresholds)
                if not len(keep) and not pooled:
                    continue
                head_ids, tail_ids = self.concept_ids(head), self.concept_ids(tail)
                head_m = Mention(head.start, head.end, head.label_, head.kb_id_ or "|".join(head_ids))
                tail_m = Mention(tail.start, tail.end, tail.label_, tail.kb_id_ or "|".join(tail_ids))
                for j in keep:
                    # float(): plain Python floats only, never numpy/cupy scalars.
                    relations.append(Relation(labels[j], head=head_m, tail=tail_m, score=float(scores[j])))
                if not self.cfg["concept_level"]:
                    continue
                for hid in head_ids:
                    for tid in tail_ids:
                        if pooled:
                            members.setdefault((hid, tid), []).append((scores, head_m, tail_m, set(keep)))
                            continue
                        for j in keep:
                            entry = concepts.setdefault((hid, tid, labels[j]), {"score": 0.0, "h": {}, "t": {}})
                            entry["score"] = max(entry["score"], float(scores[j]))
                            entry["h"][head_m] = None
                            entry["t"][tail_m] = None
            for (hid, tid), group in members.items():
                score = _sigmoid(_logsumexp_rows(_logits(numpy.asarray([g[0] for g in group]))))
                for j in self._kept(score, thresholds):
                    # The concept's mentions: the pairs over threshold themselves, else the best one.
                    support = [g for g in group if j in g[3]] or [max(group, key=lambda g: g[0][j])]
                    concepts[(hid, tid, labels[j])] = {
                        "score": float(score[j]), "h": {g[1]: None for g in support},
                        "t": {g[2]: None for g in support},
                    }
            for (hid, tid, label), entry in concepts.items():
                relations.append(Relation(
                    label, head_id=hid, tail_id=tid, head_mentions=tuple(entry["h"]),
                    tail_mentions=tuple(entry["t"]), score=entry["score"],
                ))
            set_relations(doc, relations)

    def _kept(self, scores: numpy.ndarray, thresholds: numpy.ndarray) -> numpy.ndarray:
        """Label columns of one pair's scores over their thresholds (the best one if exclusive)."""
        keep = numpy.flatnonzero(scores >= thresholds)
        if self.cfg["exclusive"] and len(keep) > 1:
            keep = keep[[int(numpy.argmax(scores[keep]))]]
        return keep

    def _pooled(self) -> bool:
        """Whether concept pairs are scored by logsumexp over their mention pairs (and trained so)."""
        return bool(self.cfg["concept_level"]) and self.cfg.get("concept_pooling", "max") == "logsumexp"

    # --- training -------------------------------------------------------------------------------

    def _gold(self, example: Example) -> Tuple[List[Span], Dict[Tuple[int, int, int, int], Set[str]],
                                               Set[Tuple[str, str, str]]]:
        """Gold mentions projected onto the predicted doc, gold mention-level relations keyed by
        predicted-doc token offsets, and gold concept-level triples.

        The reference may be tokenized differently (readers split tokens at mention boundaries), so
        mentions are mapped through character offsets, expanding to the predicted doc's tokens.
        """
        ref, pred = example.reference, example.predicted
        projected: Dict[Tuple[int, int, str], Span] = {}

        def project(span: Span) -> Optional[Span]:
            out = pred.char_span(span.start_char, span.end_char, label=span.label_,
                                 kb_id=span.kb_id_, alignment_mode="expand")
            if out is not None:
                projected.setdefault((out.start, out.end, out.label_), out)
            return out

        for span in self.mentions(ref):
            project(span)
        positives: Dict[Tuple[int, int, int, int], Set[str]] = defaultdict(set)
        concept_pos: Set[Tuple[str, str, str]] = set()
        for rel in get_relations(ref):
            if rel.level == "mention":
                head, tail = project(rel.head.span(ref)), project(rel.tail.span(ref))
                if head is not None and tail is not None:
                    positives[(head.start, head.end, tail.start, tail.end)].add(rel.label)
            else:
                for hid in split_ids(rel.head_id):
                    for tid in split_ids(rel.tail_id):
                        concept_pos.add((hid, tid, rel.label))
        mentions = [projected[k] for k in sorted(projected)]
        return mentions, positives, concept_pos

    def _truths(self, example: Example) -> Tuple[Pairs, numpy.ndarray]:
        mentions, positives, concept_pos = self._gold(example)
        pairs = self._pairs(example.predicted, mentions, _gold_sentences(example))
        truths = numpy.zeros((len(pairs), len(self.labels)), dtype="f")
        index = {label: j for j, label in enumerate(self.labels)}
        # Undirected relations (candidates in text order) may be annotated in either order.
        undirected = bool(getattr(self.candidates, "text_order", False))
        for i, (head, tail) in enumerate(pairs):
            found = set(positives.get((head.start, head.end, tail.start, tail.end), ()))
            if undirected:
                found.update(positives.get((tail.start, tail.end, head.start, head.end), ()))
            for label in found:
                if label in index:
                    truths[i, index[label]] = 1.0
            if concept_pos:
                for hid in split_ids(head.kb_id_):
                    for tid in split_ids(tail.kb_id_):
                        for label in self.labels:
                            if (hid, tid, label) in concept_pos:
                                truths[i, index[label]] = 1.0
        return pairs, truths

    def _training_batch(
        self, examples: Sequence[Example], subsample: bool = True,
    ) -> Tuple[List[numpy.ndarray], numpy.ndarray, Optional[numpy.ndarray]]:
        """Pair arrays per doc, truths (one row per pair) and, with logsumexp pooling, the batch-wide
        concept group of each row (None otherwise)."""
        arrays, truths, groups = [], [], []
        rate = self.cfg["negative_rate"] if subsample else 1.0
        n_groups = 0
        for eg in examples:
            pairs, y = self._truths(eg)
            if rate < 1.0 and len(pairs):
                keep = [i for i in range(len(pairs)) if y[i].any() or self._rng.random() < rate]
                pairs, y = [pairs[i] for i in keep], y[keep]
            arrays.append(self._pair_array(pairs))
            truths.append(y)
            if self._pooled():
                local = _concept_groups(pairs)
                groups.append(local + n_groups)
                n_groups += int(local.max()) + 1 if len(local) else 0
        n_labels = len(self.labels)
        y_all = numpy.concatenate(truths, axis=0) if truths else numpy.zeros((0, n_labels), "f")
        if not self._pooled():
            return arrays, y_all, None
        return arrays, y_all, (numpy.concatenate(groups) if groups else numpy.zeros((0,), "i"))

    def _loss_and_gradient(self, logits: Floats2d, truths: numpy.ndarray,
                           groups: Optional[numpy.ndarray] = None) -> Tuple[float, Floats2d]:
        """Binary cross-entropy with positive weighting; gradient with respect to the logits.

        groups: the concept pair of each row (`_concept_groups`) for logsumexp pooling: the loss is
        then on each group's logsumexp logit, and its gradient reaches the rows as softmax weights.
        """
        ops = self.model.ops
        if logits.shape[0] == 0:
            return 0.0, ops.alloc2f(*logits.shape)
        if groups is None:
            return _weighted_bce(ops.sigmoid(logits), ops.asarray2f(truths), self.cfg["positive_weight"], ops.xp)
        x = ops.to_numpy(logits).astype("float64")
        n_groups = int(groups.max()) + 1
        top = numpy.full((n_groups, x.shape[1]), -numpy.inf)
        numpy.maximum.at(top, groups, x)
        exp = numpy.exp(x - top[groups])
        total = numpy.zeros_like(top)
        numpy.add.at(total, groups, exp)
        y = numpy.zeros_like(top)
        numpy.maximum.at(y, groups, truths)
        pooled = top + numpy.log(total)
        loss, d_pooled = _weighted_bce(_sigmoid(pooled), y, self.cfg["positive_weight"], numpy)
        grad = d_pooled[groups] * (exp / total[groups])
        return loss, ops.asarray2f(grad.astype("float32"))

    def get_loss(self, examples: Iterable[Example], scores: Floats2d) -> Tuple[float, Floats2d]:
        """Loss and gradient of `scores` (logits of the training candidates of `examples`).

        examples (Iterable[Example]): The batch.
        scores (Floats2d): Logits in the order of `_training_batch(examples)` without subsampling.
        RETURNS (Tuple[float, Floats2d]): The loss and the gradient.
        """
        _, truths, groups = self._training_batch(list(examples), subsample=False)
        return self._loss_and_gradient(scores, truths, groups)

    def update(
        self,
        examples: Iterable[Example],
        *,
        drop: float = 0.0,
        sgd: Optional[Optimizer] = None,
        losses: Optional[Dict[str, float]] = None,
    ) -> Dict[str, float]:
        """Learn from a batch of examples, with candidates from the gold entities.

        examples (Iterable[Example]): The batch; reference docs carry entities and relations.
        drop (float): Dropout rate.
        sgd (Optional[Optimizer]): The optimizer.
        losses (Optional[Dict[str, float]]): Loss totals per component, updated in place.
        RETURNS (Dict[str, float]): The losses.
        """
        if losses is None:
            losses = {}
        losses.setdefault(self.name, 0.0)
        examples = list(examples)
        validate_examples(examples, "RelationExtractor.update")
        self._check_initialized()
        if not examples:
            return losses
        docs = [eg.predicted for eg in examples]
        if not any(len(doc) for doc in docs):
            return losses
        arrays, truths, groups = self._training_batch(examples)
        # The model runs even when no pair is found: a shared encoder waits for the backprop of its
        # last listener, so skipping it would drop the other components' gradients for this batch.
        logits, backprop = self.model.begin_update((docs, arrays))
        loss, grad = self._loss_and_gradient(logits, truths, groups)
        backprop(grad)
        if sgd is not None:
            self.finish_update(sgd)
        losses[self.name] += loss
        return losses

    def finish_update(self, sgd: Optimizer) -> None:
        """Apply the gradients: the tok2vec's (an inline encoder; a listener has none) at the
        optimizer's rate, the relation head's at `learn_rate_scale` times it.

        sgd (Optimizer): The optimizer.
        """
        scale = self.cfg.get("learn_rate_scale", 1.0)
        if scale == 1.0 or not self.model.has_ref("tok2vec"):
            self.model.finish_update(sgd)
            return
        tok2vec = self.model.get_ref("tok2vec")
        tok2vec.finish_update(sgd)
        inside = {node.id for node in tok2vec.walk()}
        for node in self.model.walk():
            if node.id in inside:
                continue
            for name in node.param_names:
                if node.has_grad(name):
                    param, grad = sgd((node.id, name), node.get_param(name), node.get_grad(name),
                                      lr_scale=scale)
                    node.set_param(name, param)
                    node.set_grad(name, grad)

    def initialize(
        self,
        get_examples: Callable[[], Iterable[Example]],
        *,
        nlp: Optional[Language] = None,
        labels: Optional[List[str]] = None,
        allowed_pairs: Optional[List[List[str]]] = None,
    ) -> None:
        """Learn labels, allowed (head label, tail label) pairs and the concept lexicon from the
        training data, and initialize the model on a sample.

        get_examples (Callable[[], Iterable[Example]]): The training examples.
        nlp (Optional[Language]): The pipeline.
        labels (Optional[List[str]]): Labels to use instead of those found in the data.
        allowed_pairs (Optional[List[List[str]]]): Label pairs to use instead of those learned.
        """
        validate_get_examples(get_examples, "RelationExtractor.initialize")
        found_labels: Set[str] = set()
        found_pairs: Set[Tuple[str, str]] = set()
        lexicon: Dict[str, Counter] = defaultdict(Counter)
        for eg in get_examples():
            ref = eg.reference
            mentions = self.mentions(ref)
            for span in mentions:
                if span.kb_id_ and split_ids(span.kb_id_):
                    lexicon[_lexicon_key(span)][span.kb_id_] += 1
            found_labels.update(rel.label for rel in get_relations(ref))
            found_pairs |= relation_label_pairs(ref, mentions)
        if labels is not None:
            found_labels = set(labels)
        if not found_labels and not self.labels:
            raise make_error("E202", name=self.name)
        for label in sorted(found_labels):
            self.add_label(label)
        pairs = allowed_pairs if allowed_pairs is not None else sorted(found_pairs)
        self.cfg["allowed_pairs"] = [list(p) for p in pairs]
        self.cfg["concept_lexicon"] = (
            {text: ids.most_common(1)[0][0] for text, ids in sorted(lexicon.items())}
            if self.cfg["concept_level"] else {}
        )
        self.model.get_ref("output_layer").set_dim("nO", len(self.labels))
        sample_docs, sample_pairs = [], []
        for eg in islice(get_examples(), 10):
            pairs, _ = self._truths(eg)
            sample_docs.append(eg.predicted)
            sample_pairs.append(self._pair_array(pairs))
        if not any(len(p) for p in sample_pairs):
            # No pair in the sample: one dummy pair on a non-empty doc lets shapes be inferred.
            doc = next((d for d in sample_docs if len(d)), None) or Doc(self.vocab, words=["x"])
            sample_docs, sample_pairs = [doc], [numpy.asarray([[0, 1, 0, 1]], dtype="i")]
        self.model.initialize(X=(sample_docs, sample_pairs))

    # --- threshold tuning -------------------------------------------------------------------------

    def tune_thresholds(
        self,
        examples: Iterable[Example],
        *,
        level: str = "auto",
        grid: Sequence[float] = tuple(round(0.05 * i, 2) for i in range(1, 20)),
    ) -> Dict[str, float]:
        """Choose per-label thresholds that maximise F on `examples` (devel), and store them in cfg.

        The examples' predicted docs must already carry the entities the component should use
        (and the encoder's output when it listens to a transformer: run the other components first).

        examples (Iterable[Example]): Devel examples.
        level (str): "mention", "concept" or "auto" (concept when the gold relations are
            concept-level only, as in BC5CDR CID).
        grid (Sequence[float]): Thresholds tried for each label.
        RETURNS (Dict[str, float]): The chosen threshold per label.
        """
        from .scorer import score_relations

        if level not in ("auto", "mention", "concept"):
            raise make_error("E205", level=repr(level))
        examples = list(examples)
        self._check_initialized()
        pairs_per_doc, probs = self.predict([eg.predicted for eg in examples])
        saved = dict(self.cfg["thresholds"])
        chosen: Dict[str, float] = {}
        for label in self.labels:
            best = (-1.0, self.cfg["threshold"])
            for value in grid:
                # Other labels switched off, so each label is tuned on its own figures.
                self.cfg["thresholds"] = {lab: (value if lab == label else 2.0) for lab in self.labels}
                self.set_annotations([eg.predicted for eg in examples], (pairs_per_doc, probs))
                scores = score_relations(examples)
                key = _level_key(scores, level)
                per_type = scores[key] or {}
                f = per_type.get(label, {}).get("f", 0.0)
                if f > best[0]:
                    best = (f, float(value))
            chosen[label] = best[1]
        self.cfg["thresholds"] = {**saved, **chosen}
        self.set_annotations([eg.predicted for eg in examples], (pairs_per_doc, probs))
        return chosen


def relation_label_pairs(doc: Doc, mentions: Sequence[Span]) -> Set[Tuple[str, str]]:
    """(head label, tail label) pairs of the relations stored on `doc`. A concept-level relation
    takes its labels from its mentions or, without them, from the `mentions` carrying its IDs.

    doc (Doc): A reference doc with `doc._.relations`.
    mentions (Sequence[Span]): Its mentions (entities or a span group).
    RETURNS (Set[Tuple[str, str]]): The label pairs.
    """
    id_labels: Dict[str, Set[str]] = defaultdict(set)
    for span in mentions:
        for cid in split_ids(span.kb_id_):
            id_labels[cid].add(span.label_)
    pairs: Set[Tuple[str, str]] = set()
    for rel in get_relations(doc):
        if rel.level == "mention":
            pairs.add((rel.head.label, rel.tail.label))
        else:
            heads = {m.label for m in rel.head_mentions} or id_labels.get(rel.head_id, set())
            tails = {m.label for m in rel.tail_mentions} or id_labels.get(rel.tail_id, set())
            pairs.update((h, t) for h in heads for t in tails)
    return pairs


def _concept_groups(pairs: Pairs) -> numpy.ndarray:
    """Group number of each training pair: pairs whose mentions carry the same gold IDs form one
    concept pair; a pair with an ID-less mention is a group of its own."""
    index: Dict[Any, int] = {}
    out = []
    for i, (head, tail) in enumerate(pairs):
        heads, tails = split_ids(head.kb_id_), split_ids(tail.kb_id_)
        key = (tuple(heads), tuple(tails)) if heads and tails else ("pair", i)
        out.append(index.setdefault(key, len(index)))
    return numpy.asarray(out, dtype="i")


def _weighted_bce(probs, y, weight: float, xp) -> Tuple[float, Any]:
    """Mean binary cross-entropy of probs = sigmoid(logits) with positives weighted, and its
    gradient with respect to the logits."""
    n = float(probs.shape[0])
    grad = (weight * y * (probs - 1.0) + (1.0 - y) * probs) / n
    eps = 1e-7
    loss = -(weight * y * xp.log(probs + eps) + (1.0 - y) * xp.log(1.0 - probs + eps)).sum() / n
    return float(loss), grad


def _logits(probs: numpy.ndarray) -> numpy.ndarray:
    p = numpy.clip(probs.astype("float64"), 1e-7, 1.0 - 1e-7)
    return numpy.log(p) - numpy.log1p(-p)


def _logsumexp_rows(x: numpy.ndarray) -> numpy.ndarray:
    top = x.max(axis=0)
    return top + numpy.log(numpy.exp(x - top).sum(axis=0))


def _sigmoid(x: numpy.ndarray) -> numpy.ndarray:
    return 1.0 / (1.0 + numpy.exp(-x))


def _gold_sentences(example: Example) -> Optional[List[int]]:
    """Sentence number of each predicted token from the reference's boundaries, when the predicted
    doc has none: training docs are not sentencized (a sentencizer run as an annotating component
    can split inside a gold mention, which `ner` cannot be supervised across), yet training pairs
    must respect the same sentence limit as the pairs scored at inference.
    """
    ref, pred = example.reference, example.predicted
    if pred.has_annotation("SENT_START") or not ref.has_annotation("SENT_START") or not len(pred):
        return None
    starts = sorted(sent.start_char for sent in ref.sents)
    return [bisect_right(starts, token.idx) - 1 for token in pred]


def _level_key(scores: Dict[str, Any], level: str) -> str:
    if level == "mention":
        return "rel_mention_f_per_type"
    if level == "concept":
        return "rel_concept_f_per_type"
    return "rel_f_per_type"


def _lexicon_key(span: Span) -> str:
    """Lexicon key of a mention: label and lower-cased text, so "Lithium" the chemical and a disease
    of the same text stay apart."""
    return f"{span.label_}\t{span.text.lower()}"
