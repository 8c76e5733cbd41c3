"""Running the packaged transformers: ONNX export (once, cached) and ONNX Runtime sessions.

A foundation layer like `config`: the embedder (retrieval) and the scorer and reader (answer) use it;
it imports nothing of the pipeline."""
