"""Fixtures of the serving tests: an export root with two versions, a server on it, references."""

import json
import os
import shutil

import pytest
import requests
import tensorflow as tf

from tfless import export, serving, zoo

NAME = "digits_supervised_convnet"
SHAPE = (16, 16, 1)


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """An export root with model ``digits`` at versions 1 and 2 (copies of the shipped encoder)."""
    src = zoo.entry_path(zoo.get_entry(NAME))
    base = tmp_path_factory.mktemp("root")
    for version in ("1", "2"):
        shutil.copytree(src, base / "digits" / version)
    return str(base)


@pytest.fixture(scope="module")
def server(root):
    """``LocalServer`` with REST and gRPC over every version of ``root``."""
    store = serving.ModelStore()
    store.add_root(root, policy="all")
    with serving.LocalServer(store, grpc_port=0) as srv:
        yield srv


@pytest.fixture(scope="module")
def reference(root):
    """(20 fixed images, ``run(signature, output key, images)`` on the SavedModel itself)."""
    loaded = tf.saved_model.load(os.path.join(root, "digits", "2"))
    x = export.check_images(SHAPE, n=20, seed=11)

    def run(signature, key, images):
        return loaded.signatures[signature](image=tf.constant(images))[key].numpy()

    return x, run


@pytest.fixture
def post():
    """``post(server, body, path)``: a raw REST request, for bodies the client would not send."""

    def _post(server, body, path="/v1/models/digits:predict"):
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return requests.post(server.url + path, data=data, timeout=10)

    return _post
