"""BioBERT-style NER head: a softmax over IOB2 tags for every token, decoded with conlleval rules.

This is the head of BioBERT's own NER recipe (token classification, one label per word from its
first word piece, cross-entropy, no transition system), offered beside spaCy's transition-based
`ner`. With a short training budget it learns much faster than `ner` (benchmarks/README.md: on
NCBI-disease devel after 50 updates of 16 sentences, MiniLM encoder), because a linear softmax on
the encoder output needs no state features or oracle to become useful.

It reuses spaCy's `Tagger` (update, rehearse, serialisation) and changes where the labels come
from (the gold entities, as IOB2), what the predictions become (`doc.ents`), and the output layer's
initialisation: spaCy's `spacy.Tagger.v2` starts its softmax at zero weights, so no gradient
reaches the encoder until the weights have grown, and with a fine-tuned transformer below that
costs most of a short budget (measured: the loss barely moves in the first 12 updates, and 50
updates on NCBI-disease leave devel F1 at 0.00). `spacy-biobert.TokenClassifier.v1` draws them
from N(0, 0.02), as BERT's token-classification head does.

    [components.ner]
    factory = "biobert_token_ner"

    [components.ner.model]
    @architectures = "spacy-biobert.TokenClassifier.v1"
    nO = null
    init_std = 0.02

    [components.ner.model.tok2vec]
    @architectures = "spacy-transformers.TransformerListener.v1"
    grad_factor = 1.0
    pooling = {"@layers":"reduce_first.v1"}   # BioBERT: the first word piece carries the label
    upstream = "*"
"""
from itertools import islice

import numpy
from typing import Callable, Iterable, List, Optional

from spacy.language import Language
from spacy.pipeline.tagger import Tagger
from spacy.tokens import Doc, Span
from spacy.training import Example, validate_examples, validate_get_examples
from spacy.util import registry
from thinc.api import Config, Model, SequenceCategoricalCrossentropy, Softmax_v2, chain, with_array

from .scoring.conlleval import conlleval_chunks

DEFAULT_TOKEN_NER_MODEL = """
[model]
@architectures = "spacy-biobert.TokenClassifier.v1"
nO = null
init_std = 0.02

[model.tok2vec]
@architectures = "spacy.HashEmbedCNN.v2"
pretrained_vectors = null
width = 96
depth = 4
embed_size = 2000
window_size = 1
maxout_pieces = 3
subword_features = true
"""


@registry.architectures("spacy-biobert.TokenClassifier.v1")
def build_token_classifier(tok2vec: Model, nO: Optional[int] = None, init_std: float = 0.02) -> Model:
    """Token vectors -> linear -> softmax, with the output weights drawn from N(0, init_std).

    tok2vec (Model[List[Doc], List[Floats2d]]): The token vectors (e.g. a TransformerListener with
        `reduce_first.v1` pooling: the first word piece of each token, as BioBERT).
    nO (Optional[int]): Number of tags; inferred from the labels when null.
    init_std (float): Standard deviation of the output weights (BERT: 0.02).
    RETURNS (Model[List[Doc], List[Floats2d]]): The model.
    """
    def init_W(ops, shape):
        return ops.asarray(numpy.random.normal(0.0, init_std, shape), dtype="float32")

    t2v_width = tok2vec.get_dim("nO") if tok2vec.has_dim("nO") else None
    output_layer = Softmax_v2(nO, t2v_width, init_W=init_W, normalize_outputs=False)
    model = chain(tok2vec, with_array(output_layer))
    model.set_ref("tok2vec", tok2vec)
    model.set_ref("softmax", output_layer)
    model.set_ref("output_layer", output_layer)
    return model


def gold_iob(example: Example) -> List[Optional[str]]:
    """The gold entities of an example as IOB2 tags over the predicted tokens.

    example (Example): The example.
    RETURNS (List[Optional[str]]): One tag per predicted token; None where the gold is missing or
        the tokenisations do not align (no loss there).
    """
    tags: List[Optional[str]] = []
    for biluo in example.get_aligned_ner():
        if biluo is None or biluo == "-" or biluo == "":
            tags.append(None)
        elif biluo == "O":
            tags.append("O")
        else:
            prefix, label = biluo.split("-", 1)
            tags.append(("B-" if prefix in ("B", "U") else "I-") + label)
    return tags


class TokenNER(Tagger):
    """Entity recognition as token classification over IOB2 tags (see module docstring)."""

    def get_loss(self, examples: Iterable[Example], scores) -> tuple:
        """Cross-entropy of the tag scores against the gold entities as IOB2.

        examples (Iterable[Example]): The batch.
        scores (List[Floats2d]): The model's scores, one array per doc.
        RETURNS (Tuple[float, List[Floats2d]]): The loss and its gradient.
        """
        validate_examples(examples, "TokenNER.get_loss")
        loss_func = SequenceCategoricalCrossentropy(
            names=self.labels, normalize=False, neg_prefix=self.cfg["neg_prefix"],
            label_smoothing=self.cfg["label_smoothing"],
        )
        d_scores, loss = loss_func(scores, [gold_iob(eg) for eg in examples])
        if self.model.ops.xp.isnan(loss):
            raise ValueError(f"NaN loss in component '{self.name}'")
        return float(loss), d_scores

    def set_annotations(self, docs: Iterable[Doc], batch_tag_ids) -> None:
        """Decode each doc's predicted tags into entities (conlleval chunk rules, so an `I-` tag
        after `O` starts an entity) and set them as `doc.ents`.

        docs (Iterable[Doc]): The docs.
        batch_tag_ids: The predicted tag indices, from `predict`.
        """
        if isinstance(docs, Doc):
            docs = [docs]
        labels = self.labels
        for doc, tag_ids in zip(docs, batch_tag_ids):
            if hasattr(tag_ids, "get"):
                tag_ids = tag_ids.get()
            tags = [labels[int(i)] for i in tag_ids]
            spans = [Span(doc, s, e, label=t) for _, s, e, t in sorted(conlleval_chunks([tags]))]
            if self.cfg["overwrite"] or not doc.has_annotation("ENT_IOB"):
                doc.set_ents(spans, default="outside")
            else:
                # keep entities already set by an earlier component; add ours where they fit
                taken = {i for ent in doc.ents for i in range(ent.start, ent.end)}
                extra = [s for s in spans if not any(i in taken for i in range(s.start, s.end))]
                doc.set_ents(list(doc.ents) + extra, default="unmodified")

    def initialize(self, get_examples: Callable[[], Iterable[Example]], *, nlp: Optional[Language] = None,
                   labels: Optional[List[str]] = None) -> None:
        """Collect the IOB2 tag set from the gold entities and initialise the model.

        get_examples (Callable[[], Iterable[Example]]): Representative gold examples.
        nlp (Optional[Language]): The pipeline.
        labels (Optional[List[str]]): The tag set (with "O"), e.g. from `spacy init labels`.
        """
        validate_get_examples(get_examples, "TokenNER.initialize")
        if labels is None:
            tags = {"O"}
            for example in get_examples():
                tags.update(t for t in gold_iob(example) if t)
            labels = sorted(tags)
        for tag in labels:
            self.add_label(tag)
        docs, golds = [], []
        for example in islice(get_examples(), 10):
            docs.append(example.x)
            golds.append(self.model.ops.asarray(
                [[1.0 if tag == gold else 0.0 for tag in self.labels] for gold in gold_iob(example)],
                dtype="float32"))
        self._require_labels()
        self.model.initialize(X=docs, Y=golds)


@Language.factory(
    "biobert_token_ner",
    assigns=["doc.ents", "token.ent_iob", "token.ent_type"],
    default_config={
        "model": Config().from_str(DEFAULT_TOKEN_NER_MODEL)["model"],
        "overwrite": True,
        "scorer": {"@scorers": "spacy.ner_scorer.v1"},
        "neg_prefix": "!",
        "label_smoothing": 0.0,
    },
    default_score_weights={"ents_f": 1.0, "ents_p": 0.0, "ents_r": 0.0, "ents_per_type": None},
)
def make_token_ner(nlp: Language, name: str, model: Model, overwrite: bool, scorer: Optional[Callable],
                   neg_prefix: str, label_smoothing: float) -> TokenNER:
    """A BioBERT-style token-classification NER component.

    model (Model[List[Doc], List[Floats2d]]): Scores per token over the IOB2 tags (spacy.Tagger.v2).
    overwrite (bool): Replace entities set by earlier components (else only add where free).
    scorer (Optional[Callable]): Entity scorer; spaCy's `spacy.ner_scorer.v1` by default.
    neg_prefix (str): Prefix of negative labels (spaCy's tagger convention).
    label_smoothing (float): Label smoothing of the cross-entropy.
    RETURNS (TokenNER): The component.
    """
    return TokenNER(nlp.vocab, model, name, overwrite=overwrite, scorer=scorer, neg_prefix=neg_prefix,
                    label_smoothing=label_smoothing)
