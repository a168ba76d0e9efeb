"""Package metadata for the pipelines the spaCy project builds: measured accuracy, the corpus each was
trained on and that corpus's licence (which binds the trained weights too).

`spacy package` infers the pipeline's Python dependencies from its config (spacy-transformers,
spacy-biobert), so none are listed here; this only adds what it cannot know.
"""
import json
from pathlib import Path
from typing import Any, Dict, Optional, Union

from .about import __version__

# What each pipeline is trained on. Licences as the corpora state them (see the corpus READMEs);
# "commercial" says whether a pipeline trained on it may be used commercially.
CORPORA: Dict[str, Dict[str, Any]] = {
    "demo": {
        "pipeline_license": "MIT",
        "name": "spacy-biobert demo corpus (invented PubMed-style abstracts)",
        "url": "project/assets/demo in the spacy-biobert sources",
        "license": "MIT (written for this project; concept IDs are invented)",
        "commercial": True,
        "description": "Demo pipeline trained on 80 invented abstracts: it shows the workflow, "
                       "not biomedical accuracy. Do not use it for real text.",
    },
    "bc5cdr": {
        "pipeline_license": "MIT",
        "name": "BioCreative V CDR (BC5CDR)",
        "url": "https://biocreative.bioinformatics.udel.edu/tasks/biocreative-v/track-3-cdr/",
        "license": "NCBI public domain notice (free for any use, cite the corpus paper)",
        "commercial": True,
        "description": "Chemicals and diseases (MeSH-normalisable) and chemical-induced disease "
                       "(CID) relations in PubMed abstracts.",
    },
    "chemprot": {
        "pipeline_license": "MIT (training data terms unstated: check before commercial use)",
        "name": "BioCreative VI ChemProt",
        "url": "https://biocreative.bioinformatics.udel.edu/news/corpora/chemprot-corpus-biocreative-vi/",
        "license": "No licence in the corpus files (BigBIO lists it as public domain); check before "
                   "commercial use",
        "commercial": None,
        "description": "Chemicals, genes/proteins and chemical-protein relations (CPR:3,4,5,6,9).",
    },
    "ddi": {
        "pipeline_license": "CC BY-NC 4.0",
        "name": "DDI corpus 2013",
        "url": "https://github.com/isegura/DDICorpus",
        "license": "CC BY-NC 4.0: NON-COMMERCIAL use only (this pipeline's weights are derived "
                   "from the corpus and carry the same restriction)",
        "commercial": False,
        "description": "Drugs (drug, brand, group, drug_n) and drug-drug interactions (mechanism, "
                       "effect, advise, int).",
    },
    "ncbi_disease": {
        "pipeline_license": "MIT",
        "name": "NCBI disease corpus",
        "url": "https://www.ncbi.nlm.nih.gov/CBBresearch/Dogan/DISEASE/",
        "license": "NCBI public domain notice (free for any use, cite the corpus paper)",
        "commercial": True,
        "description": "Disease mentions in PubMed abstracts.",
    },
    "jnlpba": {
        "pipeline_license": "CC BY 3.0",
        "name": "JNLPBA 2004 (GENIA 3.02)",
        "url": "http://www.geniaproject.org/shared-tasks/bionlp-jnlpba-shared-task-2004",
        "license": "GENIA annotations CC BY 3.0 (attribution required)",
        "commercial": True,
        "description": "Proteins, DNA, RNA, cell types and cell lines in MEDLINE abstracts.",
    },
}

# Metrics worth putting in the meta (spaCy shows `performance` on the model card).
_METRIC_PREFIXES = ("ents_", "rel_", "spans_", "token_acc", "sents_")


def build_meta(
    corpus: str,
    metrics: Dict[str, Any],
    *,
    version: str,
    transformer: Optional[str] = None,
    metrics_source: str = "devel",
) -> Dict[str, Any]:
    """The meta.json overrides for `spacy package --meta-path`.

    corpus (str): A key of `CORPORA`.
    metrics (Dict[str, Any]): Scores from `spacy evaluate --output` on the devel split.
    version (str): The pipeline version.
    transformer (Optional[str]): The encoder the pipeline was trained from.
    metrics_source (str): Which split the metrics are measured on.
    RETURNS (Dict[str, Any]): name-independent meta fields: version, description, license,
        sources, performance, and the spacy-biobert version it was built with.
    """
    info = CORPORA[corpus]
    performance = {
        k: (float(v) if isinstance(v, (int, float)) else v)
        for k, v in metrics.items()
        if k.startswith(_METRIC_PREFIXES) and v is not None
    }
    commercial = info["commercial"]
    note = {True: "", False: " NON-COMMERCIAL USE ONLY.", None: " Check the corpus terms before commercial use."}
    description = (
        f"{info['description']} Trained with spacy-biobert {__version__}"
        + (f" from the encoder '{transformer}'" if transformer else "")
        + f". Scores in `performance` are measured on the {metrics_source} split."
        + f" Training data licence: {info['license']}.{note[commercial]}"
    )
    return {
        "version": version,
        "description": description,
        # A pipeline's licence is never more permissive than its training data's (DDI: CC BY-NC).
        "license": info["pipeline_license"],
        "author": "spacy-biobert",
        "sources": [{"name": info["name"], "url": info["url"], "license": info["license"]}],
        "performance": performance,
        "spacy_biobert": {"version": __version__, "corpus": corpus, "metrics_split": metrics_source,
                          "transformer": transformer, "commercial_use": commercial},
    }


def write_meta(corpus: str, metrics_path: Union[str, Path], output_path: Union[str, Path], *,
               version: str, transformer: Optional[str] = None) -> Dict[str, Any]:
    """Read `spacy evaluate` metrics and write the meta overrides for `spacy package`.

    corpus (str): A key of `CORPORA`.
    metrics_path (Union[str, Path]): JSON written by `spacy evaluate --output`.
    output_path (Union[str, Path]): Where to write the meta JSON.
    version (str): The pipeline version.
    transformer (Optional[str]): The encoder the pipeline was trained from.
    RETURNS (Dict[str, Any]): The meta written.
    """
    metrics = json.loads(Path(metrics_path).read_text(encoding="utf8"))
    meta = build_meta(corpus, metrics, version=version, transformer=transformer)
    Path(output_path).parent.mkdir(parents=True, exist_ok=True)
    Path(output_path).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf8")
    return meta
