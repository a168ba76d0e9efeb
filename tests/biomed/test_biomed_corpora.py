"""The measured properties the defaults rest on, re-checked on the real devel files (skipped when
the corpora are absent). Full figures: benchmarks/biomed_text.py."""
import pytest
import spacy
from spacy.training import Example

from util import corpora_dir


def _mismatched_share(records, tokenizer: str) -> float:
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": tokenizer}}})
    bad = total = 0
    for rec in records:
        doc = nlp.make_doc(rec.text)
        bounds = {t.idx for t in doc} | {t.idx + len(t) for t in doc}
        for m in rec.mentions:
            total += 1
            bad += m.start not in bounds or m.end not in bounds
    return bad / total


@pytest.mark.corpora
def test_bc5cdr_mentions_inside_tokens_per_tokenizer():
    from spacy_biobert.corpora.pubtator import parse_pubtator

    path = corpora_dir("bc5cdr", "pubtator", "CDR_DevelopmentSet.PubTator.txt")
    records = [r for r in parse_pubtator(path) if r.error is None]
    assert len(records) == 500
    default = _mismatched_share(records, "spacy.Tokenizer.v1")
    scispacy = _mismatched_share(records, "spacy-biobert.SciSpacyTokenizer.v1")
    bio = _mismatched_share(records, "spacy-biobert.BioTokenizer.v1")
    # Measured: 1.37%, 9.86%, 2.61% of 9,591 mentions.
    assert default < 0.02 and 0.08 < scispacy < 0.12 and bio < 0.03
    assert bio < scispacy / 3


@pytest.mark.corpora
def test_ncbi_disease_normaliser_accuracy():
    from spacy_biobert.biomed import canonical_id
    from spacy_biobert.biomed.abbreviations import long_forms
    from spacy_biobert.corpora.ncbi import read_ncbi_disease

    nlp = spacy.blank("en")
    detector = nlp.add_pipe("biobert_abbreviation_detector")
    norm = nlp.add_pipe("biobert_entity_normalizer", config={"match_labels": False})
    train = list(read_ncbi_disease(corpora_dir("ncbi_disease", "original", "NCBItrainset_corpus.txt"), nlp))
    dev = [detector(d) for d in read_ncbi_disease(
        corpora_dir("ncbi_disease", "original", "NCBIdevelopset_corpus.txt"), nlp)]
    norm.initialize(lambda: [Example(d, d) for d in train])
    n = correct = 0
    for doc in dev:
        lfs = long_forms(doc)
        for span in doc.spans["sc"]:
            lf = lfs.get((span.start, span.end))
            found = norm.normalize_mention(span.text, "", lf.text if lf is not None else None)
            n += 1
            correct += found is not None and canonical_id(found[0]) == canonical_id(span.kb_id_)
    assert n == 787
    # The benchmark measures 74.8% at the factory defaults (fuzzy 0.7, abbreviation expansion);
    # exact matching alone gives 62.4%.
    assert correct / n > 0.72
