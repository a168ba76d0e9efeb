"""Abbreviation definitions ("5-fluorouracil (5-FU)") found with scispaCy's Schwartz & Hearst
detector, as a registered component, plus one reader for what any detector left on a Doc.

scispaCy registers its `abbreviation_detector` factory only when `scispacy.abbreviation` has been
imported and declares no entry point, so a packaged pipeline naming it fails to load in a fresh
process. `biobert_abbreviation_detector` is the same detector behind an entry point. It also
accepts short forms that start with a digit ("5-FU", "6-MP", "3-MC"): Schwartz & Hearst require
an initial letter, which drops exactly the drug abbreviations that matter most in chemical text.
"""
import warnings
from typing import Any, Dict, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc, Span

# Doc.user_data key of the (short start, short end, long start, long end) token offsets this
# package's detector found; plain ints, so they survive DocBin and to_bytes.
PAIRS_KEY = "spacy_biobert.abbreviations"


def _digit_initial_ok(span: Span) -> bool:
    """scispaCy's short-form filter, except that the first character may be a digit."""
    if not all(2 <= len(t) < 10 for t in span):
        return False
    text = span.text
    if not text or not text[0].isalnum() or not any(c.isalpha() for c in text):
        return False
    return sum(c.isalpha() for c in text) / len(text) >= 0.5


class BioAbbreviationDetector:
    """scispaCy's `AbbreviationDetector`, with digit-initial short forms and serialisable output.

    Sets `doc._.abbreviations` (scispaCy's attribute: short-form spans with `span._.long_form`)
    and stores the pairs as token offsets in `doc.user_data` (see `abbreviation_pairs`).
    """

    def __init__(self, nlp: Language, name: str = "biobert_abbreviation_detector", *,
                 digit_initial: bool = True, make_serializable: bool = False) -> None:
        # Deferred import: scispaCy is only needed when the component is built.
        from scispacy.abbreviation import AbbreviationDetector

        self.name = name
        self.digit_initial = digit_initial
        self.make_serializable = make_serializable
        self.detector = AbbreviationDetector(nlp, name=name, make_serializable=False)

    def __call__(self, doc: Doc) -> Doc:
        doc._.abbreviations = []
        if len(doc) == 0:
            doc.user_data[PAIRS_KEY] = []
            return doc
        with warnings.catch_warnings():
            # scispaCy runs its per-document matcher even when it has no patterns (W036).
            warnings.filterwarnings("ignore", message=r".*\[W036\]")
            self.detector(doc)
            found = list(doc._.abbreviations)
            if self.digit_initial:
                found.extend(self._digit_initial(doc, {s.text for s in found}))
        pairs = sorted(
            {(s.start, s.end, s._.long_form.start, s._.long_form.end) for s in found
             if isinstance(s._.long_form, Span)}
        )
        doc.user_data[PAIRS_KEY] = [list(p) for p in pairs]
        if self.make_serializable:
            # Spans in user_data cannot be written by DocBin; scispaCy's dict form can.
            found = [self.detector.make_short_form_serializable(s) for s in found]
        doc._.abbreviations = found
        return doc

    def _digit_initial(self, doc: Doc, known: set) -> List[Span]:
        matches = self.detector.matcher(doc)
        inner = [(m, s + 1, e - 1) for m, s, e in matches]
        candidates: List[Tuple[Span, Span]] = []
        for _, start, end in inner:
            short = doc[start:end]
            # Only what scispaCy's own filter rejected for its leading digit, short form in parens.
            if end - start > 3 or start < 2 or not short.text[:1].isdigit():
                continue
            if short.text in known or not _digit_initial_ok(short):
                continue
            length = sum(len(t) for t in short)
            max_words = min(length + 5, length * 2)
            candidates.append((doc[max(start - max_words - 1, 0):start - 1], short))
        out: List[Span] = []
        if not candidates:
            return out
        for long_form, shorts in self.detector.find_matches_for(candidates, doc):
            for short in shorts:
                short._.long_form = long_form
                out.append(short)
        return out


def abbreviation_pairs(doc: Doc) -> List[Tuple[Span, Span]]:
    """Every (short form occurrence, long form) pair known on `doc`, from this package's
    detector or from scispaCy's (`make_serializable` or not). Empty if no detector ran.

    doc (Doc): The document.
    RETURNS (List[Tuple[Span, Span]]): Short-form spans and their long-form spans, in text order.
    """
    pairs = set()
    for s_start, s_end, l_start, l_end in doc.user_data.get(PAIRS_KEY, ()):
        pairs.add((int(s_start), int(s_end), int(l_start), int(l_end)))
    if Doc.has_extension("abbreviations"):
        for item in doc._.abbreviations or ():
            if isinstance(item, Span) and isinstance(item._.long_form, Span):
                lf = item._.long_form
                pairs.add((item.start, item.end, lf.start, lf.end))
            elif isinstance(item, dict):
                d: Dict[str, Any] = item
                pairs.add((d["short_start"], d["short_end"], d["long_start"], d["long_end"]))
    return [(doc[a:b], doc[c:d]) for a, b, c, d in sorted(pairs)]


def long_forms(doc: Doc) -> Dict[Tuple[int, int], Span]:
    """Short-form token offsets -> long-form span, for looking up a mention's expansion."""
    return {(s.start, s.end): lf for s, lf in abbreviation_pairs(doc)}


@Language.factory(
    "biobert_abbreviation_detector",
    assigns=["doc._.abbreviations"],
    default_config={"digit_initial": True, "make_serializable": True},
)
def make_abbreviation_detector(
    nlp: Language, name: str, digit_initial: bool, make_serializable: bool
) -> BioAbbreviationDetector:
    """scispaCy's Schwartz & Hearst abbreviation detector behind an entry point.

    nlp (Language): The pipeline.
    name (str): The component name.
    digit_initial (bool): Also accept short forms starting with a digit ("5-FU").
    make_serializable (bool): Store `doc._.abbreviations` as dicts and `span._.long_form` as text
        (scispaCy's option). On by default (scispaCy's default is off): Spans in `doc.user_data`
        make a Doc impossible to copy, pickle (`nlp.pipe(n_process=...)`) or store in a DocBin.
        The pairs this package's components read are plain offsets either way.
    RETURNS (BioAbbreviationDetector): The component.
    """
    return BioAbbreviationDetector(
        nlp, name, digit_initial=digit_initial, make_serializable=make_serializable
    )


def get_long_form(doc: Doc, span: Span) -> Optional[Span]:
    """The long form of `span` if it is a detected short form, else None."""
    return long_forms(doc).get((span.start, span.end))
