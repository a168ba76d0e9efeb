"""`biobert_entity_normalizer`: sets `kb_id_` on entities from a dictionary learned from the
training annotations (any ID scheme the corpus uses: MeSH, OMIM, NCBI Gene ...), optionally
extended with a user vocabulary file, with normalised-string and fuzzy matching, abbreviation
expansion, and scispaCy's linker as a last resort when its knowledge base is available."""
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import srsly
from spacy.language import Language
from spacy.tokens import Doc, Span, SpanGroup
from spacy.training import Example

from ..errors import make_error
from .abbreviations import long_forms
from .dictionary import ConceptDictionary, dictionary_from_spans, read_vocabulary

Match = Tuple[str, str, float]  # (concept ID, method, score)
METHODS = ("exact", "normalised", "fuzzy")


class EntityNormalizer:
    """Dictionary-based concept normalisation for `doc.ents` (and optionally a span group).

    For each mention, its long form (when an abbreviation detector ran and the mention is a short
    form) and then its own text are looked up: exact name, then normalised name, then fuzzy (see
    `ConceptDictionary`), and finally scispaCy's linker if one is configured. The first hit sets
    `kb_id_`; a mention nothing matches keeps an empty ID.
    """

    def __init__(self, nlp: Language, name: str = "biobert_entity_normalizer", *,
                 fuzzy_threshold: Optional[float] = 0.7, use_abbreviations: bool = True,
                 match_labels: bool = True, overwrite: bool = False,
                 spans_key: Optional[str] = None, linker_name: Optional[str] = None,
                 linker_threshold: float = 0.8) -> None:
        if fuzzy_threshold is not None and not 0.0 < fuzzy_threshold <= 1.0:
            raise make_error("E405", setting="fuzzy_threshold", value=fuzzy_threshold,
                             expected="a number in (0, 1], or null to turn fuzzy matching off")
        if not 0.0 < linker_threshold <= 1.0:
            raise make_error("E405", setting="linker_threshold", value=linker_threshold,
                             expected="a number in (0, 1]")
        self.name = name
        self.cfg = {
            "fuzzy_threshold": fuzzy_threshold, "use_abbreviations": use_abbreviations,
            "match_labels": match_labels, "overwrite": overwrite, "spans_key": spans_key,
            "linker_name": linker_name, "linker_threshold": linker_threshold,
        }
        self.dictionary: Optional[ConceptDictionary] = None
        self.info: Dict[str, int] = {}
        self._linker = None

    # -- lifecycle ---------------------------------------------------------------------------

    def initialize(self, get_examples: Optional[Callable[[], Iterable[Example]]] = None, *,
                   nlp: Optional[Language] = None, vocabulary: Optional[Union[str, Path]] = None,
                   learn_from_examples: bool = True, gold_spans_key: str = "sc") -> None:
        """Build the dictionary from the gold mentions' `kb_id_` (entities and
        `doc.spans[gold_spans_key]`) and the optional vocabulary file.

        get_examples (Optional[Callable[[], Iterable[Example]]]): The training examples.
        nlp (Optional[Language]): The pipeline.
        vocabulary (Optional[Union[str, Path]]): TSV of `ID<TAB>name[<TAB>synonym|...]`.
        learn_from_examples (bool): Learn names from the examples (else only the vocabulary).
        gold_spans_key (str): Span group of the gold docs that also holds mentions.
        """
        dictionary = ConceptDictionary()
        info = {"names_from_examples": 0, "skipped_gold_mentions": 0, "vocabulary_concepts": 0}
        if learn_from_examples and get_examples is not None:
            spans = list(_gold_spans((eg.reference for eg in get_examples()), gold_spans_key))
            learned, skipped = dictionary_from_spans(spans)
            dictionary.update(learned)
            info["names_from_examples"] = len(learned)
            info["skipped_gold_mentions"] = skipped
        if vocabulary:
            vocab, n_concepts = read_vocabulary(vocabulary)
            dictionary.update(vocab)
            info["vocabulary_concepts"] = n_concepts
        self.dictionary = dictionary
        self.info = info
        if self.cfg["linker_name"]:
            self._load_linker()

    def _load_linker(self):
        if self._linker is None:
            from .linker import SciSpacyLinker

            self._linker = SciSpacyLinker(self.cfg["linker_name"], threshold=self.cfg["linker_threshold"])
        return self._linker

    # -- prediction --------------------------------------------------------------------------

    def normalize_mention(self, text: str, label: str = "", long_form: Optional[str] = None, *,
                          methods: Sequence[str] = METHODS) -> Optional[Match]:
        """The concept for one mention, by dictionary only (no linker).

        text (str): The mention text.
        label (str): Its entity label (ignored when `match_labels` is off).
        long_form (Optional[str]): The long form, when the mention is an abbreviation.
        methods (Sequence[str]): Lookup methods to try, in order (for ablations); fuzzy also needs
            `fuzzy_threshold` set.
        RETURNS (Optional[Tuple[str, str, float]]): (ID, method, score), method prefixed with
            "abbreviation-" when found through the long form; None if nothing matched.
        """
        if self.dictionary is None:
            raise make_error("E403", name=self.name)
        label = label if self.cfg["match_labels"] else ""
        texts = [(text, "")]
        if long_form and self.cfg["use_abbreviations"] and long_form != text:
            texts.insert(0, (long_form, "abbreviation-"))
        for method in methods:
            for t, prefix in texts:
                found = self.dictionary.lookup_method(
                    t, label, method, fuzzy_threshold=self.cfg["fuzzy_threshold"]
                )
                if found is not None:
                    return found[0], prefix + found[1], found[2]
        return None

    def __call__(self, doc: Doc) -> Doc:
        if self.dictionary is None:
            raise make_error("E403", name=self.name)
        expansions = long_forms(doc) if self.cfg["use_abbreviations"] else {}
        ents = list(doc.ents)
        ids = self._assign(ents, expansions)
        if any(i != e.kb_id_ for i, e in zip(ids, ents)):
            doc.set_ents([Span(doc, e.start, e.end, label=e.label, kb_id=i) for e, i in zip(ents, ids)])
        key = self.cfg["spans_key"]
        if key and key in doc.spans:
            group = doc.spans[key]
            spans = list(group)
            ids = self._assign(spans, expansions)
            doc.spans[key] = SpanGroup(
                doc, name=key, attrs=dict(group.attrs),
                spans=[Span(doc, s.start, s.end, label=s.label, kb_id=i) for s, i in zip(spans, ids)],
            )
        return doc

    def _assign(self, spans: List[Span], expansions: Dict[Tuple[int, int], Span]) -> List[str]:
        ids: List[str] = []
        pending: List[int] = []
        for span in spans:
            if span.kb_id_ and not self.cfg["overwrite"]:
                ids.append(span.kb_id_)
                continue
            lf = expansions.get((span.start, span.end))
            found = self.normalize_mention(span.text, span.label_, lf.text if lf is not None else None)
            ids.append(found[0] if found else "")
            if not found:
                pending.append(len(ids) - 1)
        if pending and self.cfg["linker_name"]:
            linker = self._load_linker()
            texts = []
            for i in pending:
                lf = expansions.get((spans[i].start, spans[i].end))
                texts.append(lf.text if lf is not None and self.cfg["use_abbreviations"] else spans[i].text)
            for i, result in zip(pending, linker.link(texts)):
                if result is not None:
                    ids[i] = result[0]
        return ids

    def pipe(self, stream: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for doc in stream:
            yield self(doc)

    # -- serialisation -----------------------------------------------------------------------

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return srsly.msgpack_dumps({
            "cfg": self.cfg, "info": self.info,
            "dictionary": self.dictionary.to_dict() if self.dictionary is not None else None,
        })

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = tuple()) -> "EntityNormalizer":
        msg = srsly.msgpack_loads(data)
        self._set_state(msg["cfg"], msg.get("info") or {}, msg.get("dictionary"))
        return self

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg.json", {"cfg": self.cfg, "info": self.info})
        if self.dictionary is not None:
            srsly.write_msgpack(path / "dictionary.msgpack", self.dictionary.to_dict())

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "EntityNormalizer":
        path = Path(path)
        meta = srsly.read_json(path / "cfg.json")
        dict_path = path / "dictionary.msgpack"
        data = srsly.read_msgpack(dict_path) if dict_path.exists() else None
        self._set_state(meta["cfg"], meta.get("info") or {}, data)
        return self

    def _set_state(self, cfg: Dict, info: Dict, dictionary: Optional[Dict]) -> None:
        self.cfg.update(cfg)
        self.info = dict(info)
        self.dictionary = ConceptDictionary.from_dict(dictionary) if dictionary is not None else None
        self._linker = None


def _gold_spans(docs: Iterable[Doc], spans_key: str) -> Iterator[Span]:
    """Entities and `doc.spans[spans_key]` of each doc, each mention once."""
    for doc in docs:
        seen = set()
        spans = list(doc.ents) + (list(doc.spans[spans_key]) if spans_key in doc.spans else [])
        for span in spans:
            key = (span.start, span.end, span.label_, span.kb_id_)
            if key not in seen:
                seen.add(key)
                yield span


@Language.factory(
    "biobert_entity_normalizer",
    requires=["doc.ents"],
    assigns=["token.ent_kb_id"],
    default_config={
        "fuzzy_threshold": 0.7, "use_abbreviations": True, "match_labels": True,
        "overwrite": False, "spans_key": None, "linker_name": None, "linker_threshold": 0.8,
    },
)
def make_entity_normalizer(
    nlp: Language, name: str, fuzzy_threshold: Optional[float], use_abbreviations: bool,
    match_labels: bool, overwrite: bool, spans_key: Optional[str], linker_name: Optional[str],
    linker_threshold: float,
) -> EntityNormalizer:
    """Set `kb_id_` on entities from a dictionary learned at `nlp.initialize()`.

    Give the vocabulary file in `[initialize.components.<name>] vocabulary = "path.tsv"`.

    nlp (Language): The pipeline.
    name (str): The component name.
    fuzzy_threshold (Optional[float]): Minimum character n-gram TF-IDF cosine for a fuzzy match;
        null turns fuzzy matching off.
    use_abbreviations (bool): Look short forms up by their long form first (needs an
        abbreviation detector earlier in the pipeline).
    match_labels (bool): Only use names seen with the mention's label (or label-free vocabulary).
    overwrite (bool): Replace IDs that are already set (else keep them).
    spans_key (Optional[str]): Also normalise `doc.spans[spans_key]` when present.
    linker_name (Optional[str]): scispaCy linker ("mesh", "umls", ...) for mentions the
        dictionary cannot place; its knowledge base must be downloadable or cached.
    linker_threshold (float): Minimum linker score.
    RETURNS (EntityNormalizer): The component.
    """
    return EntityNormalizer(
        nlp, name, fuzzy_threshold=fuzzy_threshold, use_abbreviations=use_abbreviations,
        match_labels=match_labels, overwrite=overwrite, spans_key=spans_key,
        linker_name=linker_name, linker_threshold=linker_threshold,
    )
