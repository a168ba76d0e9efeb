"""Dynamic int8 quantisation of the encoder, a faster CPU path for inference.

`torch.ao.quantization.quantize_dynamic` swaps every `nn.Linear` for an int8 version that
quantises activations on the fly; on CPU that is most of a BERT encoder's time. Training always
runs on the fp32 weights, and the pipeline is saved with them: the int8 copy is made on the first
prediction after loading or after an update, so a quantised pipeline stays trainable and
serialisable, and `quantize` can be switched on or off in the config or at load time.

    [components.transformer.model]
    @architectures = "spacy-biobert.BioBertTransformer.v1"
    quantize = true

    nlp = spacy.load("en_biobert_ncbi_disease"); spacy_biobert.quantize_pipeline(nlp)
"""
import warnings
from typing import List

from spacy.language import Language


def quantize_encoder(module):
    """An int8 dynamically quantised copy of a torch module's `nn.Linear` layers (CPU only).

    module (torch.nn.Module): The fp32 encoder; left unchanged.
    RETURNS (torch.nn.Module): The quantised copy, in eval mode.
    """
    import torch

    with warnings.catch_warnings():
        # torch.ao.quantization is deprecated in favour of torchao, which is not installed here;
        # quantize_dynamic still works and is the only dependency-free option.
        warnings.simplefilter("ignore")
        quantized = torch.ao.quantization.quantize_dynamic(
            module, {torch.nn.Linear}, dtype=torch.qint8, inplace=False
        )
    return quantized.eval()


def quantize_pipeline(nlp: Language, quantize: bool = True) -> List[str]:
    """Switch int8 inference on (or off) for every spacy-biobert encoder in a loaded pipeline.

    nlp (Language): The pipeline, e.g. from `spacy.load`.
    quantize (bool): True for int8 inference, False for fp32 again.
    RETURNS (List[str]): Names of the components whose encoder was switched.
    """
    from .transformer import BioBertTransformerModel

    switched = []
    for name, pipe in nlp.components:
        model = getattr(pipe, "model", None)
        if isinstance(model, BioBertTransformerModel):
            model.attrs["quantize"] = quantize
            model.drop_quantized()
            switched.append(name)
    return switched
