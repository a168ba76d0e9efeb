"""Transformer + spaCy's own `ner`, trained a few steps, saved, and reloaded in a fresh process that
never imports spacy_biobert."""
import json
import subprocess
import sys

import spacy
from spacy.training import Example
from thinc.api import Config, fix_random_seed

CONFIG = """
[nlp]
lang = "en"
pipeline = ["transformer","ner"]

[components]

[components.transformer]
factory = "transformer"

[components.transformer.model]
@architectures = "spacy-biobert.BioBertTransformer.v1"
name = "{name}"

[components.transformer.model.get_spans]
@span_getters = "spacy-biobert.wordpiece_strided_spans.v1"
window = 64
stride = 48

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = 32
maxout_pieces = 2
use_upper = false

[components.ner.model.tok2vec]
@architectures = "spacy-transformers.TransformerListener.v1"
grad_factor = 1.0
upstream = "transformer"

[components.ner.model.tok2vec.pooling]
@layers = "reduce_mean.v1"
"""

TRAIN = [
    ("Cisplatin induced nephrotoxicity in rats .", [(0, 9, "Chemical"), (18, 32, "Disease")]),
    ("Lithium caused seizures in patients .", [(0, 7, "Chemical"), (15, 23, "Disease")]),
    ("Naloxone reversed hypotension .", [(0, 8, "Chemical"), (18, 29, "Disease")]),
    ("Haloperidol induced arrhythmia .", [(0, 11, "Chemical"), (20, 30, "Disease")]),
]


def test_train_save_reload_identical_predictions(tiny_bert, tmp_path):
    fix_random_seed(0)
    nlp = spacy.util.load_model_from_config(Config().from_str(CONFIG.replace("{name}", tiny_bert)), auto_fill=True
    )
    examples = [
        Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in TRAIN
    ]
    optimizer = nlp.initialize(lambda: examples)
    losses = {}
    for _ in range(40):
        losses = {}
        nlp.update(examples, sgd=optimizer, losses=losses, drop=0.0)
    # The tiny model really learns: the loss falls and the training entities are found.
    assert losses["ner"] < 5.0
    texts = [text for text, _ in TRAIN]
    predicted = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    gold = [sorted(ents) for _, ents in TRAIN]
    assert sum(len(set(p) & set(g)) for p, g in zip(predicted, gold)) >= 6

    out = tmp_path / "pipeline"
    nlp.to_disk(out)
    script = tmp_path / "load.py"
    script.write_text(
        "import json, sys, spacy\n"
        "nlp = spacy.load(sys.argv[1])\n"
        "texts = json.loads(sys.argv[2])\n"
        "print(json.dumps([[[e.start_char, e.end_char, e.label_] for e in d.ents] "
        "for d in nlp.pipe(texts)]))\n"
        "assert not any(m == 'spacy_biobert' for m in sys.argv)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), str(out), json.dumps(texts)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    reloaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert reloaded == [[list(e) for e in doc] for doc in predicted]
    # And in this process, vector for vector.
    nlp2 = spacy.load(out)
    for text in texts:
        a = nlp(text)._.trf_data.tensors[0]
        b = nlp2(text)._.trf_data.tensors[0]
        assert a.shape == b.shape and abs(a - b).max() < 1e-5
