"""scispaCy's rule-based biomedical tokenizer as a registered tokenizer, usable from a config:

    [nlp.tokenizer]
    @tokenizers = "spacy-biobert.SciSpacyTokenizer.v1"

It keeps chemical names, gene symbols and hyphenated compounds ("5-FU", "N-acetyl-p-benzoquinone",
"(+)-catechin", "TNF-alpha-induced") in one token where spaCy's default tokenizer splits them at
every hyphen, so fewer entity boundaries fall inside a token of the *other* kind (see
benchmarks/biomed_text.py for the measured mismatch rates).
"""
from types import SimpleNamespace
from typing import Callable

from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import registry


@registry.tokenizers("spacy-biobert.SciSpacyTokenizer.v1")
def create_scispacy_tokenizer() -> Callable[[Language], Tokenizer]:
    """scispaCy's `combined_rule_tokenizer` (prefix, suffix and infix rules tuned for biomedical
    text, scispaCy's abbreviation exceptions such as "e.g." and "Fig.").

    The rules are saved with the pipeline (`Tokenizer.to_disk`), so a trained pipeline tokenizes
    exactly as it did in training. scispaCy is imported when the tokenizer is built, not when this
    module is imported.

    RETURNS (Callable[[Language], Tokenizer]): Builds the tokenizer for a pipeline.
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        from scispacy.custom_tokenizer import combined_rule_tokenizer

        # The config system builds the tokenizer inside Language.__init__, before nlp.tokenizer
        # exists; scispaCy only reads the vocab, the language defaults and the default tokenizer's
        # token_match, so hand it those.
        shim = SimpleNamespace(
            vocab=nlp.vocab,
            Defaults=nlp.Defaults,
            tokenizer=SimpleNamespace(token_match=nlp.Defaults.token_match),
        )
        return combined_rule_tokenizer(shim)  # type: ignore[arg-type]

    return make_tokenizer


# Words that attach to a mention with a hyphen without being part of it: "cisplatin-induced
# nephrotoxicity", "heparin-associated thrombocytopenia", "MPTP-treated mice", "lupus-like
# syndrome". In BC5CDR devel these put a mention edge inside a scispaCy token for ~6% of
# mentions (see benchmarks/biomed_text.py).
_ATTACHED_WORDS = (
    r"[a-z]+(?:ed|ing)|like|free|positive|negative|sensitive|resistant|specific|predominant|"
    r"dependent|independent|rich|naive|prone|type|based|derived|containing"
)
_HYPHEN_BEFORE_ATTACHED = r"(?<=[^\s\-])-(?=(?:{w})(?![A-Za-z0-9\-]))".format(w=_ATTACHED_WORDS)
# "Li/DVP", "urticaria/angioedema": scispaCy keeps slashes inside tokens, spaCy splits them
# between letters; mentions end at the slash.
_SLASH_BETWEEN_WORDS = r"(?<=[A-Za-z0-9\)\]])/(?=[A-Za-z\(\[])"


@registry.tokenizers("spacy-biobert.BioTokenizer.v1")
def create_bio_tokenizer(
    split_attached_words: bool = True, split_slashes: bool = True
) -> Callable[[Language], Tokenizer]:
    """scispaCy's tokenizer with two more infix rules where its tokens often straddle a mention
    edge: a hyphen before an attached participle or adjective ("cisplatin-induced" ->
    "cisplatin", "-", "induced"; "TNF-alpha-induced" -> "TNF-alpha", "-", "induced") and a slash
    between words ("Li/DVP"). Chemical and gene names keep their hyphens ("5-FU", "IL-2",
    "N-acetyl-p-benzoquinone").

    split_attached_words (bool): Split the hyphen before "-induced", "-treated", "-like", ....
    split_slashes (bool): Split slashes between words.
    RETURNS (Callable[[Language], Tokenizer]): Builds the tokenizer for a pipeline.
    """
    make_scispacy = create_scispacy_tokenizer()

    def make_tokenizer(nlp: Language) -> Tokenizer:
        import re

        tokenizer = make_scispacy(nlp)
        extra = []
        if split_attached_words:
            extra.append(_HYPHEN_BEFORE_ATTACHED)
        if split_slashes:
            extra.append(_SLASH_BETWEEN_WORDS)
        if extra:
            # Extend the compiled infix pattern; Tokenizer.to_disk saves the pattern string, so
            # a saved pipeline reloads with the same rules.
            pattern = "|".join([tokenizer.infix_finditer.__self__.pattern, *extra])
            tokenizer.infix_finditer = re.compile(pattern).finditer
        return tokenizer

    return make_tokenizer
