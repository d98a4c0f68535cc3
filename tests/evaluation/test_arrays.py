import numpy as np
import pytest
import tensorflow as tf

from tfless.data import to_arrays


def _dataset(n=10):
    images = np.arange(n * 4, dtype=np.float32).reshape(n, 2, 2, 1)
    labels = np.arange(n, dtype=np.int32) % 3
    index = np.arange(n, dtype=np.int64)
    return (
        images,
        labels,
        tf.data.Dataset.from_tensor_slices({"image": images, "label": labels, "index": index}),
    )


def test_to_arrays_reads_every_example_in_order_whatever_the_batch_size():
    images, labels, ds = _dataset(10)
    for batch_size in (1, 3, 10, 1024):
        x, y = to_arrays(ds, batch_size=batch_size)
        np.testing.assert_array_equal(x, images)
        np.testing.assert_array_equal(y, labels)
        assert x.dtype == np.float32 and y.dtype == np.int32


def test_to_arrays_keys_and_indices():
    images, labels, ds = _dataset(10)
    (index,) = to_arrays(ds, keys=("index",))
    np.testing.assert_array_equal(index, np.arange(10))
    y, x = to_arrays(ds, keys=("label", "image"), indices=[7, 2, 2])
    np.testing.assert_array_equal(x, images[[7, 2, 2]])
    np.testing.assert_array_equal(y, labels[[7, 2, 2]])


def test_to_arrays_refuses_what_it_cannot_read():
    _, _, ds = _dataset(4)
    with pytest.raises(ValueError, match=r"lack \['mask'\]"):
        to_arrays(ds, keys=("image", "mask"))
    with pytest.raises(ValueError, match="datasets of dicts"):
        to_arrays(tf.data.Dataset.from_tensor_slices(np.zeros([3, 2])))
    with pytest.raises(ValueError, match="empty"):
        to_arrays(ds.take(0))
    with pytest.raises(ValueError, match="batch_size"):
        to_arrays(ds, batch_size=0)
    with pytest.raises(ValueError, match="keys is empty"):
        to_arrays(ds, keys=())
