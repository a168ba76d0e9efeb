"""The devel results of the five pipelines beside the published BioBERT and PubMedBERT test figures.

    python project/scripts/results_table.py METRICS_DIR OUTPUT_MD [ENCODER]

Reads METRICS_DIR/<pipeline>.json (written by `spacy evaluate`); pipelines not evaluated yet are
listed as such. Published figures are test-set F1 from the papers: BioBERT v1.1 (Lee et al. 2020,
Bioinformatics; DDI from the BLURB table of Gu et al. 2021) and PubMedBERT (Gu et al. 2021, BLURB).
Ours are devel figures (the test splits are withheld here), so the columns are not the same split.
"""
import json
import sys
from pathlib import Path

# pipeline -> rows: (what, metrics key path, BioBERT v1.1, PubMedBERT); None = not reported there.
ROWS = {
    "bc5cdr": [
        ("NER Chemical", ("ents_per_type", "Chemical", "f"), 93.47, 93.33),
        ("NER Disease", ("ents_per_type", "Disease", "f"), 87.15, 85.62),
        ("CID (concept pairs per document)", ("rel_micro_f",), None, None),
    ],
    "chemprot": [
        ("NER (CHEMICAL, GENE-Y, GENE-N)", ("ents_f",), None, None),
        ("relations, micro-F CPR:3,4,5,6,9", ("rel_micro_f",), 76.46, 77.24),
    ],
    "ddi": [
        ("NER (drug, brand, group, drug_n)", ("ents_f",), None, None),
        ("interactions, micro-F over 4 types", ("rel_micro_f",), 80.88, 82.36),
    ],
    "ncbi_disease": [
        ("NER (4 NCBI types; published: one Disease type)", ("ents_f",), 89.71, 87.82),
    ],
    "jnlpba": [
        ("NER (5 types)", ("ents_f",), 77.49, 79.10),
    ],
}


def _get(metrics, path):
    for key in path:
        if not isinstance(metrics, dict) or metrics.get(key) is None:
            return None
        metrics = metrics[key]
    return 100 * float(metrics)


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def table(metrics_dir: Path, encoder: str = "") -> str:
    lines = [
        f"| pipeline | metric | ours (devel{', ' + encoder if encoder else ''}) | BioBERT v1.1 (test) | PubMedBERT (test) |",
        "|---|---|---|---|---|",
    ]
    for name, rows in ROWS.items():
        path = metrics_dir / f"{name}.json"
        metrics = json.loads(path.read_text(encoding="utf8")) if path.exists() else None
        for what, key, biobert, pubmedbert in rows:
            ours = "not evaluated" if metrics is None else _fmt(_get(metrics, key))
            lines.append(f"| en_biobert_{name} | {what} | {ours} | {_fmt(biobert)} | {_fmt(pubmedbert)} |")
    lines.append("")
    lines.append("Published figures: test split, F1. Cross-checked against public copies of the papers: "
                 "PubMedBERT ChemProt 77.24 and DDI 82.36, BioBERT NCBI-disease 89.71. The others are "
                 "quoted from the papers' tables without a second source here; BioBERT's DDI figure "
                 "is BLURB's run of BioBERT (the BioBERT paper has no DDI).")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        sys.exit(2)
    text = table(Path(sys.argv[1]), sys.argv[3] if len(sys.argv) == 4 else "")
    Path(sys.argv[2]).write_text(text, encoding="utf8")
    print(text)
