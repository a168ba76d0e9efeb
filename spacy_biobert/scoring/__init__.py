"""Scorers shared by the benchmarks and the CLI."""
from .conlleval import ChunkScores, conlleval_chunks, conlleval_score, doc_iob_tags

__all__ = ["ChunkScores", "conlleval_chunks", "conlleval_score", "doc_iob_tags"]
