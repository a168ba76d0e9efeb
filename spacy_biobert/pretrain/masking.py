"""Whole-word, dynamic masking.

Our own collator rather than transformers' `DataCollatorForWholeWordMask`: that one finds words by the
"##" prefix only (WordPiece), works on unpacked lists, and draws from Python's global `random`. Here
words come from the tokenizer's word boundaries (any tokenizer), blocks are already packed tensors, and
every draw comes from one `torch.Generator` whose state is saved in checkpoints, so a resumed run masks
exactly as an uninterrupted one. Masks are drawn afresh each time a block is used (dynamic masking, as
in RoBERTa), so repeated epochs see different masks.
"""
from typing import Dict

from ..errors import make_error


class WholeWordMasker:
    """Mask about `probability` of the ordinary tokens of each block, a whole word at a time; of the
    masked tokens 80% become the mask token, 10% a random token and 10% stay (as in BERT).

    mask_token_id (int): Id of the mask token.
    vocab_size (int): Size of the vocabulary, for random replacements.
    probability (float): Share of ordinary tokens to predict.
    """

    def __init__(self, mask_token_id: int, vocab_size: int, probability: float = 0.15) -> None:
        if not 0.0 < probability < 1.0:
            raise make_error("E505", setting="--mask-probability", value=probability, expected="0 < p < 1")
        self.mask_token_id = mask_token_id
        self.vocab_size = vocab_size
        self.probability = probability

    def __call__(self, input_ids, word_starts, maskable, generator) -> Dict[str, "object"]:
        """Mask a batch of blocks.

        input_ids (torch.LongTensor): (batch, length) token ids.
        word_starts (torch.BoolTensor): Tokens that begin a word.
        maskable (torch.BoolTensor): Tokens that may be masked (not special, not padding).
        generator (torch.Generator): Source of all random draws.
        RETURNS (Dict[str, torch.Tensor]): "input_ids" with masks applied and "labels" (the original
            ids at masked positions, -100 elsewhere).
        """
        import torch

        chosen = torch.zeros_like(maskable)
        for b in range(input_ids.shape[0]):
            positions = maskable[b].nonzero(as_tuple=True)[0]
            if positions.numel() == 0:
                continue
            # Number the words of this block (a word starts at a word start or after a non-maskable
            # token), so a word is never split across the masking decision.
            starts = word_starts[b, positions].clone()
            starts[0] = True
            word_of = torch.cumsum(starts.long(), 0) - 1
            n_words = int(word_of[-1]) + 1
            lengths = torch.bincount(word_of, minlength=n_words)
            target = max(1, round(self.probability * positions.numel()))
            order = torch.randperm(n_words, generator=generator)
            covered = torch.cumsum(lengths[order], 0)
            # Take words in random order while they fit the budget (always at least one word).
            n_take = max(1, int((covered <= target).sum()))
            picked = torch.zeros(n_words, dtype=torch.bool)
            picked[order[:n_take]] = True
            chosen[b, positions[picked[word_of]]] = True
        labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
        masked = input_ids.clone()
        draw = torch.rand(input_ids.shape, generator=generator)
        to_mask = chosen & (draw < 0.8)
        to_random = chosen & (draw >= 0.8) & (draw < 0.9)
        masked[to_mask] = self.mask_token_id
        random_ids = torch.randint(self.vocab_size, input_ids.shape, generator=generator)
        masked[to_random] = random_ids[to_random]
        return {"input_ids": masked, "labels": labels}
