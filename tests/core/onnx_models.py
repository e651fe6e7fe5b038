"""Tiny ONNX models built in the tests (no downloads): a fast stand-in saliency model and
deliberately incompatible ones. Needs the ``onnx`` package (the ``test`` extra)."""

from __future__ import annotations

from pathlib import Path

OPSET = 17
IR_VERSION = 8


def _save(graph, path: Path) -> Path:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="matting-studio-tests")
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    path = Path(path)
    path.write_bytes(model.SerializeToString())
    return path


def warm_colour_model(path: Path, size: int = 320) -> Path:
    """Input [1,3,S,S] → output [1,1,S,S] = red − blue channel: warm subjects are "salient".

    Behaves like a rembg-family model (u2netp preset) at a tiny fraction of the cost.
    """
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, size, size])
    w = numpy_helper.from_array(np.array([1.0, 0.0, -1.0], np.float32).reshape(1, 3, 1, 1), "w")
    node = helper.make_node("Conv", ["input", "w"], ["mask"])
    return _save(helper.make_graph([node], "warm", [x], [y], [w]), path)


def rank2_model(path: Path) -> Path:
    """A valid model with the wrong input rank ([N, 10] → [N, 10])."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 10])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])
    return _save(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "r2", [x], [y]), path)


def one_channel_model(path: Path, size: int = 320) -> Path:
    """Image-shaped but single-channel input [1,1,S,S]."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, size, size])
    return _save(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "c1", [x], [y]), path)


def uint8_input_model(path: Path, size: int = 320) -> Path:
    """[1,3,S,S] uint8 input: the right shape, the wrong element type."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.UINT8, [1, 3, size, size])
    return _save(helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "u8", [x], [y]),
                 path)


def fixed_size_model(path: Path, size: int = 64) -> Path:
    """A warm-colour model that only accepts a fixed, non-default input size."""
    return warm_colour_model(path, size)


def multi_channel_output_model(path: Path, size: int = 320) -> Path:
    """[1,3,S,S] → [1,3,S,S]: three "masks" instead of one (first channel is used)."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, size, size])
    return _save(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "o3", [x], [y]), path)


def vector_output_model(path: Path, size: int = 320) -> Path:
    """[1,3,S,S] → [1, 3]: a classifier, not a mask."""
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, size, size])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])
    node = helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=0)
    return _save(helper.make_graph([node], "vec", [x], [y]), path)


def failing_at_run_model(path: Path, size: int = 320) -> Path:
    """Loads fine, fails when run: reshapes the image to an impossible shape."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [7, 11, 13])
    shape = numpy_helper.from_array(np.array([7, 11, 13], np.int64), "shape")
    node = helper.make_node("Reshape", ["x", "shape"], ["y"])
    return _save(helper.make_graph([node], "boom", [x], [y], [shape]), path)


def _conv_model(path: Path, size, weights, bias: float = 0.0, outputs: int = 1,
                padding: int = 0, name: str = "conv") -> Path:
    """[1,3,S,S] → ``outputs`` maps [1,1,S,S], each = Σ wᶜ·xᶜ + bias (a 1×1 convolution).

    ``size`` may be an int or a symbolic name (any size). ``padding`` bytes of doc string make
    the file larger without changing the model (for download tests that need several chunks).
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    shape = [1, 3, size, size]
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)
    ys = [helper.make_tensor_value_info(f"mask{i}", TensorProto.FLOAT, [1, 1, size, size])
          for i in range(outputs)]
    w = numpy_helper.from_array(np.asarray(weights, np.float32).reshape(1, 3, 1, 1), "w")
    b = numpy_helper.from_array(np.array([bias], np.float32), "b")
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["mask0"])]
    nodes += [helper.make_node("Identity", ["mask0"], [f"mask{i}"]) for i in range(1, outputs)]
    graph = helper.make_graph(nodes, name, [x], ys, [w, b])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="matting-studio-tests")
    model.ir_version = IR_VERSION
    if padding:
        model.doc_string = "p" * padding
    onnx.checker.check_model(model)
    path = Path(path)
    path.write_bytes(model.SerializeToString())
    return path


def isnet_like_model(path: Path, size: int = 1024) -> Path:
    """An IS-Net stand-in: fixed 1024² input, six side outputs (the mask first)."""
    return _conv_model(path, size, [1.0, 0.0, -1.0], outputs=6, name="isnet_like")


def birefnet_like_model(path: Path, size: int = 1024) -> Path:
    """A BiRefNet stand-in: fixed 1024² input, one output (logits)."""
    return _conv_model(path, size, [4.0, 0.0, -4.0], name="birefnet_like")


def u2net_like_model(path: Path, size: int = 320, padding: int = 0) -> Path:
    """A U²-Net stand-in: fixed 320² input, seven outputs; ``padding`` bytes make it bigger."""
    return _conv_model(path, size, [1.0, 0.0, -1.0], outputs=7, padding=padding,
                       name="u2net_like")


def nan_model(path: Path, size: int = 64) -> Path:
    """Loads and runs, but answers NaN everywhere (a NaN bias)."""
    return _conv_model(path, size, [1.0, 0.0, -1.0], bias=float("nan"), name="nan")


def inf_model(path: Path, size: int = 64) -> Path:
    """Answers +inf where the image is warm (huge weights overflow float32)."""
    return _conv_model(path, size, [3e38, 3e38, 3e38], name="inf")


def constant_model(path: Path, size: int = 64) -> Path:
    """Answers the same value (0.5) everywhere: zero weights, a bias."""
    return _conv_model(path, size, [0.0, 0.0, 0.0], bias=0.5, name="constant")
