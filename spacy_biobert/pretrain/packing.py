"""Tokenising documents and packing them into fixed-length blocks, keeping word boundaries.

Documents are concatenated with a separator token between them and cut into blocks of exactly
`max_length` tokens ([CLS] ... [SEP]), so no compute is spent on padding (only the last block is
padded). Each token also records whether it starts a word, so masking can cover whole words.
"""
from dataclasses import dataclass
from typing import List, Sequence

from ..errors import make_error

# Documents are tokenised in batches of this many, to bound memory on large corpora.
_TOKENIZE_BATCH = 256


@dataclass
class PackedBlocks:
    """Fixed-length blocks: token ids, attention mask, word starts and which tokens may be masked."""

    input_ids: "object"  # torch.LongTensor (n_blocks, max_length)
    attention_mask: "object"  # torch.LongTensor
    word_starts: "object"  # torch.BoolTensor: token begins a word (or a block)
    maskable: "object"  # torch.BoolTensor: ordinary tokens (not [CLS]/[SEP]/padding)
    n_tokens: int  # ordinary tokens in all blocks

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])


def _special_ids(tokenizer):
    cls_id = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    sep_id = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else sep_id
    return cls_id, sep_id, pad_id


def tokenize_words(tokenizer, texts: Sequence[str]):
    """Token ids of each text (no special tokens) and whether each token starts a word.

    With a fast tokenizer the words are its pre-tokenizer's words (for BERT: runs of letters or
    digits, and each punctuation mark), so this works for WordPiece and BPE alike. A slow WordPiece
    tokenizer falls back on the "##" continuation prefix.

    tokenizer (PreTrainedTokenizerBase): The tokenizer.
    texts (Sequence[str]): The documents.
    RETURNS (Tuple[List[List[int]], List[List[bool]]]): Ids and word starts per text.
    """
    all_ids: List[List[int]] = []
    all_starts: List[List[bool]] = []
    for i in range(0, len(texts), _TOKENIZE_BATCH):
        batch = list(texts[i : i + _TOKENIZE_BATCH])
        # verbose=False: documents longer than the model maximum are expected here (they are cut
        # into blocks), so the tokenizer's length warning would only be noise.
        enc = tokenizer(batch, add_special_tokens=False, truncation=False, verbose=False)
        for j, ids in enumerate(enc["input_ids"]):
            if getattr(enc, "is_fast", False) or tokenizer.is_fast:
                word_ids = enc.word_ids(j)
                starts = [k == 0 or word_ids[k] != word_ids[k - 1] for k in range(len(ids))]
            else:
                pieces = tokenizer.convert_ids_to_tokens(ids)
                starts = [not p.startswith("##") for p in pieces]
            all_ids.append(list(ids))
            all_starts.append(starts)
    return all_ids, all_starts


def pack_texts(tokenizer, texts: Sequence[str], max_length: int) -> PackedBlocks:
    """Tokenise `texts` and pack them into blocks of `max_length` tokens.

    tokenizer (PreTrainedTokenizerBase): The tokenizer.
    texts (Sequence[str]): The documents.
    max_length (int): Block length including [CLS] and [SEP]; at most the model's maximum.
    RETURNS (PackedBlocks): The blocks.
    """
    import torch

    if max_length < 8:
        raise make_error("E505", setting="--max-length", value=max_length, expected="at least 8")
    cls_id, sep_id, pad_id = _special_ids(tokenizer)
    ids_per_doc, starts_per_doc = tokenize_words(tokenizer, texts)
    stream: List[int] = []
    stream_starts: List[bool] = []
    stream_maskable: List[bool] = []
    for ids, starts in zip(ids_per_doc, starts_per_doc):
        if not ids:
            continue
        stream.extend(ids + [sep_id])
        stream_starts.extend(starts + [True])
        stream_maskable.extend([True] * len(ids) + [False])
    width = max_length - 2
    n_blocks = (len(stream) + width - 1) // width
    input_ids = torch.full((n_blocks, max_length), pad_id, dtype=torch.long)
    attention = torch.zeros((n_blocks, max_length), dtype=torch.long)
    word_starts = torch.zeros((n_blocks, max_length), dtype=torch.bool)
    maskable = torch.zeros((n_blocks, max_length), dtype=torch.bool)
    for b in range(n_blocks):
        chunk = stream[b * width : (b + 1) * width]
        n = len(chunk)
        input_ids[b, 0] = cls_id
        input_ids[b, 1 : n + 1] = torch.tensor(chunk, dtype=torch.long)
        input_ids[b, n + 1] = sep_id
        attention[b, : n + 2] = 1
        word_starts[b, 1 : n + 1] = torch.tensor(stream_starts[b * width : (b + 1) * width])
        # A word cut by the block boundary starts afresh in the next block.
        word_starts[b, 1] = True
        maskable[b, 1 : n + 1] = torch.tensor(stream_maskable[b * width : (b + 1) * width])
    return PackedBlocks(input_ids, attention, word_starts, maskable, int(maskable.sum()))
