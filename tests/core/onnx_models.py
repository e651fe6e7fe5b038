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
