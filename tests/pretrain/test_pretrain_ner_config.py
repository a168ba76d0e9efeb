"""The NER check config loads, and names an adapted encoder directory by path."""
from pathlib import Path

import spacy
from spacy.training import Example
from thinc.api import Config

from spacy_biobert.corpora import read_pubtator
from spacy_biobert.pretrain import PretrainSettings, pretrain

CONFIG = Path(__file__).resolve().parents[2] / "project" / "configs" / "pretrain_ner_check.cfg"
PUBTATOR = """227508|t|Naloxone reverses the antihypertensive effect of clonidine.
227508|a|In rats the decrease in blood pressure was reversed by naloxone.
227508\t0\t8\tNaloxone\tChemical\tD009270
227508\t49\t58\tclonidine\tChemical\tD003000
227508\t115\t123\tnaloxone\tChemical\tD009270

"""


def test_config_round_trips():
    config = Config().from_disk(CONFIG)
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    assert nlp.pipe_names == ["transformer", "ner"]
    assert Config().from_str(nlp.config.to_str()).interpolate() == nlp.config.interpolate()


def test_config_trains_on_an_adapted_encoder(tiny_bert, tmp_path):
    corpus = tmp_path / "train.txt"
    corpus.write_text("Naloxone reverses the effect of clonidine in rats.\n\nLithium caused renal failure.",
                      encoding="utf8")
    adapted = tmp_path / "adapted"
    pretrain([corpus], adapted, PretrainSettings(model=tiny_bert, max_steps=1, max_length=16,
                                                  eval_fraction=0.0), progress=False)
    pubtator = tmp_path / "docs.PubTator"
    pubtator.write_text(PUBTATOR, encoding="utf8")
    config = Config().from_disk(CONFIG, overrides={"paths.transformer": str(adapted),
                                                   "paths.train": str(pubtator),
                                                   "paths.dev": str(pubtator)})
    nlp = spacy.util.load_model_from_config(config, auto_fill=True)
    examples = [Example(nlp.make_doc(d.text), d) for d in read_pubtator(pubtator, nlp)]
    nlp.initialize(lambda: examples)
    losses = nlp.update(examples)
    assert losses["ner"] > 0
    assert nlp.get_pipe("transformer").model.transformer.config.hidden_size == 32
