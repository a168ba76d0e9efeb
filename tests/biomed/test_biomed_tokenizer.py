import pytest
import spacy
from spacy.lang.en import English
from thinc.api import Config

TOKENIZER_CFG = {"nlp": {"tokenizer": {"@tokenizers": "spacy-biobert.SciSpacyTokenizer.v1"}}}

# A 200-character IUPAC-style name: brackets, locants, stereo descriptors, commas and hyphens.
IUPAC = (
    "(2S,3R,4S,5S,6R)-2-[[(2R,3S,4S,5R,6S)-6-[(2S,3R)-3,4-dihydroxy-2-(hydroxymethyl)-2H-chromen-"
    "7-yl]oxy-3,4,5-trihydroxyoxan-2-yl]methoxy]-6-(hydroxymethyl)oxane-3,4,5-triol-4-carboxylate-"
    "ethylbutylester"
)


@pytest.fixture(scope="module")
def nlp():
    return spacy.blank("en", config=TOKENIZER_CFG)


def test_iupac_fixture_is_200_characters():
    assert len(IUPAC) == 200


@pytest.mark.parametrize(
    "text,expected",
    [
        ("IL-2 levels rose.", ["IL-2", "levels", "rose", "."]),
        ("p53 mutations", ["p53", "mutations"]),
        ("5-FU was given.", ["5-FU", "was", "given", "."]),
        # scispaCy splits the charge off a number-final name; the ion stays recoverable as two
        # adjacent tokens (spaCy's default does the same here).
        ("Ca2+ influx", ["Ca2", "+", "influx"]),
        ("N-acetyl-p-benzoquinone imine (NAPQI)",
         ["N-acetyl-p-benzoquinone", "imine", "(", "NAPQI", ")"]),
        ("with (+)-catechin.", ["with", "(+)-catechin", "."]),
        ("α-synuclein aggregates", ["α-synuclein", "aggregates"]),
        ("2',3'-dideoxyinosine (ddI)", ["2',3'-dideoxyinosine", "(", "ddI", ")"]),
        ("TNF-alpha-induced apoptosis", ["TNF-alpha-induced", "apoptosis"]),
        (f"The ester {IUPAC} was isolated.", ["The", "ester", IUPAC, "was", "isolated", "."]),
        ("5-fluorouracil (5-FU), e.g. in rats.",
         ["5-fluorouracil", "(", "5-FU", ")", ",", "e.g.", "in", "rats", "."]),
    ],
)
def test_hard_cases(nlp, text, expected):
    assert [t.text for t in nlp(text)] == expected


@pytest.mark.parametrize(
    "text,default_split",
    [("5-FU", ["5", "-", "FU"]), ("α-synuclein", ["α", "-", "synuclein"]),
     ("(+)-catechin", ["(", "+", ")", "-catechin"])],
)
def test_default_tokenizer_splits_what_scispacy_keeps(nlp, text, default_split):
    # The reason for the option: spaCy's English tokenizer cuts these names apart.
    assert [t.text for t in English()(text)] == default_split
    assert [t.text for t in nlp(text)] == [text]


def test_tokenizer_round_trips_with_pipeline(nlp, tmp_path):
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    text = f"TNF-alpha-induced 5-FU toxicity and {IUPAC}."
    assert [t.text for t in loaded(text)] == [t.text for t in nlp(text)]
    assert loaded.config["nlp"]["tokenizer"]["@tokenizers"] == "spacy-biobert.SciSpacyTokenizer.v1"
    cfg = Config().from_str(loaded.config.to_str())
    assert cfg["nlp"]["tokenizer"] == TOKENIZER_CFG["nlp"]["tokenizer"]


def test_sentencizer_keeps_abbreviations_and_decimals():
    nlp = spacy.blank("en", config=TOKENIZER_CFG)
    nlp.add_pipe("biobert_sentencizer")
    doc = nlp("Rats received 2.5 mg/kg i.v. of the drug, e.g. cisplatin. Renal failure followed "
              "(Fig. 2). No rats died.")
    assert [s.text for s in doc.sents] == [
        "Rats received 2.5 mg/kg i.v. of the drug, e.g. cisplatin.",
        "Renal failure followed (Fig. 2).",
        "No rats died.",
    ]
    assert len(list(nlp("").sents)) == 0


BIO_CFG = {"nlp": {"tokenizer": {"@tokenizers": "spacy-biobert.BioTokenizer.v1"}}}


@pytest.fixture(scope="module")
def bio_nlp():
    return spacy.blank("en", config=BIO_CFG)


@pytest.mark.parametrize(
    "text,expected",
    [
        # Attached participles and adjectives come off, so the mention ends on a token edge.
        ("cisplatin-induced nephrotoxicity", ["cisplatin", "-", "induced", "nephrotoxicity"]),
        ("TNF-alpha-induced apoptosis", ["TNF-alpha", "-", "induced", "apoptosis"]),
        ("5-FU-treated rats", ["5-FU", "-", "treated", "rats"]),
        ("lupus-like syndrome", ["lupus", "-", "like", "syndrome"]),
        ("non-insulin-dependent diabetes", ["non-insulin", "-", "dependent", "diabetes"]),
        ("Li/DVP", ["Li", "/", "DVP"]),
        # Names keep their hyphens, as with scispaCy's rules.
        ("IL-2 and p53", ["IL-2", "and", "p53"]),
        ("5-FU was given.", ["5-FU", "was", "given", "."]),
        ("Ca2+ influx", ["Ca2", "+", "influx"]),
        ("N-acetyl-p-benzoquinone imine", ["N-acetyl-p-benzoquinone", "imine"]),
        ("(+)-catechin", ["(+)-catechin"]),
        ("α-synuclein", ["α-synuclein"]),
        ("2',3'-dideoxyinosine", ["2',3'-dideoxyinosine"]),
        (f"{IUPAC} was isolated", [IUPAC, "was", "isolated"]),
    ],
)
def test_bio_tokenizer_cases(bio_nlp, text, expected):
    assert [t.text for t in bio_nlp(text)] == expected


def test_bio_tokenizer_options_and_round_trip(bio_nlp, tmp_path):
    plain = spacy.blank("en", config={"nlp": {"tokenizer": {
        "@tokenizers": "spacy-biobert.BioTokenizer.v1", "split_attached_words": False,
        "split_slashes": False}}})
    text = "cisplatin-induced Li/DVP toxicity"
    sci = spacy.blank("en", config=TOKENIZER_CFG)
    assert [t.text for t in plain(text)] == [t.text for t in sci(text)] == [
        "cisplatin-induced", "Li/DVP", "toxicity"]
    bio_nlp.to_disk(tmp_path / "bio")
    loaded = spacy.load(tmp_path / "bio")
    assert [t.text for t in loaded(text)] == ["cisplatin", "-", "induced", "Li", "/", "DVP", "toxicity"]
