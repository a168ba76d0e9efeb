"""The relation extractor's thinc model: entity-pair vectors from token vectors, then an MLP with one
logit per label (multi-label; the component applies the sigmoid and the thresholds).

A pair is represented by the mean vector of the head mention, of the tail mention and of the tokens
between them (the context that usually states the relation), and the product head * tail. Means are
taken from one cumulative sum per batch, and their gradients scattered back through a difference
array, so the cost is linear in tokens + pairs: nothing of size pairs x span length is built, and a
document with hundreds of mentions needs no more memory than its token vectors and its (bounded)
candidate pairs.
"""
from typing import Callable, List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Linear, Model, Relu, chain
from thinc.types import Floats2d, Ints2d

# (docs, per-doc int arrays of candidate pairs with columns head_start, head_end, tail_start, tail_end)
PairInput = Tuple[List[Doc], List[Ints2d]]
N_PARTS = 4
# Token-distance buckets (lower bounds) of the v2 model, one set for each order of head and tail.
DISTANCE_BUCKETS = (0, 1, 2, 3, 4, 6, 9, 16, 32, 64)
N_DISTANCE = 2 * len(DISTANCE_BUCKETS)


@registry.architectures("spacy-biobert.RelationModel.v1")
def build_relation_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[PairInput, Floats2d]:
    """Score candidate entity pairs: [head; tail; between; head*tail] -> ReLU layer -> one logit per
    relation label.

    tok2vec (Model[List[Doc], List[Floats2d]]): Token vectors, usually a TransformerListener; any
        tok2vec works.
    hidden_width (int): Width of the hidden layer.
    dropout (float): Dropout on the hidden layer during training.
    nO (Optional[int]): Number of labels; inferred from the labels at initialization.
    RETURNS (Model[Tuple[List[Doc], List[Ints2d]], Floats2d]): Logits, one row per pair in batch order.
    """
    return _pair_classifier(build_pair_vectors(tok2vec), tok2vec, hidden_width, dropout, nO)


@registry.architectures("spacy-biobert.RelationModel.v2")
def build_relation_model_v2(
    tok2vec: Model[List[Doc], List[Floats2d]],
    hidden_width: int = 256,
    dropout: float = 0.1,
    nO: Optional[int] = None,
) -> Model[PairInput, Floats2d]:
    """v1 plus the pair's token distance: the vector is [head; tail; between; head*tail; distance],
    where distance is a one-hot log-scale bucket of the number of tokens between the mentions, one
    set of buckets for head-before-tail and one for tail-before-head. Mean vectors do not say how
    far apart or in which order the mentions are, which matters for which pairs are related.

    tok2vec, hidden_width, dropout, nO: as in v1.
    RETURNS (Model[Tuple[List[Doc], List[Ints2d]], Floats2d]): Logits, one row per pair in batch order.
    """
    return _pair_classifier(build_pair_vectors(tok2vec, distance=True), tok2vec, hidden_width, dropout, nO)


def _pair_classifier(pairs: Model[PairInput, Floats2d], tok2vec: Model, hidden_width: int, dropout: float,
                     nO: Optional[int]) -> Model[PairInput, Floats2d]:
    """pair vectors -> ReLU layer -> one logit per label, with the refs the component uses."""
    output = Linear(nO=nO)
    model = chain(pairs, Relu(nO=hidden_width, dropout=dropout), output)
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("output_layer", output)
    return model


def build_pair_vectors(tok2vec: Model[List[Doc], List[Floats2d]], distance: bool = False) -> Model[PairInput, Floats2d]:
    """Pair vectors [head mean; tail mean; mean of the tokens between; head*tail] from token
    vectors, with `distance` followed by the one-hot distance bucket."""
    return Model(
        "relation_pair_vectors",
        _pair_forward,
        init=_pair_init,
        layers=[tok2vec],
        refs={"tok2vec": tok2vec},
        dims={"nO": None},
        attrs={"distance": distance},
    )


def _extra_width(model: Model) -> int:
    return N_DISTANCE if model.attrs.get("distance") else 0


def _pair_init(model: Model, X: Optional[PairInput] = None, Y=None) -> None:
    tok2vec = model.layers[0]
    if X is not None:
        tok2vec.initialize(X=X[0])
        if not model.has_dim("nO"):
            vectors = tok2vec.predict(X[0])
            width = next((v.shape[1] for v in vectors), None)
            if width is not None:
                model.set_dim("nO", N_PARTS * width + _extra_width(model))
    else:
        tok2vec.initialize()
    if not model.has_dim("nO") and tok2vec.has_dim("nO"):
        model.set_dim("nO", N_PARTS * tok2vec.get_dim("nO") + _extra_width(model))


def _segments(pairs, xp):
    """Head, tail and between segments [start, end) as global token indices, one row per pair."""
    hs, he, ts, te = pairs[:, 0], pairs[:, 1], pairs[:, 2], pairs[:, 3]
    head_first = he <= ts
    tail_first = te <= hs
    bs = xp.where(head_first, he, xp.where(tail_first, te, 0))
    be = xp.where(head_first, ts, xp.where(tail_first, hs, 0))  # overlapping mentions: empty
    return (hs, he), (ts, te), (bs, be)


def _distance_features(pairs, xp):
    """One-hot distance bucket per pair: tokens between the mentions, and which comes first."""
    (hs, he), (ts, te), (bs, be) = _segments(pairs, xp)
    bucket = xp.searchsorted(xp.asarray(DISTANCE_BUCKETS), be - bs, side="right") - 1
    column = bucket + xp.where(te <= hs, len(DISTANCE_BUCKETS), 0)
    out = xp.zeros((pairs.shape[0], N_DISTANCE), dtype="float32")
    out[xp.arange(pairs.shape[0]), column] = 1.0
    return out


def _pair_forward(model: Model, inputs: PairInput, is_train: bool) -> Tuple[Floats2d, Callable]:
    docs, doc_pairs = inputs
    tok2vec = model.layers[0]
    ops = model.ops
    xp = ops.xp
    tokvecs, bp_tokvecs = tok2vec(docs, is_train)
    lengths = [int(v.shape[0]) for v in tokvecs]
    width = next((int(v.shape[1]) for v in tokvecs), (model.get_dim("nO") - _extra_width(model)) // N_PARTS)
    n_tokens = sum(lengths)
    flat = ops.flatten(tokvecs) if n_tokens else ops.alloc2f(0, width)
    offsets, offset = [], 0
    for n in lengths:
        offsets.append(offset)
        offset += n
    shifted = [ops.asarray2i(p) + offsets[i] for i, p in enumerate(doc_pairs) if len(p)]
    pairs = ops.xp.concatenate(shifted, axis=0) if shifted else ops.alloc2i(0, 4)
    n_pairs = int(pairs.shape[0])
    # float64 prefix sums so that long batches do not lose the precision of short spans.
    csum = xp.zeros((n_tokens + 1, width), dtype="float64")
    if n_tokens:
        csum[1:] = xp.cumsum(flat, axis=0, dtype="float64")
    segments = _segments(pairs, xp)
    means, sizes = [], []
    for start, end in segments:
        size = xp.maximum(end - start, 1).astype("float64")[:, None]
        means.append(((csum[end] - csum[start]) / size).astype("float32"))
        sizes.append(size)
    head, tail, between = means
    parts = [head, tail, between, head * tail]
    if model.attrs.get("distance"):
        parts.append(_distance_features(pairs, xp))
    output = xp.hstack(parts) if n_pairs else ops.alloc2f(0, N_PARTS * width + _extra_width(model))

    def backprop(d_output: Floats2d) -> PairInput:
        d_head = d_output[:, :width] + d_output[:, 3 * width:4 * width] * tail
        d_tail = d_output[:, width:2 * width] + d_output[:, 3 * width:4 * width] * head
        d_between = d_output[:, 2 * width:3 * width]
        # Difference array: +g/n at each segment start, -g/n at its end; its prefix sum is dX.
        diff = xp.zeros((n_tokens + 1, width), dtype="float32")
        for (start, end), size, grad in zip(segments, sizes, (d_head, d_tail, d_between)):
            if n_pairs:
                scaled = (grad / size).astype("float32")
                ops.scatter_add(diff, ops.asarray1i(start), scaled)
                ops.scatter_add(diff, ops.asarray1i(end), -scaled)
        d_flat = xp.cumsum(diff[:-1], axis=0).astype("float32") if n_tokens else diff[:0]
        d_tokvecs = ops.unflatten(d_flat, lengths) if n_tokens else [ops.alloc2f(0, width) for _ in lengths]
        bp_tokvecs(d_tokvecs)
        return inputs

    return output, backprop
