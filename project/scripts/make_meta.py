"""Write the meta overrides for `spacy package` (glue: the logic is spacy_biobert.packaging).

    python project/scripts/make_meta.py CORPUS METRICS_JSON OUTPUT_JSON VERSION [TRANSFORMER]
"""
import sys

from spacy_biobert.packaging import write_meta

if __name__ == "__main__":
    corpus, metrics, output, version = sys.argv[1:5]
    transformer = sys.argv[5] if len(sys.argv) > 5 else None
    meta = write_meta(corpus, metrics, output, version=version, transformer=transformer)
    print(f"Wrote {output}: licence {meta['license']!r}, "
          + ", ".join(f"{k}={v:.3f}" for k, v in meta["performance"].items() if isinstance(v, float)))
