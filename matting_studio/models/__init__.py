"""Data package: the embedded segmentation model ``u2netp.onnx`` with its licences and
provenance (README.md). No code; :func:`matting_studio.core.models.embedded_model_path`
finds the file."""
