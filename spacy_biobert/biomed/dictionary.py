"""A concept dictionary (name -> concept ID) with exact, normalised-string and fuzzy lookup, and
the reader for user vocabulary files.

Vocabulary file format (TSV, UTF-8, one concept per line, '#' comments and blank lines skipped):

    ID<TAB>name[<TAB>synonym|synonym|...]

e.g. `D005472<TAB>Fluorouracil<TAB>5-fluorouracil|5-FU|5FU`.
"""
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

import numpy as np
import srsly

from ..errors import make_error

# Greek letters are written both ways in the literature ("α-synuclein", "alpha-synuclein").
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu",
    "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho", "σ": "sigma", "ς": "sigma", "τ": "tau",
    "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
_NON_WORD = re.compile(r"[\W_]+")
# Plural endings, longest first; words of up to 3 letters ("ms", "gas") are left alone.
_PLURALS = (("ies", "y"), ("ses", "s"), ("xes", "x"), ("ches", "ch"), ("shes", "sh"), ("s", ""))
_KEEP_S = ("ss", "us", "is")


def _singular(word: str) -> str:
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, repl in _PLURALS:
        if word.endswith(suffix):
            if suffix == "s" and word.endswith(_KEEP_S):
                return word
            return word[: -len(suffix)] + repl
    return word


def name_words(text: str) -> List[str]:
    """Lower-cased, accent-folded words of a name, Greek letters spelled out, plurals singular.

    text (str): A mention or dictionary name.
    RETURNS (List[str]): Its words.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(_GREEK.get(c, c) + (" " if c in _GREEK else "") for c in text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return [_singular(w) for w in _NON_WORD.split(text) if w]


def normalize_name(text: str) -> str:
    """The key under which name variants meet: case, punctuation, spacing, hyphenation, Greek
    letters and plural endings removed ("Non-Hodgkin's lymphomas" == "non hodgkin s lymphoma"
    == "nonhodgkins lymphoma" is not guaranteed, but the first two are).

    text (str): A mention or dictionary name.
    RETURNS (str): The normalised key ("" for a name without letters or digits).
    """
    return "".join(name_words(text))


def canonical_id(concept_id: str) -> str:
    """A concept ID with the parts of a composite ID ("D001943|D010051") sorted, so IDs compare
    regardless of part order."""
    parts = [p.strip() for p in re.split(r"[|+]", concept_id) if p.strip()]
    return "|".join(sorted(dict.fromkeys(parts)))


class ConceptDictionary:
    """Names and their concept IDs, with counts, optionally by entity label.

    Lookup order: the exact name (case-folded), its normalised key (`normalize_name`), then the
    nearest name by cosine similarity of character 3-5-gram TF-IDF vectors (scikit-learn), if it
    reaches `fuzzy_threshold`. Among the IDs of a name, the most frequent wins. Names known only
    without a label (user vocabularies) match mentions of every label.
    """

    def __init__(self) -> None:
        # name (case-folded) -> label ("" = any) -> concept ID -> count
        self.exact: Dict[str, Dict[str, Counter]] = {}
        self.normalised: Dict[str, Dict[str, Counter]] = {}
        self._fuzzy = None

    def __len__(self) -> int:
        return len(self.exact)

    @property
    def concept_ids(self) -> set:
        return {cid for by_label in self.exact.values() for c in by_label.values() for cid in c}

    def add(self, name: str, concept_id: str, label: str = "", count: int = 1) -> bool:
        """Add a name for a concept. Names without a letter or digit are refused.

        name (str): The name or synonym.
        concept_id (str): The concept ID (composite IDs joined with '|').
        label (str): The entity label it was seen with ("" for any label).
        count (int): How often it was seen.
        RETURNS (bool): Whether the name was added.
        """
        key = normalize_name(name)
        if not key or not concept_id:
            return False
        for index, k in ((self.exact, name.strip().casefold()), (self.normalised, key)):
            index.setdefault(k, {}).setdefault(label, Counter())[concept_id] += count
        self._fuzzy = None
        return True

    def lookup(self, text: str, label: str = "", *, fuzzy_threshold: Optional[float] = 0.7
               ) -> Optional[Tuple[str, str, float]]:
        """The best concept for a mention text.

        text (str): The mention text.
        label (str): The mention's entity label; "" matches names of any label.
        fuzzy_threshold (Optional[float]): Minimum cosine similarity for a fuzzy match; None to
            turn fuzzy matching off.
        RETURNS (Optional[Tuple[str, str, float]]): (concept ID, method, score) with method one of
            "exact", "normalised", "fuzzy"; None if nothing matched.
        """
        for method in ("exact", "normalised", "fuzzy"):
            found = self.lookup_method(text, label, method, fuzzy_threshold=fuzzy_threshold)
            if found is not None:
                return found
        return None

    def lookup_method(self, text: str, label: str, method: str, *,
                      fuzzy_threshold: Optional[float] = 0.7) -> Optional[Tuple[str, str, float]]:
        """Look `text` up by one method only ("exact", "normalised" or "fuzzy"); see `lookup`."""
        if method == "exact":
            return _best(self.exact.get(text.strip().casefold()), label, "exact", 1.0)
        if method == "normalised":
            return _best(self.normalised.get(normalize_name(text)), label, "normalised", 1.0)
        if method == "fuzzy":
            if fuzzy_threshold is None or not self.normalised:
                return None
            return self._fuzzy_lookup(text, label, fuzzy_threshold)
        raise ValueError(method)

    def _fuzzy_lookup(self, text: str, label: str, threshold: float) -> Optional[Tuple[str, str, float]]:
        query = " ".join(name_words(text))
        if not query:
            return None
        keys, vectorizer, matrix = self._fuzzy_index()
        scores = (vectorizer.transform([query]) @ matrix.T).toarray()[0]
        # Best first among names that have an ID usable for this label.
        for i in scores.argsort()[::-1][:20]:
            score = float(scores[i])
            if score < threshold:
                break
            found = _best(self.normalised[keys[i]], label, "fuzzy", score)
            if found is not None:
                return found
        return None

    def _fuzzy_index(self):
        if self._fuzzy is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            keys = sorted(self.normalised)
            # The spaced form of each key, so n-grams see word boundaries.
            spaced = self._spaced()
            texts = [" ".join(spaced[k]) if k in spaced else k for k in keys]
            vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True,
                                         dtype=np.float64)
            matrix = vectorizer.fit_transform(texts)
            self._fuzzy = (keys, vectorizer, matrix)
        return self._fuzzy

    def _spaced(self) -> Dict[str, List[str]]:
        out: Dict[str, List[str]] = {}
        for name in self.exact:
            out.setdefault(normalize_name(name), name_words(name))
        return out

    def update(self, other: "ConceptDictionary") -> None:
        """Add every name of `other` (counts add up)."""
        for mine, theirs in ((self.exact, other.exact), (self.normalised, other.normalised)):
            for key, by_label in theirs.items():
                for label, ids in by_label.items():
                    mine.setdefault(key, {}).setdefault(label, Counter()).update(ids)
        self._fuzzy = None

    def to_dict(self) -> Dict:
        return {
            "exact": {k: {lab: dict(c) for lab, c in v.items()} for k, v in self.exact.items()},
            "normalised": {k: {lab: dict(c) for lab, c in v.items()} for k, v in self.normalised.items()},
        }

    @classmethod
    def from_dict(cls, data: Dict) -> "ConceptDictionary":
        new = cls()
        for attr in ("exact", "normalised"):
            setattr(new, attr, {
                k: {lab: Counter(c) for lab, c in v.items()} for k, v in data.get(attr, {}).items()
            })
        return new

    def to_bytes(self) -> bytes:
        return srsly.msgpack_dumps(self.to_dict())

    @classmethod
    def from_bytes(cls, data: bytes) -> "ConceptDictionary":
        return cls.from_dict(srsly.msgpack_loads(data))


def _best(by_label: Optional[Dict[str, Counter]], label: str, method: str, score: float
          ) -> Optional[Tuple[str, str, float]]:
    """The most frequent ID among entries for `label` (or, failing those, label-free entries)."""
    if not by_label:
        return None
    if label:
        tiers = [by_label.get(label), by_label.get("")]
    else:
        merged: Counter = Counter()
        for ids in by_label.values():
            merged.update(ids)
        tiers = [merged]
    for ids in tiers:
        if ids:
            # Most frequent, then smallest ID, so results do not depend on insertion order.
            cid = min(ids, key=lambda c: (-ids[c], c))
            return cid, method, score
    return None


def read_vocabulary(path: Union[str, Path]) -> Tuple[ConceptDictionary, int]:
    """Read a vocabulary TSV (`ID<TAB>name[<TAB>synonym|synonym...]`).

    path (Union[str, Path]): The file.
    RETURNS (Tuple[ConceptDictionary, int]): The names (label-free) and the number of concepts.
    """
    path = Path(path)
    if not path.is_file():
        raise make_error("E401", path=path)
    vocab = ConceptDictionary()
    n_concepts = 0
    try:
        lines = path.read_text(encoding="utf8").splitlines()
    except UnicodeDecodeError as err:
        raise make_error("E402", path=path, line=1, problem=f"invalid UTF-8 ({err})") from err
    for i, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.rstrip("\r\n").split("\t")
        if len(cols) not in (2, 3):
            raise make_error("E402", path=path, line=i,
                             problem=f"{len(cols)} tab-separated column(s) in {line[:80]!r}")
        cid, name = cols[0].strip(), cols[1].strip()
        if not cid or " " in cid:
            raise make_error("E402", path=path, line=i, problem=f"invalid concept ID {cols[0]!r}")
        if not normalize_name(name):
            raise make_error("E402", path=path, line=i, problem=f"the name {cols[1]!r} has no letters or digits")
        synonyms = [s for s in (cols[2].split("|") if len(cols) == 3 else []) if s.strip()]
        for n in [name, *synonyms]:
            vocab.add(n, cid)
        n_concepts += 1
    return vocab, n_concepts


def dictionary_from_spans(spans: Iterable, *, skip_ids: Iterable[str] = ("-1", "")) -> Tuple[ConceptDictionary, int]:
    """Names -> IDs from annotated spans (their `kb_id_` and `label_`).

    spans (Iterable[Span]): Gold mentions.
    skip_ids (Iterable[str]): IDs meaning "no concept" (BC5CDR writes -1).
    RETURNS (Tuple[ConceptDictionary, int]): The dictionary and how many spans were skipped.
    """
    skip = set(skip_ids)
    out = ConceptDictionary()
    skipped = 0
    for span in spans:
        if span.kb_id_ in skip or not out.add(span.text, span.kb_id_, span.label_):
            skipped += 1
    return out, skipped
