"""AutoAugment policy search and the RandAugment (N, M) grid sweep.

AutoAugment (Cubuk, Zoph, Mane, Vasudevan, Le, CVPR 2019, https://arxiv.org/abs/1805.09501,
Section 3): a one-layer LSTM controller with 100 hidden units emits a policy as 30 softmax
decisions -- 5 sub-policies x 2 operations x (op type, probability in 11 bins, magnitude in
10 bins) -- each decision fed back as an embedding. A child model is trained from scratch
with the policy on a reduced training split; its validation accuracy is the reward and the
controller is updated by policy gradient. At the end the sub-policies of the 5 best
policies are concatenated into the final 25-sub-policy policy.

Differences from the paper, all documented and configurable:

* The paper trains the controller with PPO (learning rate 0.00035, entropy penalty 1e-5,
  baseline an exponential moving average of rewards with weight 0.95). This module uses
  REINFORCE with the same moving-average baseline, learning rate and entropy weight
  (the brief's accepted simplification): with a handful of policies per update PPO's
  clipped multi-epoch updates bring little.
* The paper's 16 ops include SamplePairing; the op library has SolarizeAdd instead, so the
  default op list is the library's 16 ops (``OP_NAMES`` without Identity).
* The child model is a small ConvNet trained for a few hundred steps on a reduced digits
  split (the paper: Wide-ResNet-40-2 for 120 epochs on 4,000 CIFAR-10 images, 15,000
  policies); the scaled values live in ``configs/aa_search/digits.py`` and the launcher.

Magnitude bin ``i`` is magnitude ``i`` on the op library's 0..10 scale (the level scale of
the published policies, whose magnitudes run 0..9); probability bin ``j`` is ``j / 10``.

RandAugment sweep (Cubuk, Zoph, Shlens, Le, NeurIPS 2020, https://arxiv.org/abs/1909.13719,
Section 3): a grid search over the number of ops N and the shared magnitude M, each cell
scored by the validation accuracy of a child model trained with RandAugment(N, M).

Using a searched policy in any run: ``save_policy`` writes JSON with the policy in the
published format, and the view factory :func:`autoaugment` (``policy`` = a name in
``POLICIES`` or a JSON path) applies it in the data pipeline.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfless.augment import ops
from tfless.augment.policies import POLICIES, RANDAUGMENT_OPS, check_policy

#: The AutoAugment search space's ops in this library (the paper's 16 with SolarizeAdd
#: in place of SamplePairing).
AUTOAUGMENT_OPS = tuple(n for n in ops.OP_NAMES if n != "Identity")
PROBABILITY_BINS = 11
MAGNITUDE_BINS = 10


# --------------------------------------------------------------------------- search space


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A policy search space: ``num_subpolicies`` x ``ops_per_subpolicy`` operations.

    Each operation is an op type, a magnitude bin and (when ``search_probability``) a
    probability bin; without probabilities every op is applied (Adversarial AutoAugment).

    Attributes:
      ops: op names the controller chooses from.
      num_subpolicies: sub-policies per policy (AutoAugment: 5).
      ops_per_subpolicy: operations per sub-policy (AutoAugment: 2).
      probability_bins: probabilities ``0, 1/(n-1), ..., 1`` (AutoAugment: 11).
      magnitude_bins: magnitudes ``0 .. n-1`` (AutoAugment: 10).
      search_probability: include the probability decision.
    """

    ops: tuple[str, ...] = AUTOAUGMENT_OPS
    num_subpolicies: int = 5
    ops_per_subpolicy: int = 2
    probability_bins: int = PROBABILITY_BINS
    magnitude_bins: int = MAGNITUDE_BINS
    search_probability: bool = True

    def __post_init__(self):
        if isinstance(self.ops, str) or not tuple(self.ops):
            raise ValueError(f"ops must be a non-empty list of op names, got {self.ops!r}")
        object.__setattr__(self, "ops", tuple(self.ops))
        for name in self.ops:
            ops.check_op_name(name)
        for field in ("num_subpolicies", "ops_per_subpolicy"):
            value = getattr(self, field)
            if int(value) != value or value < 1:
                raise ValueError(f"{field} must be a positive integer, got {value!r}")
        if not 2 <= self.probability_bins:
            raise ValueError(f"probability_bins must be >= 2, got {self.probability_bins!r}")
        if not 1 <= self.magnitude_bins <= ops.MAX_MAGNITUDE + 1:
            raise ValueError(f"magnitude_bins must be in [1, 11], got {self.magnitude_bins!r}")

    @property
    def decision_kinds(self) -> tuple[str, ...]:
        """Kind of each controller decision, in emission order."""
        per_op = (
            ("op", "probability", "magnitude") if self.search_probability else ("op", "magnitude")
        )
        return per_op * (self.num_subpolicies * self.ops_per_subpolicy)

    @property
    def vocab_sizes(self) -> dict[str, int]:
        sizes = {"op": len(self.ops), "magnitude": self.magnitude_bins}
        if self.search_probability:
            sizes["probability"] = self.probability_bins
        return sizes

    def tables(self, actions) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Decisions ``[P, T]`` -> op index, probability, magnitude tables ``[P, S, K]``.

        Op indices point into ``("Identity",) + ops`` (index 0 is "not applied").
        """
        actions = tf.cast(tf.convert_to_tensor(actions), tf.int32)
        per_op = 3 if self.search_probability else 2
        shape = [-1, self.num_subpolicies, self.ops_per_subpolicy, per_op]
        a = tf.reshape(actions, shape)
        op_index = a[..., 0] + 1
        if self.search_probability:
            prob = tf.cast(a[..., 1], tf.float32) / float(self.probability_bins - 1)
        else:
            prob = tf.ones_like(op_index, tf.float32)
        magnitude = tf.cast(a[..., -1], tf.float32)
        return op_index, prob, magnitude

    def decode(self, actions) -> list[list[tuple[str, float, float]]]:
        """One policy's decisions ``[T]`` -> a policy in the published format."""
        op_index, prob, magnitude = (
            np.asarray(t)[0] for t in self.tables(np.asarray(actions)[None])
        )
        names = ("Identity",) + self.ops
        return [
            [
                (names[op_index[s, k]], round(float(prob[s, k]), 4), float(magnitude[s, k]))
                for k in range(self.ops_per_subpolicy)
            ]
            for s in range(self.num_subpolicies)
        ]


# --------------------------------------------------------------------------- controller


class PolicyController(keras.Model):
    """Autoregressive LSTM controller over a fixed sequence of categorical decisions.

    The NAS/AutoAugment controller (Zoph & Le 2017; Cubuk et al. 2019): at step ``t`` an
    ``LSTMCell`` reads the embedding of decision ``t - 1`` (a learned start vector at
    ``t = 0``), and a softmax head of the decision's kind (op / probability / magnitude,
    shared across positions) gives the distribution of decision ``t``.

    Args:
      kinds: the kind of each decision, e.g. ``SearchSpace.decision_kinds``.
      vocab_sizes: number of choices of each kind.
      hidden: LSTM units (AutoAugment and Adversarial AutoAugment: 100).
      embedding: size of the decision embeddings.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        vocab_sizes: dict[str, int],
        hidden: int = 100,
        embedding: int = 32,
        name: str = "policy_controller",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.kinds = tuple(kinds)
        if not self.kinds:
            raise ValueError("kinds must list at least one decision")
        missing = sorted(set(self.kinds) - set(vocab_sizes))
        if missing:
            raise ValueError(f"vocab_sizes lacks the kind(s) {missing}")
        self.vocab_sizes = {k: int(vocab_sizes[k]) for k in dict.fromkeys(self.kinds)}
        self.hidden = int(hidden)
        # Raw weights rather than LSTMCell/Dense/Embedding layers: the controller is unrolled
        # for up to 30 steps inside tf.function, and layer-call overhead made tracing the
        # unroll and its gradient take tens of seconds.
        glorot = keras.initializers.GlorotUniform()
        self.lstm_kernel = self.add_weight(
            shape=(embedding + self.hidden, 4 * self.hidden), initializer=glorot, name="lstm_kernel"
        )
        # Forget-gate bias 1 (Jozefowicz et al. 2015), as Keras' unit_forget_bias.
        bias = np.zeros([4 * self.hidden], np.float32)
        bias[self.hidden : 2 * self.hidden] = 1.0
        self.lstm_bias = self.add_weight(
            shape=(4 * self.hidden,),
            initializer=keras.initializers.Constant(bias),
            name="lstm_bias",
        )
        self.head_kernels, self.head_biases, self.embeddings = {}, {}, {}
        for kind, n in self.vocab_sizes.items():
            self.head_kernels[kind] = self.add_weight(
                shape=(self.hidden, n), initializer=glorot, name=f"{kind}_logits_kernel"
            )
            self.head_biases[kind] = self.add_weight(
                shape=(n,), initializer="zeros", name=f"{kind}_logits_bias"
            )
            self.embeddings[kind] = self.add_weight(
                shape=(n, embedding),
                initializer=keras.initializers.RandomUniform(-0.1, 0.1),
                name=f"{kind}_embedding",
            )
        self.start = self.add_weight(
            shape=(1, embedding), initializer="random_uniform", name="start"
        )
        # Build every sub-layer now, so an optimizer created later sees all variables.
        self.log_prob(tf.zeros([1, len(self.kinds)], tf.int32))

    @property
    def num_decisions(self) -> int:
        return len(self.kinds)

    def _unroll(self, n, actions=None, seed=None):
        inputs = tf.tile(self.start, [n, 1])
        state = [tf.zeros([n, self.hidden]), tf.zeros([n, self.hidden])]
        chosen, log_prob, entropy = [], tf.zeros([n]), tf.zeros([n])
        h, c = state
        kernel, bias = tf.convert_to_tensor(self.lstm_kernel), tf.convert_to_tensor(self.lstm_bias)
        for t, kind in enumerate(self.kinds):
            z = tf.matmul(tf.concat([inputs, h], axis=1), kernel) + bias
            i, f, g, o = tf.split(z, 4, axis=1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            logits = tf.matmul(h, self.head_kernels[kind]) + self.head_biases[kind]
            logp = tf.nn.log_softmax(logits)
            if actions is None:
                step_seed = tf.stack([seed[0], seed[1] * 1000 + t])
                a = tf.random.stateless_categorical(logits, 1, step_seed, dtype=tf.int32)[:, 0]
            else:
                a = actions[:, t]
            chosen.append(a)
            log_prob += tf.gather(logp, a, batch_dims=1)
            entropy -= tf.reduce_sum(tf.exp(logp) * logp, axis=-1)
            inputs = tf.gather(tf.convert_to_tensor(self.embeddings[kind]), a)
        return tf.stack(chosen, axis=1), log_prob, entropy

    def sample(self, n: int, seed) -> tf.Tensor:
        """``n`` decision sequences ``[n, T]`` int32, from a stateless ``seed`` (2 ints).

        The same seed gives the same samples on every replica, so policies agree across
        devices without communication.
        """
        seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
        return self._unroll(n, seed=seed)[0]

    def log_prob(self, actions) -> tuple[tf.Tensor, tf.Tensor]:
        """Log-probability ``[n]`` and summed per-step entropy ``[n]`` of ``actions [n, T]``."""
        actions = tf.cast(tf.convert_to_tensor(actions), tf.int32)
        _, log_prob, entropy = self._unroll(tf.shape(actions)[0], actions=actions)
        return log_prob, entropy

    def call(self, actions):
        return self.log_prob(actions)[0]


def reinforce_loss(controller, actions, advantages, entropy_weight: float = 1e-5):
    """REINFORCE surrogate ``-mean(A * log pi(a)) - entropy_weight * mean(H)``.

    Args:
      controller: a :class:`PolicyController`.
      actions: ``[n, T]`` sampled decisions.
      advantages: ``[n]`` rewards minus a baseline (treated as constants).
      entropy_weight: weight of the entropy bonus (AutoAugment's 1e-5 penalty).
    """
    log_prob, entropy = controller.log_prob(actions)
    advantages = tf.stop_gradient(tf.cast(advantages, tf.float32))
    return -tf.reduce_mean(advantages * log_prob) - entropy_weight * tf.reduce_mean(entropy)


def make_reinforce_update(
    controller, optimizer, entropy_weight: float = 1e-5, compile: bool = False
) -> Callable:
    """``update(actions [n, T], advantages [n]) -> loss`` applying one controller step.

    Eager by default: tracing the gradient of a 30-step unroll costs more than the few
    hundred updates of a search on this scale; ``compile=True`` wraps it in tf.function.
    """
    optimizer.build(controller.trainable_variables)

    def update(actions, advantages):
        with tf.GradientTape() as tape:
            loss = reinforce_loss(controller, actions, advantages, entropy_weight)
        grads = tape.gradient(loss, controller.trainable_variables)
        optimizer.apply(grads, controller.trainable_variables)
        return loss

    # A static Python loop unrolls the controller: autograph only slows the trace down.
    return tf.function(update, autograph=False) if compile else update


# --------------------------------------------------------------------------- applying


def apply_policy_tables(images, op_index, prob, magnitude, names, **kwargs) -> tf.Tensor:
    """Applies per-image sub-policies given as tensors (no retracing across policies).

    Args:
      images: ``[B, H, W, C]`` float32 in [0, 1] or uint8.
      op_index: ``[B, K]`` int indices into ``names`` (0 must be Identity).
      prob: ``[B, K]`` probability of applying each op.
      magnitude: ``[B, K]`` magnitudes on the 0..10 scale.
      names: op names, ``names[0] == "Identity"``.

    Returns:
      the augmented batch, same shape and dtype.
    """
    images = ops.check_images(images)
    if names[0] != "Identity":
        raise ValueError(f"names[0] must be 'Identity', got {names[0]!r}")
    batch = tf.shape(images)[0]
    x = ops.to_float255(images)
    for k in range(op_index.shape[1]):
        apply = tf.random.uniform([batch]) < prob[:, k]
        index = tf.where(apply, tf.cast(op_index[:, k], tf.int32), 0)
        x = ops.apply_per_image(
            x, index, magnitude[:, k], names, images.dtype == tf.uint8, **kwargs
        )
    return ops.from_float255(x, images.dtype)


def pick_subpolicies(tables, policy_index) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Rows ``[B, K]`` of a uniformly drawn sub-policy of policy ``policy_index[b]``.

    Args:
      tables: ``(op_index, prob, magnitude)``, each ``[P, S, K]`` (``SearchSpace.tables``).
      policy_index: ``[B]`` policy of every image.
    """
    op_index, prob, magnitude = tables
    batch = tf.shape(policy_index)[0]
    num_sub = tf.shape(op_index)[1]
    sub = tf.random.uniform([batch], 0, num_sub, dtype=tf.int32)
    idx = tf.stack([tf.cast(policy_index, tf.int32), sub], axis=1)
    return tuple(tf.gather_nd(t, idx) for t in (op_index, prob, magnitude))


# --------------------------------------------------------------------------- views


def autoaugment(policy="cifar10", pad_fraction: float = 0.0, flip: bool = False) -> Callable:
    """View factory: an AutoAugment policy, optionally after pad-crop and flip.

    Args:
      policy: a name in ``POLICIES``, a path to a JSON file written by :func:`save_policy`,
        or a policy list.
      pad_fraction: reflect pad-and-crop before the policy (0 disables).
      flip: random horizontal flip before the policy.

    Returns:
      ``fn(images [B, H, W, C]) -> {"image": [B, H, W, C]}``.
    """
    if isinstance(policy, str) and policy not in POLICIES:
        policy = load_policy(policy)
    checked = check_policy(policy)
    names = ["Identity"] + sorted({n for sub in checked for n, _, _ in sub} - {"Identity"})
    length = max(len(sub) for sub in checked)
    padded = [sub + [("Identity", 0.0, 0.0)] * (length - len(sub)) for sub in checked]
    tables = (
        tf.constant([[[names.index(n) for n, _, _ in sub] for sub in padded]], tf.int32),
        tf.constant([[[p for _, p, _ in sub] for sub in padded]], tf.float32),
        tf.constant([[[m for _, _, m in sub] for sub in padded]], tf.float32),
    )
    if not 0.0 <= pad_fraction < 1.0:
        raise ValueError(f"pad_fraction must be in [0, 1), got {pad_fraction!r}")

    def fn(images):
        images = ops.check_images(images)
        if pad_fraction > 0:
            images = ops.random_pad_crop(images, pad_fraction=pad_fraction)
        if flip:
            images = ops.random_flip_left_right(images)
        rows = pick_subpolicies(tables, tf.zeros([tf.shape(images)[0]], tf.int32))
        return {"image": apply_policy_tables(images, *rows, names)}

    return fn


def randaugment(
    num_layers: int = 2, magnitude: float = 9.0, pad_fraction: float = 0.0, ops_list=None
) -> Callable:
    """View factory: RandAugment(N, M) over ``ops_list`` (default the reference's 17 ops).

    Returns:
      ``fn(images) -> {"image"}``.
    """
    from tfless.augment.policies import RandAugment

    rand_augment = RandAugment(num_layers, magnitude, ops=tuple(ops_list or RANDAUGMENT_OPS))
    if not 0.0 <= pad_fraction < 1.0:
        raise ValueError(f"pad_fraction must be in [0, 1), got {pad_fraction!r}")

    def fn(images):
        images = ops.check_images(images)
        if pad_fraction > 0:
            images = ops.random_pad_crop(images, pad_fraction=pad_fraction)
        return {"image": rand_augment(images)}

    return fn


# --------------------------------------------------------------------------- policy files


def save_policy(path: str, policy, **metadata) -> None:
    """Writes ``{"policy": [[[op, prob, magnitude], ...], ...], ...metadata}`` as JSON."""
    checked = check_policy(policy)
    record = {"policy": [[list(op) for op in sub] for sub in checked], **metadata}
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


def load_policy(path: str) -> list[list[tuple[str, float, float]]]:
    """Reads a policy JSON written by :func:`save_policy` and validates it."""
    if not os.path.exists(path):
        raise ValueError(
            f"policy {path!r} is neither a known policy {sorted(POLICIES)} nor an existing file"
        )
    with open(path) as f:
        record = json.load(f)
    if not isinstance(record, dict) or "policy" not in record:
        raise ValueError(f"{path!r} holds no 'policy' entry")
    return check_policy([[tuple(op) for op in sub] for sub in record["policy"]])


# --------------------------------------------------------------------------- child models


def reduced_digits(
    labels_per_class: int = 10,
    num_validation: int = 300,
    image_size: int = 16,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """A reduced digits split for child models: labeled train images and a held-out set.

    Both come from the training split (the test split is never used for the search), as
    AutoAugment searched on reduced CIFAR-10 with a held-out part of its training data.

    Returns:
      ``{"x_train", "y_train", "x_val", "y_val"}`` float32 ``[N, S, S, 1]`` / int32.
    """
    from tfless.data import digits_arrays, labeled_unlabeled_split

    x, y = digits_arrays("train")
    if image_size != x.shape[1]:
        x = tf.image.resize(x, [image_size, image_size], antialias=True).numpy()
    x = np.clip(x, 0.0, 1.0).astype(np.float32)
    labeled, rest, _ = labeled_unlabeled_split(y, labels_per_class, seed=seed)
    rng = np.random.RandomState(seed)
    if num_validation > len(rest):
        raise ValueError(f"num_validation must be <= {len(rest)}, got {num_validation!r}")
    val = rng.choice(rest, num_validation, replace=False)
    return {"x_train": x[labeled], "y_train": y[labeled], "x_val": x[val], "y_val": y[val]}


class ChildTrainer:
    """Trains a fresh small ConvNet with an augmentation and returns validation accuracy.

    Every call starts from the same initial weights and a reset optimizer, so rewards
    differ only by the augmentation (and its randomness). The training step is one
    ``tf.function`` whose augmentation parameters are tensors, so thousands of policies
    share one trace.

    Args:
      data: ``reduced_digits()``-style dict.
      augment: ``fn(images, *params) -> images`` run inside the step.
      steps: optimizer steps per child.
      batch_size: child batch size.
      learning_rate: Adam learning rate.
      widths: ConvNet widths.
      seed: initialisation and batch-order seed.
    """

    def __init__(
        self,
        data: dict,
        augment: Callable,
        steps: int = 300,
        batch_size: int = 32,
        learning_rate: float = 3e-3,
        widths=(16, 32, 64),
        seed: int = 0,
    ):
        from tfless.backbones import build_backbone

        if steps < 1 or batch_size < 1:
            raise ValueError(f"steps and batch_size must be >= 1, got {steps!r}, {batch_size!r}")
        self.data = data
        self.steps = int(steps)
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        num_classes = int(max(data["y_train"].max(), data["y_val"].max()) + 1)
        keras.utils.set_random_seed(seed)
        encoder = build_backbone("convnet", data["x_train"].shape[1:], widths=tuple(widths))
        # A few hundred steps at the default momentum 0.99 leave the initial statistics
        # (variance 1, far above the real one) in the moving averages.
        for layer in encoder.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = 0.9
        inputs = keras.Input(data["x_train"].shape[1:])
        self.model = keras.Model(inputs, keras.layers.Dense(num_classes)(encoder(inputs)))
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(self.model.trainable_variables)
        self._initial = [v.numpy() for v in self.model.variables]
        # Includes the learning-rate variable, so a reset restores values, not zeros.
        self._initial_optimizer = [v.numpy() for v in self.optimizer.variables]
        self._augment = augment
        self._step = tf.function(self._train_step)
        self._predict = tf.function(lambda x: self.model(x, training=False))

    def _train_step(self, images, labels, *params):
        images = self._augment(images, *params)
        with tf.GradientTape() as tape:
            logits = self.model(images, training=True)
            loss = tf.reduce_mean(
                keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
            )
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply(grads, self.model.trainable_variables)
        return loss

    def reset(self) -> None:
        for v, value in zip(self.model.variables, self._initial, strict=True):
            v.assign(value)
        for v, value in zip(self.optimizer.variables, self._initial_optimizer, strict=True):
            v.assign(value)

    def __call__(self, *params, seed: int | None = None) -> float:
        """Trains a child with augmentation parameters ``params``; returns val accuracy."""
        self.reset()
        rng = np.random.RandomState(self.seed if seed is None else seed)
        x, y = self.data["x_train"], self.data["y_train"]
        params = tuple(tf.convert_to_tensor(p) for p in params)
        for _ in range(self.steps):
            idx = rng.randint(0, len(y), self.batch_size)
            self._step(tf.constant(x[idx]), tf.constant(y[idx]), *params)
        logits = self._predict(tf.constant(self.data["x_val"])).numpy()
        return float(np.mean(logits.argmax(1) == self.data["y_val"]))


# --------------------------------------------------------------------------- AutoAugment


@dataclasses.dataclass
class SearchResult:
    """Result of :func:`autoaugment_search`.

    Attributes:
      policy: the final policy (sub-policies of the ``top_k`` best policies concatenated).
      history: one dict per sampled policy: ``{"index", "reward", "policy"}``.
      baseline_reward: validation accuracy of a child trained without augmentation.
      seconds: wall time.
    """

    policy: list
    history: list
    baseline_reward: float
    seconds: float


def autoaugment_search(
    data: dict,
    num_policies: int = 15000,
    policies_per_update: int = 1,
    space: SearchSpace | None = None,
    learning_rate: float = 0.00035,
    entropy_weight: float = 1e-5,
    baseline_decay: float = 0.95,
    top_k: int = 5,
    child_steps: int = 300,
    child_batch_size: int = 32,
    child_learning_rate: float = 3e-3,
    child_widths=(16, 32, 64),
    controller_hidden: int = 100,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> SearchResult:
    """AutoAugment's search loop: sample policies, train children, update the controller.

    Defaults are the paper's (15,000 policies, controller lr 0.00035, entropy 1e-5,
    baseline decay 0.95, top 5 policies concatenated); the child settings are scaled for
    digits. The controller update is REINFORCE with the moving-average baseline (see the
    module docstring).

    Args:
      data: ``reduced_digits()``-style dict (child train and validation arrays).
      num_policies: policies sampled (= children trained).
      policies_per_update: policies per controller update (their advantages averaged).
      space: the :class:`SearchSpace` (default AutoAugment's).
      top_k: best policies whose sub-policies form the final policy.
      seed: controller sampling and child seed.
      log: called with a progress line per update.

    Returns:
      :class:`SearchResult`.
    """
    space = space or SearchSpace()
    for name, value in (
        ("num_policies", num_policies),
        ("policies_per_update", policies_per_update),
        ("top_k", top_k),
    ):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if top_k > num_policies:
        raise ValueError(f"top_k ({top_k}) must be <= num_policies ({num_policies})")
    if not 0.0 <= baseline_decay < 1.0:
        raise ValueError(f"baseline_decay must be in [0, 1), got {baseline_decay!r}")
    start = time.time()
    names = ("Identity",) + space.ops
    keras.utils.set_random_seed(seed)
    controller = PolicyController(space.decision_kinds, space.vocab_sizes, controller_hidden)
    update_controller = make_reinforce_update(
        controller, keras.optimizers.Adam(learning_rate), entropy_weight
    )

    def augment(images, op_table, prob_table, mag_table):
        policy = tf.zeros([tf.shape(images)[0]], tf.int32)
        rows = pick_subpolicies((op_table, prob_table, mag_table), policy)
        return apply_policy_tables(images, *rows, names)

    child = ChildTrainer(
        data,
        augment,
        steps=child_steps,
        batch_size=child_batch_size,
        learning_rate=child_learning_rate,
        widths=child_widths,
        seed=seed,
    )
    # Same shapes as real policies, so the baseline child shares their trace.
    shape = [1, space.num_subpolicies, space.ops_per_subpolicy]
    identity_tables = (
        tf.zeros(shape, tf.int32),
        tf.zeros(shape, tf.float32),
        tf.zeros(shape, tf.float32),
    )
    baseline_reward = child(*identity_tables)
    baseline = None
    history = []
    update = 0
    while len(history) < num_policies:
        n = min(policies_per_update, num_policies - len(history))
        actions = controller.sample(n, [seed, update])
        tables = space.tables(actions)
        rewards = []
        for i in range(n):
            reward = child(*(t[i : i + 1] for t in tables), seed=seed + len(history) + 1)
            rewards.append(reward)
            history.append(
                {
                    "index": len(history),
                    "reward": reward,
                    "policy": space.decode(actions[i].numpy()),
                }
            )
        rewards = np.asarray(rewards, np.float32)
        if baseline is None:
            baseline = float(rewards.mean())
        update_controller(actions, tf.constant(rewards - baseline))
        baseline = baseline_decay * baseline + (1.0 - baseline_decay) * float(rewards.mean())
        update += 1
        if log:
            log(
                f"update {update}: policies {len(history)}/{num_policies} "
                f"reward {rewards.mean():.4f} baseline {baseline:.4f} "
                f"(no augmentation {baseline_reward:.4f})"
            )
    best = sorted(history, key=lambda h: -h["reward"])[:top_k]
    policy = [sub for h in best for sub in h["policy"]]
    return SearchResult(check_policy(policy), history, baseline_reward, time.time() - start)


# --------------------------------------------------------------------------- RandAugment


def randaugment_sweep(
    data: dict,
    num_layers=(1, 2, 3),
    magnitudes=(1, 3, 5, 7, 9),
    ops_list: Sequence[str] = RANDAUGMENT_OPS,
    repeats: int = 1,
    child_steps: int = 300,
    child_batch_size: int = 32,
    child_learning_rate: float = 3e-3,
    child_widths=(16, 32, 64),
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> list[dict]:
    """RandAugment's grid search over N (ops per image) and M (shared magnitude).

    Every cell trains ``repeats`` children with RandAugment(N, M) over ``ops_list`` and
    records the mean validation accuracy; N = 0 (no augmentation) is included as the
    reference row.

    Returns:
      rows ``{"num_layers", "magnitude", "val_accuracy", "val_accuracies"}``, best first.
    """
    grid_n = sorted({int(n) for n in num_layers})
    if not grid_n or grid_n[0] < 0:
        raise ValueError(f"num_layers must be non-negative integers, got {num_layers!r}")
    mags = [float(m) for m in magnitudes]
    if not mags:
        raise ValueError("magnitudes must not be empty")
    for m in mags:
        ops.check_magnitude(m)
    names = list(dict.fromkeys(["Identity", *ops_list]))
    for name in names:
        ops.check_op_name(name)
    if int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    # Identity stays a choice only if the user listed it: index 0 is reserved for "skip".
    choices = tf.constant([names.index(n) for n in ops_list], tf.int32)
    max_layers = max(grid_n)

    def augment(images, n, m):
        batch = tf.shape(images)[0]
        x = ops.to_float255(images)
        for layer in range(max_layers):
            pick = tf.random.uniform([batch], 0, len(ops_list), dtype=tf.int32)
            index = tf.where(layer < n, tf.gather(choices, pick), 0)
            x = ops.apply_per_image(x, index, tf.fill([batch], m), names, images.dtype == tf.uint8)
        return ops.from_float255(x, images.dtype)

    child = ChildTrainer(
        data,
        augment,
        steps=child_steps,
        batch_size=child_batch_size,
        learning_rate=child_learning_rate,
        widths=child_widths,
        seed=seed,
    )
    cells = [(0, 0.0)] if 0 not in grid_n else []
    cells += [(n, m) for n in grid_n for m in (mags if n > 0 else [0.0])]
    rows = []
    for n, m in cells:
        accs = [
            child(tf.constant(n), tf.constant(m, tf.float32), seed=seed + r)
            for r in range(int(repeats))
        ]
        rows.append(
            {
                "num_layers": n,
                "magnitude": m,
                "val_accuracy": float(np.mean(accs)),
                "val_accuracies": accs,
            }
        )
        if log:
            log(f"N={n} M={m:g}: val accuracy {np.mean(accs):.4f}")
    return sorted(rows, key=lambda r: -r["val_accuracy"])


def sweep_markdown(rows: list[dict]) -> str:
    """The sweep as a markdown N x M table of validation accuracy (%)."""
    ns = sorted({r["num_layers"] for r in rows})
    ms = sorted({r["magnitude"] for r in rows if r["num_layers"] > 0})
    acc = {(r["num_layers"], r["magnitude"]): r["val_accuracy"] for r in rows}
    lines = ["| N \\ M | " + " | ".join(f"{m:g}" for m in ms) + " |"]
    lines.append("| --- |" + " --- |" * len(ms))
    for n in ns:
        if n == 0:
            cells = [f"{100 * acc[(0, 0.0)]:.1f} (no aug.)"] + [""] * (len(ms) - 1)
        else:
            cells = [f"{100 * acc[(n, m)]:.1f}" if (n, m) in acc else "" for m in ms]
        lines.append(f"| {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
