"""The relation model's pair vectors: layout, distance buckets (v2) and gradients checked against
finite differences."""
import numpy
import pytest
import spacy
from thinc.api import Model

from spacy_biobert.relations.model import DISTANCE_BUCKETS, N_DISTANCE, N_PARTS, build_pair_vectors

WIDTH = 3


def table_tok2vec(n_tokens: int) -> Model:
    """A tok2vec whose token vectors are rows of one parameter table (doc i starts where doc i-1
    ends), so the gradient that reaches the token vectors can be read from the table."""

    def forward(model, docs, is_train):
        table = model.get_param("W")
        starts = numpy.cumsum([0] + [len(d) for d in docs])
        out = [table[starts[i]:starts[i + 1]] for i in range(len(docs))]

        def backprop(d_out):
            model.inc_grad("W", numpy.concatenate(d_out, axis=0))
            return docs

        return out, backprop

    model = Model("table", forward, params={"W": None})
    model.set_param("W", numpy.random.RandomState(0).normal(size=(n_tokens, WIDTH)).astype("float32"))
    return model


@pytest.fixture
def docs():
    nlp = spacy.blank("en")
    return [nlp.make_doc("a b c d e f g h"), nlp.make_doc("x y z w")]


# head_start, head_end, tail_start, tail_end per doc: head first, tail first, overlapping.
PAIRS = [numpy.asarray([[0, 1, 5, 7], [6, 8, 2, 3], [1, 3, 2, 4]], dtype="i"),
         numpy.asarray([[0, 1, 3, 4]], dtype="i")]


@pytest.mark.parametrize("distance", [False, True])
def test_pair_vectors_layout_and_gradient(docs, distance):
    tok2vec = table_tok2vec(sum(len(d) for d in docs))
    model = build_pair_vectors(tok2vec, distance=distance)
    model.initialize(X=(docs, PAIRS))
    extra = N_DISTANCE if distance else 0
    assert model.get_dim("nO") == N_PARTS * WIDTH + extra
    out, backprop = model.begin_update((docs, PAIRS))
    assert out.shape == (4, N_PARTS * WIDTH + extra)
    table = tok2vec.get_param("W")
    # Pair 0: head token 0, tail tokens 5-6, between tokens 1-4.
    numpy.testing.assert_allclose(out[0, :WIDTH], table[0], rtol=1e-6)
    numpy.testing.assert_allclose(out[0, WIDTH:2 * WIDTH], table[5:7].mean(0), rtol=1e-6)
    numpy.testing.assert_allclose(out[0, 2 * WIDTH:3 * WIDTH], table[1:5].mean(0), rtol=1e-5)
    numpy.testing.assert_allclose(out[0, 3 * WIDTH:4 * WIDTH], table[0] * table[5:7].mean(0), rtol=1e-5)
    if distance:
        onehot = out[:, N_PARTS * WIDTH:]
        assert (onehot.sum(axis=1) == 1).all()
        n = len(DISTANCE_BUCKETS)
        # 4 tokens between, head first; 3 between, tail first; overlapping: 0; 2 between.
        assert list(onehot.argmax(axis=1)) == [4, n + 3, 0, 2]
    # Gradients of a random linear function of the output, against finite differences.
    weights = numpy.random.RandomState(1).normal(size=out.shape).astype("float32")
    tok2vec.set_grad("W", numpy.zeros_like(table))
    backprop(weights)
    analytic = tok2vec.get_grad("W")
    eps = 1e-2
    for index in [(0, 0), (2, 1), (5, 2), (9, 0), (11, 1)]:
        for sign, store in ((1, []), (-1, [])):
            shifted = table.copy()
            shifted[index] += sign * eps
            tok2vec.set_param("W", shifted)
            store.append(float((model.predict((docs, PAIRS)) * weights).sum()))
            if sign == 1:
                up = store[0]
            else:
                down = store[0]
        tok2vec.set_param("W", table)
        assert abs((up - down) / (2 * eps) - analytic[index]) < 2e-2 * max(1.0, abs(analytic[index]))
