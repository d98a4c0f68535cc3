"""Process settings the console scripts make before TensorFlow loads.

Imported first by every ``tfless.cli`` module. Level 3 hides TensorFlow's C++ start-up
notes (oneDNN, CPU features, a missing CUDA driver) that would otherwise open every run
and read like failures; set ``TF_CPP_MIN_LOG_LEVEL`` yourself to see them.
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def import_tensorflow() -> None:
    """Imports TensorFlow; at log level 3 without the lines it prints while loading.

    TensorFlow 2.21 writes its oneDNN and CUDA-driver notes while its libraries load,
    before its C++ logging reads ``TF_CPP_MIN_LOG_LEVEL``, so the level alone cannot hide
    them: the import runs with the process's stderr pointed at the null device. An import
    error still surfaces, as the Python exception raised here.
    """
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") != "3":
        return
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)
